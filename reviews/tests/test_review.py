"""The post-incident review: drafted on resolution, figures from the record, draft → submitted → approved."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone, translation

from core.errors import Refused
from escalation.models import Deadline, Kind, State
from incidents.models import TimelineEntry, TimelineKind
from incidents.states import Status
from incidents.timeline_text import entry_text
from reviews import selectors, services
from reviews.models import REQUIRED_SECTIONS, Review, ReviewStatus

pytestmark = pytest.mark.django_db

WRITTEN = {"summary": "Credit queries timed out for 40 minutes.", "impact": "Two branches could not query.",
           "root_cause": "The connection pool was exhausted.", "went_well": "The alert fired at once.",
           "went_wrong": "The on-site deadline was missed.", "lessons": "Alert on pool usage at 80 %."}


def test_resolving_an_incident_drafts_its_review_on_the_timeline(resolved):
    review = Review.objects.get(incident=resolved)
    assert review.status == ReviewStatus.DRAFT
    assert "Restarted the credit query service." in review.summary
    kinds = list(resolved.timeline.values_list("kind", flat=True))
    assert kinds.index(TimelineKind.REVIEW_DRAFTED) > kinds.index(TimelineKind.RESOLVED)


def test_an_open_incident_has_no_review(open_incident):
    incident = open_incident()
    assert selectors.review_of(incident) is None
    assert not Review.objects.filter(incident=incident).exists()


def test_the_figures_are_computed_from_the_timeline_and_the_deadlines(resolved):
    figures = selectors.review_of(resolved).figures
    resolved.refresh_from_db()
    arrival = resolved.timeline.get(kind=TimelineKind.CHECKED_IN)
    assert figures.time_to_acknowledge_s == round((resolved.acknowledged_at - resolved.opened_at).total_seconds())
    assert figures.time_to_arrive_s == round((arrival.at - resolved.opened_at).total_seconds())
    assert figures.time_to_recover_s == round((resolved.recovered_at - resolved.opened_at).total_seconds())
    assert figures.time_to_resolve_s == round((resolved.resolved_at - resolved.opened_at).total_seconds())
    # system/yellow of the minimal plan: the technical group on site within 1 h (met), and escalation (cancelled).
    met = Deadline.objects.filter(incident=resolved, state=State.MET).count()
    assert met == 1 and figures.deadlines_met == met
    assert figures.deadlines_missed == 0
    [arrival_outcome] = [o for o in figures.deadlines if o.deadline.kind == Kind.ON_SITE]
    assert arrival_outcome.met and 3500 < arrival_outcome.margin_s <= 3600


def test_a_missed_arrival_counts_as_missed_with_how_late_the_role_arrived(open_incident, people, resolve):
    incident = open_incident(level="yellow", category="system")
    deadline = Deadline.objects.get(incident=incident, kind=Kind.ON_SITE)
    # As the sweeper would have marked it an hour ago: due 90 minutes ago, missed.
    Deadline.objects.filter(pk=deadline.pk).update(
        started_at=timezone.now() - timedelta(hours=2, minutes=30), due_at=timezone.now() - timedelta(minutes=90),
        state=State.MISSED, acted_at=timezone.now() - timedelta(minutes=89))
    incident = resolve(incident, by=people.tech)
    figures = selectors.review_of(incident).figures
    assert figures.deadlines_missed == 1
    [outcome] = [o for o in figures.deadlines if o.deadline.kind == Kind.ON_SITE]
    assert outcome.missed and outcome.done_late_at is not None
    assert -90 * 60 - 60 < outcome.margin_s < -90 * 60 + 60


def test_highlights_list_the_milestones_in_the_readers_language(resolved):
    with translation.override("en"):
        reading = selectors.review_of(resolved)
    kinds = [h.kind for h in reading.highlights]
    assert kinds == [TimelineKind.OPENED, TimelineKind.ACKNOWLEDGED, TimelineKind.CHECKED_IN,
                     TimelineKind.RECOVERED, TimelineKind.RESOLVED]
    assert reading.highlights[0].text.startswith("Opened")
    with translation.override("zh-hans"):
        chinese = selectors.review_of(resolved)
    assert chinese.highlights[0].text != reading.highlights[0].text


def test_submitting_with_required_parts_empty_names_each_of_them(resolved, people):
    services.review_update(resolved, actor=people.office, changes={"summary": "", "lessons": "Alert earlier."})
    with pytest.raises(ValidationError) as refused:
        services.review_submit(resolved, actor=people.office)
    assert set(refused.value.message_dict) == set(REQUIRED_SECTIONS) - {"lessons"}
    assert Review.objects.get(incident=resolved).status == ReviewStatus.DRAFT


def test_the_office_submits_and_the_leadership_group_approves_each_step_on_the_timeline(resolved, people):
    services.review_update(resolved, actor=people.office, changes=WRITTEN)
    services.review_submit(resolved, actor=people.office)
    review = services.review_approve(resolved, actor=people.leader)
    assert review.status == ReviewStatus.APPROVED and review.approved_by == people.leader
    resolved.refresh_from_db()
    assert resolved.status == Status.REVIEWED
    steps = list(resolved.timeline.filter(kind__in=[TimelineKind.REVIEW_DRAFTED, TimelineKind.REVIEW_SUBMITTED,
                                                    TimelineKind.REVIEWED]).values_list("kind", "actor"))
    assert steps == [(TimelineKind.REVIEW_DRAFTED, None), (TimelineKind.REVIEW_SUBMITTED, people.office.pk),
                     (TimelineKind.REVIEWED, people.leader.pk)]
    with translation.override("zh-hans"):
        approved = entry_text(resolved.timeline.get(kind=TimelineKind.REVIEWED))
    assert approved.startswith("事件总结已批准")


def test_only_the_roles_with_approve_review_may_approve(resolved, people):
    services.review_update(resolved, actor=people.office, changes=WRITTEN)
    services.review_submit(resolved, actor=people.office)
    for person in (people.office, people.tech, people.nobody):
        with pytest.raises(Refused) as refused, translation.override("en"):
            services.review_approve(resolved, actor=person)
        assert refused.value.status_code == 403
        assert "Leadership group" in refused.value.message
    assert Review.objects.get(incident=resolved).status == ReviewStatus.SUBMITTED


def test_only_the_roles_with_review_may_write_it(resolved, people):
    with pytest.raises(Refused) as refused:
        services.review_update(resolved, actor=people.tech, changes={"lessons": "mine"})
    assert refused.value.status_code == 403


def test_a_submitted_review_is_not_edited_until_the_approver_returns_it(resolved, people):
    services.review_update(resolved, actor=people.office, changes=WRITTEN)
    services.review_submit(resolved, actor=people.office)
    with pytest.raises(Refused):
        services.review_update(resolved, actor=people.office, changes={"lessons": "changed"})
    with pytest.raises(ValidationError) as no_reason:
        services.review_return(resolved, actor=people.leader, reason=" ")
    assert "reason" in no_reason.value.message_dict
    services.review_return(resolved, actor=people.leader, reason="Say which pool.")
    services.review_update(resolved, actor=people.office, changes={"root_cause": "The CRS pool was exhausted."})
    assert Review.objects.get(incident=resolved).root_cause == "The CRS pool was exhausted."
    assert TimelineEntry.objects.filter(incident=resolved, kind=TimelineKind.REVIEW_RETURNED).count() == 1


def test_an_unknown_part_is_refused_by_name(resolved, people):
    with pytest.raises(ValidationError) as refused:
        services.review_update(resolved, actor=people.office, changes={"figures": "1 s", "lessons": "x"})
    assert list(refused.value.message_dict) == ["figures"]
    assert Review.objects.get(incident=resolved).lessons == ""
