"""Roles carry their authority as plan data (the plan file's optional ``authority`` list).

Versions stored before this change get what the code used to grant by role key, so the office,
the leadership group and the main leaders keep their powers until a new plan version is loaded.
"""

from django.db import migrations, models

# The rules as they were written in incidents/permissions.py and the engine before they became plan data.
GRANTED_BEFORE = {
    "office": ["coordinate", "edit_plan", "lower_level", "review", "archive", "announce"],
    "leadership": ["lower_level", "review", "archive", "announce"],
    "main_leaders": ["lower_level", "review", "archive", "announce"],
    "tech_group": ["respond_to_every_incident"],
    "business_departments": ["informed_only", "hear_announcements"],
}


def grant_as_before(apps, schema_editor):
    Role = apps.get_model("plan", "Role")
    for key, authority in GRANTED_BEFORE.items():
        Role.objects.filter(key=key).update(authority=authority)


class Migration(migrations.Migration):

    dependencies = [
        ("plan", "0002_response_approval_within"),
    ]

    operations = [
        migrations.AddField(
            model_name="role",
            name="authority",
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.RunPython(grant_as_before, migrations.RunPython.noop),
    ]
