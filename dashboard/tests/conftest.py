import pytest


@pytest.fixture(autouse=True)
def empty_cache():
    """The rendered dashboard is cached per fingerprint: start every test without one."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()

