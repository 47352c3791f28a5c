"""Notes on an incident (issue 14): text and an optional screenshot or log excerpt, on the timeline.

Through the API (JSON and multipart), the service and the page, against the
shipped plan; refusals in both languages.
"""

import hashlib
import re

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from core.errors import Refused
from incidents import services, timeline
from incidents.models import NoteAttachment, TimelineEntry, TimelineKind
from incidents.tests import notes_files as files

pytestmark = pytest.mark.django_db

EN, ZH = {"HTTP_ACCEPT_LANGUAGE": "en"}, {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}
ACCEPTED_EN = "a PNG, JPEG, GIF or WebP image, or UTF-8 text (a log excerpt)"
ACCEPTED_ZH = "PNG、JPEG、GIF 或 WebP 图片，或 UTF-8 文本（日志片段）"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def coordinator(shipped_plan, make_person):
    return make_person("office", "leadership")


@pytest.fixture
def incident(coordinator, make_person):
    """A yellow system fault reported by duty staff, who hold no role in its response."""
    reporter = make_person("duty_staff", username="duty")
    return services.log_fault(reporter=reporter, category="system", level="yellow", title="Savings host slow")


@pytest.fixture
def as_person(make_person, api_client_for):
    def make(person_or_role):
        if isinstance(person_or_role, str):  # a role key; "" is an account without any role
            person = make_person(*([person_or_role] if person_or_role else []))
        else:
            person = person_or_role
        return api_client_for(person)

    return make


def upload(name, data, content_type="application/octet-stream"):
    return SimpleUploadedFile(name, data, content_type=content_type)


def post_note(client, incident, language=EN, **data):
    fmt = "multipart" if "file" in data else "json"
    return client.post(f"/api/v1/incidents/{incident.pk}/notes/", data, format=fmt, **language)


def stored_files(media):
    return sorted(p for p in media.rglob("*") if p.is_file()) if media.exists() else []


def nothing_written(incident, media):
    return (TimelineEntry.objects.filter(incident=incident, kind=TimelineKind.NOTE).count(),
            NoteAttachment.objects.count(), stored_files(media))


# --- adding a note ---------------------------------------------------------------------------


def test_a_responder_adds_a_text_note_through_the_api_and_it_is_on_the_timeline(incident, coordinator, as_person):
    response = post_note(as_person(coordinator), incident, text="  Disk on the savings host at 97 %.  ")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["kind"] == "note" and body["actor"] == coordinator.username
    assert body["detail"] == {"text": "Disk on the savings host at 97 %.", "attachment": None}
    timeline = as_person(coordinator).get(f"/api/v1/incidents/{incident.pk}/timeline/").json()
    assert timeline[-1]["id"] == body["id"] and timeline[-1]["kind"] == "note"


def test_a_png_screenshot_is_stored_under_fenghuos_own_name_and_described_on_the_timeline(
        incident, coordinator, as_person, media):
    data = files.png()

    response = post_note(as_person(coordinator), incident, text="The error dialog",
                         file=upload("../../etc/screen shot.png", data, "image/png"))

    assert response.status_code == 201, response.content
    attachment = NoteAttachment.objects.get()
    assert response.json()["detail"]["attachment"] == {
        "id": attachment.pk, "name": "screen shot.png", "size": len(data), "content_type": "image/png",
        "sha256": hashlib.sha256(data).hexdigest()}
    assert attachment.entry_id == response.json()["id"] and attachment.incident_id == incident.pk
    assert re.fullmatch(rf"notes/{incident.pk}/[0-9a-f]{{32}}\.png", attachment.file.name)
    assert [p.read_bytes() for p in stored_files(media)] == [data]


