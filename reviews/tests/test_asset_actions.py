"""Remediation actions of an asset alone (an inspection finding's): no incident, the same deadline and notices."""

import email
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError

from assets.models import Asset
from core.errors import Refused
from escalation import services as engine
from escalation.models import Deadline, Kind, State
from incidents.models import TimelineEntry
from notifications.delivery import deliver_due
from notifications.models import Notification
from reviews import selectors, services
from reviews.models import Action, ActionStatus

from .test_actions import _fall_due

pytestmark = pytest.mark.django_db


@pytest.fixture
def office_api(api_client_for, people):
    return api_client_for(people.office)


@pytest.fixture
def ups(minimal_plan_version):
    return Asset.objects.create(tag="UPS-01", name="UPS A", kind="ups", category="equipment")


def _of_asset(asset, people, soon, *, title="Replace UPS battery string 2", owner=None):
    return services.action_create(None, asset=asset, actor=people.office, title=title,
                                  owner=(owner or people.tech).username, due_at=soon())


def test_an_action_of_an_asset_alone_starts_a_deadline_of_no_incident(ups, people, soon):
    action = _of_asset(ups, people, soon)
    assert (action.incident_id, action.asset, str(action)) == (None, ups, f"action #{action.pk} of asset "
                                                               f"#{ups.pk}: Replace UPS battery string 2")
    deadline = Deadline.objects.get(kind=Kind.REMEDIATION, subject=action.subject)
    assert (deadline.state, deadline.incident_id, deadline.due_at) == (State.PENDING, None, action.due_at)
    assert not TimelineEntry.objects.exists()  # no incident, no timeline: its history row is the record
    assert action.history.get().history_user == people.office


def test_an_action_needs_an_incident_or_an_asset(people, soon):
    with pytest.raises(ValidationError) as refused:
        services.action_create(None, actor=people.office, title="x", owner=people.tech.username, due_at=soon())
    assert list(refused.value.message_dict) == ["incident"]


def test_only_the_review_authority_adds_an_asset_action_unless_the_caller_vouched(ups, people, soon):
    with pytest.raises(Refused) as refused:
        services.action_create(None, asset=ups, actor=people.tech, title="x", owner=people.tech.username,
                               due_at=soon())
    assert refused.value.status_code == 403
    services.action_create(None, asset=ups, actor=people.tech, title="x", owner=people.tech.username,
                           due_at=soon(), vouched=True)


def test_an_overdue_asset_action_tells_its_owner_and_the_office_by_email_and_again_after_the_interval(
        ups, people, soon, smtp, settings):
    settings.FENGHUO_REMEDIATION_REMIND_EVERY = timedelta(hours=6)
    action = _of_asset(ups, people, soon)
    first = _fall_due(action)
    assert engine.sweep() >= 1
    first.refresh_from_db()
    assert first.state == State.MISSED
    told = Notification.objects.filter(event=f"deadline:{first.pk}")
    assert sorted(n.person.username for n in told) == ["office-zhang", "tech-wang"]
    assert all(n.incident_id is None and n.facts["link"] == "/actions/?asset=UPS-01" for n in told)
    deliver_due()
    to = sorted(address for envelope in smtp.messages for address in envelope.rcpt_tos)
    assert to == sorted([people.office.email, people.tech.email])
    message = email.message_from_bytes(smtp.messages[0].content)
    assert "UPS-01" in message["Subject"]
    body = message.get_payload(decode=True).decode()
    assert f"Remediation action #{action.pk} is overdue" in body and "Replace UPS battery string 2" in body
    reminder = Deadline.objects.get(kind=Kind.REMEDIATION, subject=action.subject, state=State.PENDING)
    assert reminder.due_at == first.due_at + timedelta(hours=6) and reminder.incident_id is None
    # Told once per deadline, however often the sweep hands it over.
    assert engine.sweep() == 0
    assert Notification.objects.filter(event=f"deadline:{first.pk}").count() == 2


def test_an_asset_action_done_by_its_owner_meets_its_deadline_and_ends_the_reminders(ups, people, soon):
    action = _of_asset(ups, people, soon)
    done = services.action_done(action, actor=people.tech, evidence="Battery string replaced, CR-2040")
    assert done.status == ActionStatus.DONE
    assert Deadline.objects.get(subject=action.subject).state == State.MET
    carried = _of_asset(ups, people, soon, title="Move the UPS")
    with pytest.raises(Refused):
        services.action_carry_over(carried, actor=people.tech, reason="owner may not")
    services.action_carry_over(carried, actor=people.office, reason="With the room move in 2027")
    assert Deadline.objects.get(subject=carried.subject).state == State.CANCELLED


def test_an_asset_action_never_gates_archiving_an_incident(resolved, ups, people, soon):
    _of_asset(ups, people, soon)
    assert not any("remediation" in reason for reason in services.archive_refusals(resolved))


def test_the_open_list_shows_asset_actions_and_filters_by_asset(resolved, ups, people, soon):
    of_incident = services.action_create(resolved, actor=people.office, title="Alert on pool usage",
                                         owner=people.tech.username, due_at=soon())
    of_asset = _of_asset(ups, people, soon)
    assert set(selectors.open_actions()) == {of_incident, of_asset}
    assert list(selectors.open_actions(asset="UPS-01")) == [of_asset]
    assert list(selectors.open_actions(asset="NOPE")) == []


def test_the_open_actions_page_shows_what_each_action_hangs_from_and_filters_by_asset(
        resolved, ups, people, soon, client):
    services.action_create(resolved, actor=people.office, title="Alert on pool usage", owner=people.tech.username,
                           due_at=soon())
    of_asset = _of_asset(ups, people, soon)
    client.force_login(people.tech)
    every = client.get("/actions/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Alert on pool usage" in every and "Replace UPS battery string 2" in every
    assert "data-action-asset" in every and "data-action-incident" in every
    only = client.get("/actions/?asset=UPS-01", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Replace UPS battery string 2" in only and "Alert on pool usage" not in only
    # Its owner records it done from the list (an asset's action has no review page to go back to).
    answer = client.post(f"/actions/{of_asset.pk}/done/", {"evidence": "Replaced"})
    assert answer.status_code == 302 and answer["Location"] == "/actions/"
    assert Action.objects.get(pk=of_asset.pk).status == ActionStatus.DONE


def test_the_api_lists_asset_actions_with_their_asset_and_filters_by_it(resolved, ups, people, soon, office_api):
    of_asset = _of_asset(ups, people, soon)
    services.action_create(resolved, actor=people.office, title="b", owner=people.tech.username, due_at=soon())
    listed = office_api.get("/api/v1/actions/?asset=UPS-01").json()["results"]
    assert [(a["id"], a["asset"], a["incident"], a["incident_title"]) for a in listed] == [
        (of_asset.pk, "UPS-01", None, None)]
    assert office_api.get("/api/v1/actions/").json()["count"] == 2
