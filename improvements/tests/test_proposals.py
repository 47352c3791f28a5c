"""Plan change proposals: a draft plan, edited through the loader's checks, approved into the active version."""

import pytest
import yaml
from django.utils import translation

from core.errors import Refused
from incidents.models import TimelineKind
from incidents.timeline_text import entry_text
from improvements import services
from improvements.models import Proposal, ProposalState
from improvements.services import CellEdit
from plan.models import PlanVersion
from plan.reading import PlanFileError
from plan.services import export_version, load_plan_text, version_document
from plan.tests.documents import as_yaml, minimal_plan

pytestmark = pytest.mark.django_db


@pytest.fixture
def office(make_person):
    return make_person("office", username="office-head")


@pytest.fixture
def proposal(minimal_plan_version, office):
    return services.proposal_create(person=office, reason="Vendors arrive late at night")


def draft_cell(proposal, category="system", level="yellow"):
    proposal.refresh_from_db()
    return services.cell_document(proposal, category=category, level=level)


def an_edit(**changes):
    fields = {
        "steps": [{"en": "Look", "zh": "查看"}, {"en": "Call the vendor's night line", "zh": "拨打厂商夜间热线"}],
        "notify": ["tech_group", "office"],
        "on_site": [{"role": "tech_group", "within": "30m"}],
        "approval_by": "leadership", "approval_within": "15m", "escalate_after": "1h",
    }
    return CellEdit(**{**fields, **changes})


def test_a_new_proposal_holds_a_copy_of_the_active_plan_as_a_draft_that_is_not_active(proposal, minimal_plan_version):
    draft = proposal.draft
    assert proposal.state == ProposalState.DRAFT
    assert draft.is_draft and not draft.is_active and draft.number is None
    assert draft.based_on == minimal_plan_version
    assert version_document(draft) == version_document(minimal_plan_version)
    assert PlanVersion.objects.active() == minimal_plan_version
    assert services.proposal_diff(proposal).is_empty


def test_a_cell_edit_changes_steps_deadlines_and_roles_of_the_draft_only(proposal, office, minimal_plan_version):
    services.proposal_edit_cell(proposal=proposal, person=office, category="system", level="yellow", edit=an_edit())

    cell = draft_cell(proposal)
    assert cell["steps"][1] == {"en": "Call the vendor's night line", "zh": "拨打厂商夜间热线"}
    assert cell["notify"] == ["tech_group", "office"]
    assert cell["on_site"] == [{"role": "tech_group", "within": "30m"}]
    assert cell["approval"] == {"by": "leadership", "within": "15m"}
    assert cell["escalate"]["after"] == "1h"
    assert version_document(minimal_plan_version)["categories"][2]["responses"]["yellow"]["escalate"]["after"] == "2h"
    fields = [c.field for c in services.proposal_diff(proposal).cells[0].changes]
    assert fields == ["notify", "on_site.tech_group", "approval.by", "approval.within", "escalate.after", "steps"]


def test_a_cell_edit_that_fails_the_plan_check_lists_every_error_with_its_path_and_stores_nothing(proposal, office):
    before = export_version(proposal.draft)
    bad = an_edit(on_site=[{"role": "tech_group", "within": "soon"}], approval_by="nobody", escalate_after="",
                  steps=[{"en": "Look", "zh": ""}])

    with pytest.raises(PlanFileError) as caught:
        services.proposal_edit_cell(proposal=proposal, person=office, category="system", level="yellow", edit=bad)

    cell = "categories.system.responses.yellow"
    paths = [error.split(": ", 1)[0] for error in caught.value.errors]
    assert f"{cell}.on_site[0].within" in paths
    assert f"{cell}.approval.by" in paths
    assert f"{cell}.escalate.after" in paths
    assert f"{cell}.steps[0].zh" in paths
    proposal.draft.refresh_from_db()
    assert export_version(proposal.draft) == before


def test_the_raw_editor_replaces_the_whole_draft_through_the_loaders_check(proposal, office):
    document = minimal_plan()
    document["roles"].append({"key": "vendor_desk", "name": {"en": "Vendor desk", "zh": "厂商联络台"},
                              "reports_to": "office"})
    document["categories"][1]["responses"]["red"]["notify"] = ["vendor_desk"]

    services.proposal_update(proposal=proposal, person=office, text=as_yaml(document), reason="Name the vendor desk")

    proposal.refresh_from_db()
    assert proposal.reason == proposal.draft.reason == "Name the vendor desk"
    diff = services.proposal_diff(proposal)
    assert [(r.key, r.state) for r in diff.roles] == [("vendor_desk", "added")]
    assert [(c.category, c.level) for c in diff.cells] == [("equipment", "red")]


