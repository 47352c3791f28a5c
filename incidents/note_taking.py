"""Adding a note to an incident's timeline, with at most one attachment (what it may be: ``notes``).

Called through ``incidents.services`` like every other change of an incident.
"""

from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from . import notes, timeline
from .guard import check, lock
from .models import Incident, NoteAttachment, TimelineEntry, TimelineKind

if TYPE_CHECKING:
    from people.models import Person


@transaction.atomic
def add_note(incident: Incident, *, actor: "Person", text: str, attachment: File | None = None) -> TimelineEntry:
    """A note on the timeline, with at most one attachment (a screenshot or a log excerpt, incidents/notes.py).

    Anyone with a part in the incident may add one, while it is open and after it is
    resolved (notes serve the review), not once it is archived.
    """
    incident = lock(incident)
    check(actor, "add_note", incident)
    text = notes.check_text(text)
    checked = notes.check_attachment(attachment) if attachment is not None else None
    if not text and checked is None:
        raise ValidationError({"text": [_("write the note, or attach a screenshot or a log excerpt")]})
    now = timezone.now()
    stored = None
    if checked is not None:
        stored = NoteAttachment(incident=incident, original_name=checked.name, content_type=checked.content_type,
                                size=checked.size, sha256=checked.sha256, uploaded_by=actor, uploaded_at=now)
        # Written to storage before the rows: a failure below removes it again (storage is not transactional).
        stored.file.save(f"attachment{checked.extension}", ContentFile(checked.data), save=False)
    try:
        if stored is not None:
            stored.save()
        entry = timeline.record(incident, kind=TimelineKind.NOTE, actor=actor, at=now, detail={
            "text": text, "attachment": notes.detail_of(stored) if stored is not None else None})
        if stored is not None:
            stored.entry = entry
            stored.save(update_fields=["entry"])
    except BaseException:
        if stored is not None:
            stored.file.delete(save=False)
        raise
    return entry