@pytest.mark.parametrize("name, data, content_type, shown_as", [
    ("shot.jpeg", files.JPEG, "image/jpeg", "shot.jpeg"),
    ("anim.gif", files.GIF, "image/gif", "anim.gif"),
    ("shot.webp", files.WEBP, "image/webp", "shot.webp"),
    # The type is the bytes': a JPEG called .png is a JPEG, and its name says so.
    ("shot.png", files.JPEG, "image/jpeg", "shot.png.jpg"),
    ("app.log", files.LOG, "text/plain; charset=utf-8", "app.log"),
    ("excerpt.html", files.LOG, "text/plain; charset=utf-8", "excerpt.html.txt"),
])
def test_the_type_of_an_attachment_is_read_from_its_bytes_not_its_name(incident, coordinator, as_person, name,
                                                                      data, content_type, shown_as):
    response = post_note(as_person(coordinator), incident, text="", file=upload(name, data, "image/png"))

    assert response.status_code == 201, response.content
    assert response.json()["detail"]["attachment"]["content_type"] == content_type
    assert response.json()["detail"]["attachment"]["name"] == shown_as


@pytest.mark.parametrize("name, data", [
    ("report.pdf", files.PDF), ("report.txt", files.ASCII_PDF), ("screenshot.png", files.EXE),
    ("latin1.log", "température 97 °C".encode("latin-1")), ("nul.log", b"line one\x00line two\n"),
])
@pytest.mark.parametrize("language, accepted", [(EN, ACCEPTED_EN), (ZH, ACCEPTED_ZH)])
def test_a_pdf_an_exe_renamed_png_or_text_that_is_not_strict_utf8_is_refused_naming_file_and_what_is_accepted(
        incident, coordinator, as_person, media, name, data, language, accepted):
    before = nothing_written(incident, media)

    response = post_note(as_person(coordinator), incident, language, text="see attached",
                         file=upload(name, data, "image/png"))

    assert response.status_code == 400
    [message] = response.json()["file"]
    assert accepted in message
    assert nothing_written(incident, media) == before


@pytest.mark.parametrize("language, expected", [
    (EN, "the attachment is larger than 512 KiB; attach a smaller screenshot or a shorter excerpt"),
    (ZH, "附件超过 512 KiB；请附上更小的截图或更短的日志片段"),
])
def test_an_attachment_over_the_limit_is_refused_naming_the_limit(incident, coordinator, as_person, media, settings,
                                                                 language, expected):
    settings.FENGHUO_NOTE_ATTACHMENT_MAX_BYTES = 512 * 1024
    big = files.png() + b"\x00" * (1024 * 1024 - len(files.png()))

    response = post_note(as_person(coordinator), incident, language, text="big", file=upload("big.png", big))

    assert response.status_code == 400
    assert response.json() == {"file": [expected]}
    assert nothing_written(incident, media) == (0, 0, [])


def test_a_five_mebibyte_screenshot_is_accepted_and_one_byte_more_is_refused_not_a_413(
        incident, coordinator, as_person, settings):
    limit = settings.FENGHUO_NOTE_ATTACHMENT_MAX_BYTES
    assert limit == 5 * 1024 * 1024 and settings.DATA_UPLOAD_MAX_MEMORY_SIZE < limit
    exactly = files.png() + b"\x00" * (limit - len(files.png()))
    client = as_person(coordinator)

    accepted = post_note(client, incident, text="full size", file=upload("full.png", exactly))
    refused = post_note(client, incident, text="too big", file=upload("full.png", exactly + b"\x00"))

    assert accepted.status_code == 201, accepted.content
    assert accepted.json()["detail"]["attachment"]["size"] == limit
    assert refused.status_code == 400
    assert refused.json() == {"file": ["the attachment is larger than 5 MiB; attach a smaller screenshot or a "
                                       "shorter excerpt"]}


@pytest.mark.parametrize("language, expected", [
    (EN, "The note with its attachment is larger than 6144 KiB; an attachment may be at most 5120 KiB."),
    (ZH, "备注及其附件超过 6144 KiB；附件最大 5120 KiB。"),
])
def test_a_body_beyond_the_notes_limit_is_a_413_that_says_how_large_an_attachment_may_be(
        incident, coordinator, as_person, settings, media, language, expected):
    huge = b"\x00" * (settings.NOTE_BODY_MAX_BYTES + 1)

    response = post_note(as_person(coordinator), incident, language, text="huge", file=upload("huge.png", huge))

    assert response.status_code == 413
    assert response.json() == {"code": "payload_too_large", "detail": expected}
    assert nothing_written(incident, media) == (0, 0, [])


