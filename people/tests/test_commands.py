"""importstaff and issuetoken, as operators use them."""

import pytest
from django.core.management import CommandError, call_command

from people.models import ApiToken, Person, RoleAssignment, hash_token
from people.services import api_token_revoke

pytestmark = pytest.mark.django_db

GOOD = """username,full_name,email,phone,roles
wang,王班,wang@example.test,13800000001,duty_staff
li,李工,li@example.test,13800000002,system_technicians;tech_group
"""


def write(tmp_path, text):
    path = tmp_path / "staff.csv"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_importstaff_creates_people_with_their_roles_and_is_idempotent(shipped_plan, tmp_path, capsys):
    call_command("importstaff", write(tmp_path, GOOD))
    assert "2 created" in capsys.readouterr().out
    li = Person.objects.get(username="li")
    assert li.full_name == "李工" and li.phone == "13800000002"
    assert set(li.role_assignments.values_list("role_key", flat=True)) == {"system_technicians", "tech_group"}
    call_command("importstaff", write(tmp_path, GOOD))
    assert "0 created, 0 updated, 2 unchanged" in capsys.readouterr().out
    assert RoleAssignment.objects.count() == 3


def test_importstaff_updates_details_and_replaces_roles(shipped_plan, tmp_path):
    call_command("importstaff", write(tmp_path, GOOD))
    call_command("importstaff", write(tmp_path, GOOD.replace("system_technicians;tech_group", "office")))
    li = Person.objects.get(username="li")
    assert set(li.role_assignments.values_list("role_key", flat=True)) == {"office"}
    assert li.history.count() >= 1


def test_importstaff_with_an_unknown_role_names_the_row_and_changes_nothing(shipped_plan, tmp_path):
    bad = GOOD + "zhao,赵,zhao@example.test,,duty_staff;wizards\n"
    with pytest.raises(CommandError) as info:
        call_command("importstaff", write(tmp_path, bad))
    assert "line 4: unknown role 'wizards'" in str(info.value)
    assert Person.objects.count() == 0


def test_importstaff_with_a_malformed_row_names_the_row_and_changes_nothing(shipped_plan, tmp_path):
    bad = GOOD + "zhao,赵,not-an-email\n"
    with pytest.raises(CommandError) as info:
        call_command("importstaff", write(tmp_path, bad))
    assert "line 4: expected 5 columns, found 3" in str(info.value)
    assert Person.objects.count() == 0


def test_importstaff_refuses_a_wrong_header(shipped_plan, tmp_path):
    with pytest.raises(CommandError, match="line 1: the header must be exactly"):
        call_command("importstaff", write(tmp_path, "name,roles\nwang,duty_staff\n"))


def test_issuetoken_prints_the_token_alone_on_the_last_line_and_stores_only_its_hash(db, capsys):
    person = Person.objects.create_user("wang")
    call_command("issuetoken", "wang")
    secret = capsys.readouterr().out.strip().splitlines()[-1]
    token = ApiToken.objects.get(person=person)
    assert token.key_hash == hash_token(secret)
    assert secret not in token.key_hash and secret not in token.prefix * 2


def test_issuetoken_for_an_unknown_user_is_a_clear_error(db):
    with pytest.raises(CommandError, match="no person with username 'ghost'"):
        call_command("issuetoken", "ghost")


def test_a_personal_token_authenticates_the_api_and_a_revoked_one_does_not(shipped_plan, make_person, client):
    person = make_person("office")
    token, secret = ApiToken.issue(person)
    ok = client.get("/api/v1/incidents/", HTTP_AUTHORIZATION=f"Token {secret}")
    assert ok.status_code == 200
    api_token_revoke(token=token, by=None)
    refused = client.get("/api/v1/incidents/", HTTP_AUTHORIZATION=f"Token {secret}")
    assert refused.status_code == 401
