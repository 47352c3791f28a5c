"""Inspection rounds: generated from schedules, answered as they go, submitted once, by the right role."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from core.errors import Refused
from escalation.models import Deadline, Kind, State
from inspections import generation, services
from inspections.items import round_items
from inspections.models import Result, Round, RoundStatus

from .conftest import full_answers, jpeg_bytes

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.mark.django_db
def test_a_schedule_generates_its_rounds_ahead_each_with_a_miss_deadline(make_schedule, settings):
    settings.INSPECTIONS_GENERATE_AHEAD = timedelta(hours=24)
    schedule = make_schedule(every=timedelta(hours=2), grace=timedelta(minutes=30))
    rounds = list(schedule.rounds.order_by("due_at"))
    assert len(rounds) == 13  # now-5 min, then every 2 h up to 24 h ahead
    assert all(b.due_at - a.due_at == timedelta(hours=2) for a, b in zip(rounds, rounds[1:]))
    deadlines = Deadline.objects.filter(kind=Kind.INSPECTION, state=State.PENDING)
    assert deadlines.count() == 13
    first = deadlines.get(subject=f"round:{rounds[0].pk}")
    assert first.incident_id is None
    assert first.due_at == rounds[0].due_at + timedelta(minutes=30) == rounds[0].miss_at
    # Generating again writes nothing twice; later, only the new rounds.
    assert generation.generate_rounds() == 0
    assert generation.generate_rounds(now=timezone.now() + timedelta(hours=4)) == 2
    assert Deadline.objects.filter(kind=Kind.INSPECTION).count() == 15


@pytest.mark.django_db
def test_a_night_window_keeps_only_the_rounds_inside_it(make_schedule):
    first = datetime(2026, 12, 1, 0, 0, tzinfo=SHANGHAI)
    schedule = make_schedule(first_due_at=first, every=timedelta(hours=2), window_start=time(20, 0),
                             window_end=time(8, 0))
    times = [t.astimezone(SHANGHAI).hour for t in generation.due_times(schedule, after=None,
                                                                       until=first + timedelta(hours=23))]
    assert times == [0, 2, 4, 6, 20, 22]


@pytest.mark.django_db
def test_a_round_asks_the_checklist_of_each_assets_kind_in_walking_order(round_):
    items = round_items(round_)
    assert [i.asset.tag for i in items][:1] == ["SRV-01"]
    assert {i.check.key for i in items if i.asset.tag == "UPS-01"} >= {"ups_load", "battery_charge"}
    assert {i.check.key for i in items if i.asset.tag == "SW-01"} >= {"port_lights"}


@pytest.mark.django_db
def test_a_schedule_may_choose_its_checks(make_schedule):
    schedule = make_schedule(checks=["indicator_lights"])
    items = round_items(schedule.rounds.first())
    assert {i.check.key for i in items} == {"indicator_lights"}


@pytest.mark.django_db
def test_bad_schedules_are_refused_naming_each_field(make_schedule):
    with pytest.raises(ValidationError) as error:
        make_schedule(assets=["SRV-01", "NOPE"], role="not_a_role", every=timedelta(minutes=1),
                      checks=["no_such_check"])
    assert set(error.value.message_dict) == {"assets", "role", "every"}


@pytest.mark.django_db
def test_every_answer_is_kept_as_it_is_given_and_a_reading_out_of_range_is_flagged(round_, duty):
    result = services.answer_save(round_, person=duty, asset="UPS-01", check="ups_load", data={"value": "91,5"})
    assert (result.value, result.out_of_range, result.abnormal) == (91.5, True, True)
    services.answer_save(round_, person=duty, asset="UPS-01", check="ups_load", data={"value": 40})
    result.refresh_from_db()
    assert (result.value, result.out_of_range) == (40.0, False)
    round_.refresh_from_db()
    assert round_.started_at is not None and round_.status == RoundStatus.DUE


@pytest.mark.django_db
def test_a_reading_that_is_not_a_number_is_refused_and_nothing_is_kept(round_, duty):
    with pytest.raises(ValidationError) as error:
        services.answer_save(round_, person=duty, asset="UPS-01", check="ups_load", data={"value": "abc"})
    assert "is not a number" in error.value.message_dict["value"][0]
    assert not Result.objects.exists()


@pytest.mark.django_db
def test_a_round_of_another_role_is_refused(round_, make_person):
    stranger = make_person("network_maintainer")
    with pytest.raises(Refused) as error:
        services.round_submit(round_, person=stranger, results=full_answers(round_))
    assert error.value.status_code == 403
    assert not Result.objects.exists()


@pytest.mark.django_db
def test_submitting_twice_is_refused_and_the_first_answers_stay(round_, duty):
    services.round_submit(round_, person=duty, results=full_answers(round_))
    with pytest.raises(Refused) as error:
        services.round_submit(round_, person=duty, results=full_answers(round_, bad={("SRV-01", "fan_noise"):
                                                                                     {"ok": False}}))
    assert error.value.status_code == 409 and error.value.code == "already_submitted"
    assert Result.objects.get(asset__tag="SRV-01", check_key="fan_noise").ok is True


@pytest.mark.django_db
def test_a_round_with_an_unanswered_check_is_not_submitted_and_says_which(round_, duty):
    answers = [a for a in full_answers(round_) if a["check"] != "battery_charge"]
    with pytest.raises(ValidationError) as error:
        services.round_submit(round_, person=duty, results=answers)
    assert "UPS-01" in error.value.message_dict["results"][0]
    round_.refresh_from_db()
    assert round_.status == RoundStatus.DUE
    # All or nothing: the answers this submission carried are not half-written either.
    assert not Result.objects.exists()


@pytest.mark.django_db
def test_a_bad_result_among_good_ones_writes_none_of_them(round_, duty):
    answers = full_answers(round_, bad={("UPS-01", "ups_load"): {"value": "forty"}})
    with pytest.raises(ValidationError) as error:
        services.round_submit(round_, person=duty, results=answers)
    index = next(i for i, a in enumerate(answers) if a["check"] == "ups_load")
    assert f"results[{index}].value" in error.value.message_dict
    assert not Result.objects.exists()


@pytest.mark.django_db
def test_submitting_meets_the_miss_deadline(round_, duty):
    services.round_submit(round_, person=duty, results=full_answers(round_))
    round_.refresh_from_db()
    assert round_.status == RoundStatus.DONE and round_.submitted_by == duty
    assert Deadline.objects.get(subject=round_.subject).state == State.MET


@pytest.mark.django_db
def test_a_photo_is_checked_with_pillow_and_stored(round_, duty, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    photo = SimpleUploadedFile("IMG_0001.JPG", jpeg_bytes(), content_type="image/jpeg")
    result = services.photo_attach(round_, person=duty, asset="SRV-01", check="photo", photo=photo)
    assert result.photo.name.startswith(f"inspections/{round_.pk}/") and result.photo.name.endswith(".jpg")
    assert result.photo.storage.exists(result.photo.name)


@pytest.mark.django_db
def test_a_file_that_is_not_an_image_is_refused(round_, duty, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    fake = SimpleUploadedFile("photo.jpg", b"MZ\x90\x00 this is an exe", content_type="image/jpeg")
    with pytest.raises(ValidationError) as error:
        services.photo_attach(round_, person=duty, asset="SRV-01", check="photo", photo=fake)
    assert "not a photo" in error.value.message_dict["photo"][0]
    assert not Result.objects.exists()


@pytest.mark.django_db
def test_a_photo_larger_than_the_setting_is_refused(round_, duty, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.INSPECTIONS_PHOTO_MAX_BYTES = 1024
    big = SimpleUploadedFile("big.jpg", jpeg_bytes((800, 600)) + b"\0" * 2048, content_type="image/jpeg")
    with pytest.raises(ValidationError) as error:
        services.photo_attach(round_, person=duty, asset="SRV-01", check="photo", photo=big)
    assert "larger than" in error.value.message_dict["photo"][0]


@pytest.mark.django_db
def test_stopping_a_schedule_withdraws_its_future_rounds_and_their_deadlines(make_schedule, office):
    schedule = make_schedule()
    future = schedule.rounds.filter(due_at__gt=timezone.now()).count()
    assert services.schedule_stop(schedule, actor=office) == future
    assert not schedule.rounds.filter(due_at__gt=timezone.now()).exists()
    assert Deadline.objects.filter(kind=Kind.INSPECTION, state=State.PENDING).count() == 1
    assert generation.generate_rounds() == 0
