"""Loading, activating, exporting and comparing plan versions."""

import difflib
import hashlib
from datetime import datetime
from typing import TYPE_CHECKING, Any

import yaml
from django.db import transaction
from django.db.models import Max, Prefetch, QuerySet
from django.utils import timezone
from django.utils.translation import gettext

from core.errors import Refused

from .document import check_document, parse_text
from .durations import format_duration
from .models import (
    Category,
    ExternalDuty,
    Level,
    OnSiteDuty,
    Party,
    PlanVersion,
    ReportDuty,
    Cell,
    ResponseNotify,
    Role,
    Step,
    VersionOrigin,
)

if TYPE_CHECKING:
    from people.models import Person


def load_plan_text(text: str, *, source: str = "", loaded_by: "Person | None" = None,
                   origin: str = VersionOrigin.CODE, operator: str = "", reason: str = "") -> PlanVersion:
    """Check a plan file and store it as the new active version.

    Raises PlanFileError before anything is written; the store itself is one
    transaction, so a failure half-way leaves the previous version active.
    Whoever loads a file both proposes and approves it (``loaded_by``).
    """
    document = check_text(text)
    sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return store_plan(document, source=source, source_sha256=sha, loaded_by=loaded_by, origin=origin,
                      operator=operator, reason=reason)


def check_text(text: str) -> dict[str, Any]:
    """The one check every plan text goes through (loadplan, a proposal's editor, its approval)."""
    return check_document(parse_text(text))


@transaction.atomic
def store_plan(document: dict[str, Any], *, source: str = "", source_sha256: str = "",
               loaded_by: "Person | None" = None, origin: str = VersionOrigin.CODE, operator: str = "",
               reason: str = "") -> PlanVersion:
    now = timezone.now()
    version = PlanVersion(
        name_en=document["name"]["en"], name_zh=document["name"]["zh"], loaded_by=loaded_by,
        source=source[:500], source_sha256=source_sha256, origin=origin, operator=operator[:150],
        proposed_by=loaded_by, proposed_at=now, approved_by=loaded_by, approved_at=now,
        reason=reason or _default_reason(origin, source),
    )
    _take_next_number_and_activate(version)
    # simple-history reads these two off the instance; no stub declares them.
    version._history_user = loaded_by  # type: ignore[attr-defined]
    version._change_reason = f"loaded from {source or 'a plan document'}"  # type: ignore[attr-defined]
    version.save()
    _store_rows(version, document)
    return version


def _default_reason(origin: str, source: str) -> str:
    # Stored as facts-in-words for the record; pages say the origin in the reader's language beside it.
    if origin == VersionOrigin.SHELL:
        return f"loaded from the shell, file {source}" if source else "loaded from the shell"
    return f"loaded from {source}" if source else ""


def _take_next_number_and_activate(version: PlanVersion) -> None:
    """Number ``version`` after every stored one and make it the only active one (not saved here)."""
    # Lock the active row so two concurrent activations number their versions in turn.
    list(PlanVersion.objects.select_for_update().filter(is_active=True))
    version.number = (PlanVersion.objects.aggregate(n=Max("number"))["n"] or 0) + 1
    PlanVersion.objects.filter(is_active=True).update(is_active=False)
    version.is_active = True
    version.is_draft = False


@transaction.atomic
def plan_draft_store(*, document: dict[str, Any], proposed_by: "Person | None", reason: str = "",
                     based_on: PlanVersion | None = None, draft: PlanVersion | None = None) -> PlanVersion:
    """Store a checked document as a draft (not active, no number), or replace an existing draft's rows.

    ``document`` must come from ``check_text``/``check_document``: a draft is as valid as a loaded file.
    """
    if draft is None:
        draft = PlanVersion(is_draft=True, origin=VersionOrigin.PROPOSAL, based_on=based_on,
                            proposed_by=proposed_by, proposed_at=timezone.now())
    else:
        draft = PlanVersion.objects.select_for_update().get(pk=draft.pk)
        if not draft.is_draft:
            raise Refused(gettext("plan version %(n)s is no longer a draft: it cannot change") % {"n": draft.number})
        _clear_rows(draft)
    draft.name_en, draft.name_zh = document["name"]["en"], document["name"]["zh"]
    draft.reason = reason or draft.reason
    draft._history_user = proposed_by  # type: ignore[attr-defined]
    draft._change_reason = "draft stored"  # type: ignore[attr-defined]
    draft.save()
    _store_rows(draft, document)
    return draft