def test_elsewhere_the_general_body_limit_still_holds(incident, coordinator, as_person, settings):
    padding = "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1024)

    response = as_person(coordinator).patch(f"/api/v1/incidents/{incident.pk}/", {"description": padding},
                                            format="json", **EN)

    assert response.status_code == 413


@pytest.mark.parametrize("language, expected", [
    (EN, "write the note, or attach a screenshot or a log excerpt"),
    (ZH, "请填写备注，或附上截图或日志片段"),
])
def test_an_empty_note_without_an_attachment_is_refused_naming_text(incident, coordinator, as_person, media,
                                                                   language, expected):
    response = post_note(as_person(coordinator), incident, language, text="   ")

    assert response.status_code == 400
    assert response.json() == {"text": [expected]}
    assert nothing_written(incident, media) == (0, 0, [])


def test_an_attachment_alone_is_a_note(incident, coordinator, as_person):
    response = post_note(as_person(coordinator), incident, file=upload("app.log", files.LOG))

    assert response.status_code == 201
    assert response.json()["detail"]["text"] == ""


def test_an_empty_file_is_refused_naming_file(incident, coordinator, as_person):
    response = post_note(as_person(coordinator), incident, text="x", file=upload("empty.png", b""))

    assert response.status_code == 400
    assert response.json() == {"file": [f"the attachment is empty; attach {ACCEPTED_EN}"]}


def test_a_nul_in_the_text_is_a_400_in_json_and_in_a_form(incident, coordinator, as_person):
    client = as_person(coordinator)

    as_json = client.post(f"/api/v1/incidents/{incident.pk}/notes/", {"text": "a\x00b"}, format="json", **EN)
    as_form = client.post(f"/api/v1/incidents/{incident.pk}/notes/", {"text": "a\x00b",
                          "file": upload("app.log", files.LOG)}, format="multipart", **EN)

    assert as_json.status_code == 400 and list(as_json.json()) == ["text"]
    assert as_form.status_code == 400 and as_form.json()["code"] == "nul_character"
    assert not TimelineEntry.objects.filter(kind=TimelineKind.NOTE).exists()


def test_the_service_refuses_a_nul_itself_where_the_middleware_cannot_read_the_body(incident, coordinator):
    # A multipart body over DATA_UPLOAD_MAX_MEMORY_SIZE is not read by the NUL middleware.
    with pytest.raises(ValidationError) as refused:
        services.add_note(incident, actor=coordinator, text="a\x00b")

    assert refused.value.message_dict == {"text": ["must not contain the NUL character"]}


# --- who may, and when ----------------------------------------------------------------------------


@pytest.mark.parametrize("language, expected", [
    (EN, "cannot add a note: your roles have no part in this incident's response"),
    (ZH, "无法添加备注：您的角色不参与此事件的应急响应"),
])
def test_someone_without_a_part_in_the_incident_is_refused_403(incident, as_person, media, language, expected):
    response = post_note(as_person("business_departments"), incident, language, text="Branches report slowness",
                         file=upload("shot.png", files.png()))

    assert response.status_code == 403
    assert response.json() == {"code": "forbidden", "detail": expected}
    assert nothing_written(incident, media) == (0, 0, [])


def test_an_account_with_no_plan_role_is_refused_before_anything(incident, as_person):
    response = post_note(as_person(""), incident, text="hello")

    assert response.status_code == 403 and response.json()["code"] == "no_plan_role"


def test_the_reporter_may_add_notes_without_a_role_in_the_response(incident, as_person):
    response = post_note(as_person(incident.reporter), incident, text="Branch 3 also slow now")

    assert response.status_code == 201
    assert response.json()["actor"] == "duty"


