"""Every change to inspections: schedules, answers as they are given, photos, submitting, findings acted on.

Pages, the API and tasks call these. Each locks the round it changes, checks
the person holds the round's role, and writes in one transaction: a refused
answer leaves nothing behind. A round's miss deadline is met when it is
submitted (``inspections.misses`` handles it when it is not).
"""

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from assets.access import may_manage_assets
from assets.models import Asset
from assets.severity import is_host_fault, suggested_level
from core.errors import Refused
from incidents import services as incident_services
from incidents.models import Incident, Source
from people.models import Person
from plan.models import PlanVersion
from reviews import services as action_services
from reviews.models import Action
from reviews.services import MAX_TITLE as MAX_ACTION_TITLE

from . import generation
from .items import Item, round_items
from .models import CheckType, Result, Round, RoundStatus, Schedule, ScheduleAsset
from .photos import checked_photo

# What one answer may carry; the API and the page send these names.
ANSWER_FIELDS = ("ok", "value", "text", "note")


# --- schedules ------------------------------------------------------------------------


def schedule_create(*, actor: "Person", name: str, assets: Sequence[str], role: str, every: timedelta,
                    first_due_at: datetime, grace: timedelta, checks: Sequence[str] = (),
                    window_start: time | None = None, window_end: time | None = None) -> Schedule:
    """A schedule and its first rounds (up to INSPECTIONS_GENERATE_AHEAD). Everything checked first, each error named."""
    if not may_manage_assets(actor):
        raise Refused(_("only the emergency office (or staff) sets inspection schedules"), code="forbidden",
                      status_code=403)
    errors: dict[str, list[str]] = {}
    if not (name or "").strip():
        errors["name"] = [_("a name is required")]
    tags = [tag.strip() for tag in assets if isinstance(tag, str)]
    found = {a.tag: a for a in Asset.objects.in_service().filter(tag__in=tags)}
    unknown = [tag for tag in tags if tag not in found]
    if len(tags) != len(assets) or any(not isinstance(key, str) for key in checks):
        field = "assets" if len(tags) != len(assets) else "checks"
        errors[field] = [_("each item is text: an asset tag or a check key")]
    elif not tags:
        errors["assets"] = [_("name at least one asset by its tag")]
    elif unknown:
        errors["assets"] = [_("no asset in service has the tag(s): %(tags)s") % {"tags": ", ".join(unknown[:20])}]
    elif len(set(tags)) != len(tags):
        errors["assets"] = [_("an asset appears twice")]
    version = PlanVersion.objects.filter(is_active=True).first()
    roles = set(version.roles.values_list("key", flat=True)) if version else set()
    if role not in roles:
        errors["role"] = [_("unknown role %(role)r; the active plan has: %(roles)s") % {
            "role": role, "roles": ", ".join(sorted(roles))}]
    if every < timedelta(minutes=10):
        errors["every"] = [_("rounds can be at most every 10 minutes")]
    if grace < timedelta(0):
        errors["grace"] = [_("cannot be negative")]
    elif grace >= every and every >= timedelta(minutes=10):
        errors["grace"] = [_("must be shorter than the time between rounds")]
    if (window_start is None) != (window_end is None):
        errors["window_start" if window_start is None else "window_end"] = [_("give both ends of the window")]
    if checks and not errors.get("assets") and not errors.get("checks"):
        from .models import CheckItem

        known = set(CheckItem.objects.filter(template__asset_kind__in={a.kind for a in found.values()})
                    .values_list("key", flat=True))
        missing = [key for key in checks if key not in known]
        if missing:
            errors["checks"] = [_("no checklist of these assets' kinds has the check(s): %(keys)s; they have: "
                                  "%(known)s") % {"keys": ", ".join(missing), "known": ", ".join(sorted(known))}]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        schedule = Schedule.objects.create(name=name.strip()[:200], role_key=role, every=every, grace=grace,
                                           first_due_at=first_due_at, checks=list(checks), window_start=window_start,
                                           window_end=window_end, created_by=actor)
        ScheduleAsset.objects.bulk_create([ScheduleAsset(schedule=schedule, asset=found[tag], position=position)
                                           for position, tag in enumerate(tags)])
        generation.generate_schedule(schedule.pk)
    return schedule


@transaction.atomic
def schedule_stop(schedule: Schedule, *, actor: "Person | None") -> int:
    """No more rounds: the ones not yet due are withdrawn with their deadlines. Returns how many."""
    schedule = Schedule.objects.select_for_update().get(pk=schedule.pk)
    schedule.active = False
    schedule.save(update_fields=["active"])
    return generation.withdraw_future_rounds(schedule, after=timezone.now())


# --- answering ------------------------------------------------------------------------


