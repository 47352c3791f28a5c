"""The admin reads proposals and plan versions with their who and why; it changes neither."""

import pytest
from django.test import Client

from improvements import services

pytestmark = pytest.mark.django_db


def test_the_admin_lists_proposals_and_the_drafts_who_and_why_without_editing(minimal_plan_version, make_person):
    office = make_person("office")
    proposal = services.proposal_create(person=office, reason="Vendors arrive late at night")
    admin = make_person(username="root", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(admin)

    listing = client.get("/admin/improvements/proposal/")
    draft = client.get(f"/admin/plan/planversion/{proposal.draft_id}/change/")
    versions = client.get("/admin/plan/planversion/")

    assert listing.status_code == draft.status_code == versions.status_code == 200
    assert "Vendors arrive late at night" in listing.content.decode()
    assert "Vendors arrive late at night" in draft.content.decode()  # the draft's reason
    assert "formaction" not in draft.content.decode()  # no "make this version active" button for a draft
    assert client.post(f"/admin/plan/planversion/{proposal.draft_id}/activate/").status_code == 302
    proposal.draft.refresh_from_db()
    assert proposal.draft.is_draft and not proposal.draft.is_active
    assert client.get("/admin/improvements/proposal/add/").status_code == 403
