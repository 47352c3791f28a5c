"""Importing staff and managing their roles; revoking and rotating their API tokens."""

import csv
import io
import re
from collections.abc import Collection, Iterable, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from .models import ApiToken, Person, RoleAssignment

STAFF_HEADER = ["username", "full_name", "email", "phone", "roles"]
_USERNAME = re.compile(r"^[\w.@+-]{1,150}$")


class StaffFileError(Exception):
    def __init__(self, errors: Iterable[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = list(errors)


def read_staff_csv(text: str, *, known_roles: Collection[str]) -> list[dict[str, Any]]:
    """Parse and check every row; raise StaffFileError naming each bad row."""
    errors = []
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = next(reader, None)
    if header is None or [h.strip() for h in header] != STAFF_HEADER:
        raise StaffFileError([f"line 1: the header must be exactly {','.join(STAFF_HEADER)}, not {','.join(header or [])}"])
    rows: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for line, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(STAFF_HEADER):
            errors.append(f"line {line}: expected {len(STAFF_HEADER)} columns, found {len(row)}")
            continue
        username, full_name, email, phone, roles = (cell.strip() for cell in row)
        if not _USERNAME.match(username):
            errors.append(f"line {line}: username {username!r} is empty or has characters other than letters, digits and @.+-_")
        elif username in seen:
            errors.append(f"line {line}: username {username!r} already appears on line {seen[username]}")
        seen[username] = line
        if email:
            try:
                validate_email(email)
            except ValidationError:
                errors.append(f"line {line}: {email!r} is not an email address")
        role_keys = [key.strip() for key in roles.split(";") if key.strip()]
        for key in role_keys:
            if key not in known_roles:
                errors.append(f"line {line}: unknown role {key!r} (the active plan has: {', '.join(sorted(known_roles))})")
        rows.append({"username": username, "full_name": full_name, "email": email, "phone": phone, "roles": role_keys})
    if errors:
        raise StaffFileError(errors)
    return rows


@transaction.atomic
def import_staff(rows: Sequence[dict[str, Any]]) -> dict[str, int]:
    """Create or update people and set their roles to exactly those listed. Idempotent."""
    created = updated = 0
    for row in rows:
        person, was_created = Person.objects.get_or_create(username=row["username"])
        changed = was_created
        for field in ("full_name", "email", "phone"):
            if getattr(person, field) != row[field]:
                setattr(person, field, row[field])
                changed = True
        if was_created:
            person.set_unusable_password()
        if changed:
            person._change_reason = "importstaff"  # type: ignore[attr-defined]  # simple-history reads it; no stub declares it
            person.save()
        current = set(person.role_assignments.values_list("role_key", flat=True))
        wanted = set(row["roles"])
        for stale in person.role_assignments.filter(role_key__in=current - wanted):
            stale._change_reason = "importstaff"  # type: ignore[attr-defined]  # as above
            stale.delete()
            changed = True
        for key in sorted(wanted - current):
            assignment = RoleAssignment(person=person, role_key=key)
            assignment._change_reason = "importstaff"  # type: ignore[attr-defined]  # as above
            assignment.save()
            changed = True
        if was_created:
            created += 1
        elif changed:
            updated += 1
    return {"created": created, "updated": updated, "unchanged": len(rows) - created - updated}


# --- API tokens: issued, revoked and rotated here only, so the history says who did it ---


class TokenRevoked(Exception):
    def __init__(self, token: ApiToken) -> None:
        super().__init__(f"token {token.prefix} is already revoked")
        self.token = token


@transaction.atomic
def api_token_revoke(*, token: ApiToken, by: Person | None) -> ApiToken:
    """Stop the token working from now on. Revoking twice keeps the first time: that is when it stopped."""
    token = ApiToken.objects.select_for_update().get(pk=token.pk)
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        # simple-history reads these two off the instance; no stub declares them.
        token._history_user = by  # type: ignore[attr-defined]
        token._change_reason = "revoked"  # type: ignore[attr-defined]
        token.save(update_fields=["revoked_at"])
    return token


@transaction.atomic
def api_token_rotate(*, token: ApiToken, by: Person | None) -> tuple[ApiToken, str]:
    """Revoke the token and issue its successor for the same person and name; returns (new token, secret).

    A revoked token is not rotated: that would quietly give its holder a
    working token again, which is what revoking it was meant to end.
    """
    old = ApiToken.objects.select_for_update().get(pk=token.pk)
    if old.revoked_at is not None:
        raise TokenRevoked(old)
    api_token_revoke(token=old, by=by)
    return ApiToken.issue(old.person, name=old.name, by=by, reason=f"rotated from {old.prefix}")
