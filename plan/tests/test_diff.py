"""plan/diff.py: what differs between two plan documents, cell by cell, field by field."""

import copy

import pytest

from plan.diff import Change, diff_documents

from .documents import minimal_plan


@pytest.fixture
def old():
    return minimal_plan()


@pytest.fixture
def new(old):
    return copy.deepcopy(old)


def cell(doc, category, level):
    return next(c for c in doc["categories"] if c["key"] == category)["responses"][level]


def role(doc, key):
    return next(r for r in doc["roles"] if r["key"] == key)


def test_identical_documents_differ_in_nothing(old, new):
    diff = diff_documents(old, new)
    assert diff.is_empty
    assert diff.count == 0


def test_a_reworded_step_is_one_change_at_its_position_with_both_languages(old, new):
    cell(new, "system", "yellow")["steps"] = [{"en": "Look", "zh": "查看"}, {"en": "Call the vendor", "zh": "联系厂商"}]
    cell(new, "system", "yellow")["steps"][0] = {"en": "Look closely", "zh": "仔细查看"}

    diff = diff_documents(old, new)

    [changed] = diff.cells
    assert (changed.category, changed.level) == ("system", "yellow")
    assert changed.changes == (
        Change("steps", {"en": "Look", "zh": "查看"}, {"en": "Look closely", "zh": "仔细查看"}, index=1),
        Change("steps", None, {"en": "Call the vendor", "zh": "联系厂商"}, index=2),
    )
    assert [c.state for c in changed.changes] == ["changed", "added"]


def test_an_inserted_step_leaves_the_steps_after_it_unchanged(old, new):
    steps = [{"en": f"Step {i}", "zh": f"步骤{i}"} for i in range(1, 4)]
    cell(old, "network", "red")["steps"] = copy.deepcopy(steps)
    cell(new, "network", "red")["steps"] = [steps[0], {"en": "New", "zh": "新"}, *steps[1:]]

    [changed] = diff_documents(old, new).cells

    assert changed.changes == (Change("steps", None, {"en": "New", "zh": "新"}, index=2),)


def test_a_removed_step_names_its_old_position(old, new):
    cell(old, "equipment", "blue")["steps"] = [{"en": "A", "zh": "甲"}, {"en": "B", "zh": "乙"}]
    cell(new, "equipment", "blue")["steps"] = [{"en": "A", "zh": "甲"}]

    [changed] = diff_documents(old, new).cells

    assert changed.changes == (Change("steps", {"en": "B", "zh": "乙"}, None, index=2),)
    assert changed.changes[0].state == "removed"


def test_deadlines_show_as_their_own_fields(old, new):
    yellow = cell(new, "system", "yellow")
    yellow["on_site"] = [{"role": "tech_group", "within": "30m"}, {"role": "office", "within": "1h"}]
    yellow["escalate"]["after"] = "1h"
    cell(new, "system", "orange")["approval"] = {"by": "leadership", "within": "15m"}

    cells = {(c.category, c.level): c.changes for c in diff_documents(old, new).cells}

    assert cells[("system", "yellow")] == (
        Change("on_site.tech_group", "1h", "30m"),
        Change("on_site.office", None, "1h"),
        Change("escalate.after", "2h", "1h"),
    )
    assert cells[("system", "orange")] == (Change("approval.within", None, "15m"),)


def test_roles_of_a_cell_show_old_and_new_lists(old, new):
    cell(new, "network", "orange")["notify"] = ["tech_group", "office"]
    cell(new, "network", "orange")["approval"] = {"by": "main_leaders"}
    cell(new, "network", "blue")["approval"] = {"by": "office"}

    cells = {(c.category, c.level): c.changes for c in diff_documents(old, new).cells}

    assert cells[("network", "orange")] == (
        Change("notify", ["tech_group"], ["tech_group", "office"]),
        Change("approval.by", None, "main_leaders"),
    )
    assert cells[("network", "blue")] == (Change("approval.by", None, "office"),)


