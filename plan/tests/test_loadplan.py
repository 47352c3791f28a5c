"""loadplan: a good file becomes the active version; a bad one changes nothing and says where it is wrong."""

from datetime import timedelta

import pytest
import yaml
from django.core.management import CommandError, call_command

from plan.models import PlanVersion, Cell
from plan.tests.documents import as_yaml, minimal_plan

pytestmark = pytest.mark.django_db


def write(tmp_path, text, name="plan.yaml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def load_errors(tmp_path, text):
    before = PlanVersion.objects.count()
    with pytest.raises(CommandError) as info:
        call_command("loadplan", write(tmp_path, text))
    assert PlanVersion.objects.count() == before, "a bad plan file must not store anything"
    return str(info.value)


def test_a_valid_plan_becomes_the_only_active_version(tmp_path):
    call_command("loadplan", write(tmp_path, as_yaml(minimal_plan())))
    call_command("loadplan", write(tmp_path, as_yaml(minimal_plan())))
    assert list(PlanVersion.objects.order_by("number").values_list("number", "is_active")) == [(1, False), (2, True)]
    assert Cell.objects.filter(version__number=2).count() == 12


def test_json_plans_are_accepted(tmp_path):
    import json

    call_command("loadplan", write(tmp_path, json.dumps(minimal_plan()), "plan.json"))
    assert PlanVersion.objects.active().number == 1


def test_not_yaml_is_refused_with_the_line(tmp_path):
    message = load_errors(tmp_path, "format: 1\nroles: [unclosed\n")
    assert "not valid YAML" in message and "line" in message


def test_unknown_format_is_refused(tmp_path):
    doc = minimal_plan()
    doc["format"] = 2
    assert "format: unknown format 2" in load_errors(tmp_path, as_yaml(doc))


def test_missing_level_is_refused(tmp_path):
    doc = minimal_plan()
    doc["levels"] = doc["levels"][:3]
    assert "levels: missing level 'red'" in load_errors(tmp_path, as_yaml(doc))


def test_unknown_level_key_is_refused(tmp_path):
    doc = minimal_plan()
    doc["levels"][0]["key"] = "purple"
    message = load_errors(tmp_path, as_yaml(doc))
    assert "levels.purple.key: unknown level 'purple'" in message


def test_missing_cell_is_refused_with_its_path(tmp_path):
    doc = minimal_plan()
    del doc["categories"][1]["responses"]["orange"]
    assert "categories.equipment.responses.orange: missing cell" in load_errors(tmp_path, as_yaml(doc))


def test_unknown_role_is_refused_with_its_path(tmp_path):
    doc = minimal_plan()
    doc["categories"][2]["responses"]["red"]["notify"] = ["janitors"]
    message = load_errors(tmp_path, as_yaml(doc))
    assert "categories.system.responses.red.notify[0]: unknown role 'janitors'" in message


def test_reports_to_cycle_is_refused(tmp_path):
    doc = minimal_plan()
    doc["roles"][0]["reports_to"] = "office"
    message = load_errors(tmp_path, as_yaml(doc))
    assert "roles.main_leaders.reports_to: reporting chain goes round in a circle" in message


def test_bad_duration_is_refused_with_its_path(tmp_path):
    doc = minimal_plan()
    doc["categories"][0]["responses"]["blue"]["escalate"]["after"] = "4 hours"
    message = load_errors(tmp_path, as_yaml(doc))
    assert "categories.network.responses.blue.escalate.after: '4 hours' is not a duration" in message


def test_escalation_to_a_milder_level_is_refused(tmp_path):
    doc = minimal_plan()
    doc["categories"][2]["responses"]["yellow"]["escalate"]["to"] = "blue"
    message = load_errors(tmp_path, as_yaml(doc))
    assert "categories.system.responses.yellow.escalate.to: escalation must go to a more severe level" in message


def test_condition_on_an_unknown_field_is_refused(tmp_path):
    doc = minimal_plan()
    doc["categories"][0]["responses"]["blue"]["escalate"]["when"] = {"field": "moon_phase", "gt": 0.5}
    message = load_errors(tmp_path, as_yaml(doc))
    assert "categories.network.responses.blue.escalate.when.field: unknown field 'moon_phase'" in message


def test_duplicate_keys_are_refused_with_both_lines(tmp_path):
    text = as_yaml(minimal_plan()).replace("format: 1\n", "format: 1\nformat: 1\n", 1)
    message = load_errors(tmp_path, text)
    assert "duplicate key 'format'" in message and "line 2" in message


def test_every_problem_is_listed_at_once(tmp_path):
    doc = minimal_plan()
    doc["categories"][0]["responses"]["blue"]["escalate"]["after"] = "soon"
    doc["categories"][2]["responses"]["red"]["notify"] = ["nobody"]
    doc["levels"][3]["color"] = "red"
    message = load_errors(tmp_path, as_yaml(doc))
    assert "3 problem(s)" in message
    assert ".escalate.after" in message and ".notify[0]" in message and "levels.red.color" in message


def test_unknown_keys_are_refused_not_ignored(tmp_path):
    doc = minimal_plan()
    doc["categories"][2]["responses"]["red"]["escalte"] = {"to": "red", "after": "1h"}
    assert "categories.system.responses.red.escalte: unknown key" in load_errors(tmp_path, as_yaml(doc))


def test_a_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        call_command("loadplan", str(tmp_path / "nope.yaml"))


def test_export_loads_back_and_exports_byte_identical(tmp_path, capsys):
    call_command("loadplan", write(tmp_path, as_yaml(minimal_plan())))
    capsys.readouterr()
    call_command("exportplan")
    first = capsys.readouterr().out
    call_command("loadplan", write(tmp_path, first, "exported.yaml"))
    capsys.readouterr()
    call_command("exportplan")
    second = capsys.readouterr().out
    assert PlanVersion.objects.active().number == 2
    assert first == second


def test_exportplan_takes_a_version_number(tmp_path, capsys):
    call_command("loadplan", write(tmp_path, as_yaml(minimal_plan())))
    doc = minimal_plan()
    doc["name"]["en"] = "Second"
    call_command("loadplan", write(tmp_path, as_yaml(doc)))
    capsys.readouterr()
    call_command("exportplan", "--version", "1")
    assert "Test plan" in capsys.readouterr().out
    with pytest.raises(CommandError, match="no plan version 9"):
        call_command("exportplan", "--version", "9")


def test_loadplan_records_who_loaded_the_version(tmp_path, django_user_model):
    chen = django_user_model.objects.create_user("chen")
    call_command("loadplan", write(tmp_path, as_yaml(minimal_plan())), "--by", "chen")
    version = PlanVersion.objects.active()
    assert version.loaded_by == chen and version.loaded_at is not None
    assert version.history.first().history_user == chen
    with pytest.raises(CommandError, match="--by: no person with username 'ghost'"):
        call_command("loadplan", write(tmp_path, as_yaml(minimal_plan())), "--by", "ghost")


def test_an_approval_window_is_stored_and_exported_as_written(tmp_path, capsys):
    document = minimal_plan()
    document["categories"][2]["responses"]["orange"]["approval"] = {"by": "leadership", "within": "45m"}
    call_command("loadplan", write(tmp_path, as_yaml(document)))
    cell = Cell.objects.get(category__key="system", level__key="orange")
    assert cell.approval_within == timedelta(minutes=45) and cell.approval_deadline == timedelta(minutes=45)
    capsys.readouterr()
    call_command("exportplan")
    assert yaml.safe_load(capsys.readouterr().out)["categories"][2]["responses"]["orange"]["approval"] == {
        "by": "leadership", "within": "45m"}


def test_a_bad_approval_window_is_refused_with_its_path(tmp_path):
    document = minimal_plan()
    document["categories"][2]["responses"]["orange"]["approval"] = {"by": "leadership", "within": "soon"}
    assert "categories.system.responses.orange.approval.within" in load_errors(tmp_path, as_yaml(document))


def test_a_stability_rule_is_stored_and_exported_as_written(tmp_path, capsys):
    document = minimal_plan()
    document["categories"][1]["responses"]["yellow"]["stability"] = {"by": "tech_group", "watch": "45m"}
    call_command("loadplan", write(tmp_path, as_yaml(document)))
    cell = Cell.objects.get(category__key="equipment", level__key="yellow")
    assert (cell.stability_by.key, cell.stability_watch) == ("tech_group", timedelta(minutes=45))
    assert Cell.objects.filter(stability_by__isnull=False).count() == 1
    capsys.readouterr()
    call_command("exportplan")
    exported = yaml.safe_load(capsys.readouterr().out)["categories"][1]["responses"]
    assert exported["yellow"]["stability"] == {"by": "tech_group", "watch": "45m"}
    assert "stability" not in exported["orange"]


@pytest.mark.parametrize("stability, path, message", [
    ({"by": "nobody_here", "watch": "30m"}, "stability.by", "unknown role 'nobody_here'"),
    ({"by": "tech_group", "watch": "a while"}, "stability.watch", "is not a duration"),
    ({"by": "tech_group"}, "stability.watch", "is required"),
    ({"by": "tech_group", "watch": "30m", "until": "stable"}, "stability.until", "unknown key"),
    ("30m", "stability", "must be a mapping"),
])
def test_a_bad_stability_rule_is_refused_naming_the_cell(tmp_path, stability, path, message):
    document = minimal_plan()
    document["categories"][1]["responses"]["yellow"]["stability"] = stability
    errors = load_errors(tmp_path, as_yaml(document))
    assert f"categories.equipment.responses.yellow.{path}: " in errors and message in errors
