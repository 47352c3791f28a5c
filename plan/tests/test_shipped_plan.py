"""The shipped plan encodes the seed: each rule of the digest in plan.en.md, checked in the loaded plan."""

from datetime import timedelta

import pytest

from plan.services import cells

pytestmark = pytest.mark.django_db

H, M = timedelta(hours=1), timedelta(minutes=1)


@pytest.fixture
def cell(shipped_plan):
    by_key = {(c.category.key, c.level.key): c for c in cells(shipped_plan)}
    return lambda category, level: by_key[(category, level)]


def on_site(c):
    return {d.role.key: d.within for d in c.on_site.all()}


def reports(c):
    return {(d.from_role.key, d.to_role.key) for d in c.reports.all()}


def told(c):
    """Everyone the cell reaches: told at once, or reported to."""
    return {n.role.key for n in c.notify.all()} | {to for _from, to in reports(c)}


def test_every_cell_of_the_twelve_has_criteria_in_both_languages_and_a_checklist(cell, shipped_plan):
    assert shipped_plan.categories.count() == 3
    assert [lv.key for lv in shipped_plan.levels.order_by("-rank")] == ["blue", "yellow", "orange", "red"]
    for category in ("network", "equipment", "system"):
        for level in ("blue", "yellow", "orange", "red"):
            c = cell(category, level)
            assert c.criteria_zh and c.criteria_en
            assert c.steps.count() >= 1


def test_levels_have_their_colours_and_ranks(shipped_plan):
    ranks = {lv.key: lv.rank for lv in shipped_plan.levels.all()}
    assert ranks == {"blue": 4, "yellow": 3, "orange": 2, "red": 1}
    assert all(lv.color.startswith("#") for lv in shipped_plan.levels.all())


def test_reporting_chain_runs_technical_groups_office_leadership_main_leaders(shipped_plan):
    roles = {r.key: r for r in shipped_plan.roles.select_related("reports_to")}
    assert roles["tech_group"].reports_to.key == "office"
    assert roles["office"].reports_to.key == "leadership"
    assert roles["leadership"].reports_to.key == "main_leaders"
    assert roles["main_leaders"].reports_to is None
    for key in ("duty_staff", "maintenance_coordinator", "local_maintenance", "local_maintenance_lead",
                "network_maintainer", "maintenance_dept_head", "system_technicians", "maintenance_supervisor",
                "ops_supervisor", "business_departments"):
        assert key in roles, f"the plan names the position {key}"


@pytest.mark.parametrize("category, level, target, after, condition", [
    ("network", "blue", "yellow", 4 * H, ("affected_branch_ratio", "gt", 0.5)),
    ("network", "yellow", "orange", 24 * H, None),
    ("system", "blue", "yellow", 48 * H, None),
    ("system", "yellow", "orange", 2 * H, None),
])
def test_timed_escalations_of_the_digest(cell, category, level, target, after, condition):
    c = cell(category, level)
    assert c.escalate_to.key == target
    assert c.escalate_after == after
    got = (c.escalate_when_field, c.escalate_when_op, c.escalate_when_value) if c.escalate_when_field else None
    assert got == condition


def test_no_other_cell_escalates_by_itself(cell):
    timed = {("network", "blue"), ("network", "yellow"), ("system", "blue"), ("system", "yellow")}
    for category in ("network", "equipment", "system"):
        for level in ("blue", "yellow", "orange", "red"):
            if (category, level) not in timed:
                assert cell(category, level).escalate_to is None, (category, level)


@pytest.mark.parametrize("category, level, expected", [
    ("network", "orange", {"network_maintainer": 30 * M, "maintenance_dept_head": 30 * M, "leadership": H}),
    ("network", "red", {"network_maintainer": 30 * M, "maintenance_dept_head": 30 * M, "office": 30 * M,
                        "leadership": 30 * M}),
    ("equipment", "yellow", {"system_technicians": 30 * M, "maintenance_supervisor": 30 * M}),
    ("equipment", "orange", {"system_technicians": 30 * M, "maintenance_supervisor": 30 * M, "office": H}),
    ("equipment", "red", {"tech_group": 30 * M, "system_technicians": 30 * M, "maintenance_supervisor": 30 * M,
                          "office": 30 * M, "leadership": 30 * M}),
    ("system", "yellow", {"ops_supervisor": H}),
    ("system", "orange", {"system_technicians": 30 * M, "office": 30 * M, "leadership": 30 * M}),
])
def test_arrival_deadlines_per_role_per_cell(cell, category, level, expected):
    assert on_site(cell(category, level)) == expected


@pytest.mark.parametrize("category, level, approver", [
    ("network", "orange", "leadership"),
    ("network", "red", "main_leaders"),
    ("equipment", "orange", "leadership"),
    ("equipment", "red", "main_leaders"),
    ("system", "orange", "leadership"),
    ("system", "red", "leadership"),
])
def test_approval_gates(cell, category, level, approver):
    assert cell(category, level).approval_by.key == approver


def test_equipment_yellow_alone_asks_the_supervisor_to_watch_before_leaving(cell):
    # 4.2.2 is the one section that asks responders to watch the system and confirm it stable before leaving.
    assert (cell("equipment", "yellow").stability_by.key, cell("equipment", "yellow").stability_watch) == (
        "maintenance_supervisor", 30 * M)
    for category in ("network", "equipment", "system"):
        for level in ("blue", "yellow", "orange", "red"):
            if (category, level) != ("equipment", "yellow"):
                assert cell(category, level).stability_by is None, (category, level)


def test_blue_and_yellow_need_no_approval(cell):
    for category in ("network", "equipment", "system"):
        for level in ("blue", "yellow"):
            assert cell(category, level).approval_by is None


def test_orange_and_red_always_reach_the_office_and_the_leadership_group(cell):
    for category in ("network", "equipment", "system"):
        for level in ("orange", "red"):
            c = cell(category, level)
            assert {"office", "leadership"} <= told(c), (category, level)
            assert ("office", "leadership") in reports(c), (category, level)


def test_red_and_orange_system_reach_the_main_leaders(cell):
    for category, level in [("network", "red"), ("equipment", "red"), ("system", "red"), ("system", "orange")]:
        assert "main_leaders" in told(cell(category, level)) or cell(category, level).approval_by.key == "main_leaders"


def test_orange_and_red_are_announced_to_related_business_departments(cell):
    for category, level in [("network", "orange"), ("network", "red"), ("equipment", "orange"),
                            ("equipment", "red"), ("system", "orange"), ("system", "red")]:
        assert "business_departments" in told(cell(category, level)), (category, level)


def test_everyone_with_an_arrival_deadline_is_told(cell):
    for category in ("network", "equipment", "system"):
        for level in ("blue", "yellow", "orange", "red"):
            c = cell(category, level)
            assert set(on_site(c)) <= told(c), (category, level)


def test_the_plan_speaks_chinese_in_its_own_words(cell):
    assert "50%" in cell("network", "blue").criteria_zh or "部分线路" in cell("network", "blue").criteria_zh
    assert "主机" in " ".join(s.text_zh for s in cell("equipment", "orange").steps.all())


def test_the_shipped_plan_exports_loads_back_and_exports_byte_identical(shipped_plan):
    from plan.services import export_version, load_plan_text

    first = export_version(shipped_plan)
    second = export_version(load_plan_text(first, source="export"))
    assert first == second