def test_cells_come_in_category_then_level_order(old, new):
    for category in ("system", "network"):
        for level in ("red", "blue"):
            cell(new, category, level)["criteria"] = {"en": f"{category} {level} new", "zh": "新"}

    order = [(c.category, c.level) for c in diff_documents(old, new).cells]

    assert order == [("network", "blue"), ("network", "red"), ("system", "blue"), ("system", "red")]


def test_criteria_change_keeps_both_languages(old, new):
    cell(new, "system", "blue")["criteria"] = {"en": "blue criteria", "zh": "蓝色新标准"}

    [changed] = diff_documents(old, new).cells

    assert changed.changes == (
        Change("criteria", {"en": "blue criteria", "zh": "blue 标准"}, {"en": "blue criteria", "zh": "蓝色新标准"}),
    )


def test_roles_added_removed_and_changed(old, new):
    new["roles"].append({"key": "vendor_desk", "name": {"en": "Vendor desk", "zh": "厂商联络"}, "reports_to": "office"})
    role(new, "office")["authority"] = ["coordinate", "edit_plan"]
    new["roles"] = [r for r in new["roles"] if r["key"] != "tech_group"] + [copy.deepcopy(role(old, "tech_group"))]
    role(new, "tech_group")["reports_to"] = "leadership"

    diff = diff_documents(old, new)

    by_key = {item.key: item for item in diff.roles}
    assert by_key["vendor_desk"].state == "added"
    assert Change("reports_to", None, "office") in by_key["vendor_desk"].changes
    assert by_key["office"].state == "changed"
    assert by_key["office"].changes == (
        Change("authority", ["coordinate", "edit_plan", "lower_level", "review", "archive", "announce"],
               ["coordinate", "edit_plan"]),
    )
    assert by_key["tech_group"].changes == (Change("reports_to", "office", "leadership"),)
    assert "main_leaders" not in by_key


def test_a_removed_role_says_so(old, new):
    new["roles"] = [r for r in new["roles"] if r["key"] != "main_leaders"]

    [removed] = diff_documents(old, new).roles

    assert (removed.key, removed.state) == ("main_leaders", "removed")


def test_level_meaning_changes_field_by_field(old, new):
    level = next(lv for lv in new["levels"] if lv["key"] == "yellow")
    level["color"] = "#ffcc00"
    level["repeat"] = {"every": "10m", "times": 2}
    next(lv for lv in old["levels"] if lv["key"] == "yellow")["repeat"] = {"every": "30m", "times": 2}

    [changed] = diff_documents(old, new).levels

    assert changed.key == "yellow"
    assert changed.changes == (Change("color", "#bf8700", "#ffcc00"), Change("repeat.every", "30m", "10m"))


def test_plan_and_category_names(old, new):
    new["name"] = {"en": "Test plan 2", "zh": "测试预案二"}
    new["categories"][0]["name"] = {"en": "Network", "zh": "网络"}

    diff = diff_documents(old, new)

    assert diff.name == Change("name", {"en": "Test plan", "zh": "测试预案"}, {"en": "Test plan 2", "zh": "测试预案二"})
    [category] = diff.categories
    assert category.key == "network"
    assert category.changes == (Change("name", {"en": "Network", "zh": "network"}, {"en": "Network", "zh": "网络"}),)
    assert diff.count == 2


def test_a_removed_escalation_names_each_part(old, new):
    del cell(new, "system", "yellow")["escalate"]

    [changed] = diff_documents(old, new).cells

    assert changed.changes == (Change("escalate.to", "orange", None), Change("escalate.after", "2h", None))


def test_keys_it_does_not_know_are_still_compared(old, new):
    cell(new, "system", "red")["external"] = [{"party": "pboc", "initial": "30m"}]
    new["parties"] = [{"key": "pboc", "kind": "regulator"}]

    diff = diff_documents(old, new)

    assert diff.cells[0].changes == (Change("external", None, [{"party": "pboc", "initial": "30m"}]),)
    assert diff.other == (Change("parties", None, [{"key": "pboc", "kind": "regulator"}]),)
