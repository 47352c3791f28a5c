"""Small, valid plan documents for tests that need a plan but not the shipped one."""

import copy
from pathlib import Path

import yaml

from plan.durations import parse_duration

LEVELS = [
    {"key": "blue", "rank": 4, "color": "#1f6feb", "name": {"en": "General", "zh": "一般预警"}},
    {"key": "yellow", "rank": 3, "color": "#bf8700", "name": {"en": "Serious", "zh": "较重预警"}},
    {"key": "orange", "rank": 2, "color": "#d1570a", "name": {"en": "Severe", "zh": "严重预警"}},
    {"key": "red", "rank": 1, "color": "#cf222e", "name": {"en": "Most severe", "zh": "特别严重预警"}},
]


def _cell(level):
    return {
        "criteria": {"en": f"{level} criteria", "zh": f"{level} 标准"},
        "notify": ["tech_group"],
        "report": [],
        "on_site": [],
        "approval": None,
        "steps": [{"en": "Look", "zh": "查看"}],
    }


COMMAND = ["lower_level", "review", "archive", "announce"]


def minimal_plan():
    doc = {
        "format": 1,
        "name": {"en": "Test plan", "zh": "测试预案"},
        "roles": [
            {"key": "main_leaders", "name": {"en": "Main leaders", "zh": "主要领导"},
             "authority": [*COMMAND, "approve_review"]},
            {"key": "leadership", "name": {"en": "Leadership group", "zh": "应急领导小组"}, "reports_to": "main_leaders",
             "authority": [*COMMAND, "approve_review"]},
            {"key": "office", "name": {"en": "Emergency office", "zh": "应急办公室"}, "reports_to": "leadership",
             "authority": ["coordinate", "edit_plan", *COMMAND]},
            {"key": "tech_group", "name": {"en": "Technical group", "zh": "技术应急小组"}, "reports_to": "office",
             "authority": ["respond_to_every_incident"]},
        ],
        "levels": copy.deepcopy(LEVELS),
        "categories": [
            {"key": key, "name": {"en": key.title(), "zh": key}, "responses": {lv["key"]: _cell(lv["key"]) for lv in LEVELS}}
            for key in ("network", "equipment", "system")
        ],
    }
    system = doc["categories"][2]["responses"]
    system["yellow"]["escalate"] = {"to": "orange", "after": "2h"}
    system["yellow"]["on_site"] = [{"role": "tech_group", "within": "1h"}]
    system["orange"]["approval"] = {"by": "leadership"}
    system["orange"]["report"] = [{"from": "office", "to": "leadership"}]
    network = doc["categories"][0]["responses"]
    network["blue"]["escalate"] = {"to": "yellow", "after": "4h", "when": {"field": "affected_branch_ratio", "gt": 0.5}}
    return doc


def as_yaml(doc):
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)


SHIPPED_PLAN = Path(__file__).resolve().parents[1] / "plans" / "credit-system.yaml"


def fast_plan_text(seconds_per_hour=2, *, external=False):
    """The shipped plan with every duration shrunk (1 h → ``seconds_per_hour`` s), for real-time tests.

    Without ``external`` the cells owe no report to outside parties: the People's Bank's written report
    (24 h, the longest clock of a level) would outlast the engine tests that wait for every deadline.
    """
    doc = yaml.safe_load(SHIPPED_PLAN.read_text(encoding="utf-8"))

    def shrink(text):
        seconds = parse_duration(text).total_seconds() * seconds_per_hour / 3600
        return f"{max(1, round(seconds))}s"

    for category in doc["categories"]:
        for cell in category["responses"].values():
            for duty in cell.get("on_site") or []:
                duty["within"] = shrink(duty["within"])
            if cell.get("escalate"):
                cell["escalate"]["after"] = shrink(cell["escalate"]["after"])
            if cell.get("stability"):
                cell["stability"]["watch"] = shrink(cell["stability"]["watch"])
            if not external:
                cell.pop("external", None)
            for duty in cell.get("external") or []:
                for stage in ("initial", "written", "final"):
                    if stage in duty:
                        duty[stage] = shrink(duty[stage])
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)
