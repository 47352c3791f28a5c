"""The proposal pages: new from a review's link, the cell form, the raw editor, the diff, deciding."""

import pytest
from django.test import Client

from improvements import services
from improvements.models import Proposal, ProposalState
from plan.models import PlanVersion
from plan.services import export_version
from plan.tests.documents import as_yaml, minimal_plan

pytestmark = pytest.mark.django_db


@pytest.fixture
def office(make_person):
    return make_person("office", username="office-head", language="en")


def signed_in(person):
    client = Client()
    client.force_login(person)
    return client


@pytest.fixture
def browser(office):
    return signed_in(office)


@pytest.fixture
def proposal(minimal_plan_version, office):
    return services.proposal_create(person=office, reason="Vendors arrive late at night")


def cell_form(**changes):
    form = {
        "step_rows": "3", "step-0-en": "Look", "step-0-zh": "查看",
        "step-1-en": "Call the vendor's night line", "step-1-zh": "拨打厂商夜间热线", "step-2-en": "", "step-2-zh": "",
        "notify": ["tech_group", "office"], "on_site_rows": "2", "on_site-0-role": "tech_group",
        "on_site-0-within": "30m", "on_site-1-role": "", "on_site-1-within": "",
        "approval_by": "leadership", "approval_within": "", "escalate_after": "1h",
    }
    form.update(changes)
    return form


def test_the_reviews_link_starts_a_proposal_for_its_incident(browser, minimal_plan_version, open_incident):
    incident = open_incident()

    page = browser.get(f"/plan/proposals/new/?incident={incident.pk}")
    assert page.status_code == 200
    assert f"#{incident.pk}" in page.content.decode()

    answer = browser.post("/plan/proposals/new/", {"incident": incident.pk, "reason": "Vendors arrive late"})

    proposal = Proposal.objects.get()
    assert answer.status_code == 302 and answer["Location"] == f"/plan/proposals/{proposal.pk}/"
    assert proposal.incident == incident and proposal.state == ProposalState.DRAFT


def test_a_new_proposal_without_a_reason_says_so(browser, minimal_plan_version):
    answer = browser.post("/plan/proposals/new/", {"reason": " "})

    assert answer.status_code == 400
    assert "say why the plan should change" in answer.content.decode()
    assert not Proposal.objects.exists()


def test_the_cell_form_changes_steps_deadlines_and_roles(browser, proposal):
    url = f"/plan/proposals/{proposal.pk}/cells/system/yellow/"
    assert browser.get(url).status_code == 200

    answer = browser.post(url, cell_form())

    assert answer.status_code == 302
    cell = services.cell_document(proposal, category="system", level="yellow")
    assert cell["steps"][1] == {"en": "Call the vendor's night line", "zh": "拨打厂商夜间热线"}
    assert cell["on_site"] == [{"role": "tech_group", "within": "30m"}]
    assert cell["approval"] == {"by": "leadership"}
    assert cell["escalate"]["after"] == "1h"


def test_a_bad_cell_form_shows_every_error_with_its_path_and_keeps_what_was_typed(browser, proposal):
    before = export_version(proposal.draft)

    answer = browser.post(f"/plan/proposals/{proposal.pk}/cells/system/yellow/",
                          cell_form(**{"on_site-0-within": "half an hour", "escalate_after": "soon",
                                       "step-1-zh": ""}))

    assert answer.status_code == 400
    text = answer.content.decode()
    assert "categories.system.responses.yellow.on_site[0].within" in text
    assert "categories.system.responses.yellow.escalate.after" in text
    assert "categories.system.responses.yellow.steps[1].zh" in text
    assert "half an hour" in text and "Call the vendor&#x27;s night line" in text
    proposal.draft.refresh_from_db()
    assert export_version(proposal.draft) == before


def test_the_raw_editor_shows_every_error_and_stores_nothing(browser, proposal):
    document = minimal_plan()
    document["levels"][0]["color"] = "blue"
    document["roles"][0]["authority"] = ["rule_the_world"]
    before = export_version(proposal.draft)

    answer = browser.post(f"/plan/proposals/{proposal.pk}/plan/", {"plan": as_yaml(document)})

    assert answer.status_code == 400
    text = answer.content.decode()
    assert "levels.blue.color" in text and "roles.main_leaders.authority[0]" in text
    assert "2 problems" in text
    assert export_version(proposal.draft) == before


