"""importparties: the directory from a CSV, with importstaff's rules (all or nothing, every bad line named)."""

from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command

from external.directory import PARTY_HEADER
from external.models import Contact, Party

pytestmark = pytest.mark.django_db

HEADER = ",".join(PARTY_HEADER)
GOOD = f"""{HEADER}
pboc,regulator,People's Bank branch,人民银行分支机构,,,weekdays 8:30-17:30,,Li Hua,Duty officer,0591-1234,,li@pboc.example
unicom,carrier,China Unicom,中国联通,network,4h,7x24,LT-2025-09,Zhang Wei,Line engineer,10010,13800000000,
unicom,,,,,,,,Chen Jing,Account manager,,13900000000,chen@unicom.example
"""


def run(tmp_path, text):
    path = tmp_path / "parties.csv"
    path.write_text(text, encoding="utf-8")
    call_command("importparties", str(path))


def test_parties_and_their_contacts_are_created_from_the_csv(tmp_path):
    run(tmp_path, GOOD)
    unicom = Party.objects.get(key="unicom")
    assert (unicom.kind, unicom.name_zh, unicom.arrival_within, unicom.categories) == (
        "carrier", "中国联通", timedelta(hours=4), ["network"])
    assert [c.name for c in unicom.contacts.all()] == ["Zhang Wei", "Chen Jing"]
    assert Party.objects.get(key="pboc").contacts.get().email == "li@pboc.example"


def test_importing_again_changes_nothing_and_drops_contacts_no_longer_listed(tmp_path):
    run(tmp_path, GOOD)
    run(tmp_path, GOOD)
    assert (Party.objects.count(), Contact.objects.count()) == (2, 3)
    run(tmp_path, "\n".join(GOOD.splitlines()[:3]) + "\n")
    assert [c.name for c in Party.objects.get(key="unicom").contacts.all()] == ["Zhang Wei"]


def test_a_bad_file_changes_nothing_and_names_every_bad_line(tmp_path):
    bad = GOOD + ("huawei,maker,Huawei,华为,storage,soon,,,Wang,,,,not-an-email\n"
                  "unicom,vendor,,,,,,,Zhou,,,,zhou@unicom.example\n"
                  "h3c,vendor,H3C,新华三,equipment,,,,Nobody,,,,\n")
    with pytest.raises(CommandError) as info:
        run(tmp_path, bad)
    message = str(info.value)
    assert "line 5: kind 'maker' is not one of" in message
    assert "line 5: unknown category 'storage'" in message
    assert "line 5: arrival_within 'soon' is not a duration" in message
    assert "line 5: 'not-an-email' is not an email address" in message
    assert "line 6: kind 'vendor' differs from line 3" in message
    assert "line 7: contact 'Nobody' has no phone, mobile or email" in message
    assert Party.objects.count() == 0


def test_a_wrong_header_is_refused(tmp_path):
    with pytest.raises(CommandError, match="line 1: the header must be exactly key,kind"):
        run(tmp_path, "key,name\npboc,PBOC\n")
