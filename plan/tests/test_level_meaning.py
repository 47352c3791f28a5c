"""What a level means beyond its rank is plan data: announced, urgent, how unanswered messages repeat."""

from datetime import timedelta

import pytest

from plan.document import LEVEL_DEFAULTS, PlanFileError, check_document
from plan.services import load_plan_text, version_document as export_document

from .documents import SHIPPED_PLAN, as_yaml, minimal_plan


def _errors(doc):
    with pytest.raises(PlanFileError) as caught:
        check_document(doc)
    return "\n".join(caught.value.errors)


def test_a_plan_that_says_nothing_gets_the_shipped_meaning_orange_and_red_announced_and_urgent():
    levels = {lv["key"]: lv for lv in check_document(minimal_plan())["levels"]}
    assert [k for k, lv in levels.items() if lv["announce"]] == ["orange", "red"]
    assert [k for k, lv in levels.items() if lv["urgent"]] == ["orange", "red"]
    assert levels["red"]["repeat"] == {"every": timedelta(minutes=5), "times": 3}
    assert levels["blue"]["repeat"] == {"every": timedelta(hours=1), "times": 1}


def test_a_plan_may_announce_yellow_make_it_urgent_and_set_its_repeats():
    doc = minimal_plan()
    doc["levels"][1].update({"announce": True, "urgent": True, "repeat": {"every": "7m", "times": 4}})
    yellow = check_document(doc)["levels"][1]
    assert (yellow["key"], yellow["announce"], yellow["urgent"]) == ("yellow", True, True)
    assert yellow["repeat"] == {"every": timedelta(minutes=7), "times": 4}


@pytest.mark.parametrize(("meaning", "message"), [
    ({"announce": "yes"}, "levels.yellow.announce: must be true or false, not 'yes'"),
    ({"urgent": 1}, "levels.yellow.urgent: must be true or false, not 1"),
    ({"repeat": {"every": "soon", "times": 2}}, "levels.yellow.repeat.every: 'soon' is not a duration"),
    ({"repeat": {"every": "10s", "times": 2}}, "levels.yellow.repeat.every: must be at least 1m"),
    ({"repeat": {"every": "10m", "times": -1}}, "levels.yellow.repeat.times: must be a whole number from 0 to 20"),
    ({"repeat": {"every": "10m", "times": True}}, "levels.yellow.repeat.times: must be a whole number"),
    ({"repeat": {"every": "10m"}}, "levels.yellow.repeat.times: is required"),
    ({"repeat": "often"}, "levels.yellow.repeat: must be a mapping"),
    ({"loud": True}, "levels.yellow.loud: unknown key"),
])
def test_a_bad_level_meaning_is_refused_naming_the_key(meaning, message):
    doc = minimal_plan()
    doc["levels"][1].update(meaning)
    assert message in _errors(doc)


def test_the_stored_version_keeps_the_meaning_and_exports_it_back(db):
    doc = minimal_plan()
    doc["levels"][0].update({"announce": True, "repeat": {"every": "2h", "times": 0}})
    version = load_plan_text(as_yaml(doc))
    blue = version.levels.get(key="blue")
    assert (blue.announced, blue.urgent, blue.repeat_every, blue.repeat_times) == (True, False, timedelta(hours=2), 0)
    exported = {lv["key"]: lv for lv in export_document(version)["levels"]}
    assert exported["blue"]["repeat"] == {"every": "2h", "times": 0}
    assert exported["red"] == {**exported["red"], "announce": True, "urgent": True, "repeat": {"every": "5m", "times": 3}}
    again = load_plan_text(as_yaml(export_document(version)))
    assert export_document(again)["levels"] == export_document(version)["levels"]


def test_the_shipped_plan_states_each_levels_meaning_as_the_code_did_before():
    levels = {lv["key"]: lv for lv in check_document(__import__("yaml").safe_load(SHIPPED_PLAN.read_text()))["levels"]}
    for key, meaning in LEVEL_DEFAULTS.items():
        assert {name: levels[key][name] for name in meaning} == meaning
