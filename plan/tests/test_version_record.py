"""Every plan version keeps who proposed it, who approved it, when and why; drafts are versions that are not active."""

import copy
import getpass
from io import StringIO

import pytest
import yaml
from django.core.management import call_command
from django.utils import translation

from core.errors import Refused
from plan.models import Cell, PlanVersion, Role, VersionOrigin
from plan.services import (activate_version, check_text, export_version, plan_draft_activate, plan_draft_store,
                           roles_with, version_document)

from .documents import as_yaml, minimal_plan

pytestmark = pytest.mark.django_db


def test_loadplan_records_the_operator_as_proposer_and_approver_with_the_file(tmp_path, make_person):
    operator = make_person(username="ops")
    path = tmp_path / "plan.yaml"
    path.write_text(as_yaml(minimal_plan()), encoding="utf-8")

    call_command("loadplan", str(path), "--by", "ops", "--reason", "yearly review", stdout=StringIO())

    version = PlanVersion.objects.active()
    assert version.origin == VersionOrigin.SHELL
    assert version.operator == getpass.getuser()
    assert version.proposed_by == version.approved_by == operator
    assert version.approved_at is not None and version.proposed_at is not None
    assert version.reason == f"loaded from the shell, file {path}: yearly review"


def test_loadplan_without_by_still_names_the_shell_and_the_file(tmp_path):
    path = tmp_path / "plan.yaml"
    path.write_text(as_yaml(minimal_plan()), encoding="utf-8")

    call_command("loadplan", str(path), stdout=StringIO())

    version = PlanVersion.objects.active()
    assert version.approved_by is None
    assert version.reason == f"loaded from the shell, file {path}"
    with translation.override("en"):
        assert version.get_origin_display() == "loaded from the shell"
    with translation.override("zh-hans"):
        assert version.get_origin_display() == "从命令行载入"


def test_a_draft_is_stored_without_number_and_does_not_become_active(minimal_plan_version, make_person):
    proposer = make_person("office")
    document = copy.deepcopy(version_document(minimal_plan_version))
    document["categories"][2]["responses"]["yellow"]["steps"].append({"en": "Call the vendor", "zh": "联系厂商"})

    draft = plan_draft_store(document=check_text(as_yaml(document)), proposed_by=proposer, reason="vendor step",
                             based_on=minimal_plan_version)

    assert draft.is_draft and not draft.is_active and draft.number is None
    assert PlanVersion.objects.active() == minimal_plan_version
    assert draft.based_on == minimal_plan_version and draft.proposed_by == proposer
    assert "Call the vendor" in export_version(draft)
    assert "Call the vendor" not in export_version(minimal_plan_version)


def test_replacing_a_draft_keeps_one_set_of_rows(minimal_plan_version, make_person):
    document = check_text(export_version(minimal_plan_version))
    draft = plan_draft_store(document=document, proposed_by=None, based_on=minimal_plan_version)
    changed = copy.deepcopy(version_document(minimal_plan_version))
    changed["roles"].append({"key": "vendor_desk", "name": {"en": "Vendor desk", "zh": "厂商联络"}, "reports_to": "office"})

    again = plan_draft_store(document=check_text(as_yaml(changed)), proposed_by=None, draft=draft)

    assert again.pk == draft.pk
    assert Role.objects.filter(version=draft).count() == len(changed["roles"])
    assert Cell.objects.filter(version=draft).count() == 12
    assert version_document(draft) == version_document(PlanVersion.objects.get(pk=draft.pk))


def test_approving_a_draft_numbers_it_after_every_version_and_makes_it_the_only_active_one(minimal_plan_version,
                                                                                             make_person):
    approver = make_person("office")
    draft = plan_draft_store(document=check_text(export_version(minimal_plan_version)), proposed_by=None,
                             based_on=minimal_plan_version, reason="why not")

    active = plan_draft_activate(draft=draft, approved_by=approver)

    assert active.pk == draft.pk
    assert (active.number, active.is_active, active.is_draft) == (minimal_plan_version.number + 1, True, False)
    assert active.approved_by == approver and active.approved_at is not None
    assert list(PlanVersion.objects.filter(is_active=True)) == [active]
    with pytest.raises(Refused):
        plan_draft_store(document=check_text(export_version(active)), proposed_by=None, draft=active)


def test_a_draft_cannot_be_made_active_as_a_rollback(minimal_plan_version):
    draft = plan_draft_store(document=check_text(export_version(minimal_plan_version)), proposed_by=None)

    with pytest.raises(Refused):
        activate_version(draft)
    assert PlanVersion.objects.active() == minimal_plan_version


def test_a_drafts_authority_is_read_afresh_after_each_edit(minimal_plan_version):
    document = version_document(minimal_plan_version)
    draft = plan_draft_store(document=check_text(as_yaml(document)), proposed_by=None)
    assert roles_with("edit_plan", draft.pk) == {"office"}
    changed = copy.deepcopy(document)
    next(r for r in changed["roles"] if r["key"] == "leadership")["authority"].append("edit_plan")

    plan_draft_store(document=check_text(as_yaml(changed)), proposed_by=None, draft=draft)

    assert roles_with("edit_plan", draft.pk) == {"office", "leadership"}


def test_an_exported_draft_loads_unchanged(minimal_plan_version):
    draft = plan_draft_store(document=check_text(export_version(minimal_plan_version)), proposed_by=None)

    assert yaml.safe_load(export_version(draft)) == yaml.safe_load(export_version(minimal_plan_version))
