import pytest

from .receivers import Receiver


@pytest.fixture
def receiver():
    """receiver("dingtalk", secret=..., answers=[...]) → a running vendor-like HTTP server."""
    started = []

    def make(kind, secret="", answers=None):
        r = Receiver(kind, secret=secret, answers=answers)
        started.append(r)
        return r

    yield make
    for r in started:
        r.close()


@pytest.fixture(autouse=True)
def quick_delivery(settings):
    settings.NOTIFICATIONS_HTTP_TIMEOUT = 0.5
    settings.NOTIFICATIONS_KICK_ON_COMMIT = False
    settings.SITE_URL = "https://fenghuo.example.test"
