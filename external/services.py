"""External parties' duties and call-outs: every write of the external app.

Reporting duties come from the plan's cells (``external``): when an incident reaches a level
(hook ``level_started``) each stage ``initial`` and ``written`` of the cell's duties becomes an
``ExternalReport`` row with an engine deadline (kind ``external_report``, subject
``external:<party>:<stage>``) and a reminder before it (kind ``external_reminder``, same subject);
``final`` is owed from resolution (hook ``resolved``). A later level's duties add to those running:
a stage already sent stays sent (it is not owed again); a stage still pending keeps the sooner of its
due time and the new level's. Filing a report meets its deadline and ends its reminder; a call-out's
promised arrival is a deadline (kind ``callout_arrival``, subject ``callout:<id>``) met by the arrival.

What a due deadline of these kinds does is ``act_on_due`` (registered in ``ExternalConfig.ready``):
a reminder tells the coordinating roles (the office) that the stage is due soon; a missed stage or a
missed arrival tells them it was missed, on the timeline like any missed deadline.
"""

import re
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from core.errors import Refused
from escalation import services as engine
from escalation.models import Deadline, Kind, State
from escalation.services import Outcome
from incidents import timeline
from incidents.guard import lock, refuse_if_archived
from incidents.models import Incident, TimelineKind
from incidents.permissions import refusal
from notifications.facts import bilingual
from notifications.models import Ask
from notifications.recipients import notify_roles
from plan.durations import parse_duration
from plan.services import roles_with

from .models import REPORT_FIELDS, CallOut, Channel, Contact, ExternalReport, Party, Stage

if TYPE_CHECKING:
    from people.models import Person

EXTERNAL_KINDS = (Kind.EXTERNAL_REPORT, Kind.EXTERNAL_REMINDER, Kind.CALLOUT_ARRIVAL)


def reminder_before() -> timedelta:
    return timedelta(seconds=settings.EXTERNAL_REMINDER_BEFORE_SECONDS)


# --- who may ---------------------------------------------------------------------------


def report_refusal(person: "Person", incident: Incident) -> str | None:
    """Reports to outside parties are the coordinating roles' (plan 2.2: the office coordinates with the People's Bank)."""
    if not person.is_authenticated:
        return _("sign in first")
    if person.role_keys() & roles_with("coordinate", incident.plan_version_id) or person.is_superuser:
        return None
    return _("only the roles that coordinate the response may report to outside parties")


def callout_refusal(person: "Person", incident: Incident) -> str | None:
    """Anyone with a part in the incident's response may call out a carrier or vendor (and record arrival)."""
    return refusal(person, action="callout", incident=incident, cell=engine.cell_of(incident))


def directory_refusal(person: "Person") -> str | None:
    """The directory is kept by the coordinating roles (the office) and by staff."""
    if not person.is_authenticated:
        return _("sign in first")
    if person.is_staff or person.role_keys() & roles_with("coordinate"):
        return None
    return _("only the roles that coordinate the response, or staff, may change the directory")


def _check(reason: str | None) -> None:
    if reason:
        raise Refused(reason, code="forbidden", status_code=403)


# --- the directory ------------------------------------------------------------------------------


