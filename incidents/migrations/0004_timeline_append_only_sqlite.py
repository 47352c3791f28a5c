"""The embedded SQLite refuses to change or delete a timeline entry too, as 0003 does on PostgreSQL.

SQLite has no stored functions, but a trigger may ``RAISE(ABORT, ...)``: the
statement fails and the entry stays as written, whoever sent the SQL.
"""

from django.db import migrations

FORBID = [
    f"""CREATE TRIGGER IF NOT EXISTS incidents_timelineentry_append_only_{operation.lower()}
        BEFORE {operation} ON incidents_timelineentry
        BEGIN SELECT RAISE(ABORT, 'incidents_timelineentry is append-only: {operation} refused'); END;"""
    for operation in ("UPDATE", "DELETE")
]
ALLOW = [f"DROP TRIGGER IF EXISTS incidents_timelineentry_append_only_{operation}" for operation in ("update", "delete")]


def forbid(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for statement in FORBID:
            schema_editor.execute(statement)


def allow(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for statement in ALLOW:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("incidents", "0003_timeline_append_only")]
    operations = [migrations.RunPython(forbid, allow)]
