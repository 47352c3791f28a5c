import pytest

from .receivers import Receiver, start_smtp


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


@pytest.fixture
def smtp(settings):
    controller, sink = start_smtp()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    yield sink
    controller.stop()


@pytest.fixture(autouse=True)
def quick_delivery(settings):
    settings.NOTIFICATIONS_HTTP_TIMEOUT = 0.5
    settings.NOTIFICATIONS_KICK_ON_COMMIT = False
    settings.SITE_URL = "https://fenghuo.example.test"
