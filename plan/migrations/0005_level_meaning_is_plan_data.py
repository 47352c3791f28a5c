"""What a level means beyond its rank becomes plan data (issue 15).

Versions stored earlier get what the code used to decide for them, so nothing
changes for a running office: orange and red announced and urgent, and the
repeat intervals that were notifications.answers.DEFAULT_REPEAT.
"""

import datetime
from django.db import migrations, models


WHAT_THE_CODE_DID = {
    "blue": (False, False, datetime.timedelta(hours=1), 1),
    "yellow": (False, False, datetime.timedelta(minutes=30), 2),
    "orange": (True, True, datetime.timedelta(minutes=10), 3),
    "red": (True, True, datetime.timedelta(minutes=5), 3),
}


def grant_what_the_code_did(apps, schema_editor):
    Level = apps.get_model("plan", "Level")
    for key, (announced, urgent, every, times) in WHAT_THE_CODE_DID.items():
        Level.objects.filter(key=key).update(announced=announced, urgent=urgent, repeat_every=every, repeat_times=times)


class Migration(migrations.Migration):

    dependencies = [
        ('plan', '0004_cell_is_the_plan_cell'),
    ]

    operations = [
        migrations.AddField(
            model_name='level',
            name='announced',
            field=models.BooleanField(default=False, help_text='Announced to the business departments.'),
        ),
        migrations.AddField(
            model_name='level',
            name='repeat_every',
            field=models.DurationField(default=datetime.timedelta(seconds=1800)),
        ),
        migrations.AddField(
            model_name='level',
            name='repeat_times',
            field=models.PositiveSmallIntegerField(default=1),
        ),
        migrations.AddField(
            model_name='level',
            name='urgent',
            field=models.BooleanField(default=False, help_text='Sent on every channel at once, through quiet hours.'),
        ),
        migrations.RunPython(grant_what_the_code_did, migrations.RunPython.noop),
    ]