def check_walker(round_: Round, person: "Person") -> None:
    if round_.role_key not in person.role_keys():
        raise Refused(_("this round is for the role %(role)s; you do not hold it") % {"role": round_.role_key},
                      code="forbidden", status_code=403)


def _lock(round_: Round | int) -> Round:
    pk = round_ if isinstance(round_, int) else round_.pk
    return Round.objects.select_for_update(of=("self",)).select_related("schedule").get(pk=pk)


def _refuse_if_submitted(round_: Round) -> None:
    if round_.status == RoundStatus.DONE:
        raise Refused(_("this round was already submitted at %(at)s; it cannot be answered again") % {
            "at": timezone.localtime(round_.submitted_at).strftime("%Y-%m-%d %H:%M")}, code="already_submitted")


def parse_reading(value: Any) -> float | None:
    """A reading typed on a phone: a number, or text of one ("23.5", "23,5"); None when empty; else ValueError."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, int | float):
        number = float(value)
    else:
        number = float(str(value).strip().replace(",", "."))
    if math.isnan(number) or math.isinf(number):
        raise ValueError
    return number


def checked_answer(item: Item, data: Mapping[str, Any], *, prefix: str = "") -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The Result fields of one answer and {field: what is wrong}; ``prefix`` names where it sits in a request."""
    errors: dict[str, list[str]] = {}
    fields: dict[str, Any] = {}
    check = item.check
    if "ok" in data:
        ok = data["ok"]
        if ok in ("true", "1", "on", "ok"):
            ok = True
        elif ok in ("false", "0", "not_ok"):
            ok = False
        elif ok == "" or ok is None:
            ok = None
        if ok is not None and not isinstance(ok, bool):
            errors[prefix + "ok"] = [_("ok must be true or false")]
        else:
            fields["ok"] = ok
    if "value" in data:
        try:
            fields["value"] = parse_reading(data["value"])
        except (TypeError, ValueError):
            errors[prefix + "value"] = [_("%(value)r is not a number (%(check)s)") % {
                "value": data["value"], "check": check.label}]
    for name in ("text", "note"):
        if name in data:
            value = data[name]
            if value is not None and not isinstance(value, str):
                errors[prefix + name] = [_("must be text")]
            else:
                fields[name] = (value or "")[:5000]
    value = fields.get("value")
    fields["out_of_range"] = bool(value is not None and (
        (check.min_value is not None and value < check.min_value) or
        (check.max_value is not None and value > check.max_value)))
    return fields, errors


def _item(round_: Round, asset_tag: str, check_key: str, *, prefix: str = "") -> Item:
    for item in round_items(round_):
        if item.asset.tag == asset_tag and item.check.key == check_key:
            return item
    raise ValidationError({prefix + "check": [_("this round has no check %(check)r on asset %(asset)r") % {
        "check": check_key, "asset": asset_tag}]})


def _write(round_: Round, item: Item, fields: Mapping[str, Any], *, person: "Person", at: datetime) -> Result:
    result = Result.objects.filter(round=round_, asset=item.asset, check_key=item.check.key).first()
    if result is None:
        result = Result(round=round_, asset=item.asset, check_key=item.check.key, check_type=item.check.type,
                        label_en=item.check.label_en, label_zh=item.check.label_zh, unit=item.check.unit,
                        min_value=item.check.min_value, max_value=item.check.max_value)
    for name, value in fields.items():
        setattr(result, name, value)
    result.answered_at, result.answered_by = at, person
    result.save()
    if round_.started_at is None:
        round_.started_at = at
        round_.save(update_fields=["started_at"])
    return result


@transaction.atomic
def answer_save(round_: Round | int, *, person: "Person", asset: str, check: str, data: Mapping[str, Any]) -> Result:
    """Keep one answer as it is given (a half-walked round survives a reload or a dropped connection)."""
    round_ = _lock(round_)
    check_walker(round_, person)
    _refuse_if_submitted(round_)
    item = _item(round_, asset, check)
    fields, errors = checked_answer(item, {k: v for k, v in data.items() if k in ANSWER_FIELDS})
    if errors:
        raise ValidationError(errors)
    return _write(round_, item, fields, person=person, at=timezone.now())


@transaction.atomic
def photo_attach(round_: Round | int, *, person: "Person", asset: str, check: str, photo: UploadedFile) -> Result:
    """A photo on one check of one asset: opened with Pillow first, refused if not an image or too large."""
    round_ = _lock(round_)
    check_walker(round_, person)
    _refuse_if_submitted(round_)
    item = _item(round_, asset, check)
    checked = checked_photo(photo)
    result = _write(round_, item, {}, person=person, at=timezone.now())
    old = result.photo.name if result.photo else ""
    result.photo.save(checked.name, checked.content, save=True)
    if old:
        # The replaced file goes once the new one is committed; a rollback keeps the old one.
        storage = result.photo.storage
        transaction.on_commit(lambda: storage.delete(old))
    return result


