"""The directory's pages: the office adds, edits and removes; others read; bad input is shown on the form."""

from datetime import timedelta

import pytest

from external.models import Contact, Party

pytestmark = pytest.mark.django_db


@pytest.fixture
def party(shipped_plan):
    party = Party.objects.create(key="unicom", kind="carrier", name_en="China Unicom", name_zh="中国联通")
    Contact.objects.create(party=party, name="Zhang", phone="10010")
    return party


def test_the_office_edits_a_party_and_removes_a_contact_on_its_page(client, make_person, party):
    client.force_login(make_person("office"))
    answer = client.post("/external/parties/unicom/", {
        "what": "party", "kind": "carrier", "name_zh": "中国联通福建分公司", "name_en": "China Unicom Fujian",
        "arrival_within": "3h", "categories": ["network"], "is_active": "on"})
    assert answer.status_code == 302
    party.refresh_from_db()
    assert (party.name_zh, party.arrival_within, party.categories, party.key) == (
        "中国联通福建分公司", timedelta(hours=3), ["network"], "unicom")
    client.post("/external/parties/unicom/", {"what": "remove", "contact": party.contacts.get().pk})
    assert not party.contacts.exists()


def test_a_bad_sla_is_shown_on_the_form_and_changes_nothing(client, make_person, party):
    client.force_login(make_person("office", language="en"))
    answer = client.post("/external/parties/unicom/", {"what": "party", "kind": "carrier", "name_zh": "x",
                                                        "name_en": "x", "arrival_within": "soon"})
    assert answer.status_code == 200 and "is not a duration" in answer.content.decode()
    party.refresh_from_db()
    assert party.name_zh == "中国联通"


def test_a_contact_without_any_way_to_reach_them_is_refused(client, make_person, party):
    client.force_login(make_person("office", language="en"))
    answer = client.post("/external/parties/unicom/", {"what": "contact", "name": "Nobody"})
    assert answer.status_code == 200 and "nobody could reach them" in answer.content.decode()
    assert party.contacts.count() == 1


def test_someone_outside_the_office_reads_the_directory_but_may_not_change_it(client, make_person, party):
    client.force_login(make_person("system_technicians"))
    assert "中国联通" in client.get("/external/parties/").content.decode()
    answer = client.post("/external/parties/unicom/", {"what": "remove", "contact": party.contacts.get().pk})
    assert answer.status_code == 403 and party.contacts.count() == 1
