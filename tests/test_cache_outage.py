"""Redis holding the cache is down: throttled API requests and the dashboard answer, never 500.

The same fault with a real Redis stopped is in tests/test_faults.py; here the cache points at a
port nothing listens on, so the rule is checked in every run in a fraction of a second.
"""

import socket

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def unreachable_cache(settings):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again at once: connecting is refused
    settings.CACHES = {"default": {"BACKEND": "config.cache.ForgivingRedisCache",
                                   "LOCATION": f"redis://127.0.0.1:{port}/0"}}


def test_throttled_api_answers_while_the_cache_is_unreachable(unreachable_cache, make_person, api_client_for):
    client = api_client_for(make_person("duty_staff"))
    assert client.get("/api/v1/incidents/").status_code == 200


def test_dashboard_answers_while_the_cache_is_unreachable(unreachable_cache, client, make_person):
    client.force_login(make_person("duty_staff"))
    assert client.get("/dashboard/").status_code == 200


def test_an_unreachable_cache_reads_as_a_miss_and_skips_writes(unreachable_cache):
    from django.core.cache import cache

    cache.set("k", "v")
    assert cache.get("k", "missing") == "missing"
    assert cache.get_many(["k"]) == {}
    assert cache.add("k", "v") is False
    assert not cache.has_key("k")
