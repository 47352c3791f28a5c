"""The scorecard as a document people keep, in the reader's language, rendered by ``core.documents``."""

from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from notifications.facts import localized

from .models import Drill

REQUIREMENTS = {
    "acknowledge": lambda: _("Confirm reading the message"),
    "on_site": lambda: _("Be on site"),
    "report": lambda: _("Report up the chain"),
    "approval": lambda: _("Decide on the response plan"),
}


def requirement_text(key: str) -> str:
    say = REQUIREMENTS.get(key)
    return say() if say else key


def _when(value: Any) -> str:
    at = parse_datetime(value) if isinstance(value, str) else None
    return timezone.localtime(at).strftime("%Y-%m-%d %H:%M:%S") if at else "—"


def _seconds(value: Any) -> str:
    if value is None:
        return "—"
    seconds = float(value)
    if abs(seconds) >= 3600:
        return f"{seconds / 3600:.1f} h"
    if abs(seconds) >= 60:
        return f"{seconds / 60:.1f} min"
    return f"{seconds:.0f} s"


def scorecard_document(drill: Drill) -> Any:
    from core.documents import Document, Facts, Heading, Paragraph, Table

    card = drill.scorecard
    score = card.get("score")
    facts = [
        (_("Drill"), f"#{drill.pk} {drill.title}"),
        (_("Incident"), f"#{card.get('incident')}"),
        (_("Levels"), " → ".join(card.get("levels") or [])),
        (_("Clock"), _("%(clock)g plan seconds per real second") % {"clock": card.get("clock", 1)}),
        (_("Started"), _when(card.get("started_at"))),
        (_("Ended"), _when(card.get("ended_at"))),
        (_("Real time"), _seconds(card.get("real_elapsed_s"))),
        (_("Plan time"), _seconds(card.get("plan_elapsed_s"))),
        (_("Score"), "—" if score is None else f"{score} / 100 ({card.get('met')}/{card.get('total')})"),
    ]
    rows = [[requirement_text(i["requirement"]), localized(i.get("role_name")) or i["role"], ", ".join(i["people"]),
             f"{_when(i['due_at'])} ({_('plan')} {_seconds(i['due_after_plan_s'])})",
             _when(i["met_at"]) if i["met_at"] else "—", _("met") if i["met"] else _("missed")]
            for i in card.get("items", [])]
    blocks = [
        Facts(facts),
        Heading(_("Requirements")),
        Table([_("Requirement"), _("Role"), _("Who"), _("Due"), _("Done"), _("Result")], rows),
        Heading(_("Observations")),
        Paragraph(card.get("observations") or drill.observations or _("None recorded.")),
    ]
    return Document(title=f"{_('[DRILL] ')}{_('Drill scorecard')}", subtitle=drill.title, blocks=blocks,
                    footer=_("Fenghuo drill scorecard #%(id)s") % {"id": drill.pk})


def scorecard_pdf(drill: Drill) -> bytes:
    from core.documents import render_pdf

    return render_pdf(scorecard_document(drill))
