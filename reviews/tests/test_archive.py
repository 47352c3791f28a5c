"""Archiving: only with the review approved and no open action; asked, then confirmed; read-only afterwards."""

from datetime import timedelta

import pytest
from django.utils import timezone

from core.errors import Refused
from incidents.models import ResponsePlan, TimelineKind
from incidents.states import Status
from reviews import services
from reviews.models import Action, Review
from reviews.tests.test_review import WRITTEN

pytestmark = pytest.mark.django_db


def _approve(incident, people):
    services.review_update(incident, actor=people.office, changes=WRITTEN)
    services.review_submit(incident, actor=people.office)
    services.review_approve(incident, actor=people.leader)


@pytest.fixture
def ready(resolved, people, soon):
    """Reviewed, with one action done and one carried over: ready to archive."""
    _approve(resolved, people)
    done = services.action_create(resolved, actor=people.office, title="a", owner=people.tech.username, due_at=soon())
    services.action_done(done, actor=people.tech, evidence="CR-1")
    later = services.action_create(resolved, actor=people.office, title="b", owner=people.tech.username, due_at=soon())
    services.action_carry_over(later, actor=people.office, reason="next year")
    resolved.refresh_from_db()
    return resolved


@pytest.fixture
def archived(ready, people):
    return services.incident_archive(ready, actor=people.office)


def test_an_incident_whose_review_is_not_approved_cannot_be_archived(resolved, people, api_client_for):
    response = api_client_for(people.office).post(f"/api/v1/incidents/{resolved.pk}/archive/")
    assert response.status_code == 409
    resolved.refresh_from_db()
    assert resolved.status == Status.RESOLVED


