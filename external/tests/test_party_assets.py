"""A party covers assets of the register: set on its page, shown on the asset's page, suggested first for a
call-out about an incident on one of them."""

import pytest

from assets.models import Asset
from external.models import Contact, Party
from external.selectors import suggested_parties
from incidents.services import log_fault

pytestmark = pytest.mark.django_db


@pytest.fixture
def register(shipped_plan):
    core = Asset.objects.create(tag="SRV-001", name="征信前置机", kind="server", category="system", core=True)
    Asset.objects.create(tag="SW-002", name="核心交换机", kind="switch", category="network", core=True)
    vendor = Party.objects.create(key="inspur", kind="vendor", name_en="Inspur", name_zh="浪潮", categories=[])
    Contact.objects.create(party=vendor, name="李工", phone="400-860-0011")
    covering = Party.objects.create(key="sysint", kind="vendor", name_en="System integrator", name_zh="系统集成商",
                                    categories=["system"])
    return {"asset": core, "vendor": vendor, "covering": covering}


def test_the_office_sets_the_assets_a_party_covers_and_an_unknown_tag_changes_nothing(client, make_person, register):
    client.force_login(make_person("office", language="en"))
    assert client.post("/external/parties/inspur/", {"what": "assets", "assets": "SRV-001, SW-002"}).status_code == 302
    assert sorted(register["vendor"].assets.values_list("tag", flat=True)) == ["SRV-001", "SW-002"]
    answer = client.post("/external/parties/inspur/", {"what": "assets", "assets": "SRV-001 NOPE-9"})
    assert answer.status_code == 200 and "no asset with the tag NOPE-9" in answer.content.decode()
    assert sorted(register["vendor"].assets.values_list("tag", flat=True)) == ["SRV-001", "SW-002"]


def test_the_asset_page_names_the_party_that_covers_it_with_its_contact(client, make_person, register):
    register["vendor"].assets.add(register["asset"])
    client.force_login(make_person("office", language="zh-hans"))
    page = client.get("/inspections/assets/SRV-001/").content.decode()
    assert 'data-party="inspur"' in page and "浪潮" in page and "400-860-0011" in page


def test_a_call_out_suggests_the_assets_party_before_those_covering_the_category(register, api_client_for, make_person):
    register["vendor"].assets.add(register["asset"])
    on_asset = log_fault(reporter=None, category="system", level="yellow", title="前置机宕机", asset="SRV-001")
    elsewhere = log_fault(reporter=None, category="system", level="yellow", title="查询慢")
    assert [p.key for p in suggested_parties(on_asset)] == ["inspur", "sysint"]
    assert [p.key for p in suggested_parties(elsewhere)] == ["sysint"]
    listed = api_client_for(make_person("office")).get("/api/v1/parties/").json()
    rows = listed["results"] if isinstance(listed, dict) else listed
    assert {p["key"]: p["assets"] for p in rows}["inspur"] == ["SRV-001"]
