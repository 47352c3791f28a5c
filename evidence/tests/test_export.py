"""The evidence pack: GET /api/v1/incidents/{id}/export?format=pdf|docx and manage.py exportincident (issue 16, item 6).

The text is read back out of the files (pypdf, python-docx), in both languages.
"""

import hashlib
import io
import re
from io import StringIO

import docx
import pypdf
import pytest
from django.core.management import CommandError, call_command

from incidents import chain, services
from incidents.models import TimelineEntry
from incidents.tests.tampering import rewrite_detail
from notifications.answers import confirm_read
from notifications.models import Notification

pytestmark = pytest.mark.django_db

PLAN_TEXT = "切换到备用骨干线路，回放未完成交易 / switch to the standby backbone line"
NOTE = "机房值班：核心交换机二号板卡告警"


@pytest.fixture
def people(shipped_plan, make_person):
    return {
        "duty": make_person("duty_staff", username="duty", full_name="值班员 张"),
        "office": make_person("office", username="office", full_name="Office Chen"),
        "leader": make_person("leadership", username="leader", full_name="Leader Zhou"),
        "maintainer": make_person("network_maintainer", username="maint", full_name="Maintainer Wu"),
    }


def respond(people, *, drill=False):
    """An orange network fault: taken on, on site, a response plan approved, a message confirmed, a note."""
    incident = services.log_fault(reporter=people["duty"], category="network", level="orange",
                                  title="Backbone line down 骨干线路中断", is_drill=drill)
    services.acknowledge(incident, actor=people["maintainer"])
    services.check_in(incident, actor=people["maintainer"])
    plan = services.propose_plan(incident, actor=people["office"], text=PLAN_TEXT)
    services.approve_plan(plan, actor=people["leader"], comment="同意 agreed")
    confirm_read(Notification.objects.filter(incident=incident, person=people["office"]).first(),
                 person=people["office"])
    services.add_note(incident, actor=people["office"], text=NOTE)
    return incident


@pytest.fixture
def incident(people):
    return respond(people)


@pytest.fixture
def client_of(api_client_for):
    def make(person, language):
        client = api_client_for(person)
        person.language = language
        person.save(update_fields=["language"])
        return client

    return make


def pdf_text(data):
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)


def docx_text(data):
    document = docx.Document(io.BytesIO(data))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.extend(cell.text for cell in row.cells)
    return "\n".join(parts)


def squeezed(text):
    """Text without white space: a long hash may wrap across lines (it is printed in groups of eight)."""
    return re.sub(r"\s+", "", text)


def export(client, incident, file_format):
    return client.get(f"/api/v1/incidents/{incident.pk}/export", {"format": file_format})


@pytest.mark.parametrize("file_format, read", [("pdf", pdf_text), ("docx", docx_text)])
def test_the_english_pack_holds_every_section_and_the_chains_final_hash(incident, people, client_of, file_format,
                                                                         read):
    response = export(client_of(people["office"], "en"), incident, file_format)
    assert response.status_code == 200
    data = response.content
    assert response["X-Content-SHA256"] == hashlib.sha256(data).hexdigest()
    assert re.fullmatch(rf'attachment; filename="fenghuo-incident-{incident.pk}-evidence-en-\d{{8}}-\d{{6}}\.'
                        rf'{file_format}"', response["Content-Disposition"])
    text = read(data)
    for expected in (f"Evidence pack: #{incident.pk} Backbone line down 骨干线路中断", "The incident", "Review",
                     "Timeline", "Deadlines", "Response plans and decisions", PLAN_TEXT, "Approved", "Leader Zhou",
                     "同意 agreed", "Notifications sent and acknowledged", "Maintainer Wu", "Email",
                     "Timeline hash chain", "Integrity of this pack", NOTE, "Checked in on site", "met on time"):
        assert expected in text, expected
    state = chain.verify(incident.pk)
    assert state.verified and state.last_hash in squeezed(text)
    assert response["X-Evidence-Content-Digest"] in squeezed(text)
    # Every entry of the timeline is in the pack, by its hash's first digits.
    for entry in TimelineEntry.objects.filter(incident=incident):
        assert entry.hash[:12] in squeezed(text)


@pytest.mark.parametrize("file_format, read", [("pdf", pdf_text), ("docx", docx_text)])
def test_the_chinese_pack_is_in_chinese(incident, people, client_of, file_format, read):
    response = export(client_of(people["office"], "zh-hans"), incident, file_format)
    assert response.status_code == 200
    assert "-evidence-zh-" in response["Content-Disposition"]
    text = read(response.content)
    for expected in ("证据包", "事件情况", "时间线", "时限", "处置方案与审批决定", "已发送与已确认的通知",
                     "时间线哈希链", "本证据包的完整性", "内容摘要", NOTE, PLAN_TEXT, "按时完成"):
        assert expected in text, expected
    assert "Evidence pack" not in text and "Timeline hash chain" not in text
    assert chain.verify(incident.pk).last_hash in squeezed(text)