def _clear_rows(draft: PlanVersion) -> None:
    # In the order the PROTECT references allow: cells (and their duties, steps) name roles and levels.
    Cell.objects.filter(version=draft).delete()
    Party.objects.filter(version=draft).delete()
    Category.objects.filter(version=draft).delete()
    Level.objects.filter(version=draft).delete()
    Role.objects.filter(version=draft).update(reports_to=None)
    Role.objects.filter(version=draft).delete()


@transaction.atomic
def plan_draft_activate(*, draft: PlanVersion, approved_by: "Person | None", reason: str = "",
                        at: datetime | None = None) -> PlanVersion:
    """Make a draft the active version, after the same check ``loadplan`` makes of a file.

    Incidents already open keep the version they opened under; new ones get this one.
    """
    draft = PlanVersion.objects.select_for_update().get(pk=draft.pk)
    if not draft.is_draft:
        raise Refused(gettext("plan version %(n)s is not a draft") % {"n": draft.number})
    text = export_version(draft)
    check_text(text)  # raises PlanFileError, before anything changes
    _take_next_number_and_activate(draft)
    draft.approved_by, draft.approved_at = approved_by, at or timezone.now()
    draft.source_sha256 = hashlib.sha256(text.encode("utf-8")).hexdigest()
    if reason:
        draft.reason = reason
    draft._history_user = approved_by  # type: ignore[attr-defined]
    draft._change_reason = "approved and activated"  # type: ignore[attr-defined]
    draft.save()
    return draft


def _store_rows(version: PlanVersion, document: dict[str, Any]) -> None:
    roles = {}
    for position, spec in enumerate(document["roles"]):
        roles[spec["key"]] = Role.objects.create(
            version=version,
            key=spec["key"],
            position=position,
            name_en=spec["name"]["en"],
            name_zh=spec["name"]["zh"],
            duties_en=(spec.get("duties") or {}).get("en", ""),
            duties_zh=(spec.get("duties") or {}).get("zh", ""),
            authority=spec.get("authority", []),
        )
    for spec in document["roles"]:
        if spec.get("reports_to"):
            role = roles[spec["key"]]
            role.reports_to = roles[spec["reports_to"]]
            role.save(update_fields=["reports_to"])

    levels = {
        spec["key"]: Level.objects.create(
            version=version, key=spec["key"], rank=spec["rank"], color=spec["color"],
            name_en=spec["name"]["en"], name_zh=spec["name"]["zh"], announced=spec["announce"],
            urgent=spec["urgent"], repeat_every=spec["repeat"]["every"], repeat_times=spec["repeat"]["times"],
        )
        for spec in document["levels"]
    }
    parties = {
        spec["key"]: Party.objects.create(version=version, key=spec["key"], kind=spec["kind"], position=position,
                                          name_en=spec["name"]["en"], name_zh=spec["name"]["zh"])
        for position, spec in enumerate(document.get("parties", []))
    }
    for position, spec in enumerate(document["categories"]):
        category = Category.objects.create(
            version=version, key=spec["key"], position=position, name_en=spec["name"]["en"], name_zh=spec["name"]["zh"]
        )
        for level_key, cell in spec["responses"].items():
            _store_cell(version, category, levels[level_key], cell, roles, levels, parties)