@transaction.atomic
def party_create(*, author: "Person", key: str, kind: str, name_en: str, name_zh: str, contract: str = "",
                 arrival_within: str | timedelta | None = None, support_hours: str = "",
                 categories: Any = None, contacts: Any = None) -> Party:
    _check(directory_refusal(author))
    from plan.document import CATEGORY_KEYS

    errors: dict[str, list[str]] = {}
    if Party.objects.filter(key=key).exists():
        errors["key"] = [_("a party with the key %(key)s already exists") % {"key": key}]
    if not isinstance(categories or [], list) or not all(isinstance(c, str) for c in categories or []):
        raise ValidationError({"categories": [_("give a list of category keys, e.g. [\"network\"]")]})
    if not isinstance(contacts or [], list):
        raise ValidationError({"contacts": [_("give a list of contacts, each {name, phone, email...}")]})
    categories = [c.strip() for c in categories or [] if c.strip()]
    unknown = [c for c in categories if c not in CATEGORY_KEYS]
    if unknown:
        errors["categories"] = [_("unknown categories: %(keys)s") % {"keys": ", ".join(unknown)}]
    within = arrival_within
    if isinstance(arrival_within, str):
        within = duration_or_error(arrival_within, "arrival_within") if arrival_within.strip() else None
    if errors:
        raise ValidationError(errors)
    party = Party.objects.create(key=key, kind=kind, name_en=name_en.strip(), name_zh=name_zh.strip(),
                                 contract=contract.strip(), arrival_within=within, support_hours=support_hours.strip(),
                                 categories=list(categories or []))
    fields = ("name", "role", "phone", "mobile", "email")
    for position, contact in enumerate(contacts or [], start=1):
        unknown_keys = sorted(set(contact) - set(fields)) if isinstance(contact, dict) else ["(not a mapping)"]
        try:
            if unknown_keys:
                raise ValidationError(_("unknown keys: %(keys)s") % {"keys": ", ".join(unknown_keys)})
            contact_add(party=party, author=author, position=position - 1,
                        **{key: str(contact.get(key) or "") for key in fields})
        except ValidationError as invalid:
            messages = [f"{field}: {m}" for field, ms in getattr(invalid, "message_dict", {"": invalid.messages}).items()
                        for m in ms]
            raise ValidationError({"contacts": [_("contact %(n)s: %(problem)s") % {
                "n": position, "problem": "; ".join(m.removeprefix(": ") for m in messages)}]}) from None
    return party


@transaction.atomic
def party_update(*, party: Party, author: "Person", kind: str, name_en: str, name_zh: str, contract: str = "",
                 arrival_within: str | timedelta | None = None, support_hours: str = "", categories: Any = None,
                 is_active: bool = True, **_ignored: Any) -> Party:
    """Change a party's own fields (its key stays: the plan names the party by it)."""
    _check(directory_refusal(author))
    from plan.document import CATEGORY_KEYS

    categories = [c for c in categories or [] if isinstance(c, str) and c]
    unknown = [c for c in categories if c not in CATEGORY_KEYS]
    if unknown:
        raise ValidationError({"categories": [_("unknown categories: %(keys)s") % {"keys": ", ".join(unknown)}]})
    within = arrival_within
    if isinstance(arrival_within, str):
        within = duration_or_error(arrival_within, "arrival_within") if arrival_within.strip() else None
    party = Party.objects.select_for_update().get(pk=party.pk)
    party.kind, party.name_en, party.name_zh = kind, name_en.strip(), name_zh.strip()
    party.contract, party.arrival_within, party.support_hours = contract.strip(), within, support_hours.strip()
    party.categories, party.is_active = categories, is_active
    party._history_user = author  # type: ignore[attr-defined]  # simple-history reads it
    party.save()
    return party


@transaction.atomic
def party_assets_set(*, party: Party, author: "Person", tags: str | list[str]) -> Party:
    """The assets the party covers, by tag (a string of tags separated by commas or spaces, or a list).

    Every unknown tag is named and nothing changes; an empty list covers none.
    """
    _check(directory_refusal(author))
    from assets.models import Asset

    wanted = [t for t in (re.split(r"[\s,，;；]+", tags) if isinstance(tags, str) else tags) if t]
    found = {a.tag: a for a in Asset.objects.filter(tag__in=wanted)}
    unknown = [t for t in dict.fromkeys(wanted) if t not in found]
    if unknown:
        raise ValidationError({"assets": [_("no asset with the tag %(tags)s") % {"tags": ", ".join(unknown)}]})
    party = Party.objects.select_for_update().get(pk=party.pk)
    party.assets.set(list(found.values()))
    return party