def test_the_diff_shows_each_changed_cell_field_by_field_in_both_languages(browser, proposal):
    browser.post(f"/plan/proposals/{proposal.pk}/cells/system/yellow/", cell_form())

    page = browser.get(f"/plan/proposals/{proposal.pk}/diff/")

    text = page.content.decode()
    assert page.status_code == 200
    assert 'data-diff-cell="system-yellow"' in text and "System × Serious" in text
    assert "Call the vendor&#x27;s night line" in text and "拨打厂商夜间热线" in text
    assert "Escalates after" in text and "On site: Technical group" in text
    assert "Response plan approved by" in text and "Leadership group" in text


def test_the_diff_page_follows_the_persons_language(minimal_plan_version, make_person):
    reader = make_person("office", language="zh-hans")
    proposal = services.proposal_create(person=reader, reason="改进")
    services.proposal_edit_cell(proposal=proposal, person=reader, category="system", level="yellow",
                                edit=services.CellEdit(steps=[{"en": "Look", "zh": "查看"}], notify=["tech_group"],
                                                       on_site=[{"role": "tech_group", "within": "30m"}],
                                                       approval_by="", approval_within="", escalate_after="1h"))

    text = signed_in(reader).get(f"/plan/proposals/{proposal.pk}/diff/").content.decode()

    assert "system × 较重预警" in text
    assert "升级时限" in text and "1小时" in text.replace(" ", "")
    assert "到场" in text and "技术应急小组" in text


def test_submitting_and_approving_from_the_page_activates_the_draft(browser, proposal, minimal_plan_version):
    browser.post(f"/plan/proposals/{proposal.pk}/cells/system/yellow/", cell_form())
    assert browser.post(f"/plan/proposals/{proposal.pk}/submit/").status_code == 302

    answer = browser.post(f"/plan/proposals/{proposal.pk}/approve/", {"note": "Agreed"})

    assert answer.status_code == 302
    assert PlanVersion.objects.active().pk == proposal.draft_id
    page = browser.get(f"/plan/proposals/{proposal.pk}/").content.decode()
    assert "data-version-number" in page and "Approved" in page


def test_rejecting_from_the_page_without_a_comment_says_why_not(browser, proposal):
    browser.post(f"/plan/proposals/{proposal.pk}/cells/system/yellow/", cell_form())
    browser.post(f"/plan/proposals/{proposal.pk}/submit/")

    answer = browser.post(f"/plan/proposals/{proposal.pk}/reject/", {"note": ""})

    assert answer.status_code == 400
    assert "say why the proposal is rejected" in answer.content.decode()


def test_a_role_without_the_plans_authority_reads_but_cannot_change_or_decide(proposal, office, make_person):
    services.proposal_submit(proposal=proposal, person=office)
    other = signed_in(make_person("tech_group", language="en"))

    page = other.get(f"/plan/proposals/{proposal.pk}/")
    assert page.status_code == 200
    assert "data-approve" not in page.content.decode()
    assert other.post(f"/plan/proposals/{proposal.pk}/approve/").status_code == 403
    assert other.get("/plan/proposals/new/").status_code == 403
    assert other.post(f"/plan/proposals/{proposal.pk}/cells/system/yellow/", cell_form()).status_code in (403, 409)


def test_the_list_shows_every_proposal_with_its_state(browser, proposal):
    text = browser.get("/plan/proposals/").content.decode()

    assert f'data-proposal-id="{proposal.pk}"' in text and "Draft" in text


def test_unknown_cells_and_steps_are_404(browser, proposal):
    assert browser.get(f"/plan/proposals/{proposal.pk}/cells/system/purple/").status_code == 404
    assert browser.post(f"/plan/proposals/{proposal.pk}/explode/").status_code == 404
    assert browser.get("/plan/proposals/new/?incident=abc").status_code == 404


def test_the_list_page_reads_in_a_fixed_number_of_queries(browser, proposal, office, django_assert_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    browser.get("/plan/proposals/")  # the first request of a client also reads what it caches (its token, its roles)
    with CaptureQueriesContext(connection) as one:
        assert browser.get("/plan/proposals/").status_code == 200
    for n in range(4):
        services.proposal_create(person=office, reason=f"more {n}")

    with django_assert_num_queries(len(one)):
        assert browser.get("/plan/proposals/").content.decode().count("data-proposal-id=") == 5
