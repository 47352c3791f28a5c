"""Fixtures of the inspection tests: a register, a schedule, a round ready to walk."""

import io
from datetime import timedelta

import pytest
from django.utils import timezone
from PIL import Image

from assets.models import Asset


@pytest.fixture(autouse=True)
def _in_english():
    """The services' messages are read in English here (the site's default is Chinese)."""
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture
def checklists(db):
    """The shipped checklists (migration 0002): a transactional test elsewhere may have flushed them."""
    from inspections.checklists import install
    from inspections.models import CheckItem, ChecklistTemplate

    install(ChecklistTemplate, CheckItem)


@pytest.fixture
def register(shipped_plan, checklists):
    """Three assets of kinds with different checklists, in walking order."""
    return [
        Asset.objects.create(tag="SRV-01", name="Credit DB primary", kind="server", category="equipment", core=True,
                             room="A101", rack="R3", position="U12"),
        Asset.objects.create(tag="UPS-01", name="UPS A", kind="ups", category="equipment", core=False, room="A101"),
        Asset.objects.create(tag="SW-01", name="Access switch", kind="switch", category="network", core=False,
                             room="A101", rack="R1"),
    ]


@pytest.fixture
def duty(make_person):
    return make_person("duty_staff", username="wang", full_name="王值班")


@pytest.fixture
def office(make_person):
    return make_person("office", username="li", full_name="李主任")


@pytest.fixture
def make_schedule(register, office):
    from inspections import services

    def make(*, every=timedelta(hours=2), grace=timedelta(minutes=30), first_due_at=None, role="duty_staff",
             assets=None, checks=(), **extra):
        return services.schedule_create(
            actor=office, name=extra.pop("name", "Machine room A night round"),
            assets=assets or [a.tag for a in register], role=role, every=every, grace=grace,
            first_due_at=first_due_at or timezone.now() - timedelta(minutes=5), checks=list(checks), **extra)

    return make


@pytest.fixture
def round_(make_schedule):
    schedule = make_schedule()
    return schedule.rounds.order_by("due_at").first()


def full_answers(round_, *, bad=None):
    """Every check of the round answered normally; ``bad`` = {(tag, check): answer} replaces some."""
    from inspections.items import round_items

    answers = []
    for item in round_items(round_):
        key = (item.asset.tag, item.check.key)
        answer = {"asset": item.asset.tag, "check": item.check.key}
        if bad and key in bad:
            answer.update(bad[key])
        elif item.check.type == "ok":
            answer["ok"] = True
        elif item.check.type == "number":
            low, high = item.check.min_value or 0, item.check.max_value or 100
            answer["value"] = (low + high) / 2
        else:
            continue
        answers.append(answer)
    return answers


def jpeg_bytes(size=(64, 48)):
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, format="JPEG")
    return out.getvalue()