@transaction.atomic
def contact_remove(*, contact: Contact, author: "Person") -> None:
    _check(directory_refusal(author))
    contact.delete()


@transaction.atomic
def contact_add(*, party: Party, author: "Person", name: str, role: str = "", phone: str = "", mobile: str = "",
                email: str = "", position: int | None = None) -> Contact:
    _check(directory_refusal(author))
    name = name.strip()
    if not name:
        raise ValidationError({"name": [_("give the contact's name")]})
    if not (phone.strip() or mobile.strip() or email.strip()):
        raise ValidationError({"phone": [_("give a phone, a mobile or an email: nobody could reach them otherwise")]})
    if party.contacts.filter(name=name).exists():
        raise ValidationError({"name": [_("%(party)s already has a contact called %(name)s") % {
            "party": party.name, "name": name}]})
    if position is None:
        position = party.contacts.count()
    contact = Contact(party=party, name=name, role=role.strip(), phone=phone.strip(), mobile=mobile.strip(),
                      email=email.strip(), position=position)
    contact.full_clean(exclude=["party"])
    contact.save()
    return contact


def department_addresses(announcement: Any) -> list[str]:
    """Registered with ``notifications.announcements.also_tell``: the department parties' contacts' emails."""
    return sorted({c.email for c in Contact.objects.filter(party__kind="department", party__is_active=True)
                   .exclude(email="")})


# --- duties from the plan (hooks) ---------------------------------------------------------------


def _office_role(incident: Incident) -> str:
    return next(iter(sorted(roles_with("coordinate", incident.plan_version_id))), "")


def start_level_duties(incidents: list[Incident], *, at: datetime) -> None:
    """Hook ``level_started``: the stages the new level's cell owes, counted from ``at``.

    Opening an incident is the hot path (an alert storm opens many): a fresh incident's rows are
    written with one read and two bulk inserts, whatever the number of stages.
    """
    for incident in incidents:
        duties = list(engine.cell_of(incident).external.all())
        if not duties:
            continue
        existing = {(r.party_key, r.stage): r
                    for r in ExternalReport.objects.select_for_update().filter(incident=incident)}
        office = _office_role(incident)
        fresh: list[tuple[ExternalReport, list[Deadline]]] = []
        for duty in duties:
            for stage, within in duty.stages().items():
                started_at = None if stage == Stage.FINAL else at
                report = existing.get((duty.party.key, stage))
                if report is not None:
                    _owe_again(incident, report, within=within, confirmed=duty.confirmed, started_at=started_at)
                    continue
                report = ExternalReport(incident=incident, party_key=duty.party.key, stage=stage,
                                        level_key=incident.level.key, within=within, confirmed=duty.confirmed)
                rows = []
                if started_at is not None:
                    report.due_at = started_at + within
                    rows = _clock_rows(incident, report, due_at=report.due_at, started_at=started_at, office=office)
                fresh.append((report, rows))
        Deadline.objects.bulk_create([d for _report, rows in fresh for d in rows])
        engine.schedule_precise_firing([d for _report, rows in fresh for d in rows])
        for report, rows in fresh:
            report.deadline = rows[0] if rows else None
        ExternalReport.objects.bulk_create([report for report, _rows in fresh])


def _clock_rows(incident: Incident, report: ExternalReport, *, due_at: datetime, started_at: datetime,
                office: str) -> list[Deadline]:
    """The stage's deadline and, when there is room before it, its reminder (unsaved). Level key empty:
    these outlive the level that started them (a level change cancels only the response's own kinds)."""
    rows = [Deadline(incident=incident, kind=Kind.EXTERNAL_REPORT, subject=report.subject, role_key=office,
                     started_at=started_at, due_at=due_at)]
    remind_at = due_at - reminder_before()
    if remind_at > started_at:
        rows.append(Deadline(incident=incident, kind=Kind.EXTERNAL_REMINDER, subject=report.subject, role_key=office,
                             started_at=started_at, due_at=remind_at))
    return rows