def test_raw_yaml_with_many_errors_lists_them_all_and_keeps_the_draft(proposal, office):
    document = minimal_plan()
    document["categories"][0]["responses"]["blue"]["escalate"]["after"] = "4 hours"
    document["roles"][3]["reports_to"] = "nobody"
    before = export_version(proposal.draft)

    with pytest.raises(PlanFileError) as caught:
        services.proposal_update(proposal=proposal, person=office, text=as_yaml(document))

    assert len(caught.value.errors) == 2
    assert any(e.startswith("categories.network.responses.blue.escalate.after:") for e in caught.value.errors)
    assert any(e.startswith("roles.tech_group.reports_to:") for e in caught.value.errors)
    assert export_version(proposal.draft) == before


def test_approving_activates_the_draft_and_open_incidents_keep_their_own_version(proposal, office, open_incident,
                                                                                    minimal_plan_version):
    running = open_incident()
    services.proposal_edit_cell(proposal=proposal, person=office, category="system", level="yellow", edit=an_edit())
    services.proposal_submit(proposal=proposal, person=office)

    services.proposal_approve(proposal=proposal, person=office, note="Agreed at the monthly meeting")

    proposal.refresh_from_db()
    active = PlanVersion.objects.active()
    assert active == proposal.draft
    assert (active.number, active.approved_by, active.proposed_by) == (minimal_plan_version.number + 1, office, office)
    assert active.reason == "Vendors arrive late at night"
    assert (proposal.state, proposal.decided_by, proposal.decision_note) == (
        ProposalState.APPROVED, office, "Agreed at the monthly meeting")
    running.refresh_from_db()
    assert running.plan_version == minimal_plan_version
    assert open_incident(title="After the change").plan_version == active
    # Once approved the diff still shows what it changed, against the version it replaced.
    assert services.proposal_diff(proposal).cells


def test_rejecting_keeps_the_proposal_and_its_draft_and_the_active_plan(proposal, office, minimal_plan_version):
    services.proposal_submit(proposal=proposal, person=office)

    services.proposal_reject(proposal=proposal, person=office, note="Not needed: the vendor has a day line")

    proposal.refresh_from_db()
    assert proposal.state == ProposalState.REJECTED and proposal.decided_at is not None
    assert PlanVersion.objects.active() == minimal_plan_version
    assert PlanVersion.objects.filter(pk=proposal.draft_id, is_draft=True).exists()


def test_rejecting_needs_a_reason(proposal, office):
    services.proposal_submit(proposal=proposal, person=office)

    with pytest.raises(Refused) as caught:
        services.proposal_reject(proposal=proposal, person=office, note=" ")

    assert caught.value.status_code == 400


def test_only_the_roles_the_plan_lets_edit_it_may_approve(proposal, office, make_person):
    reviewer = make_person("leadership")  # holds `review` in the minimal plan, not `edit_plan`
    services.proposal_submit(proposal=proposal, person=office)

    with translation.override("en"), pytest.raises(Refused) as caught:
        services.proposal_approve(proposal=proposal, person=reviewer)

    assert caught.value.status_code == 403
    assert "Emergency office" in caught.value.message


def test_reviewers_may_propose_and_others_may_not(minimal_plan_version, make_person):
    assert services.proposal_create(person=make_person("leadership"), reason="From the review").pk
    with pytest.raises(Refused) as caught:
        services.proposal_create(person=make_person("tech_group"), reason="I would like")
    assert caught.value.status_code == 403


def test_the_authority_to_approve_is_read_from_the_plan_not_the_code(office, make_person):
    document = minimal_plan()
    for role in document["roles"]:
        role["authority"] = [a for a in role.get("authority", []) if a != "edit_plan"]
        if role["key"] == "leadership":
            role["authority"].append("edit_plan")
    load_plan_text(as_yaml(document))
    leader = make_person("leadership")
    proposal = services.proposal_create(person=leader, reason="The leadership edits the plan now")
    services.proposal_submit(proposal=proposal, person=leader)

    with pytest.raises(Refused):
        services.proposal_approve(proposal=proposal, person=office)
    services.proposal_approve(proposal=proposal, person=leader)


def test_only_a_draft_is_edited_and_only_a_submitted_proposal_is_decided(proposal, office):
    with pytest.raises(Refused) as caught:
        services.proposal_approve(proposal=proposal, person=office)
    assert caught.value.status_code == 409
    services.proposal_submit(proposal=proposal, person=office)
    with pytest.raises(Refused) as caught:
        services.proposal_edit_cell(proposal=proposal, person=office, category="system", level="yellow", edit=an_edit())
    assert caught.value.status_code == 409


