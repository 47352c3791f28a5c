"""Plan format: top-level ``parties`` and a cell's ``external`` reporting duties (interfaces.md)."""

from datetime import timedelta

import pytest
from django.core.management import call_command

from plan.models import ExternalDuty, Party, PlanVersion
from plan.services import export_version, load_plan_text
from plan.tests.documents import SHIPPED_PLAN, as_yaml, minimal_plan
from plan.tests.test_loadplan import load_errors, write

pytestmark = pytest.mark.django_db

PBOC = {"key": "pboc", "kind": "regulator", "name": {"en": "People's Bank", "zh": "人民银行"}}


def plan_with_duty(**duty):
    doc = minimal_plan()
    doc["parties"] = [dict(PBOC)]
    doc["categories"][2]["responses"]["orange"]["external"] = [{"party": "pboc", **duty}]
    return doc


def test_a_cells_external_duty_is_stored_with_its_stages():
    version = load_plan_text(as_yaml(plan_with_duty(initial="30m", written="2h", final="5d", confirmed=False)))
    duty = ExternalDuty.objects.get(response__version=version)
    assert (duty.party.key, duty.party.kind) == ("pboc", "regulator")
    assert duty.stages() == {"initial": timedelta(minutes=30), "written": timedelta(hours=2),
                             "final": timedelta(days=5)}
    assert duty.confirmed is False


def test_a_duty_may_owe_only_some_stages():
    version = load_plan_text(as_yaml(plan_with_duty(final="1d")))
    assert ExternalDuty.objects.get(response__version=version).stages() == {"final": timedelta(days=1)}


def test_an_external_entry_naming_an_unknown_party_is_refused_with_its_path(tmp_path):
    doc = plan_with_duty(initial="30m")
    doc["categories"][2]["responses"]["orange"]["external"][0]["party"] = "cbrc"
    errors = load_errors(tmp_path, as_yaml(doc))
    assert "categories.system.responses.orange.external[0].party: unknown party 'cbrc'" in errors
    assert Party.objects.count() == 0


def test_an_external_entry_naming_an_unknown_stage_is_refused_with_its_path(tmp_path):
    errors = load_errors(tmp_path, as_yaml(plan_with_duty(initial="30m", progress="4h")))
    assert "categories.system.responses.orange.external[0].progress: unknown stage 'progress'" in errors


def test_an_external_entry_without_any_stage_is_refused(tmp_path):
    errors = load_errors(tmp_path, as_yaml(plan_with_duty()))
    assert "categories.system.responses.orange.external[0]: give at least one stage" in errors


def test_a_bad_stage_duration_and_a_bad_party_kind_are_both_reported(tmp_path):
    doc = plan_with_duty(written="soon")
    doc["parties"][0]["kind"] = "ministry"
    errors = load_errors(tmp_path, as_yaml(doc))
    assert "categories.system.responses.orange.external[0].written: 'soon' is not a duration" in errors
    assert "parties.pboc.kind: unknown kind 'ministry'" in errors


def test_a_party_declared_twice_is_refused(tmp_path):
    doc = plan_with_duty(initial="30m")
    doc["parties"].append(dict(PBOC))
    assert "parties.pboc: party 'pboc' is declared twice" in load_errors(tmp_path, as_yaml(doc))


def test_external_duties_export_and_load_back_byte_identical(tmp_path, capsys):
    load_plan_text(as_yaml(plan_with_duty(initial="30m", written="2h", final="5d", confirmed=False)))
    first = export_version(PlanVersion.objects.active())
    assert "external:\n" in first and "parties:\n" in first and "confirmed: false" in first
    call_command("loadplan", write(tmp_path, first))
    assert export_version(PlanVersion.objects.active()) == first


def test_a_plan_without_parties_exports_without_them():
    load_plan_text(as_yaml(minimal_plan()))
    text = export_version(PlanVersion.objects.active())
    assert "parties" not in text and "external" not in text


def test_the_shipped_plan_owes_the_peoples_bank_reports_at_orange_and_red_awaiting_confirmation():
    version = load_plan_text(SHIPPED_PLAN.read_text(encoding="utf-8"))
    duties = ExternalDuty.objects.filter(response__version=version).select_related("party", "response__level",
                                                                                    "response__category")
    cells = {(d.response.category.key, d.response.level.key) for d in duties}
    assert cells == {(c, lv) for c in ("network", "equipment", "system") for lv in ("orange", "red")}
    assert {d.party.key for d in duties} == {"pboc"}
    assert all(not d.confirmed and set(d.stages()) == {"initial", "written", "final"} for d in duties)
    assert Party.objects.get(version=version, key="pboc").kind == "regulator"
