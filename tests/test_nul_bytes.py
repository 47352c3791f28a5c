"""Finding 7 of issue 13: a NUL byte in a query string or a form field is a 400 on every route, never a 500."""

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver


def _routes(patterns=None, prefix=""):
    """Every concrete path of the URLconf, with 1 for each converter (the middleware answers before the view)."""
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        pattern = str(entry.pattern)
        if pattern.startswith("^"):  # admin's regex routes: keep the readable prefix only
            pattern = re.sub(r"[\^$]|\(.*", "", pattern)
        pattern = re.sub(r"<[^>]+>", "1", pattern)
        if isinstance(entry, URLResolver):
            yield from _routes(entry.url_patterns, prefix + pattern)
        elif isinstance(entry, URLPattern):
            yield "/" + prefix + pattern


ROUTES = sorted(set(_routes()))


def test_the_route_list_covers_pages_and_the_api():
    assert {"/dashboard/", "/accounts/login/", "/api/v1/incidents/", "/metrics"} <= set(ROUTES)


@pytest.mark.parametrize("path", ROUTES)
def test_a_nul_byte_in_the_query_string_answers_400_on_every_route(admin_client, path):
    response = admin_client.get(path + "?q=%00")

    assert response.status_code == 400, path


@pytest.mark.parametrize("path", ROUTES)
def test_a_nul_byte_in_a_form_field_answers_400_on_every_route(admin_client, path):
    response = admin_client.post(path, {"title": "core\x00switch"})

    assert response.status_code == 400, path


def test_the_api_names_the_nul_character_in_json(admin_client):
    response = admin_client.get("/api/v1/incidents/?status=%00")

    assert response.status_code == 400
    assert response.json()["code"] == "nul_character"


def test_a_form_without_nul_still_reaches_the_view(client, make_person):
    make_person(username="li", password="right-password-1")

    response = client.post("/accounts/login/", {"username": "li", "password": "right-password-1"})

    assert response.status_code == 302