def start_final_duties(incident: Incident, *, at: datetime, actor: "Person | None" = None) -> None:
    """Hook ``resolved``: every final report owed starts its clock at the resolution."""
    for report in ExternalReport.objects.select_for_update().filter(
            incident=incident, stage=Stage.FINAL, sent_at__isnull=True, due_at__isnull=True, within__isnull=False):
        assert report.within is not None
        _start_clock(incident, report, due_at=at + report.within, started_at=at)


def _owe_again(incident: Incident, report: ExternalReport, *, within: timedelta, confirmed: bool,
               started_at: datetime | None) -> None:
    """A later level owes a stage already owed: filed stays filed; pending keeps the sooner due time."""
    if report.is_sent:
        return  # filed already: a later level does not ask for it again
    if report.within is None or within < report.within:
        report.level_key, report.within, report.confirmed = incident.level.key, within, confirmed
        report.save(update_fields=["level_key", "within", "confirmed"])
    if started_at is None:
        return
    due_at = started_at + within
    if report.due_at is not None and report.due_at <= due_at:
        return
    report.level_key = incident.level.key
    report.save(update_fields=["level_key"])
    _start_clock(incident, report, due_at=due_at, started_at=started_at)


def _start_clock(incident: Incident, report: ExternalReport, *, due_at: datetime, started_at: datetime) -> None:
    if report.deadline_id is not None:
        # A sooner due time from a more severe level replaces the running one.
        for kind in (Kind.EXTERNAL_REPORT, Kind.EXTERNAL_REMINDER):
            engine.cancel_subject(kind, report.subject, reason="a later level owes it sooner", incident=incident)
    rows = _clock_rows(incident, report, due_at=due_at, started_at=started_at, office=_office_role(incident))
    Deadline.objects.bulk_create(rows)
    engine.schedule_precise_firing(rows)
    report.deadline, report.due_at = rows[0], due_at
    report.save(update_fields=["deadline", "due_at"])


# --- filing a report ----------------------------------------------------------------------------


def _party_or_key(party_key: str) -> Party | None:
    return Party.objects.filter(key=party_key).first()


def _clean_facts(facts: dict[str, Any]) -> dict[str, str]:
    return {field: str(facts.get(field) or "").strip()[:4000] for field in REPORT_FIELDS}


@transaction.atomic
def report_save_draft(*, incident: Incident, party_key: str, stage: str, facts: dict[str, Any],
                      author: "Person") -> ExternalReport:
    """Keep the edited sections of a report not yet sent (the next stage starts from them)."""
    incident = lock(incident)
    refuse_if_archived(incident)
    _check(report_refusal(author, incident))
    report = _report_row(incident, party_key=party_key, stage=stage)
    if report.is_sent:
        raise ValidationError({"stage": [_("this report was already sent; it can no longer be edited")]})
    report.facts = _clean_facts(facts)
    report.save(update_fields=["facts"])
    return report


def _report_row(incident: Incident, *, party_key: str, stage: str) -> ExternalReport:
    if stage not in Stage.values:
        raise ValidationError({"stage": [_("unknown stage %(stage)s (use initial, written or final)") % {"stage": stage}]})
    report = ExternalReport.objects.select_for_update().filter(incident=incident, party_key=party_key,
                                                                stage=stage).first()
    if report is None:
        if _party_or_key(party_key) is None and not incident.plan_version.parties.filter(key=party_key).exists():
            raise ValidationError({"party": [_("unknown party %(party)s") % {"party": party_key}]})
        # Not owed by the plan (or not yet): a report made of the office's own accord is recorded all the same.
        report = ExternalReport.objects.create(incident=incident, party_key=party_key, stage=stage)
    return report


