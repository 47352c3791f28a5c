"""The evidence pack's section on outside parties: reports owed and made (the People's Bank...), call-outs."""

from typing import Any

from django.utils.translation import gettext as _

from core.documents import Heading, Paragraph, Table
from escalation.models import Deadline, State
from external.selectors import callouts_of, reports_of
from incidents.models import Incident
from incidents.wording import when


def _who(person: Any) -> str:
    return (person.get_full_name() or person.get_username()) if person is not None else ""


def _missed(deadline: Deadline | None) -> bool:
    return deadline is not None and deadline.state == State.MISSED


def outside_blocks(incident: Incident) -> list[Any]:
    reports, callouts = reports_of(incident), list(callouts_of(incident))
    blocks: list[Any] = [Heading(_("Outside parties"))]
    if not reports and not callouts:
        return [*blocks, Paragraph(_("No report to an outside party was owed or made, and no party was called out."))]
    if reports:
        rows = []
        for report in reports:
            party = getattr(report, "party", None)
            late = report.sent_at is not None and report.due_at is not None and report.sent_at > report.due_at
            outcome = (_("sent late") if late else _("sent")) if report.sent_at else (
                _("missed") if _missed(report.deadline) else _("not sent"))
            rows.append([party.name if party is not None else report.party_key, report.get_stage_display(),
                         when(report.due_at) if report.due_at else "", when(report.sent_at) if report.sent_at else "",
                         report.get_channel_display() if report.channel else "", report.reference, outcome,
                         _who(report.sent_by)])
        blocks += [Heading(_("Reports to outside parties"), level=3),
                   Table([_("Party"), _("Stage"), _("Due"), _("Sent"), _("Channel"), _("Reference"), _("Outcome"),
                          _("Sent by")], rows, widths=[1.6, 1, 1.5, 1.5, 1, 1.2, 1, 1.2])]
    if callouts:
        rows = [[c.party.name, c.ticket, when(c.called_at), when(c.promised_by),
                 when(c.arrived_at) if c.arrived_at else (_("missed") if _missed(c.deadline) else _("not arrived")),
                 when(c.departed_at) if c.departed_at else "", _who(c.called_by)] for c in callouts]
        blocks += [Heading(_("Call-outs"), level=3),
                   Table([_("Party"), _("Ticket"), _("Called"), _("Promised by"), _("Arrived"), _("Left"),
                          _("Called by")], rows, widths=[1.6, 1.1, 1.5, 1.5, 1.5, 1.5, 1.2])]
    return blocks
