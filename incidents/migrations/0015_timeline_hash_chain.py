"""Every timeline entry carries a hash chain (incidents/chain.py); entries already written get theirs here.

Sealing existing rows is an UPDATE, which the append-only triggers of 0003
(PostgreSQL) and 0004 (SQLite) refuse. This migration lifts them only inside
its own transaction and puts them back before it commits, so no other
statement ever finds the timeline writable. On SQLite, adding a NOT NULL
column rebuilds the table (Django's SQLite schema editor), which drops its
triggers: they are created again here either way.
"""

import importlib

from django.db import migrations, models

from incidents import chain

SQLITE_TRIGGERS = importlib.import_module("incidents.migrations.0004_timeline_append_only_sqlite")
PG_TRIGGER = "incidents_timelineentry_append_only"


def seal_existing(apps, schema_editor):
    TimelineEntry = apps.get_model("incidents", "TimelineEntry")
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE incidents_timelineentry DISABLE TRIGGER {PG_TRIGGER}")
    elif vendor == "sqlite":
        for statement in SQLITE_TRIGGERS.ALLOW:
            schema_editor.execute(statement)
    incident_ids = TimelineEntry.objects.order_by().values_list("incident_id", flat=True).distinct()
    for incident_id in sorted(incident_ids):
        previous, sealed = "", []
        for entry in TimelineEntry.objects.filter(incident_id=incident_id).order_by("id"):
            entry.prev_hash = previous
            entry.hash = chain.entry_hash(entry, previous)
            previous = entry.hash
            sealed.append(entry)
        TimelineEntry.objects.bulk_update(sealed, ["prev_hash", "hash"], batch_size=500)
    if vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE incidents_timelineentry ENABLE TRIGGER {PG_TRIGGER}")
    elif vendor == "sqlite":
        for statement in SQLITE_TRIGGERS.FORBID:
            schema_editor.execute(statement)


def recreate_sqlite_triggers(apps, schema_editor):
    """Going back: removing the columns rebuilds the table on SQLite, dropping its triggers; this runs after."""
    if schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE_TRIGGERS.FORBID:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("incidents", "0014_merge_20261203_2324")]
    operations = [
        migrations.RunPython(migrations.RunPython.noop, recreate_sqlite_triggers),
        migrations.AddField(
            model_name="timelineentry", name="prev_hash",
            field=models.CharField(blank=True, editable=False, max_length=64, default=""),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="timelineentry", name="hash",
            field=models.CharField(editable=False, max_length=64, default=""),
            preserve_default=False,
        ),
        migrations.RunPython(seal_existing, migrations.RunPython.noop),
    ]