def test_notes_go_on_after_resolving_and_reviewing_but_not_once_archived(incident, coordinator, as_person,
                                                                       approve_review):
    client = as_person(coordinator)
    services.acknowledge(incident, actor=coordinator)
    services.resolve(incident, actor=coordinator, summary="Restarted the batch.")
    assert post_note(client, incident, text="Root cause: the disk filled").status_code == 201
    approve_review(incident, writer=coordinator)
    assert post_note(client, incident, text="Added the disk alert").status_code == 201
    services.archive(incident, actor=coordinator)

    response = post_note(client, incident, text="too late")

    assert response.status_code == 409
    assert response.json() == {"code": "archived", "detail": f"incident {incident.pk} is archived: its record is "
                                                            f"closed and can no longer change"}


def test_an_unknown_incident_is_404(coordinator, as_person):
    response = as_person(coordinator).post("/api/v1/incidents/999999/notes/", {"text": "x"}, format="json")

    assert response.status_code == 404


def test_the_system_note_of_a_reasked_approval_still_reads_on_the_page(incident, coordinator, client):
    timeline.record(incident, kind=TimelineKind.NOTE, detail={"note": "approval re-asked at the new level"})
    client.force_login(coordinator)

    html = client.get(f"/incidents/{incident.pk}/", **EN).content.decode()

    assert "approval re-asked at the new level" in html


# --- downloading ---------------------------------------------------------------------------------


def attach(incident, person, name, data, text="see attached"):
    entry = services.add_note(incident, actor=person, text=text, attachment=upload(name, data))
    return NoteAttachment.objects.get(entry=entry)


def test_a_screenshot_downloads_inline_for_readers_never_sniffed_or_run(incident, coordinator, as_person,
                                                                         make_person):
    attachment = attach(incident, coordinator, "shot.png", files.png())
    auditor = make_person("business_departments")  # reads the incident, may not add to it

    response = as_person(auditor).get(f"/api/v1/incidents/{incident.pk}/notes/attachments/{attachment.pk}/",
                                      HTTP_ACCEPT="image/png")

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == files.png()
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"].startswith("inline")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"].startswith("sandbox")


def test_a_log_excerpt_downloads_as_an_attachment_with_its_name(incident, coordinator, client):
    attachment = attach(incident, coordinator, "app.log", files.LOG)
    client.force_login(coordinator)

    response = client.get(f"/incidents/{incident.pk}/notes/attachments/{attachment.pk}/")

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == files.LOG
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="app.log"'
    assert response["Content-Security-Policy"].startswith("sandbox")
    assert response["X-Content-Type-Options"] == "nosniff"


def test_an_attachment_is_found_only_under_its_own_incident_and_only_by_readers(
        incident, coordinator, as_person, client, make_person):
    attachment = attach(incident, coordinator, "shot.png", files.png())
    other = services.log_fault(reporter=coordinator, category="network", level="blue", title="Other")
    reader = as_person(coordinator)

    assert reader.get(f"/api/v1/incidents/{other.pk}/notes/attachments/{attachment.pk}/").status_code == 404
    assert reader.get(f"/api/v1/incidents/{incident.pk}/notes/attachments/{attachment.pk + 1}/").status_code == 404
    assert as_person("").get(f"/api/v1/incidents/{incident.pk}/notes/attachments/{attachment.pk}/").status_code == 403
    client.force_login(make_person())
    assert client.get(f"/incidents/{incident.pk}/notes/attachments/{attachment.pk}/").status_code == 403


def test_an_attachment_whose_file_was_removed_is_404_not_500(incident, coordinator, as_person, media):
    attachment = attach(incident, coordinator, "shot.png", files.png())
    for path in stored_files(media):
        path.unlink()

    response = as_person(coordinator).get(f"/api/v1/incidents/{incident.pk}/notes/attachments/{attachment.pk}/")

    assert response.status_code == 404


# --- the page -------------------------------------------------------------------------------------


