"""What a note's attachment may be: a screenshot or a log excerpt, decided from its bytes.

The name a client gives a file and the content type it claims are both the
client's word; an EXE renamed ``.png`` claims ``image/png``. So the type comes
from the first bytes (PNG, JPEG, GIF and WebP signatures) or, failing those,
from the whole file decoding as strict UTF-8 without a NUL byte (a log
excerpt). Anything else is refused naming the field ``file`` and what is
accepted. The stored file is named by Fenghuo (``notes/<incident>/<random>.<ext>``),
never by the client, and is served only through the views that check who may
read the incident (``incidents.api``, ``incidents.views``).
"""

import hashlib
import os
import unicodedata
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.http import FileResponse, Http404
from django.utils.translation import gettext as _

if TYPE_CHECKING:
    from .models import NoteAttachment

TEXT = "text/plain; charset=utf-8"
# (content type, the file's extension, extensions a client's name may keep): an image by its signature.
IMAGE_TYPES = {
    "image/png": (".png", {".png"}),
    "image/jpeg": (".jpg", {".jpg", ".jpeg"}),
    "image/gif": (".gif", {".gif"}),
    "image/webp": (".webp", {".webp"}),
}
TEXT_EXTENSIONS = {".txt", ".log"}
NAME_MAX_LENGTH = 150
# The note's own words; a log excerpt longer than this belongs in an attachment.
TEXT_MAX_LENGTH = 20_000


@dataclass(frozen=True)
class CheckedAttachment:
    data: bytes
    content_type: str
    extension: str
    name: str  # what a reader sees and downloads: the client's name, cleaned, with an extension true to the bytes
    size: int
    sha256: str

    @property
    def is_image(self) -> bool:
        return self.content_type in IMAGE_TYPES


def image_type(head: bytes) -> str | None:
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


# Documents that can be plain ASCII are still documents, not log excerpts.
NOT_TEXT = (b"%PDF-",)


def _is_text(data: bytes) -> bool:
    if b"\x00" in data or data.startswith(NOT_TEXT):
        return False
    try:
        data.decode("utf-8", errors="strict")
    except UnicodeDecodeError:
        return False
    return True


def accepted() -> str:
    return _("a PNG, JPEG, GIF or WebP image, or UTF-8 text (a log excerpt)")


def human_size(size: int) -> str:
    mib = 1024 * 1024
    if size >= mib:
        return _("%(n)s MiB") % {"n": str(size // mib) if size % mib == 0 else f"{size / mib:.1f}"}
    return _("%(n)s KiB") % {"n": f"{max(size, 1) / 1024:.0f}" if size >= 1024 else "1"}


def clean_name(name: str, *, extension: str, keep: set[str]) -> str:
    """The client's file name without folders or control characters, its extension made true to the bytes."""
    name = os.path.basename((name or "").replace("\\", "/"))
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C").strip().strip(".") or "attachment"
    stem, ext = os.path.splitext(name)
    if ext.lower() not in keep:
        stem, ext = name, extension
    return stem[:NAME_MAX_LENGTH - len(ext)] + ext


def too_big() -> str:
    return _("the attachment is larger than %(limit)s; attach a smaller screenshot or a shorter excerpt") % {
        "limit": human_size(settings.FENGHUO_NOTE_ATTACHMENT_MAX_BYTES)}


def check_attachment(upload: File) -> CheckedAttachment:
    """The upload's bytes, type and digest; ValidationError({"file": ...}) when it is not accepted."""
    limit = settings.FENGHUO_NOTE_ATTACHMENT_MAX_BYTES
    size = upload.size or 0
    if size > limit:
        raise ValidationError({"file": [too_big()]})
    upload.seek(0)
    data = upload.read(limit + 1)
    if len(data) > limit:  # a file that understated its size
        raise ValidationError({"file": [too_big()]})
    if not data:
        raise ValidationError({"file": [_("the attachment is empty; attach %(accepted)s") % {"accepted": accepted()}]})
    content_type = image_type(data[:16])
    if content_type is not None:
        extension, keep = IMAGE_TYPES[content_type]
    elif _is_text(data):
        content_type, extension, keep = TEXT, ".txt", TEXT_EXTENSIONS
    else:
        raise ValidationError({"file": [_("this kind of file is not accepted; attach %(accepted)s") % {
            "accepted": accepted()}]})
    return CheckedAttachment(data=data, content_type=content_type, extension=extension,
                             name=clean_name(getattr(upload, "name", "") or "", extension=extension, keep=keep),
                             size=len(data), sha256=hashlib.sha256(data).hexdigest())


def check_text(text: str | None) -> str:
    text = (text or "").strip()
    if "\x00" in text:
        # PostgreSQL stores no NUL in text or JSON; a multipart body too large for the NUL middleware reaches here.
        raise ValidationError({"text": [_("must not contain the NUL character")]})
    if len(text) > TEXT_MAX_LENGTH:
        raise ValidationError({"text": [_("a note may be at most %(n)d characters; attach a longer log as a file")
                                        % {"n": TEXT_MAX_LENGTH}]})
    return text


def storage_name(attachment: "NoteAttachment", filename: str) -> str:
    """upload_to of NoteAttachment.file: Fenghuo's own name, so no client name ever reaches the file system."""
    extension = os.path.splitext(filename)[1]
    return f"notes/{attachment.incident_id}/{uuid.uuid4().hex}{extension}"


def detail_of(attachment: "NoteAttachment") -> dict[str, Any]:
    """How the note's timeline entry describes its attachment (the timeline is the record auditors read)."""
    return {"id": attachment.pk, "name": attachment.original_name, "size": attachment.size,
            "content_type": attachment.content_type, "sha256": attachment.sha256}


# An attachment is the client's bytes: nothing in it may run, load or be sniffed into another type.
ATTACHMENT_CSP = "sandbox; default-src 'none'; img-src 'self'"


def attachment_response(attachment: "NoteAttachment") -> FileResponse:
    """The stored file: images inline (the timeline shows them), text as a download; never sniffed or run."""
    try:
        stream = attachment.file.open("rb")
    except OSError as lost:  # removed from the storage behind Fenghuo's back
        raise Http404(_("the attachment's file is no longer stored")) from lost
    response = FileResponse(stream, content_type=attachment.content_type, as_attachment=not attachment.is_image,
                            filename=attachment.original_name)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = ATTACHMENT_CSP
    response["Cache-Control"] = "private, no-cache"
    return response
