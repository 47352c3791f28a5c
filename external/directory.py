"""The directory's CSV: read and check every row first, then write all of it in one transaction.

One row per contact; a party with several contacts has several rows with the same ``key`` (its own columns
may be left empty after the first). Importing is idempotent: each party's contacts become exactly those listed.
"""

import csv
import io
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from plan.document import CATEGORY_KEYS
from plan.durations import parse_duration
from plan.models import PartyKind

from .models import Contact, Party

PARTY_HEADER = ["key", "kind", "name_en", "name_zh", "categories", "arrival_within", "support_hours", "contract",
                "contact_name", "contact_role", "contact_phone", "contact_mobile", "contact_email"]
PARTY_COLUMNS = PARTY_HEADER[1:8]


class PartyFileError(Exception):
    def __init__(self, errors: Sequence[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = list(errors)


def read_parties_csv(text: str) -> list[dict[str, Any]]:
    """Every party with its contacts, or PartyFileError naming each bad line."""
    errors: list[str] = []
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = next(reader, None)
    if header is None or [h.strip() for h in header] != PARTY_HEADER:
        raise PartyFileError([f"line 1: the header must be exactly {','.join(PARTY_HEADER)}, "
                              f"not {','.join(header or [])}"])
    parties: dict[str, dict[str, Any]] = {}
    for line, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(PARTY_HEADER):
            errors.append(f"line {line}: expected {len(PARTY_HEADER)} columns, found {len(row)}")
            continue
        cells = dict(zip(PARTY_HEADER, (cell.strip() for cell in row), strict=True))
        key = cells["key"]
        if not key or not key.replace("_", "").isalnum() or not key.isascii() or key != key.lower():
            errors.append(f"line {line}: key {key!r} is empty or not lower-case letters, digits and _")
            continue
        party = parties.get(key)
        if party is None:
            party = parties[key] = {"key": key, "line": line, "contacts": [], **_party_columns(cells, line, errors)}
        else:
            for column in PARTY_COLUMNS:
                if cells[column] and cells[column] != party["raw"][column]:
                    errors.append(f"line {line}: {column} {cells[column]!r} differs from line {party['line']} "
                                  f"for party {key!r} (leave it empty on a party's further rows)")
        _contact(cells, party, line, errors)
    if errors:
        raise PartyFileError(errors)
    return list(parties.values())


def _party_columns(cells: dict[str, str], line: int, errors: list[str]) -> dict[str, Any]:
    if cells["kind"] not in PartyKind.values:
        errors.append(f"line {line}: kind {cells['kind']!r} is not one of {', '.join(PartyKind.values)}")
    for column in ("name_en", "name_zh"):
        if not cells[column]:
            errors.append(f"line {line}: {column} is empty")
    categories = [c.strip() for c in cells["categories"].split(";") if c.strip()]
    for category in categories:
        if category not in CATEGORY_KEYS:
            errors.append(f"line {line}: unknown category {category!r} (the categories are {', '.join(CATEGORY_KEYS)})")
    within = None
    if cells["arrival_within"]:
        try:
            within = parse_duration(cells["arrival_within"])
        except ValueError as exc:
            errors.append(f"line {line}: arrival_within {exc}")
    return {"kind": cells["kind"], "name_en": cells["name_en"], "name_zh": cells["name_zh"], "categories": categories,
            "arrival_within": within, "support_hours": cells["support_hours"], "contract": cells["contract"],
            "raw": {column: cells[column] for column in PARTY_COLUMNS}}


def _contact(cells: dict[str, str], party: dict[str, Any], line: int, errors: list[str]) -> None:
    name = cells["contact_name"]
    details = [cells["contact_role"], cells["contact_phone"], cells["contact_mobile"], cells["contact_email"]]
    if not name:
        if any(details):
            errors.append(f"line {line}: contact_name is empty but the row has the contact's details")
        return
    if name in {c["name"] for c in party["contacts"]}:
        errors.append(f"line {line}: contact {name!r} is listed twice for party {party['key']!r}")
        return
    if cells["contact_email"]:
        try:
            validate_email(cells["contact_email"])
        except ValidationError:
            errors.append(f"line {line}: {cells['contact_email']!r} is not an email address")
    if not (cells["contact_phone"] or cells["contact_mobile"] or cells["contact_email"]):
        errors.append(f"line {line}: contact {name!r} has no phone, mobile or email: nobody could reach them")
    party["contacts"].append({"name": name, "role": cells["contact_role"], "phone": cells["contact_phone"],
                              "mobile": cells["contact_mobile"], "email": cells["contact_email"]})


@transaction.atomic
def import_parties(parties: Sequence[dict[str, Any]]) -> dict[str, int]:
    """Create or update each party and set its contacts to exactly those listed. Idempotent."""
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    fields = ("kind", "name_en", "name_zh", "categories", "arrival_within", "support_hours", "contract")
    for spec in parties:
        party, created = Party.objects.get_or_create(key=spec["key"], defaults={f: spec[f] for f in fields})
        changed = created
        for field in fields:
            if getattr(party, field) != spec[field]:
                setattr(party, field, spec[field])
                changed = True
        if changed and not created:
            party._change_reason = "importparties"  # type: ignore[attr-defined]  # simple-history reads it
            party.save()
        wanted = {c["name"]: (position, c) for position, c in enumerate(spec["contacts"])}
        for stale in party.contacts.exclude(name__in=wanted):
            stale.delete()
            changed = True
        current = {c.name: c for c in party.contacts.all()}
        for name, (position, c) in wanted.items():
            contact = current.get(name) or Contact(party=party, name=name)
            values = {"role": c["role"], "phone": c["phone"], "mobile": c["mobile"], "email": c["email"],
                      "position": position}
            if contact.pk is None or any(getattr(contact, k) != v for k, v in values.items()):
                for k, v in values.items():
                    setattr(contact, k, v)
                contact.save()
                changed = True
        counts["created" if created else "updated" if changed else "unchanged"] += 1
    return counts