def test_pdf_and_word_of_one_language_print_the_same_content_digest_and_a_re_export_too(incident, people, client_of):
    client = client_of(people["office"], "en")
    pdf, word, again = (export(client, incident, f) for f in ("pdf", "docx", "pdf"))
    digest = pdf["X-Evidence-Content-Digest"]
    assert word["X-Evidence-Content-Digest"] == again["X-Evidence-Content-Digest"] == digest
    assert pdf["X-Content-SHA256"] != word["X-Content-SHA256"]
    chinese = export(client_of(people["office"], "zh-hans"), incident, "pdf")
    assert chinese["X-Evidence-Content-Digest"] != digest
    services.add_note(incident, actor=people["office"], text="one more thing")
    assert export(client, incident, "pdf")["X-Evidence-Content-Digest"] != digest


@pytest.mark.parametrize("language, mark", [("zh-hans", "【演练】"), ("en", "[DRILL]")])
def test_a_drill_is_marked_in_the_title(people, client_of, language, mark):
    drill = respond(people, drill=True)
    response = export(client_of(people["office"], language), drill, "pdf")
    assert f"-{drill.pk}-drill-evidence-" in response["Content-Disposition"]
    first_page = pypdf.PdfReader(io.BytesIO(response.content)).pages[0].extract_text()
    assert mark in first_page.splitlines()[0] or mark in first_page[:200]


def test_a_tampered_timeline_is_reported_in_the_pack(incident, people, client_of):
    entry = TimelineEntry.objects.filter(incident=incident, kind="note").get()
    rewrite_detail(entry.pk, {"text": "nothing happened"})
    text = pdf_text(export(client_of(people["office"], "en"), incident, "pdf").content)
    assert "DOES NOT VERIFY" in text
    assert f"Firstentrythatdoesnotmatch#{entry.pk}(note," in squeezed(text)


@pytest.mark.parametrize("query, message", [({}, "choose pdf or docx"), ({"format": "html"}, "html is not a format"),
                                            ({"format": "json"}, "json is not a format")])
def test_a_bad_format_is_a_400_naming_format(incident, people, client_of, query, message):
    response = client_of(people["office"], "en").get(f"/api/v1/incidents/{incident.pk}/export", query)
    assert response.status_code == 400 and response["Content-Type"] == "application/json"
    assert message in response.json()["format"][0]


def test_who_may_not_read_it_gets_403_or_401_and_an_unknown_incident_404(incident, people, client_of, make_person,
                                                                          api_client_for):
    from rest_framework.test import APIClient

    nobody = api_client_for(make_person(username="no-role"))
    assert export(nobody, incident, "pdf").status_code == 403
    assert export(APIClient(), incident, "pdf").status_code == 401
    office = client_of(people["office"], "en")
    missing = office.get("/api/v1/incidents/987654/export", {"format": "pdf"})
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    huge = office.get("/api/v1/incidents/99999999999999999999999/export", {"format": "pdf"})
    assert huge.status_code == 404 and huge["Content-Type"] == "application/json"


def test_the_page_session_downloads_it_as_the_api_does(incident, people, client):
    client.force_login(people["office"])
    response = client.get(f"/api/v1/incidents/{incident.pk}/export", {"format": "pdf"})
    assert response.status_code == 200 and response.content.startswith(b"%PDF")


# --- manage.py exportincident ---------------------------------------------------------------


@pytest.mark.parametrize("file_format, language, read, expected", [
    ("pdf", "zh-hans", pdf_text, "证据包"), ("docx", "en", docx_text, "Evidence pack"),
])
def test_the_command_writes_the_pack_and_prints_its_sha256_last(incident, tmp_path, file_format, language, read,
                                                                expected):
    target = tmp_path / f"pack.{file_format}"
    out = StringIO()
    call_command("exportincident", str(incident.pk), "--format", file_format, "--output", str(target),
                 "--language", language, stdout=out)
    data = target.read_bytes()
    assert out.getvalue().strip().splitlines()[-1] == hashlib.sha256(data).hexdigest()
    assert expected in read(data) and NOTE in read(data)


def test_the_command_names_what_is_wrong(incident, tmp_path):
    with pytest.raises(CommandError, match="no incident 987654"):
        call_command("exportincident", "987654", "--format", "pdf", "--output", str(tmp_path / "x.pdf"))
    with pytest.raises(CommandError, match="does not exist"):
        call_command("exportincident", str(incident.pk), "--format", "pdf", "--output", str(tmp_path / "no" / "x.pdf"))
    with pytest.raises(CommandError, match="format"):
        call_command("exportincident", str(incident.pk), "--format", "html", "--output", str(tmp_path / "x.html"))