def unanswered(round_: Round, answers: Iterable[Result]) -> list[Item]:
    by_key = {(r.asset_id, r.check_key): r for r in answers}
    missing = []
    for item in round_items(round_):
        if not item.check.required:
            continue
        result = by_key.get(item.key)
        if result is None:
            missing.append(item)
        elif item.check.type == CheckType.OK and result.ok is None:
            missing.append(item)
        elif item.check.type == CheckType.NUMBER and result.value is None:
            missing.append(item)
    return missing


def round_submit(round_: Round | int, *, person: "Person", results: Sequence[Mapping[str, Any]] = ()
                 ) -> tuple[Round, list[Incident]]:
    """Answer what ``results`` carries, check every required check is answered, and submit: all or nothing.

    A result may ask ``{"open_incident": {"level": "yellow"}}``: a fault is logged for its asset (prefilled
    from the finding) in the same transaction. Returns the round and the incidents opened.
    """
    with transaction.atomic():
        round_ = _lock(round_)
        check_walker(round_, person)
        _refuse_if_submitted(round_)
        now = timezone.now()
        errors: dict[str, list[str]] = {}
        written: list[tuple[Result, Mapping[str, Any]]] = []
        for index, data in enumerate(results):
            prefix = f"results[{index}]."
            if not isinstance(data, Mapping):
                errors[f"results[{index}]"] = [_("each result is an object with asset, check and the answer")]
                continue
            try:
                item = _item(round_, str(data.get("asset", "")), str(data.get("check", "")), prefix=prefix)
            except ValidationError as wrong:
                errors.update(wrong.message_dict)
                continue
            fields, wrong_fields = checked_answer(item, {k: v for k, v in data.items() if k in ANSWER_FIELDS},
                                                  prefix=prefix)
            wanted = data.get("open_incident")
            if wanted is not None and not isinstance(wanted, Mapping):
                wrong_fields[prefix + "open_incident"] = [_("must be an object such as {\"level\": \"yellow\"}")]
            if wrong_fields:
                errors.update(wrong_fields)
                continue
            written.append((_write(round_, item, fields, person=person, at=now), data))
        if errors:
            raise ValidationError(errors)
        missing = unanswered(round_, Result.objects.filter(round=round_))
        if missing:
            names = [f"{item.asset.tag} · {item.check.label}" for item in missing[:10]]
            more = len(missing) - len(names)
            raise ValidationError({"results": [_("not yet answered: %(items)s") % {"items": "; ".join(names)}
                                               + (_(" and %(n)d more") % {"n": more} if more > 0 else "")]})
        round_.status, round_.submitted_at, round_.submitted_by = RoundStatus.DONE, now, person
        round_.save(update_fields=["status", "submitted_at", "submitted_by"])
        generation.meet_miss_deadline(round_, person=person, at=now)
        opened = []
        for result, data in written:
            wanted = data.get("open_incident")
            if wanted is not None:
                opened.append(finding_log_fault(result, person=person, level=str(wanted.get("level") or ""),
                                                title=str(wanted.get("title") or ""),
                                                description=str(wanted.get("description") or "")))
        return round_, opened


# --- findings ------------------------------------------------------------------------


def fault_prefill(result: Result) -> dict[str, Any]:
    """What the fault a finding offers is prefilled with: category and level from the asset (assets/severity.py)."""
    asset = result.asset
    version = PlanVersion.objects.filter(is_active=True).first()
    level_keys = ([lv.key for lv in sorted(version.levels.all(), key=lambda lv: -lv.rank)] if version else None)
    round_ = result.round
    seen = (_("reading %(value)s %(unit)s, outside %(low)s–%(high)s") % {
        "value": _number(result.value), "unit": result.unit, "low": _number(result.min_value),
        "high": _number(result.max_value)} if result.out_of_range else _("not OK"))
    return {
        "category": asset.category,
        "level": suggested_level(asset, level_keys=level_keys),
        "host_fault": is_host_fault(asset),
        "asset": asset.tag,
        "title": (_("Inspection: %(asset)s %(name)s — %(check)s: %(seen)s") % {
            "asset": asset.tag, "name": asset.name, "check": result.label, "seen": seen})[:200],
        "description": "\n".join(line for line in [
            _("Found on inspection round #%(round)d (%(schedule)s, due %(due)s) by %(who)s.") % {
                "round": round_.pk, "schedule": round_.schedule.name,
                "due": timezone.localtime(round_.due_at).strftime("%Y-%m-%d %H:%M"),
                "who": result.answered_by.display_name},
            _("Asset: %(tag)s %(name)s, %(location)s.") % {"tag": asset.tag, "name": asset.name,
                                                           "location": asset.location or "-"},
            result.note,
        ] if line),
    }


