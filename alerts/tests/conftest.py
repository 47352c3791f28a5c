import pytest
from django.conf import settings
from django.utils import translation
from rest_framework.test import APIClient

from alerts.integrations import integration_create
from core.broker import broker_redis


@pytest.fixture(autouse=True)
def _own_redis_keys():
    """Rate-limit windows and nudge flags live in Redis: start every test without them."""
    client = broker_redis()
    if client is not None:
        for key in client.scan_iter(f"{settings.FENGHUO_QUEUE_PREFIX}:alerts:*"):
            client.delete(key)
    yield


@pytest.fixture(autouse=True)
def _in_english():
    """Messages are asserted in English; the project's default language is Chinese."""
    with translation.override("en"):
        yield


@pytest.fixture
def make_integration(db):
    def make(kind="alertmanager", name=None, **fields):
        integration, token = integration_create(name=name or f"{kind}-source", kind=kind, **fields)
        return integration, token
    return make


@pytest.fixture
def bearer():
    def client_for(token):
        client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        return client
    return client_for


def am_alert(fingerprint, *, status="firing", starts="2024-05-01T08:00:00.123456789Z", **labels):
    labels.setdefault("alertname", "CoreDown")
    return {
        "status": status, "labels": labels,
        "annotations": {"summary": f"{labels['alertname']} on {fingerprint}"},
        "startsAt": starts, "endsAt": "0001-01-01T00:00:00Z" if status == "firing" else "2024-05-01T09:00:00Z",
        "generatorURL": "http://prometheus/graph", "fingerprint": fingerprint,
    }


def am_webhook(group_key, alerts, **extra):
    status = "firing" if any(a["status"] == "firing" for a in alerts) else "resolved"
    return {"version": "4", "groupKey": group_key, "truncatedAlerts": 0, "status": status, "receiver": "fenghuo",
            "groupLabels": {}, "commonLabels": {}, "commonAnnotations": {}, "externalURL": "http://am",
            "alerts": alerts, **extra}