def _store_cell(version: PlanVersion, category: Category, level: Level, cell: dict[str, Any],
                roles: dict[str, Role], levels: dict[str, Level], parties: dict[str, Party]) -> None:
    escalate = cell.get("escalate")
    when = (escalate or {}).get("when")
    stability = cell.get("stability")
    response = Cell.objects.create(
        version=version,
        category=category,
        level=level,
        criteria_en=cell["criteria"]["en"],
        criteria_zh=cell["criteria"]["zh"],
        approval_by=roles[cell["approval"]["by"]] if cell["approval"] else None,
        approval_within=(cell["approval"] or {}).get("within"),
        escalate_to=levels[escalate["to"]] if escalate else None,
        escalate_after=escalate["after"] if escalate else None,
        escalate_when_field=when["field"] if when else "",
        escalate_when_op=when["op"] if when else "",
        escalate_when_value=when["value"] if when else None,
        stability_by=roles[stability["by"]] if stability else None,
        stability_watch=stability["watch"] if stability else None,
    )
    ResponseNotify.objects.bulk_create(
        ResponseNotify(response=response, role=roles[key], position=i) for i, key in enumerate(cell["notify"])
    )
    ReportDuty.objects.bulk_create(
        ReportDuty(response=response, from_role=roles[d["from"]], to_role=roles[d["to"]], position=i)
        for i, d in enumerate(cell["report"])
    )
    OnSiteDuty.objects.bulk_create(
        OnSiteDuty(response=response, role=roles[d["role"]], within=d["within"], position=i)
        for i, d in enumerate(cell["on_site"])
    )
    Step.objects.bulk_create(
        Step(response=response, position=i, text_en=s["en"], text_zh=s["zh"]) for i, s in enumerate(cell["steps"])
    )
    ExternalDuty.objects.bulk_create(
        ExternalDuty(response=response, party=parties[d["party"]], initial=d.get("initial"), written=d.get("written"),
                     final=d.get("final"), confirmed=d["confirmed"], position=i)
        for i, d in enumerate(cell.get("external", []))
    )


@transaction.atomic
def activate_version(version: PlanVersion, *, by: "Person | None" = None) -> PlanVersion:
    """Make an earlier version active again (a rollback); the old one stays stored."""
    if version.is_draft:
        raise Refused(gettext("a draft becomes active only when its proposal is approved"))
    PlanVersion.objects.select_for_update().filter(is_active=True).update(is_active=False)
    version.is_active = True
    # simple-history reads these two off the instance; no stub declares them.
    version._history_user = by  # type: ignore[attr-defined]
    version._change_reason = "activated"  # type: ignore[attr-defined]
    version.save(update_fields=["is_active"])
    return version


def active_version_if_same_source(text: str) -> PlanVersion | None:
    """The active version when it was loaded from exactly this text, else None."""
    sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return PlanVersion.objects.filter(is_active=True, source_sha256=sha).first()


# A stored version never changes (a draft does, and is never cached), so its roles' authority is read once per process.
_authority: dict[int, dict[str, frozenset[str]]] = {}


def roles_with(authority: str, version_id: int | None = None) -> frozenset[str]:
    """The keys of the roles granted ``authority`` (plan/document.py AUTHORITIES) in a version, else the active one."""
    if version_id is None:
        version_id = PlanVersion.objects.filter(is_active=True).values_list("pk", flat=True).first()
        if version_id is None:
            return frozenset()
    granted = _authority.get(version_id)
    if granted is None:
        found: dict[str, set[str]] = {}
        draft = False
        for key, names, draft in Role.objects.filter(version_id=version_id).values_list("key", "authority",
                                                                                          "version__is_draft"):
            for name in names or []:
                found.setdefault(name, set()).add(key)
        granted = {name: frozenset(keys) for name, keys in found.items()}
        if not draft:  # a draft's roles still change as its proposal is edited
            _authority[version_id] = granted
    return granted.get(authority, frozenset())


def cells(version: PlanVersion) -> QuerySet[Cell]:
    """Every response of a version with what it references, in a fixed number of queries."""
    return (
        Cell.objects.filter(version=version)
        .select_related("category", "level", "approval_by", "escalate_to", "stability_by")
        .prefetch_related(
            Prefetch("notify", queryset=ResponseNotify.objects.select_related("role")),
            Prefetch("reports", queryset=ReportDuty.objects.select_related("from_role", "to_role")),
            Prefetch("on_site", queryset=OnSiteDuty.objects.select_related("role")),
            Prefetch("external", queryset=ExternalDuty.objects.select_related("party")),
            "steps",
        )
    )


def response_for(version: PlanVersion, *, category_key: str, level_key: str) -> Cell:
    return cells(version).get(category__key=category_key, level__key=level_key)


def _text(obj: object, field: str = "name") -> dict[str, str]:
    return {"en": getattr(obj, f"{field}_en"), "zh": getattr(obj, f"{field}_zh")}