def _number(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:g}"


def _abnormal_for_action(result: Result) -> Result:
    result = Result.objects.select_for_update(of=("self",)).select_related("asset", "round__schedule",
                                                                            "answered_by").get(pk=result.pk)
    if not result.abnormal:
        raise Refused(_("this check was found OK: there is nothing to act on"), code="not_abnormal")
    return result


def finding_log_fault(result: Result, *, person: "Person", level: str = "", title: str = "", description: str = "",
                      is_drill: bool = False) -> Incident:
    """Log the fault an abnormal finding shows, linked to the asset and the round; it runs the plan's response."""
    with transaction.atomic():
        result = _abnormal_for_action(result)
        if result.incident_id:
            raise Refused(_("a fault was already logged for this finding: incident #%(id)d") % {
                "id": result.incident_id}, code="already_logged")
        prefill = fault_prefill(result)
        incident = incident_services.log_fault(
            reporter=person, category=prefill["category"], level=level or prefill["level"],
            title=(title or prefill["title"]).strip(), description=description or prefill["description"],
            host_fault=prefill["host_fault"], asset=prefill["asset"], source=Source.MANUAL, is_drill=is_drill)
        result.incident = incident
        result.save(update_fields=["incident"])
        return incident


def remediation_prefill(result: Result, *, person: "Person") -> dict[str, Any]:
    """What the remediation action a finding offers is prefilled with, all editable before saving.

    The title names the asset and what was found (the reading, the note); the owner is the first active
    person holding the asset's owning role, else whoever is acting on the finding; the due date is
    ``FENGHUO_FINDING_ACTION_DUE_AFTER`` from now.
    """
    asset = result.asset
    seen = (_("reading %(value)s %(unit)s, outside %(low)s–%(high)s") % {
        "value": _number(result.value), "unit": result.unit, "low": _number(result.min_value),
        "high": _number(result.max_value)} if result.out_of_range else _("not OK"))
    title = _("Put right: %(asset)s %(name)s — %(check)s: %(seen)s") % {
        "asset": asset.tag, "name": asset.name, "check": result.label, "seen": seen}
    if result.note.strip():
        title += f" ({result.note.strip()})"
    holder = None
    if asset.owner_role:
        holder = (Person.objects.filter(is_active=True, role_assignments__role_key=asset.owner_role)
                  .order_by("username").first())
    return {"asset": asset.tag, "check": result.check_key, "title": title[:MAX_ACTION_TITLE],
            "owner": (holder or person).username,
            "due_at": timezone.now() + settings.FENGHUO_FINDING_ACTION_DUE_AFTER}


def finding_remediate(result: Result, *, person: "Person", title: str | None = None, owner: str | None = None,
                      due_at: datetime | None = None) -> Action:
    """A remediation action on the asset for an abnormal finding that needs work but no response.

    Omitted values take the prefill (``remediation_prefill``). It goes through ``reviews.services.action_create``
    (its due date is an engine deadline that tells the owner and the office), is linked from the finding,
    and its history row names the finding and the round. A finding that is not abnormal, or already has an
    action, is a 400 naming ``check``; nothing is written then.
    """
    with transaction.atomic():
        result = Result.objects.select_for_update(of=("self",)).select_related(
            "asset", "round__schedule", "answered_by").get(pk=result.pk)
        if not may_act_on_finding(person, result):
            raise Refused(_("only the round's role or the emergency office acts on this finding"),
                          code="forbidden", status_code=403)
        if not result.abnormal:
            raise ValidationError({"check": [_("this check was found OK: there is nothing to put right")]})
        if result.remediation_action_id:
            raise ValidationError({"check": [_("this finding already has remediation action #%(id)d") % {
                "id": result.remediation_action_id}]})
        prefill = remediation_prefill(result, person=person)
        action = action_services.action_create(
            None, asset=result.asset, actor=person, vouched=True,
            title=prefill["title"] if title is None else title,
            owner=prefill["owner"] if owner is None else owner,
            due_at=prefill["due_at"] if due_at is None else due_at,
            reason=f"inspection finding {result.pk} (round {result.round_id})")
        result.remediation_action = action
        result.save(update_fields=["remediation_action"])
        return action


def may_act_on_finding(person: "Person", result: Result) -> bool:
    """The walker's role, or the office (the plan's ``coordinate`` authority), acts on a finding."""
    return result.round.role_key in person.role_keys() or may_manage_assets(person)
