"""An abnormal finding may be put right by a remediation action on its asset (reviews.Action, no incident)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("inspections", "0002_shipped_checklists"),
        ("reviews", "0003_actions_of_an_asset"),
    ]

    operations = [
        migrations.AddField(
            model_name="result",
            name="remediation_action",
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT,
                                    related_name="inspection_findings", to="reviews.action"),
        ),
    ]