@transaction.atomic
def report_send(*, incident: Incident, party_key: str, stage: str, sent_at: datetime, channel: str,
                reference: str = "", facts: dict[str, Any] | None = None, text: str = "",
                author: "Person") -> ExternalReport:
    """Record that a report was sent: meets its deadline, ends its reminder, goes on the timeline. Once per stage."""
    incident = lock(incident)
    refuse_if_archived(incident)
    _check(report_refusal(author, incident))
    errors: dict[str, list[str]] = {}
    if channel not in Channel.values:
        errors["channel"] = [_("choose how it was sent: phone, fax, email or online")]
    now = timezone.now()
    if sent_at > now + timedelta(minutes=1):
        errors["sent_at"] = [_("the sent time is in the future")]
    # To the minute: the forms give minutes, so a report sent in the incident's first minute reads as its start.
    elif sent_at < min(incident.opened_at, incident.discovered_at).replace(second=0, microsecond=0):
        errors["sent_at"] = [_("the sent time is before the incident began")]
    if errors:
        raise ValidationError(errors)
    report = _report_row(incident, party_key=party_key, stage=stage)
    if report.is_sent:
        raise ValidationError({"stage": [_("this stage was already recorded as sent at %(at)s") % {
            "at": timezone.localtime(report.sent_at).strftime("%Y-%m-%d %H:%M")}]})
    if facts is not None:
        report.facts = _clean_facts(facts)
    elif text and not report.facts:
        report.facts = {"measures": text.strip()[:4000]}
    report.sent_at, report.channel, report.reference, report.sent_by = sent_at, channel, reference.strip()[:100], author
    report.save(update_fields=["facts", "sent_at", "channel", "reference", "sent_by"])
    if report.deadline_id is not None:
        engine.meet(Deadline.objects.filter(pk=report.deadline_id, state=State.PENDING), person=author, at=sent_at)
    engine.cancel_subject(Kind.EXTERNAL_REMINDER, report.subject, reason="the report was sent", incident=incident)
    party = _party_or_key(party_key) or incident.plan_version.parties.filter(key=party_key).first()
    timeline.record(incident, kind=TimelineKind.EXTERNAL_REPORT_SENT, actor=author, at=now, detail={
        "party": party_key, "party_name": bilingual(party) if party else party_key, "stage": stage,
        "sent_at": sent_at.isoformat(), "channel": channel, "reference": report.reference,
        "due_at": report.due_at.isoformat() if report.due_at else None,
        "late": bool(report.due_at and sent_at > report.due_at),
    })
    return report


# --- call-outs ------------------------------------------------------------------------------------


@transaction.atomic
def callout_create(*, incident: Incident, party: Party, caller: "Person", ticket: str = "",
                   arrive_within: timedelta | None = None, contact: Contact | None = None,
                   called_at: datetime | None = None, note: str = "") -> CallOut:
    """Call a party out to the incident; its promised arrival (``arrive_within``, else the SLA) is a deadline."""
    incident = lock(incident)
    refuse_if_archived(incident)
    _check(callout_refusal(caller, incident))
    contacts = [c for c in party.contacts.all() if c.reachable]
    if not contacts:
        raise ValidationError({"party": [
            _("%(party)s has no contact with a phone or email in the directory: add one first") % {"party": party.name}]})
    if contact is not None and contact.party_id != party.pk:
        raise ValidationError({"contact": [_("this contact belongs to another party")]})
    within = arrive_within or party.arrival_within
    if within is None or within <= timedelta(0):
        raise ValidationError({"arrive_within": [
            _("say when they promised to arrive (e.g. 2h): %(party)s has no arrival time in its contract")
            % {"party": party.name}]})
    called_at = called_at or timezone.now()
    callout = CallOut.objects.create(incident=incident, party=party, contact=contact or contacts[0],
                                     called_at=called_at, called_by=caller, ticket=ticket.strip()[:100],
                                     promised_by=called_at + within, note=note.strip())
    callout.deadline = engine.start_deadline(kind=Kind.CALLOUT_ARRIVAL, due_at=callout.promised_by, incident=incident,
                                             subject=callout.subject, role_key=_office_role(incident),
                                             started_at=called_at)
    callout.save(update_fields=["deadline"])
    timeline.record(incident, kind=TimelineKind.CALLOUT, actor=caller, at=called_at, detail={
        "callout": callout.pk, "party": party.key, "party_name": bilingual(party),
        "contact": callout.contact.name if callout.contact else "", "ticket": callout.ticket,
        "promised_by": callout.promised_by.isoformat(),
    })
    return callout