def test_the_note_form_is_offered_to_whoever_may_add_a_note(incident, coordinator, client, make_person):
    for person, offered in ((coordinator, True), (incident.reporter, True), (make_person("business_departments"), False)):
        client.force_login(person)
        html = client.get(f"/incidents/{incident.pk}/", **EN).content.decode()
        assert (f'action="/incidents/{incident.pk}/notes/"' in html) is offered, person
        if offered:
            assert 'enctype="multipart/form-data"' in html and "Add a note" in html


@pytest.mark.parametrize("language, success, shown", [
    (EN, "Note added to the timeline.", "Attachment"),
    (ZH, "备注已添加到时间线。", "附件"),
])
def test_a_note_with_a_screenshot_added_on_the_page_shows_on_the_timeline_with_its_thumbnail(
        incident, client, language, success, shown):
    client.force_login(incident.reporter)

    response = client.post(f"/incidents/{incident.pk}/notes/", {"text": "Error dialog on teller 4",
                           "file": upload("teller4.png", files.png(), "image/png")}, follow=True, **language)

    assert response.redirect_chain[-1][0].endswith(f"/incidents/{incident.pk}/#timeline")
    assert [str(m) for m in response.context["messages"]] == [success]
    html = response.content.decode()
    attachment = NoteAttachment.objects.get()
    url = f"/incidents/{incident.pk}/notes/attachments/{attachment.pk}/"
    assert "Error dialog on teller 4" in html and shown in html
    assert f'<img src="{url}" alt="teller4.png" class="note-thumb"' in html


@pytest.mark.parametrize("language, expected", [
    (EN, f"Attachment: this kind of file is not accepted; attach {ACCEPTED_EN}"),
    (ZH, f"附件: 不接受此类文件；请附上{ACCEPTED_ZH}"),
])
def test_a_refused_attachment_on_the_page_is_a_message_naming_the_field(incident, client, media, language, expected):
    client.force_login(incident.reporter)

    response = client.post(f"/incidents/{incident.pk}/notes/", {"text": "see file",
                           "file": upload("setup.png", files.EXE)}, follow=True, **language)

    assert response.status_code == 200
    assert [str(m) for m in response.context["messages"]] == [expected]
    assert nothing_written(incident, media) == (0, 0, [])


def test_a_refusal_on_the_page_is_a_message_not_an_error(incident, client, make_person):
    client.force_login(make_person("business_departments"))

    response = client.post(f"/incidents/{incident.pk}/notes/", {"text": "x"}, follow=True, **EN)

    assert response.status_code == 200
    assert [str(m) for m in response.context["messages"]] == [
        "cannot add a note: your roles have no part in this incident's response"]


def test_the_service_refuses_an_archived_incident(incident, coordinator, approve_review):
    services.acknowledge(incident, actor=coordinator)
    services.resolve(incident, actor=coordinator, summary="Fixed.")
    approve_review(incident, writer=coordinator)
    services.archive(incident, actor=coordinator)

    with pytest.raises(Refused) as refused:
        services.add_note(incident, actor=coordinator, text="late")

    assert refused.value.status_code == 409


@pytest.mark.parametrize("given, kept", [
    ("C:\\Users\\zhang\\Desktop\\报错截图.png", "报错截图.png"),
    ("../../../etc/cron.d/x.png", "x.png"),
    ("tab\tand\x1bescape.png", "tabandescape.png"),
    ("...", "attachment.png"),
    ("x" * 300 + ".png", "x" * 146 + ".png"),
])
def test_the_name_a_reader_sees_is_the_clients_without_folders_or_control_characters(given, kept):
    from incidents.notes import clean_name

    assert clean_name(given, extension=".png", keep={".png"}) == kept


def test_a_file_field_sent_as_json_text_is_refused_naming_file(incident, coordinator, as_person):
    response = as_person(coordinator).post(f"/api/v1/incidents/{incident.pk}/notes/",
                                           {"text": "x", "file": "aGVsbG8="}, format="json", **EN)

    assert response.status_code == 400 and list(response.json()) == ["file"]
