"""Every kind of timeline entry reads in the reader's language, from the facts it stores (incidents.timeline_text).

An incident of the shipped plan is driven through its life by the services and
the plan's clocks, so each entry has exactly the shape its writer gives it.
The stored facts are then rendered in Chinese and in English: no raw key, no
"Fenghuo", no English in the Chinese text and no Chinese in the English one
(what people typed and the bilingual announcement aside).
"""

import re
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone, translation

from escalation import services as engine
from incidents import services
from incidents.models import TimelineEntry, TimelineKind
from incidents.timeline_text import Names, actor_text, entry_lines, entry_text, join_list, system_text
from notifications.models import Announcement

pytestmark = pytest.mark.django_db

# What people typed in this story: shown as typed, in whichever language.
TYPED = ["Fail over to the standby host.", "Too risky.", "Go ahead.", "Disk queue back to normal.",
         "Restarted the batch.", "Watch the disk.", "Worse.", "请各业务部门注意", "Savings host slow", "fault",
         "core banking slow"]
USERNAMES = ["wang", "li"]
CHINESE = re.compile(r"[\u3400-\u9fff]")
WORD = re.compile(r"[A-Za-z]{3,}")


@pytest.fixture
def start():
    return timezone.now().replace(microsecond=0)


@pytest.fixture
def lived(shipped_plan, make_person, start, approve_review):
    """A system fault from logging to archive: timed and manual escalations, a missed duty, plans, notes."""
    boss = make_person("office", "leadership", "ops_supervisor", username="wang")
    make_person("system_technicians", "tech_group", username="li")

    def at(minutes):
        return time_machine.travel(start + timedelta(minutes=minutes), tick=False)

    with at(0):
        incident = services.log_fault(reporter=boss, category="system", level="yellow", title="Savings host slow")
    with at(1):
        services.update_details(incident, actor=boss, changes={"affected_branches": 3, "total_branches": 10,
                                                                "affected_system": "core"})
    with at(60):
        engine.sweep()  # the on-site duties of yellow are missed
    with at(120):
        engine.sweep()  # not resolved in two hours: orange, announced
    with at(121):
        services.acknowledge(incident, actor=boss)
        services.check_in(incident, actor=boss)
        services.propose_plan(incident, actor=boss, text="Fail over to the standby host.")
    with at(122):
        services.reject_plan(incident.response_plans.get(), actor=boss, comment="Too risky.")
        services.propose_plan(incident, actor=boss, text="Fail over to the standby host.")
        services.announce(incident, author=boss, text_zh="请各业务部门注意")
    with at(123):
        services.escalate(incident, level_key="red", actor=boss, reason="Worse.")  # re-asks the approval
        services.approve_plan(incident.response_plans.get(status="pending"), actor=boss, comment="Go ahead.")
        services.start_implementing(incident, actor=boss)
    with at(130), translation.override("zh-hans"):
        # The integration's "every alert resolved" is written in the worker's language (Chinese here).
        services.recovered_at_source(incident, source="prometheus", event="alerts-resolved:1")
    with at(140):
        services.resolve(incident, actor=boss, summary="Restarted the batch.")
        approve_review(incident, writer=boss)
        services.archive(incident, actor=boss)
    # A second fault whose timed escalation finds its condition false, and one refused recovery at the source.
    with at(0):
        network = services.log_fault(reporter=boss, category="network", level="blue", title="fault",
                                     affected_branches=5, total_branches=10)
        unacknowledged = services.log_fault(reporter=None, category="system", level="blue", title="core banking slow",
                                            actor_label="prometheus")
    with at(240):
        engine.sweep()
    with at(241), translation.override("zh-hans"):
        services.recovered_at_source(unacknowledged, source="prometheus", event="alerts-resolved:2")
    return TimelineEntry.objects.filter(incident__in=[incident, network, unacknowledged]).select_related(
        "actor", "incident").order_by("incident_id", "at", "id")


def without_content(text):
    """The rendered text without what people typed, their names and the bilingual announcement texts."""
    for typed in [t for a in Announcement.objects.all() for t in (a.text_zh, a.text_en) if t] + TYPED:
        text = text.replace(typed, "")
    for name in USERNAMES + ["prometheus"]:
        text = re.sub(rf"\b{name}\b", "", text)
    return text