def _locked_callout(callout: CallOut) -> tuple[Incident, CallOut]:
    incident = lock(callout.incident)
    return incident, CallOut.objects.select_for_update().select_related("party").get(pk=callout.pk)


@transaction.atomic
def callout_arrived(*, callout: CallOut, person: "Person", at: datetime | None = None) -> CallOut:
    incident, callout = _locked_callout(callout)
    refuse_if_archived(incident)
    _check(callout_refusal(person, incident))
    at = at or timezone.now()
    if callout.arrived_at is not None:
        raise ValidationError({"arrived_at": [_("their arrival was already recorded")]})
    if at < callout.called_at or at > timezone.now() + timedelta(minutes=1):
        raise ValidationError({"arrived_at": [_("the arrival time must be between the call and now")]})
    callout.arrived_at = at
    callout.save(update_fields=["arrived_at"])
    if callout.deadline_id is not None:
        engine.meet(Deadline.objects.filter(pk=callout.deadline_id, state=State.PENDING), person=person, at=at)
    timeline.record(incident, kind=TimelineKind.CALLOUT_ARRIVED, actor=person, at=at, detail={
        "callout": callout.pk, "party": callout.party.key, "party_name": bilingual(callout.party),
        "ticket": callout.ticket, "arrived_at": at.isoformat(), "promised_by": callout.promised_by.isoformat(),
        "late": at > callout.promised_by,
    })
    return callout


@transaction.atomic
def callout_departed(*, callout: CallOut, person: "Person", at: datetime | None = None) -> CallOut:
    incident, callout = _locked_callout(callout)
    refuse_if_archived(incident)
    _check(callout_refusal(person, incident))
    at = at or timezone.now()
    if callout.arrived_at is None:
        raise ValidationError({"departed_at": [_("record their arrival first")]})
    if callout.departed_at is not None:
        raise ValidationError({"departed_at": [_("their departure was already recorded")]})
    if at < callout.arrived_at or at > timezone.now() + timedelta(minutes=1):
        raise ValidationError({"departed_at": [_("the departure time must be between their arrival and now")]})
    callout.departed_at = at
    callout.save(update_fields=["departed_at"])
    timeline.record(incident, kind=TimelineKind.CALLOUT_DEPARTED, actor=person, at=at, detail={
        "callout": callout.pk, "party": callout.party.key, "party_name": bilingual(callout.party),
        "ticket": callout.ticket, "departed_at": at.isoformat(),
    })
    return callout


def duration_or_error(value: Any, field: str) -> timedelta:
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise ValidationError({field: [str(exc)]}) from None


# --- what a due deadline of these kinds does ---------------------------------------------------------


def act_on_due(deadline_id: int, *, incident_id: int | None) -> str:
    """Lock the incident, then the deadline; re-check it is pending and due; act and mark it, in one transaction."""
    if incident_id is None:
        return Outcome.NOT_DUE  # every deadline of these kinds belongs to an incident
    with transaction.atomic():
        incident = (Incident.objects.select_for_update(of=("self",), skip_locked=True).with_plan()
                    .filter(pk=incident_id).first())
        if incident is None:
            return Outcome.BUSY
        deadline = (Deadline.objects.select_for_update(skip_locked=True)
                    .filter(pk=deadline_id, incident_id=incident_id, state=State.PENDING, due_at__lte=timezone.now())
                    .first())
        if deadline is None:
            return Outcome.NOT_DUE
        now = timezone.now()
        if deadline.kind == Kind.EXTERNAL_REMINDER:
            _remind(incident, deadline, now)
        else:
            _missed(incident, deadline, now)
        return Outcome.ACTED


