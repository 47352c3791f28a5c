"""The pack's review and remediation sections, read through the reviews app's selectors (issue 16, items 1, 2)."""

from typing import Any

from django.utils.translation import gettext as _

from core.documents import Facts, Heading, Paragraph, Table
from incidents.timeline_text import human_duration
from incidents.wording import when
from reviews import selectors as reviews


def _seconds(value: int | None) -> str:
    from datetime import timedelta

    if value is None:
        return ""
    return human_duration(timedelta(seconds=max(value, 0))) or _("under a minute")


def _person(person: Any) -> str:
    return person.display_name if person is not None else ""


def review_blocks(incident: Any) -> list[Any]:
    blocks: list[Any] = [Heading(_("Review"))]
    reading = reviews.review_of(incident)
    if reading is None:
        return [*blocks, Paragraph(_("No review has been recorded."))]
    review, figures = reading.review, reading.figures
    blocks.append(Facts([(label, value) for label, value in [
        (_("Status"), str(review.get_status_display())),
        (_("Submitted"), " · ".join(p for p in (when(review.submitted_at), _person(review.submitted_by)) if p)),
        (_("Approved"), " · ".join(p for p in (when(review.approved_at), _person(review.approved_by)) if p)),
        (_("Time to acknowledge"), _seconds(figures.time_to_acknowledge_s)),
        (_("Time to arrive"), _seconds(figures.time_to_arrive_s)),
        (_("Time to recover"), _seconds(figures.time_to_recover_s)),
        (_("Time to resolve"), _seconds(figures.time_to_resolve_s)),
        (_("Business interruption"), _seconds(figures.interruption_s)),
        (_("Plan deadlines met / missed"), f"{figures.deadlines_met} / {figures.deadlines_missed}"),
    ] if value]))
    for label, text in ((_("What happened"), review.summary), (_("Impact"), review.impact),
                        (_("Root cause"), review.root_cause), (_("What went well"), review.went_well),
                        (_("What went wrong"), review.went_wrong), (_("Lessons"), review.lessons)):
        if text:
            blocks += [Heading(label, level=3), Paragraph(text)]
    if reading.highlights:
        blocks += [Heading(_("Timeline highlights"), level=3),
                   Paragraph("\n".join(f"{when(h.at)} · {h.actor} · {h.text}" for h in reading.highlights))]
    return blocks


def action_blocks(incident: Any) -> list[Any]:
    blocks: list[Any] = [Heading(_("Remediation actions"))]
    actions = list(reviews.actions_of(incident))
    if not actions:
        return [*blocks, Paragraph(_("No remediation action was recorded."))]
    rows = []
    for action in actions:
        outcome = action.evidence or action.carry_over_reason
        status = str(action.get_status_display()) + (f" ({_('overdue')})" if action.overdue else "")
        rows.append([action.title, _person(action.owner), when(action.due_at), status, outcome,
                     " · ".join(p for p in (when(action.closed_at), _person(action.closed_by)) if p)])
    return [*blocks, Table([_("Action"), _("Owner"), _("Due"), _("Status"), _("Evidence or reason"), _("Closed")],
                           rows, widths=[3, 1.4, 1.6, 1.4, 3, 1.8])]
