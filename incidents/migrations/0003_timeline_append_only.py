"""On PostgreSQL the database itself refuses to change or delete a timeline entry.

The model and its queryset already refuse; this guards against raw SQL and
future code alike, which is what an auditor needs to trust the timeline.
"""

from django.db import migrations

FORBID = """
CREATE OR REPLACE FUNCTION fenghuo_timeline_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION USING MESSAGE = 'incidents_timelineentry is append-only: ' || TG_OP || ' refused';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER incidents_timelineentry_append_only
    BEFORE UPDATE OR DELETE ON incidents_timelineentry
    FOR EACH ROW EXECUTE FUNCTION fenghuo_timeline_append_only();
"""
ALLOW = """
DROP TRIGGER IF EXISTS incidents_timelineentry_append_only ON incidents_timelineentry;
DROP FUNCTION IF EXISTS fenghuo_timeline_append_only();
"""


def forbid(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORBID)


def allow(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(ALLOW)


class Migration(migrations.Migration):
    dependencies = [("incidents", "0002_initial")]
    operations = [migrations.RunPython(forbid, allow)]
