"""What an attacker with database access does: lift the append-only trigger, rewrite a row, put the trigger back."""

import importlib

from django.db import connection, transaction

SQLITE_TRIGGERS = importlib.import_module("incidents.migrations.0004_timeline_append_only_sqlite")


def tamper(sql: str, params: list) -> None:
    """Run ``sql`` (an UPDATE or DELETE of incidents_timelineentry) past the append-only trigger."""
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The test's own inserts leave deferred foreign-key checks pending, which ALTER TABLE refuses to
            # run beside; an attacker's separate session has none.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("ALTER TABLE incidents_timelineentry DISABLE TRIGGER incidents_timelineentry_append_only")
        else:
            for statement in SQLITE_TRIGGERS.ALLOW:
                cursor.execute(statement)
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE incidents_timelineentry ENABLE TRIGGER incidents_timelineentry_append_only")
        else:
            for statement in SQLITE_TRIGGERS.FORBID:
                cursor.execute(statement)


def rewrite_detail(entry_id: int, detail: dict) -> None:
    """Replace one entry's stored detail, as raw SQL would."""
    import json

    cast = "::jsonb" if connection.vendor == "postgresql" else ""
    tamper(f"UPDATE incidents_timelineentry SET detail = %s{cast} WHERE id = %s", [json.dumps(detail), entry_id])


def delete_entry(entry_id: int) -> None:
    tamper("DELETE FROM incidents_timelineentry WHERE id = %s", [entry_id])
