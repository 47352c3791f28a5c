"""Audit rows are read in the admin, never added, edited, deleted or reverted there (issue 13, finding 14)."""

import re
from html.parser import HTMLParser

import pytest
from django.contrib import admin
from django.utils import timezone
from simple_history.admin import SimpleHistoryAdmin

from alerts.models import Alert, AlertGroup
from alerts.integrations import integration_create
from core.admin_mixins import HistoryAdmin
from incidents import services as incident_services
from incidents.models import Incident, ResponsePlan, TimelineEntry
from notifications.models import Delivery, DeliveryAttempt, Notification
from plan.models import PlanVersion

pytestmark = pytest.mark.django_db

AUDIT_MODELS = [Alert, AlertGroup, Incident, ResponsePlan, TimelineEntry, Notification, Delivery,
                DeliveryAttempt, PlanVersion]
AUDIT_WITH_HISTORY = [Incident, ResponsePlan, PlanVersion]


@pytest.fixture
def audit_rows(minimal_plan_version, make_person):
    """One row of every audit model, written the way the services write them."""
    responder = make_person("tech_group")
    incident = incident_services.log_fault(reporter=None, category="system", level="yellow", title="Core down")
    integration, _token = integration_create(name="prometheus", kind="alertmanager")
    group = AlertGroup.objects.create(integration=integration, key="g1", incident=incident)
    now = timezone.now()
    alert = Alert.objects.create(integration=integration, group_key=group.key, fingerprint="f1", delivery_key="d1",
                                 status="firing", starts_at=now, summary="Core down", category_key="system",
                                 level_key="yellow", received_at=now, incident=incident, processed_at=now)
    plan = ResponsePlan.objects.create(incident=incident, text="Fail over", proposed_by=responder)
    notification = Notification.objects.get(incident=incident, person=responder)
    delivery = Delivery.objects.create(notification=notification, kind="email", address=responder.email,
                                       idempotency_key="k1")
    attempt = DeliveryAttempt.objects.create(delivery=delivery, ok=False, http_status=500, error="boom")
    return {Alert: alert, AlertGroup: group, Incident: incident, ResponsePlan: plan,
            TimelineEntry: incident.timeline.first(), Notification: notification, Delivery: delivery,
            DeliveryAttempt: attempt, PlanVersion: minimal_plan_version}


def url(model, view, *args):
    return f"/admin/{model._meta.app_label}/{model._meta.model_name}/" + "".join(f"{a}/" for a in args) + view


def editable_inputs(html, model):
    """The inputs of the change form a person could type into or pick from (hidden ones aside)."""
    form = html.split(f'id="{model._meta.model_name}_form"', 1)[1].split("</form>", 1)[0]
    tags = re.findall(r"<(?:input|select|textarea)\b[^>]*>", form)
    return [tag for tag in tags if 'type="hidden"' not in tag]


class _FormValues(HTMLParser):
    """What a browser would submit from a page's inputs, selects and textareas, as shown."""

    def __init__(self):
        super().__init__()
        self.data, self._select, self._textarea = {}, None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        name = attrs.get("name")
        if tag == "input" and name and attrs.get("type") not in ("submit", "checkbox", "radio"):
            self.data[name] = attrs.get("value") or ""
        elif tag == "input" and name and "checked" in attrs:
            self.data[name] = attrs.get("value") or "on"
        elif tag == "select":
            self._select = name
        elif tag == "option" and self._select and "selected" in attrs:
            self.data[self._select] = attrs.get("value") or ""
        elif tag == "textarea":
            self._textarea = name
            self.data[name] = ""

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea:
            self.data[self._textarea] += data.removeprefix("\n")


def submitted(client, path):
    """The form at path as a person would send it back without touching anything (e.g. pressing Revert)."""
    parser = _FormValues()
    parser.feed(client.get(path).content.decode())
    parser.data.pop("csrfmiddlewaretoken", None)
    return parser.data


