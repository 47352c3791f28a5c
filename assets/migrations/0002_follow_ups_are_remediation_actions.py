"""Follow-up items are gone: inspections 0004 moved each into a remediation action of its asset (reviews.Action)."""

from django.db import migrations


class Migration(migrations.Migration):
    # After the inspections migrations that move the rows and drop the findings' links to them.
    dependencies = [
        ("assets", "0001_register"),
        ("inspections", "0005_remove_result_follow_up"),
    ]

    operations = [
        migrations.DeleteModel(name="HistoricalFollowUp"),
        migrations.DeleteModel(name="FollowUp"),
    ]