def raw_keys(entries):
    """Every key the entries store, and the plan's role keys: none of them may reach a reader."""
    keys = {"Fenghuo", "duty_staff", "tech_group", "system_technicians", "ops_supervisor"}
    for entry in entries:
        keys |= {key for key in entry.detail if "_" in key}
    return keys


def test_the_story_wrote_every_kind_whose_text_is_checked_here(lived):
    kinds = {entry.kind for entry in lived}
    assert kinds >= {
        TimelineKind.OPENED, TimelineKind.UPDATED, TimelineKind.DEADLINE_MISSED, TimelineKind.LEVEL_CHANGED,
        TimelineKind.NOTIFIED, TimelineKind.REPORTED_TO, TimelineKind.ANNOUNCED, TimelineKind.ACKNOWLEDGED,
        TimelineKind.CHECKED_IN, TimelineKind.PLAN_PROPOSED, TimelineKind.PLAN_REJECTED, TimelineKind.NOTE,
        TimelineKind.PLAN_APPROVED, TimelineKind.IMPLEMENTING, TimelineKind.RECOVERED, TimelineKind.RESOLVED,
        TimelineKind.REVIEWED, TimelineKind.ARCHIVED, TimelineKind.CONDITION_NOT_MET, TimelineKind.ALERT,
        TimelineKind.DEADLINE_CANCELLED,
    }


def test_every_entry_reads_in_chinese_with_no_raw_key_no_english_and_no_fenghuo(lived):
    keys = raw_keys(lived)
    with translation.override("zh-hans"):
        for entry in lived:
            text = entry_text(entry)
            actor = actor_text(entry)
            assert "Fenghuo" not in actor and actor in {"系统", "prometheus", "wang"}, (entry.kind, actor)
            assert not [key for key in keys if key in text], (entry.kind, text)
            assert CHINESE.search(text), (entry.kind, text)
            assert not WORD.findall(without_content(text)), (entry.kind, text)


def test_every_entry_reads_in_english_with_no_raw_key_no_chinese_and_no_fenghuo(lived):
    keys = raw_keys(lived)
    with translation.override("en"):
        for entry in lived:
            text = entry_text(entry)
            actor = actor_text(entry)
            assert actor in {"System", "prometheus", "wang"}, (entry.kind, actor)
            assert not [key for key in keys if key in text], (entry.kind, text)
            assert not CHINESE.search(without_content(text)), (entry.kind, text)


def test_a_level_raised_by_the_plans_clock_says_so_and_why_in_each_language(lived):
    timed = next(e for e in lived if e.kind == TimelineKind.LEVEL_CHANGED and not e.detail["manual"])
    assert timed.detail["reason"] == "not resolved within the plan's time limit"  # stored as written
    with translation.override("zh-hans"):
        lines = dict(entry_lines(timed))
        assert lines["级别"] == "较重预警（三级） → 严重预警（二级）"
        assert "时限" in lines["原因"] and "time limit" not in lines["原因"]
    with translation.override("en"):
        lines = dict(entry_lines(timed))
        assert lines["Level"] == "Serious (level 3) → Severe (level 2)"
        assert lines["Reason"] == "not resolved within the plan's time limit"


def test_what_an_integration_wrote_in_chinese_reads_in_english(lived):
    recovered = next(e for e in lived if e.kind == TimelineKind.RECOVERED)
    assert CHINESE.search(recovered.detail["note"])  # written while the worker spoke Chinese
    with translation.override("en"):
        assert dict(entry_lines(recovered))["Note"] == "prometheus reports every alert resolved"
    refused = next(e for e in lived if e.kind == TimelineKind.ALERT and e.detail.get("resolved_at_source"))
    with translation.override("en"):
        text = entry_text(refused)
    assert "every alert resolved" in text and "Reported" in text and not CHINESE.search(text)


def test_the_decision_on_a_plan_told_to_the_proposer_reads_in_each_language(lived):
    told = [e for e in lived if e.kind == TimelineKind.NOTIFIED and e.detail.get("decision")]
    assert {e.detail["decision"] for e in told} == {"approved", "rejected"}
    with translation.override("zh-hans"):
        assert {dict(entry_lines(e))["决定"] for e in told} == {"已批准", "已驳回"}
    with translation.override("en"):
        assert {dict(entry_lines(e))["Decision"] for e in told} == {"Approved", "Rejected"}


