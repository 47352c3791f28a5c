"""A token is revoked or rotated in the admin only by its actions, which say who did it; no edit revives one."""

import re

import pytest
from django.contrib.messages import get_messages

from people.models import ApiToken, hash_token
from people.services import api_token_revoke

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/people/apitoken/"
INCIDENTS = "/api/v1/incidents/"


@pytest.fixture
def token(shipped_plan, make_person):
    token, secret = ApiToken.issue(make_person("office", username="wang"), name="report script")
    token.secret = secret
    return token


@pytest.fixture
def admin(admin_user):
    return admin_user


def act(client, action, *tokens):
    return client.post(CHANGELIST, {"action": action, "_selected_action": [t.pk for t in tokens]})


def test_the_token_change_form_cannot_clear_revoked_at(admin_client, token, admin):
    api_token_revoke(token=token, by=admin)
    response = admin_client.post(f"{CHANGELIST}{token.pk}/change/", {
        "person": token.person_id, "name": "report script", "revoked_at_0": "", "revoked_at_1": ""})
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert response.status_code == 403


def test_the_token_change_page_has_no_save_button(admin_client, token):
    body = admin_client.get(f"{CHANGELIST}{token.pk}/change/").content.decode()
    assert 'name="_save"' not in body and 'name="revoked_at_0"' not in body


def test_reverting_a_token_to_before_its_revocation_is_refused(admin_client, token, admin):
    before = token.history.earliest()
    api_token_revoke(token=token, by=admin)
    response = admin_client.post(f"{CHANGELIST}{token.pk}/history/{before.history_id}/",
                                 {"person": token.person_id, "name": token.name})
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert response.status_code == 403


def test_a_token_cannot_be_deleted_in_the_admin(admin_client, token):
    assert admin_client.post(f"{CHANGELIST}{token.pk}/delete/", {"post": "yes"}).status_code == 403
    assert ApiToken.objects.filter(pk=token.pk).exists()


def test_the_revoke_action_stops_the_token_and_records_who_revoked_it(admin_client, client, token, admin):
    assert client.get(INCIDENTS, HTTP_AUTHORIZATION=f"Token {token.secret}").status_code == 200
    act(admin_client, "revoke", token)
    token.refresh_from_db()
    assert token.revoked_at is not None
    latest = token.history.latest()
    assert (latest.history_user, latest.history_change_reason) == (admin, "revoked")
    assert client.get(INCIDENTS, HTTP_AUTHORIZATION=f"Token {token.secret}").status_code == 401


def test_revoking_twice_keeps_the_time_it_first_stopped_working(admin_client, token, admin):
    first = api_token_revoke(token=token, by=admin).revoked_at
    act(admin_client, "revoke", token)
    token.refresh_from_db()
    assert token.revoked_at == first
    assert token.history.count() == 2  # issued, revoked


def test_the_rotate_action_shows_the_new_secret_once_and_the_old_one_stops_working(admin_client, client, token,
                                                                                   admin):
    response = act(admin_client, "rotate", token)
    token.refresh_from_db()
    assert token.revoked_at is not None
    new = ApiToken.objects.exclude(pk=token.pk).get()
    assert (new.person, new.name, new.revoked_at) == (token.person, "report script", None)
    shown = [str(m) for m in get_messages(response.wsgi_request)]
    secrets_shown = [secret for m in shown for secret in re.findall(r"fh_[\w-]{40,}", m)]
    assert len(secrets_shown) == 1 and hash_token(secrets_shown[0]) == new.key_hash
    issued = new.history.get()
    assert (issued.history_user, issued.history_change_reason) == (admin, f"rotated from {token.prefix}")
    assert token.history.latest().history_user == admin
    assert client.get(INCIDENTS, HTTP_AUTHORIZATION=f"Token {token.secret}").status_code == 401
    assert client.get(INCIDENTS, HTTP_AUTHORIZATION=f"Token {secrets_shown[0]}").status_code == 200


def test_a_revoked_token_is_not_rotated_back_to_life(admin_client, token, admin):
    api_token_revoke(token=token, by=admin)
    response = act(admin_client, "rotate", token)
    assert ApiToken.objects.count() == 1
    assert any("issuetoken" in str(m) for m in get_messages(response.wsgi_request))


def test_staff_who_may_only_view_tokens_cannot_revoke_them(client, token, make_person):
    from django.contrib.auth.models import Permission

    viewer = make_person(is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_apitoken"))
    client.force_login(viewer)
    assert client.get(CHANGELIST).status_code == 200
    act(client, "revoke", token)
    token.refresh_from_db()
    assert token.revoked_at is None


def test_a_person_who_holds_a_token_is_deactivated_rather_than_deleted(admin_client, token):
    """Deleting the person would delete their tokens with them, and tokens are never deleted here."""
    page = admin_client.post(f"/admin/people/person/{token.person_id}/delete/", {"post": "yes"})
    assert page.status_code == 403
    assert ApiToken.objects.filter(pk=token.pk).exists()