def _subject_facts(incident: Incident, deadline: Deadline) -> dict[str, Any]:
    """What the deadline times, as timeline and notification facts."""
    kind, _sep, rest = deadline.subject.partition(":")
    if kind == "external":
        party_key, _sep, stage = rest.partition(":")
        party = _party_or_key(party_key) or incident.plan_version.parties.filter(key=party_key).first()
        return {"party": party_key, "party_name": bilingual(party) if party else party_key, "stage": stage}
    if kind == "callout":
        callout = CallOut.objects.select_related("party").filter(pk=int(rest or 0)).first()
        if callout is not None:
            return {"callout": callout.pk, "party": callout.party.key, "party_name": bilingual(callout.party),
                    "ticket": callout.ticket}
    return {}


def _remind(incident: Incident, deadline: Deadline, now: datetime) -> None:
    deadline.state, deadline.acted_at, deadline.note = State.FIRED, now, "reminded"
    deadline.save(update_fields=["state", "acted_at", "note"])
    facts = _subject_facts(incident, deadline)
    report = ExternalReport.objects.filter(incident=incident, party_key=facts.get("party", ""),
                                           stage=facts.get("stage", "")).first()
    due_at = report.due_at if report and report.due_at else deadline.due_at + reminder_before()
    coordinators = sorted(roles_with("coordinate", incident.plan_version_id))
    note = {"msgid": gettext_noop("Report due to %(party)s by %(time)s: %(stage)s."),
            "params": {"party": facts.get("party_name", ""), "stage": _stage_words(facts.get("stage", "")),
                       "time": timezone.localtime(due_at).strftime("%H:%M")}}
    notify_roles(incident, role_keys=coordinators, event=f"deadline:{deadline.pk}", ask=Ask.FYI, due_at=due_at,
                 note=note)
    timeline.record(incident, kind=TimelineKind.EXTERNAL_REPORT_REMINDED, at=now, deadline=deadline, detail={
        **facts, "due_at": due_at.isoformat(), "reminded": coordinators})


def _stage_words(stage: str) -> dict[str, str]:
    from notifications.facts import in_each_language

    return in_each_language(lambda: Stage(stage).label if stage in Stage.values else stage)


def _missed(incident: Incident, deadline: Deadline, now: datetime) -> None:
    deadline.state, deadline.acted_at = State.MISSED, now
    deadline.save(update_fields=["state", "acted_at"])
    facts = _subject_facts(incident, deadline)
    coordinators = sorted(roles_with("coordinate", incident.plan_version_id))
    if deadline.kind == Kind.CALLOUT_ARRIVAL:
        msgid = gettext_noop("%(party)s did not arrive by the promised time (ticket %(ticket)s).")
        params: dict[str, Any] = {"party": facts.get("party_name", ""), "ticket": facts.get("ticket") or "—"}
    else:
        msgid = gettext_noop("The %(stage)s to %(party)s was not sent in time.")
        params = {"party": facts.get("party_name", ""), "stage": _stage_words(facts.get("stage", ""))}
    told, _nobody = notify_roles(incident, role_keys=coordinators, event=f"deadline:{deadline.pk}", ask=Ask.MISSED,
                                 note={"msgid": msgid, "params": params})
    timeline.record(incident, kind=TimelineKind.DEADLINE_MISSED, at=now, deadline=deadline, detail={
        "deadline_kind": deadline.kind, "role": deadline.role_key, "due_at": deadline.due_at.isoformat(),
        "lateness_seconds": round((now - deadline.due_at).total_seconds(), 3), **facts,
        "reported_to": coordinators, "people": sorted(p.username for p in told),
    })
