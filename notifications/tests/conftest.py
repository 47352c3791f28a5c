import pytest

from notifications.channels import keepalive

from .receivers import Receiver


@pytest.fixture
def receiver():
    """receiver("dingtalk", secret=..., answers=[...]) → a running vendor-like HTTP server."""
    started = []

    def make(kind, secret="", answers=None, **options):
        r = Receiver(kind, secret=secret, answers=answers, **options)
        started.append(r)
        return r

    yield make
    # Kept-alive connections to these receivers would outlive them in the sending pool.
    keepalive.close_idle()
    for r in started:
        r.close()


@pytest.fixture(autouse=True)
def quick_delivery(settings):
    settings.NOTIFICATIONS_HTTP_TIMEOUT = 0.5
    settings.NOTIFICATIONS_KICK_ON_COMMIT = False
    settings.SITE_URL = "https://fenghuo.example.test"