def test_a_draft_made_from_an_older_plan_is_not_approved_over_a_newer_one(proposal, office):
    services.proposal_submit(proposal=proposal, person=office)
    newer = load_plan_text(as_yaml(minimal_plan()), source="someone else's change")

    with pytest.raises(Refused) as caught:
        services.proposal_approve(proposal=proposal, person=office)

    assert caught.value.status_code == 409
    assert str(newer.number) in caught.value.message
    assert PlanVersion.objects.active() == newer


def test_the_linked_incidents_timeline_tells_the_proposal_and_its_approval_in_both_languages(
        minimal_plan_version, office, open_incident):
    incident = open_incident()
    proposal = services.proposal_create(person=office, reason="Vendors arrive late", incident=incident)
    services.proposal_edit_cell(proposal=proposal, person=office, category="system", level="yellow", edit=an_edit())
    services.proposal_submit(proposal=proposal, person=office)
    services.proposal_approve(proposal=proposal, person=office, note="Agreed")

    entries = {e.kind: e for e in incident.timeline.all()}
    proposed = entries[TimelineKind.PLAN_CHANGE_PROPOSED]
    approved = entries[TimelineKind.PLAN_CHANGE_APPROVED]
    assert proposed.actor == approved.actor == office
    with translation.override("en"):
        assert entry_text(proposed).startswith("Plan change proposed")
        assert "Vendors arrive late" in entry_text(proposed)
        assert f"Active plan version: {minimal_plan_version.number + 1}" in entry_text(approved)
    with translation.override("zh-hans"):
        assert entry_text(proposed).startswith("预案修订已提出")
        assert f"生效预案版本：{minimal_plan_version.number + 1}" in entry_text(approved)


def test_a_proposal_that_is_not_linked_writes_no_timeline(proposal, office, open_incident):
    incident = open_incident()
    services.proposal_submit(proposal=proposal, person=office)

    assert not incident.timeline.filter(kind=TimelineKind.PLAN_CHANGE_PROPOSED).exists()


def test_a_proposal_with_an_empty_reason_is_refused(minimal_plan_version, office):
    with pytest.raises(Refused) as caught:
        services.proposal_create(person=office, reason="  ")
    assert caught.value.status_code == 400
    assert not Proposal.objects.exists()


def test_the_draft_exports_as_a_file_loadplan_accepts(proposal, office):
    services.proposal_edit_cell(proposal=proposal, person=office, category="system", level="yellow", edit=an_edit())
    text = export_version(proposal.draft)

    loaded = load_plan_text(text)

    assert yaml.safe_load(export_version(loaded)) == yaml.safe_load(text)


def test_a_cell_form_that_keeps_the_same_roles_shows_no_change_of_order(proposal, office):
    services.proposal_edit_cell(proposal=proposal, person=office, category="system", level="orange",
                                edit=an_edit(notify=["office", "tech_group"], steps=[{"en": "Look", "zh": "查看"}],
                                             on_site=[], approval_by="leadership", approval_within=""))
    services.proposal_edit_cell(proposal=proposal, person=office, category="system", level="orange",
                                edit=an_edit(notify=["tech_group", "office"], steps=[{"en": "Look", "zh": "查看"}],
                                             on_site=[], approval_by="leadership", approval_within=""))

    [cell] = services.proposal_diff(proposal).cells
    assert [c for c in cell.changes if c.field == "notify"] == [
        services_change("notify", ["tech_group"], ["tech_group", "office"])]


def services_change(field, old, new):
    from plan.diff import Change

    return Change(field, old, new)


def test_a_proposal_cannot_be_linked_to_an_archived_incident(minimal_plan_version, office, open_incident):
    from incidents.models import Incident
    from incidents.states import Status

    incident = open_incident()
    Incident.objects.filter(pk=incident.pk).update(status=Status.ARCHIVED, resolved_at=incident.opened_at)
    incident.refresh_from_db()

    with pytest.raises(Refused) as caught:
        services.proposal_create(person=office, reason="Too late", incident=incident)

    assert caught.value.status_code == 409 and caught.value.code == "archived"
    assert not Proposal.objects.exists()


def test_deciding_after_the_incident_was_archived_writes_nothing_to_its_closed_record(minimal_plan_version, office,
                                                                                      open_incident):
    from incidents.models import Incident
    from incidents.states import Status

    incident = open_incident()
    proposal = services.proposal_create(person=office, reason="From the review", incident=incident)
    services.proposal_submit(proposal=proposal, person=office)
    Incident.objects.filter(pk=incident.pk).update(status=Status.ARCHIVED, resolved_at=incident.opened_at)
    entries = incident.timeline.count()

    services.proposal_approve(proposal=proposal, person=office)

    assert incident.timeline.count() == entries
    assert PlanVersion.objects.active().pk == proposal.draft_id