def version_document(version: PlanVersion) -> dict[str, Any]:
    """The version as a format-1 document, built from the stored rows."""
    roles: list[dict[str, Any]] = []
    for role in version.roles.select_related("reports_to"):
        entry: dict[str, Any] = {"key": role.key, "name": _text(role)}
        if role.reports_to:
            entry["reports_to"] = role.reports_to.key
        if role.duties_en or role.duties_zh:
            entry["duties"] = _text(role, "duties")
        if role.authority:
            entry["authority"] = list(role.authority)
        roles.append(entry)
    levels: list[dict[str, Any]] = [
        {"key": lv.key, "rank": lv.rank, "color": lv.color, "name": _text(lv), "announce": lv.announced,
         "urgent": lv.urgent, "repeat": {"every": format_duration(lv.repeat_every), "times": lv.repeat_times}}
        for lv in version.levels.order_by("-rank")
    ]
    by_cell = {(r.category_id, r.level.key): r for r in cells(version)}
    categories = []
    for category in version.categories.all():
        responses: dict[str, dict[str, Any]] = {}
        for level in levels:
            response = by_cell[(category.id, level["key"])]
            responses[level["key"]] = _cell_document(response)
        categories.append({"key": category.key, "name": _text(category), "responses": responses})
    document: dict[str, Any] = {"format": 1, "name": _text(version), "roles": roles, "levels": levels,
                                "categories": categories}
    parties = [{"key": p.key, "kind": p.kind, "name": _text(p)} for p in version.parties.all()]
    if parties:  # written only when the file declares some, so older files export as they were
        document["parties"] = parties
    return document


def _approval_document(response: Cell) -> dict[str, str] | None:
    if not response.approval_by:
        return None
    approval = {"by": response.approval_by.key}
    if response.approval_within is not None:  # written only when the file said it, so exports round-trip
        approval["within"] = format_duration(response.approval_within)
    return approval


def _cell_document(response: Cell) -> dict[str, Any]:
    cell: dict[str, Any] = {
        "criteria": _text(response, "criteria"),
        "notify": [n.role.key for n in response.notify.all()],
        "report": [{"from": d.from_role.key, "to": d.to_role.key} for d in response.reports.all()],
        "on_site": [{"role": d.role.key, "within": format_duration(d.within)} for d in response.on_site.all()],
        "approval": _approval_document(response),
    }
    if response.escalate_to:
        # Stored together with escalate_to (CheckConstraint escalation_has_target_and_deadline).
        assert response.escalate_after is not None
        rule: dict[str, Any] = {"to": response.escalate_to.key, "after": format_duration(response.escalate_after)}
        if response.escalate_when_field:
            value = response.escalate_when_value
            assert value is not None  # the loader stores a condition's field and value together
            rule["when"] = {"field": response.escalate_when_field, response.escalate_when_op: int(value) if value.is_integer() else value}
        cell["escalate"] = rule
    if response.stability_by:
        # Stored together with stability_by (CheckConstraint stability_has_role_and_watch).
        assert response.stability_watch is not None
        cell["stability"] = {"by": response.stability_by.key, "watch": format_duration(response.stability_watch)}
    external = [_external_document(duty) for duty in response.external.all()]
    if external:
        cell["external"] = external
    cell["steps"] = [_text(step, "text") for step in response.steps.all()]
    return cell


def _external_document(duty: ExternalDuty) -> dict[str, Any]:
    entry: dict[str, Any] = {"party": duty.party.key}
    entry.update({stage: format_duration(within) for stage, within in duty.stages().items()})
    if not duty.confirmed:  # written only when false: a duty is confirmed unless the file says otherwise
        entry["confirmed"] = False
    return entry


class _ExportDumper(yaml.SafeDumper):
    pass


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_ExportDumper.add_representer(str, _represent_str)


def export_version(version: PlanVersion) -> str:
    """YAML that ``loadplan`` accepts and that exports back byte-identical."""
    return yaml.dump(
        version_document(version), Dumper=_ExportDumper, sort_keys=False, allow_unicode=True, width=100, indent=2
    )


def diff_versions(old: PlanVersion, *, new: PlanVersion) -> list[str]:
    """A unified diff of two versions' exports, for the admin's compare page."""
    return list(
        difflib.unified_diff(
            export_version(old).splitlines(),
            export_version(new).splitlines(),
            fromfile=f"v{old.number}",
            tofile=f"v{new.number}",
            lineterm="",
        )
    )
