"""The asset register: importassets, the API, the CSV export, the level a fault on an asset suggests."""

import io

import pytest
from django.core.management import CommandError, call_command

from assets.models import Asset
from assets.services import AssetFileError, assets_csv, assets_import, read_assets_csv
from assets.severity import SUGGESTED_LEVEL, is_host_fault, suggested_level

HEADER = "tag,name,kind,category,core,location,owner_role\n"


@pytest.fixture(autouse=True)
def _in_english():
    from django.utils import translation

    with translation.override("en"):
        yield


def write(tmp_path, text, name="assets.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def run_import(path):
    out = io.StringIO()
    call_command("importassets", path, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_importassets_creates_then_updates_by_tag_and_is_idempotent(tmp_path, shipped_plan):
    path = write(tmp_path, HEADER + "SRV-01,Credit DB primary,server,equipment,true,A101/R3/U12,system_technicians\n"
                                    "UPS-01,UPS room A,ups,equipment,false,A101,duty_staff\n")
    assert "2 created, 0 updated, 0 unchanged" in run_import(path)
    assert "0 created, 0 updated, 2 unchanged" in run_import(path)
    srv = Asset.objects.get(tag="SRV-01")
    assert (srv.room, srv.rack, srv.position, srv.core, srv.kind) == ("A101", "R3", "U12", True, "server")
    path = write(tmp_path, HEADER + "SRV-01,Credit DB primary,server,equipment,false,A101/R4,system_technicians\n")
    assert "0 created, 1 updated, 0 unchanged" in run_import(path)
    srv.refresh_from_db()
    assert (srv.core, srv.rack, srv.position) == (False, "R4", "")
    assert srv.history.count() == 2


@pytest.mark.django_db
def test_a_bad_row_is_named_by_its_line_and_nothing_is_imported(tmp_path, shipped_plan):
    path = write(tmp_path, HEADER + "SW-01,Core switch,switch,network,true,A101,network_maintainer\n"
                                    "SW-02,Edge switch,toaster,network,maybe,A101,nobody_role\n"
                                    "SW-01,Again,switch,network,true,A101,\n")
    with pytest.raises(CommandError) as error:
        run_import(path)
    text = str(error.value)
    assert "nothing was changed" in text
    assert "line 3: kind: unknown kind 'toaster'" in text
    assert "line 3: core: core must be true or false, not 'maybe'" in text
    assert "line 3: owner_role: unknown role 'nobody_role'" in text
    assert "line 4: tag 'SW-01' already appears on line 2" in text
    assert not Asset.objects.exists()


@pytest.mark.django_db
def test_a_wrong_header_is_refused():
    with pytest.raises(AssetFileError) as error:
        read_assets_csv("tag,name\nA,B\n", known_roles=None)
    assert "line 1: the header must be tag,name,kind,category,core,location,owner_role" in error.value.errors[0]


@pytest.mark.django_db
def test_the_export_imports_back_unchanged(shipped_plan):
    rows = read_assets_csv(HEADER + "FW-01,Firewall,firewall,network,true,B2/R1/U1,network_maintainer\n",
                           known_roles=None)
    assets_import(rows)
    Asset.objects.filter(tag="FW-01").update(vendor="Huawei", support_contract="SC-2026-7")
    exported = assets_csv(Asset.objects.all())
    assert exported.splitlines()[0] == "tag,name,kind,category,core,location,owner_role,vendor,support_contract"
    assert assets_import(read_assets_csv(exported, known_roles=None)) == {"created": 0, "updated": 0, "unchanged": 1}


@pytest.mark.django_db
def test_the_api_lists_and_adds_assets_naming_each_bad_field(shipped_plan, make_person, api_client_for):
    office = api_client_for(make_person("office"))
    office.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    answer = office.post("/api/v1/assets/", {"tag": "ST-01", "name": "SAN", "kind": "storage", "category": "equipment",
                                             "core": True, "location": "A101/R9", "owner_role": "system_technicians"},
                         format="json")
    assert answer.status_code == 201, answer.content
    assert answer.json()["location"] == "A101/R9"
    bad = office.post("/api/v1/assets/", {"tag": "ST-01", "name": "x", "kind": "disk", "category": "power",
                                          "core": True}, format="json")
    assert bad.status_code == 400
    assert set(bad.json()) == {"kind", "category"}
    duplicate = office.post("/api/v1/assets/", {"tag": "ST-01", "name": "x", "kind": "storage",
                                                "category": "equipment", "core": True}, format="json")
    assert duplicate.status_code == 400 and "tag" in duplicate.json()
    listed = office.get("/api/v1/assets/").json()
    assert [a["tag"] for a in listed["results"]] == ["ST-01"]
    assert {"tag", "name", "kind", "category", "core", "location", "owner_role"} <= set(listed["results"][0])


@pytest.mark.django_db
def test_only_the_office_or_staff_adds_assets(shipped_plan, make_person, api_client_for):
    duty = api_client_for(make_person("duty_staff"))
    answer = duty.post("/api/v1/assets/", {"tag": "X", "name": "x", "kind": "other", "category": "system",
                                           "core": False}, format="json")
    assert answer.status_code == 403
    assert not Asset.objects.exists()


@pytest.mark.django_db
def test_the_export_page_gives_the_register_as_csv(client, make_person):
    Asset.objects.create(tag="AC-01", name="CRAC 1", kind="air_conditioning", category="equipment", room="A101")
    client.force_login(make_person("duty_staff"))
    answer = client.get("/assets/export.csv")
    assert answer.status_code == 200 and answer["Content-Type"].startswith("text/csv")
    assert "AC-01,CRAC 1,air_conditioning,equipment,false,A101" in answer.content.decode()


@pytest.mark.django_db
def test_admin_import_reports_bad_rows_and_imports_good_files(admin_client, shipped_plan):
    from django.core.files.uploadedfile import SimpleUploadedFile

    admin_client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    bad = SimpleUploadedFile("a.csv", (HEADER + "R-1,Router,router,network,yes,,\nR-2,,router,net,true,,\n").encode())
    answer = admin_client.post("/admin/assets/asset/import/", {"file": bad})
    assert answer.status_code == 200
    assert "line 3" in answer.content.decode() and not Asset.objects.exists()
    good = SimpleUploadedFile("a.csv", (HEADER + "R-1,Router,router,network,yes,,\n").encode())
    answer = admin_client.post("/admin/assets/asset/import/", {"file": good})
    assert answer.status_code == 302
    assert Asset.objects.get(tag="R-1").core is True


@pytest.mark.parametrize(("category", "core", "level"), [
    ("equipment", False, "yellow"), ("equipment", True, "orange"), ("network", False, "blue"),
    ("network", True, "yellow"), ("system", False, "blue"), ("system", True, "yellow"),
])
def test_a_fault_on_an_asset_suggests_the_level_of_the_plans_criteria(category, core, level):
    asset = Asset(tag="T", name="t", kind="server", category=category, core=core)
    assert suggested_level(asset) == level


def test_every_category_and_core_has_a_suggestion_and_a_plan_without_it_gets_its_mildest():
    assert set(SUGGESTED_LEVEL) == {(c, core) for c in ("network", "equipment", "system") for core in (True, False)}
    asset = Asset(tag="T", name="t", kind="server", category="equipment", core=True)
    assert suggested_level(asset, level_keys=["blue", "yellow"]) == "blue"
    assert is_host_fault(asset)
    assert not is_host_fault(Asset(tag="U", name="u", kind="ups", category="equipment", core=True))