def test_lists_use_the_languages_separator(lived):
    missed = next(e for e in lived if e.kind == TimelineKind.DEADLINE_MISSED)
    assert len(missed.detail["reported_to"]) == 2
    with translation.override("zh-hans"):
        assert "、" in dict(entry_lines(missed))["已报告给"]
        assert join_list(["甲", "乙"]) == "甲、乙"
    with translation.override("en"):
        assert ", " in dict(entry_lines(missed))["Reported to"] and "、" not in entry_text(missed)
        assert join_list(["a", "b"]) == "a, b"


def test_old_rows_by_fenghuo_and_rows_with_no_label_both_read_as_the_system(lived):
    incident = lived[0].incident
    for label in ("Fenghuo", ""):
        entry = TimelineEntry(incident=incident, kind=TimelineKind.NOTE, actor_label=label, detail={})
        with translation.override("zh-hans"):
            assert actor_text(entry) == "系统" and entry.actor_name == "系统"
        with translation.override("en"):
            assert actor_text(entry) == "System"


ODD_DETAILS = [
    {"level": "purple", "weird_key": {"a": 1}, "another_thing": "x", "due_at": "not a date", "seconds": "nan"},
    {"from": None, "to": 3, "lateness_seconds": "soon"},
    {"alerts": "not a list", "count": "many", "deadlines_met": [None, 3]},
    {"condition_field": 7, "alert": "not a dict", "cause": "sorcery", "approver_role": None},
]


def test_unknown_keys_and_odd_values_read_as_name_value_lines_never_a_traceback(shipped_plan):
    incident = services.log_fault(reporter=None, category="system", level="blue", title="fault")
    for kind in [*TimelineKind.values, "a_kind_from_the_future"]:
        for detail in ODD_DETAILS:
            entry = TimelineEntry(incident=incident, kind=kind, actor_label="", detail=detail)
            for language in ("zh-hans", "en"):
                with translation.override(language):
                    assert isinstance(entry_text(entry), str), (kind, detail)
    with translation.override("en"):
        text = entry_text(TimelineEntry(incident=incident, kind="a_kind_from_the_future", detail=ODD_DETAILS[0]))
    assert text.startswith("A kind from the future: ") and "a_kind_from_the_future" not in text
    assert "Another thing: x" in text and "weird_key" not in text


def test_a_detail_that_is_not_a_mapping_still_reads(lived):
    entry = TimelineEntry(incident=lived[0].incident, kind=TimelineKind.NOTE, detail=["odd"])
    with translation.override("en"):
        assert entry_text(entry).startswith("Note")


def test_system_sentences_are_recognised_in_either_language_and_said_in_the_readers():
    with translation.override("zh-hans"):
        chinese = system_text("monitoring alert from prom: CPU high: 99%")
    assert chinese != "monitoring alert from prom: CPU high: 99%" and "prom" in chinese and "CPU high: 99%" in chinese
    with translation.override("en"):
        assert system_text(chinese) == "monitoring alert from prom: CPU high: 99%"
        assert system_text("escalation condition now met (affected_branch_ratio)") == \
            "escalation condition now met (affected branch ratio)"
        assert system_text("what a person typed") == "what a person typed"


def test_the_plan_names_are_read_once_for_all_entries(lived, django_assert_max_num_queries):
    names = Names(version_id=lived[0].incident.plan_version_id)
    entries = list(lived)
    with django_assert_max_num_queries(3):  # roles, levels, categories
        for language in ("zh-hans", "en"):
            with translation.override(language):
                for entry in entries:
                    entry_text(entry, names)



@pytest.mark.parametrize(("language", "system", "level"), [("zh-hans", "系统", "较重预警（三级）"),
                                                            ("en", "System", "Serious (level 3)")])
