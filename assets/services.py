"""Writes to the asset register: the CSV import (command and admin), the API's create.

The CSV is read and checked whole before anything is written: a bad row is
reported with its line number and nothing is imported (one transaction).
Rows match existing assets by ``tag``, so importing the same file twice
changes nothing the second time.
"""

import csv
import io
from collections.abc import Collection, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history

from .models import Asset, AssetKind, FaultCategory

if TYPE_CHECKING:
    from people.models import Person

CSV_HEADER = ["tag", "name", "kind", "category", "core", "location", "owner_role"]
# Optional columns after the required ones; the export writes them, so an export imports back unchanged.
CSV_EXTRA = ["vendor", "support_contract"]
TRUE_WORDS = {"true", "yes", "1", "y", "是"}
FALSE_WORDS = {"false", "no", "0", "n", "否"}
# The fields an import sets (location is split into room, rack and position).
IMPORTED_FIELDS = ("name", "kind", "category", "core", "room", "rack", "position", "owner_role", "vendor",
                   "support_contract")


class AssetFileError(Exception):
    def __init__(self, errors: Iterable[str]) -> None:
        self.errors = list(errors)
        super().__init__("\n".join(self.errors))


def parse_core(value: object) -> bool | None:
    """``true``/``false`` (also yes/no, 1/0, 是/否); None when it is neither."""
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    return None


def split_location(location: str) -> dict[str, str]:
    """``room/rack/position`` (each part optional from the right) → the three fields."""
    parts = [part.strip() for part in (location or "").split("/", 2)]
    parts += [""] * (3 - len(parts))
    return {"room": parts[0][:100], "rack": parts[1][:50], "position": parts[2][:50]}


def check_asset_fields(data: dict[str, Any], *, known_roles: Collection[str] | None) -> tuple[dict[str, Any], dict[str, str]]:
    """The model fields of one asset from its CSV/API values, and {field: what is wrong}."""
    errors: dict[str, str] = {}
    tag = str(data.get("tag") or "").strip()
    if not tag:
        errors["tag"] = _("an asset tag is required")
    elif len(tag) > 64:
        errors["tag"] = _("an asset tag has at most 64 characters")
    name = str(data.get("name") or "").strip()
    if not name:
        errors["name"] = _("a name is required")
    kind = str(data.get("kind") or "").strip().lower()
    if kind not in AssetKind.values:
        errors["kind"] = _("unknown kind %(kind)r; one of: %(kinds)s") % {"kind": kind, "kinds": ", ".join(AssetKind.values)}
    category = str(data.get("category") or "").strip().lower()
    if category not in FaultCategory.values:
        errors["category"] = _("unknown category %(category)r; one of: %(categories)s") % {
            "category": category, "categories": ", ".join(FaultCategory.values)}
    core = parse_core(data.get("core", ""))
    if core is None:
        errors["core"] = _("core must be true or false, not %(value)r") % {"value": data.get("core", "")}
    owner_role = str(data.get("owner_role") or "").strip()
    if owner_role and known_roles is not None and owner_role not in known_roles:
        errors["owner_role"] = _("unknown role %(role)r; the active plan has: %(roles)s") % {
            "role": owner_role, "roles": ", ".join(sorted(known_roles))}
    fields = {"tag": tag, "name": name[:200], "kind": kind, "category": category, "core": bool(core),
              "owner_role": owner_role, "vendor": str(data.get("vendor") or "").strip()[:200],
              "support_contract": str(data.get("support_contract") or "").strip()[:200],
              **split_location(str(data.get("location") or ""))}
    return fields, errors


def read_assets_csv(text: str, *, known_roles: Collection[str] | None) -> list[dict[str, Any]]:
    """Parse and check every row; raise AssetFileError naming each bad row by its line."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip() for h in next(reader, None) or []]
    if header not in (CSV_HEADER, CSV_HEADER + CSV_EXTRA):
        raise AssetFileError([_("line 1: the header must be %(header)s (optionally followed by %(extra)s), not %(got)s")
                              % {"header": ",".join(CSV_HEADER), "extra": ",".join(CSV_EXTRA), "got": ",".join(header)}])
    errors: list[str] = []
    rows: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for line, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            errors.append(_("line %(line)d: expected %(expected)d columns, found %(found)d")
                          % {"line": line, "expected": len(header), "found": len(row)})
            continue
        fields, wrong = check_asset_fields(dict(zip(header, row, strict=True)), known_roles=known_roles)
        for field, message in wrong.items():
            errors.append(_("line %(line)d: %(field)s: %(message)s") % {"line": line, "field": field, "message": message})
        tag = fields["tag"]
        if tag and tag in seen:
            errors.append(_("line %(line)d: tag %(tag)r already appears on line %(first)d")
                          % {"line": line, "tag": tag, "first": seen[tag]})
        seen.setdefault(tag, line)
        rows.append(fields)
    if errors:
        raise AssetFileError(errors)
    return rows


@transaction.atomic
def assets_import(rows: Sequence[dict[str, Any]], *, actor: "Person | None" = None) -> dict[str, int]:
    """Create or update the assets of checked rows (``read_assets_csv``), matched by tag. Idempotent."""
    now = timezone.now()
    existing = {a.tag: a for a in Asset.objects.select_for_update().filter(tag__in=[r["tag"] for r in rows])}
    new: list[Asset] = []
    updated = 0
    for row in rows:
        asset = existing.get(row["tag"])
        if asset is None:
            new.append(Asset(**row, created_at=now, updated_at=now))
            continue
        changed = [f for f in IMPORTED_FIELDS if getattr(asset, f) != row[f]]
        if not changed:
            continue
        for field in changed:
            setattr(asset, field, row[field])
        asset.updated_at = now
        asset._change_reason = "importassets"  # type: ignore[attr-defined]  # simple-history reads it
        if actor is not None:
            asset._history_user = actor  # type: ignore[attr-defined]  # as above
        asset.save()
        updated += 1
    if new:
        bulk_create_with_history(new, Asset, default_user=actor, default_change_reason="importassets", default_date=now)
    return {"created": len(new), "updated": updated, "unchanged": len(rows) - len(new) - updated}


def asset_create(*, actor: "Person | None", data: dict[str, Any], known_roles: Collection[str] | None) -> Asset:
    """One asset from the API: every field checked, each error naming its field."""
    fields, errors = check_asset_fields(data, known_roles=known_roles)
    if not errors and Asset.objects.filter(tag=fields["tag"]).exists():
        errors["tag"] = _("an asset with tag %(tag)r already exists") % {"tag": fields["tag"]}
    if errors:
        raise ValidationError({field: [message] for field, message in errors.items()})
    asset = Asset(**fields)
    if actor is not None:
        asset._history_user = actor  # type: ignore[attr-defined]  # simple-history reads it
    asset.save()
    return asset


def assets_csv(assets: Iterable[Asset]) -> str:
    """The register as CSV: the import's header and its optional columns, so it imports back unchanged."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER + CSV_EXTRA)
    for a in assets:
        writer.writerow([a.tag, a.name, a.kind, a.category, "true" if a.core else "false", a.location, a.owner_role,
                         a.vendor, a.support_contract])
    return out.getvalue()