def test_an_open_action_blocks_archiving_and_says_so(resolved, people, soon, api_client_for):
    _approve(resolved, people)
    services.action_create(resolved, actor=people.office, title="a", owner=people.tech.username, due_at=soon())
    response = api_client_for(people.office).post(f"/api/v1/incidents/{resolved.pk}/archive/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 409
    assert "1 remediation action(s) still open" in response.json()["detail"]
    resolved.refresh_from_db()
    assert resolved.status == Status.REVIEWED
    assert not resolved.timeline.filter(kind=TimelineKind.ARCHIVED).exists()


def test_archiving_a_ready_incident_is_on_the_timeline(archived, people):
    assert archived.status == Status.ARCHIVED
    entry = archived.timeline.get(kind=TimelineKind.ARCHIVED)
    assert entry.actor == people.office


def test_the_archive_page_asks_before_it_archives(ready, people, client):
    client.force_login(people.office)
    page = client.get(f"/incidents/{ready.pk}/archive/", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200 and b"Confirm: archive it" in page.content
    ready.refresh_from_db()
    assert ready.status == Status.REVIEWED  # asking changes nothing
    unconfirmed = client.post(f"/incidents/{ready.pk}/archive/", {})
    ready.refresh_from_db()
    assert unconfirmed.status_code == 200 and ready.status == Status.REVIEWED
    client.post(f"/incidents/{ready.pk}/archive/", {"confirmed": "1"})
    ready.refresh_from_db()
    assert ready.status == Status.ARCHIVED


def test_the_archive_page_lists_why_not_yet(resolved, people, client, soon):
    _approve(resolved, people)
    services.action_create(resolved, actor=people.office, title="a", owner=people.tech.username, due_at=soon())
    client.force_login(people.office)
    page = client.get(f"/incidents/{resolved.pk}/archive/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "still open" in page and "Confirm: archive it" not in page


def _incident_writes(incident, action, plan):
    i = f"/api/v1/incidents/{incident.pk}"
    return {
        "patch": ("patch", f"{i}/", {"title": "changed"}),
        "acknowledge": ("post", f"{i}/acknowledge/", {}),
        "escalate": ("post", f"{i}/escalate/", {"level": "orange", "reason": "worse"}),
        "deescalate": ("post", f"{i}/deescalate/", {"level": "blue", "reason": "better"}),
        "check-in": ("post", f"{i}/check-in/", {}),
        "implementing": ("post", f"{i}/implementing/", {}),
        "recovered": ("post", f"{i}/recovered/", {"note": "back"}),
        "resolve": ("post", f"{i}/resolve/", {"summary": "again"}),
        "archive": ("post", f"{i}/archive/", {}),
        "plans": ("post", f"{i}/plans/", {"text": "a new plan"}),
        "notes": ("post", f"{i}/notes/", {"text": "a late note"}),
        "plan-approve": ("post", f"/api/v1/plans/{plan.pk}/approve/", {"comment": "ok"}),
        "plan-reject": ("post", f"/api/v1/plans/{plan.pk}/reject/", {"comment": "no"}),
        "review-put": ("put", f"{i}/review/", {"lessons": "rewritten"}),
        "review-submit": ("post", f"{i}/review/submit/", {}),
        "review-approve": ("post", f"{i}/review/approve/", {}),
        "review-return": ("post", f"{i}/review/return/", {"reason": "again"}),
        "action-add": ("post", f"{i}/actions/", {"title": "x", "owner": "tech-wang",
                                                 "due_at": (timezone.now() + timedelta(days=1)).isoformat()}),
        "action-done": ("post", f"/api/v1/actions/{action.pk}/done/", {"evidence": "again"}),
        "action-carry-over": ("post", f"/api/v1/actions/{action.pk}/carry-over/", {"reason": "again"}),
    }


WRITES = [
    "patch", "acknowledge", "escalate", "deescalate", "check-in", "implementing", "recovered", "resolve", "archive",
    "plans", "notes", "plan-approve", "plan-reject", "review-put", "review-submit", "review-approve",
    "review-return", "action-add", "action-done", "action-carry-over"]


@pytest.mark.parametrize("write", WRITES)
def test_every_write_to_an_archived_incident_answers_409_saying_it_is_archived(
        write, archived, people, make_person, api_client_for):
    boss = make_person("office", "leadership", "tech_group", username="boss", language="en")
    plan = ResponsePlan.objects.create(incident=archived, text="old plan", proposed_by=people.tech,
                                       approver_role_key="leadership")
    action = Action.objects.filter(incident=archived).first()
    method, url, body = _incident_writes(archived, action, plan)[write]
    entries = archived.timeline.count()
    response = getattr(api_client_for(boss), method)(url, body, format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 409, response.content
    assert "archived" in response.json()["detail"]
    assert archived.timeline.count() == entries


def test_every_write_path_is_in_the_table():
    # The incidents API's writes (its router) and this app's: a new write endpoint must join the table above.
    from incidents.api import IncidentViewSet

    actions = {a.url_path for a in IncidentViewSet.get_extra_actions() if set(a.mapping) - {"get"}}
    assert actions <= {"acknowledge", "escalate", "deescalate", "check-in", "implementing", "recovered", "resolve",
                       "archive", "plans", "notes"}


def test_a_service_refuses_an_archived_incident_too(archived, people):
    with pytest.raises(Refused) as refused:
        services.review_update(archived, actor=people.office, changes={"lessons": "x"})
    assert refused.value.status_code == 409


def test_the_pages_of_an_archived_incident_offer_no_action(archived, people, client):
    client.force_login(people.office)
    incident_page = client.get(f"/incidents/{archived.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Archived: this record is read-only." in incident_page
    assert 'action="/incidents/' not in incident_page.split('id="timeline"')[0].split('id="actions"')[1]
    review_page = client.get(f"/incidents/{archived.pk}/review/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "<textarea" not in review_page and "<form method=\"post\"" not in review_page.split("</header>")[1]


def test_the_admin_refuses_changes_to_an_archived_incident_and_its_review(archived, make_person, client):
    admin = make_person(username="admin", is_staff=True, is_superuser=True)
    client.force_login(admin)
    review = Review.objects.get(incident=archived)
    for url in (f"/admin/incidents/incident/{archived.pk}/change/", f"/admin/reviews/review/{review.pk}/change/"):
        assert client.post(url, {"title": "changed"}).status_code == 403
    assert client.post(f"/admin/reviews/review/{review.pk}/delete/", {"post": "yes"}).status_code == 403
    archived.refresh_from_db()
    assert archived.title != "changed"