@pytest.mark.parametrize("model", AUDIT_MODELS, ids=lambda m: m.__name__)
def test_the_change_page_of_an_audit_row_has_nothing_to_edit_and_no_save_button(admin_client, audit_rows, model):
    page = admin_client.get(url(model, "change/", audit_rows[model].pk))
    assert page.status_code == 200
    body = page.content.decode()
    assert editable_inputs(body, model) == []
    assert 'name="_save"' not in body


@pytest.mark.parametrize("model", AUDIT_MODELS, ids=lambda m: m.__name__)
def test_posting_a_change_to_an_audit_row_is_refused(admin_client, audit_rows, model):
    row = audit_rows[model]
    before = model.objects.filter(pk=row.pk).values().get()
    response = admin_client.post(url(model, "change/", row.pk), {"summary": "edited", "title": "edited",
                                                                  "status": "sent", "name_en": "edited"})
    assert response.status_code == 403
    assert model.objects.filter(pk=row.pk).values().get() == before


@pytest.mark.parametrize("model", AUDIT_MODELS, ids=lambda m: m.__name__)
def test_deleting_an_audit_row_is_refused(admin_client, audit_rows, model):
    row = audit_rows[model]
    assert admin_client.post(url(model, "delete/", row.pk), {"post": "yes"}).status_code == 403
    assert model.objects.filter(pk=row.pk).exists()


@pytest.mark.parametrize("model", AUDIT_MODELS, ids=lambda m: m.__name__)
def test_adding_an_audit_row_is_refused(admin_client, audit_rows, model):
    assert admin_client.get(url(model, "add/")).status_code == 403


@pytest.mark.parametrize("model", AUDIT_MODELS, ids=lambda m: m.__name__)
def test_the_changelist_offers_no_bulk_delete_of_audit_rows(admin_client, audit_rows, model):
    body = admin_client.get(url(model, "")).content.decode()
    assert "delete_selected" not in body


def test_reverting_an_incident_to_an_earlier_version_is_refused(admin_client, audit_rows, make_person):
    incident = audit_rows[Incident]
    first = incident.history.earliest()
    incident_services.acknowledge(incident, actor=make_person("tech_group"))
    incident.refresh_from_db()
    assert incident.status != first.status

    revert = url(Incident, "", incident.pk, "history", first.history_id)
    response = admin_client.post(revert, submitted(admin_client, revert))
    refreshed = Incident.objects.get(pk=incident.pk)
    assert refreshed.status == incident.status and refreshed.acknowledged_at == incident.acknowledged_at
    assert response.status_code == 403


@pytest.mark.parametrize("model", AUDIT_WITH_HISTORY, ids=lambda m: m.__name__)
def test_the_history_of_an_audit_row_is_shown_without_a_revert_button(admin_client, audit_rows, model):
    row = audit_rows[model]
    assert admin_client.get(url(model, "history/", row.pk)).status_code == 200
    version = row.history.earliest()
    page = admin_client.get(url(model, "", row.pk, "history", version.history_id))
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert admin_client.post(url(model, "", row.pk, "history", version.history_id), {}).status_code == 403


def test_a_plan_version_cannot_be_reactivated_by_reverting_its_history(admin_client, minimal_plan_version):
    from plan.services import load_plan_text
    from plan.tests.documents import as_yaml, minimal_plan

    newer = load_plan_text(as_yaml(minimal_plan()), source="second")
    minimal_plan_version.refresh_from_db()
    active_then = minimal_plan_version.history.filter(is_active=True).earliest()
    response = admin_client.post(url(PlanVersion, "", minimal_plan_version.pk, "history", active_then.history_id))
    assert response.status_code == 403
    assert list(PlanVersion.objects.filter(is_active=True)) == [newer]


def test_every_history_admin_guards_its_revert():
    """simple-history's own admin saves a revert after checking only view permission: none is registered."""
    unguarded = [model.__name__ for model, model_admin in admin.site._registry.items()
                 if isinstance(model_admin, SimpleHistoryAdmin) and not isinstance(model_admin, HistoryAdmin)]
    assert unguarded == []