def test_the_api_timeline_says_each_entry_in_the_callers_language_and_keeps_the_facts(
        shipped_plan, make_person, api_client_for, language, system, level):
    reader = make_person("office", username="wang", language=language)
    incident = services.log_fault(reporter=None, category="system", level="yellow", title="fault",
                                  actor_label="prometheus")
    response = api_client_for(reader).get(f"/api/v1/incidents/{incident.pk}/timeline/",
                                          HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    opened, notified = response.json()[:2]
    assert opened["detail"]["level"] == "yellow" and opened["actor"] == "prometheus"  # the stored facts, as before
    assert opened["actor_text"] == "prometheus" and level in opened["text"]
    assert notified["actor"] == "Fenghuo" and notified["actor_text"] == system
    assert "roles" in notified["detail"] and "roles" not in notified["text"]


def test_the_api_timeline_reads_the_plans_names_once_whatever_the_number_of_entries(
        shipped_plan, make_person, api_client_for, django_assert_num_queries):
    reader = make_person("office", username="wang")
    client = api_client_for(reader)
    incident = services.log_fault(reporter=reader, category="system", level="yellow", title="fault")
    url = f"/api/v1/incidents/{incident.pk}/timeline/"
    client.get(url)  # warm: the token's last use is written at most once a minute
    with django_assert_num_queries(7) as few:  # the plan's roles and levels: 2 of these
        client.get(url)
    services.update_details(incident, actor=reader, changes={"affected_branches": 1, "total_branches": 2})
    services.acknowledge(incident, actor=reader)
    with django_assert_num_queries(len(few.captured_queries)):
        assert len(client.get(url).json()) > 5


# --- what the system writes to people: stored as facts, read in each person's language ------------------------


def test_a_missed_deadline_is_told_in_each_persons_language_whatever_the_worker_speaks(shipped_plan, make_person,
                                                                                       start):
    from notifications.models import Notification

    english = make_person("office", username="li", language="en")
    chinese = make_person("office", username="zhang", language="zh-hans")
    with time_machine.travel(start, tick=False):
        incident = services.log_fault(reporter=None, category="system", level="yellow", title="fault")
    with time_machine.travel(start + timedelta(hours=1), tick=False), translation.override("zh-hans"):
        engine.sweep()
    missed = Notification.objects.filter(incident=incident, event__startswith="deadline:")
    for_en = missed.filter(person=english).first()
    for_zh = missed.filter(person=chinese).first()
    assert for_en is not None and for_zh is not None
    assert "On site: " in for_en.body and not CHINESE.search(for_en.body), for_en.body
    assert "到场：" in for_zh.body and "On site" not in for_zh.body, for_zh.body
    with translation.override("en"):
        assert "On site: " in for_zh.reader_body  # the facts, not the Chinese copy


def test_an_announcement_reaches_each_listener_in_their_language(shipped_plan, make_person):
    from notifications.models import Notification

    boss = make_person("office", "leadership", username="wang")
    english = make_person("business_departments", username="li", language="en")
    chinese = make_person("business_departments", username="zhang", language="zh-hans")
    incident = services.log_fault(reporter=boss, category="system", level="orange", title="fault")
    services.acknowledge(incident, actor=boss)
    services.announce(incident, author=boss, text_zh="请各业务部门注意", text_en="Business units, take note")
    told = Notification.objects.filter(incident=incident, ask="announce", event__startswith="announcement:")
    body_en = told.get(person=english, created_at__isnull=False, body__contains="take note").body
    body_zh = told.get(person=chinese, body__contains="注意").body
    assert "请各业务部门注意" not in body_en and "Business units" not in body_zh


def test_the_stability_watch_and_its_confirmation_read_in_each_language(shipped_plan, make_person, start):
    technician = make_person("system_technicians", username="li")
    supervisor = make_person("maintenance_supervisor", username="wang")
    with time_machine.travel(start, tick=False):
        incident = services.log_fault(reporter=None, category="equipment", level="yellow", title="fault")
        services.acknowledge(incident, actor=technician)
        services.mark_recovered(incident, actor=technician, note="Disk queue back to normal.")
    with time_machine.travel(start + timedelta(days=1), tick=False):
        services.resolve(incident, actor=supervisor, summary="Restarted the batch.", stability="Watch the disk.")
    entries = list(incident.timeline.select_related("actor", "incident"))
    kinds = {e.kind for e in entries}
    assert {TimelineKind.RECOVERED, TimelineKind.STABILITY_CONFIRMED, TimelineKind.DEADLINE_CANCELLED} <= kinds
    keys = raw_keys(entries) | {"maintenance_supervisor", "incident_resolved", "on_site"}
    with translation.override("zh-hans"):
        for entry in entries:
            text = entry_text(entry)
            assert not [key for key in keys if key in text] and not WORD.findall(without_content(text)), text
    with translation.override("en"):
        for entry in entries:
            text = entry_text(entry)
            assert not [key for key in keys if key in text] and not CHINESE.search(without_content(text)), text
        confirmed = next(e for e in entries if e.kind == TimelineKind.STABILITY_CONFIRMED)
        assert "Watch the disk." in entry_text(confirmed)
