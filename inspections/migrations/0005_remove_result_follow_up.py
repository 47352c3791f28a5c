"""The finding's follow-up item is gone: 0004 moved each into a remediation action."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("inspections", "0004_follow_ups_become_actions")]

    operations = [migrations.RemoveField(model_name="result", name="follow_up")]
