"""Coverage: per asset, per person, per shift of the duty roster; and how many queries the lists cost."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from escalation import services as engine
from inspections import generation, selectors, services
from inspections.models import Round
from notifications.models import DutyShift

from .conftest import full_answers


@pytest.mark.django_db
def test_a_missed_round_counts_against_the_shift_on_duty_and_a_walked_one_for_its_walker(make_schedule, duty,
                                                                                         make_person):
    night = make_person("duty_staff", username="zhao")
    schedule = make_schedule(every=timedelta(hours=2))
    first, second = Round.objects.filter(schedule=schedule).order_by("due_at")[:2]
    shift = DutyShift.objects.create(role_key="duty_staff", person=night, starts_at=second.due_at - timedelta(hours=1),
                                     ends_at=second.due_at + timedelta(hours=1))
    services.round_submit(first, person=duty, results=full_answers(first))
    with time_machine.travel(second.miss_at + timedelta(seconds=1), tick=False):
        engine.sweep()
        report = selectors.coverage(start=timezone.now() - timedelta(days=1), end=timezone.now())
    people = {p["username"]: p for p in report.people}
    assert (people["wang"]["rounds_done"], people["wang"]["rounds_missed"]) == (1, 0)
    assert (people["zhao"]["rounds_done"], people["zhao"]["rounds_missed"]) == (0, 1)
    [row] = report.shifts
    assert row["shift"] == shift and row["rounds_missed"] == 1
    assert (report.totals.done, report.totals.missed) == (1, 1)


@pytest.mark.django_db
def test_an_asset_on_no_walked_round_is_never_inspected(make_schedule, duty, register):
    schedule = make_schedule(assets=["SRV-01"])
    services.round_submit(schedule.rounds.first(), person=duty, results=full_answers(schedule.rounds.first()))
    report = selectors.coverage(start=timezone.now() - timedelta(days=1), end=timezone.now() + timedelta(minutes=1))
    assert [a.tag for a in report.never_inspected] == ["SW-01", "UPS-01"]
    history = selectors.state_history(register[0])
    assert history and all(r.asset == register[0] for r in history)


@pytest.mark.django_db
def test_listing_rounds_costs_the_same_few_queries_for_many_rounds(make_schedule, duty, api_client_for,
                                                                   django_assert_max_num_queries):
    schedule = make_schedule(every=timedelta(minutes=30), grace=timedelta(minutes=20))
    generation.generate_rounds(now=timezone.now() + timedelta(days=3))
    assert Round.objects.filter(schedule=schedule).count() > 50
    client = api_client_for(duty)
    with django_assert_max_num_queries(12):
        answer = client.get("/api/v1/inspections/")
    assert answer.status_code == 200 and len(answer.json()["results"]) == 50


@pytest.mark.django_db
def test_the_beat_task_generates_rounds_and_is_routed(make_schedule, settings):
    from inspections.tasks import generate_rounds

    app = generate_rounds.app  # the project's Celery app (config/celery.py), which this layer may not import

    make_schedule()
    settings.INSPECTIONS_GENERATE_AHEAD = timedelta(days=4)
    assert generate_rounds() > 0
    assert app.amqp.router.route({}, "inspections.generate_rounds")["queue"].name.endswith("intake")
    assert settings.CELERY_BEAT_SCHEDULE["generate-inspection-rounds"]["task"] == "inspections.generate_rounds"
