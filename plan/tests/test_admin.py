"""The admin reads a plan version and compares two; it never edits one."""

import pytest

from plan.services import load_plan_text
from plan.tests.documents import as_yaml, minimal_plan

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_versions(db):
    first = load_plan_text(as_yaml(minimal_plan()), source="first.yaml")
    doc = minimal_plan()
    doc["categories"][2]["responses"]["yellow"]["escalate"]["after"] = "90m"
    second = load_plan_text(as_yaml(doc), source="second.yaml")
    return first, second


def test_the_read_page_shows_every_cell_and_the_file(admin_client, two_versions):
    first, _second = two_versions
    page = admin_client.get(f"/admin/plan/planversion/{first.pk}/read/", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    body = page.content.decode()
    assert "Test plan" in body and "format: 1" in body
    assert body.count("criteria") >= 12


def test_comparing_two_versions_shows_exactly_what_changed(admin_client, two_versions):
    first, second = two_versions
    page = admin_client.get(f"/admin/plan/planversion/compare/{first.number}/{second.number}/")
    assert page.status_code == 200
    body = page.content.decode()
    assert ">-        after: 2h<" in body and ">+        after: 90m<" in body
    assert body.count("background:#e6ffec") == 2  # the +++ header and the one changed line


def test_a_plan_version_cannot_be_added_edited_or_deleted_in_the_admin(admin_client, two_versions):
    first, _second = two_versions
    assert admin_client.get("/admin/plan/planversion/add/").status_code == 403
    assert admin_client.post(f"/admin/plan/planversion/{first.pk}/delete/", {"post": "yes"}).status_code == 403
    admin_client.post(f"/admin/plan/planversion/{first.pk}/change/", {"name_en": "Edited"})
    first.refresh_from_db()
    assert first.name_en == "Test plan"


def test_an_earlier_version_can_be_made_active_again(admin_client, two_versions):
    first, second = two_versions
    admin_client.post(f"/admin/plan/planversion/{first.pk}/activate/")
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.is_active and not second.is_active


def test_the_activate_button_is_not_a_form_inside_the_change_form(admin_client, two_versions):
    """Browsers drop a form nested in another, so its button would submit the change form instead."""
    first, _second = two_versions
    page = admin_client.get(f"/admin/plan/planversion/{first.pk}/change/").content.decode()
    change_form = page.split('id="planversion_form"', 1)[1].split("</form>", 1)[0]
    assert "<form" not in change_form
    assert f'formaction="/admin/plan/planversion/{first.pk}/activate/"' in change_form


def test_staff_who_may_only_view_plan_versions_cannot_activate_one(client, two_versions, make_person):
    from django.contrib.auth.models import Permission

    first, second = two_versions
    viewer = make_person(is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_planversion"))
    client.force_login(viewer)
    page = client.get(f"/admin/plan/planversion/{first.pk}/change/")
    assert page.status_code == 200 and "/activate/" not in page.content.decode()
    assert client.post(f"/admin/plan/planversion/{first.pk}/activate/").status_code == 403
    first.refresh_from_db()
    second.refresh_from_db()
    assert second.is_active and not first.is_active
