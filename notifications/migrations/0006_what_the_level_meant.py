"""A notification keeps what its level meant when it was sent (issue 15: the plan is data).

Notifications sent earlier get what the code then decided from the level key.
"""

import datetime
from django.db import migrations, models


WHAT_THE_CODE_DID = {
    "blue": (False, datetime.timedelta(hours=1), 1),
    "yellow": (False, datetime.timedelta(minutes=30), 2),
    "orange": (True, datetime.timedelta(minutes=10), 3),
    "red": (True, datetime.timedelta(minutes=5), 3),
}


def keep_what_the_code_did(apps, schema_editor):
    Notification = apps.get_model("notifications", "Notification")
    for key, (urgent, every, times) in WHAT_THE_CODE_DID.items():
        Notification.objects.filter(level_key=key).update(urgent=urgent, repeat_every=every, repeat_times=times)


class Migration(migrations.Migration):

    dependencies = [
        ('notifications', '0005_announcement_moves_here'),
    ]

    operations = [
        migrations.AddField(
            model_name='notification',
            name='repeat_every',
            field=models.DurationField(default=datetime.timedelta(seconds=1800)),
        ),
        migrations.AddField(
            model_name='notification',
            name='repeat_times',
            field=models.PositiveSmallIntegerField(default=1),
        ),
        migrations.AddField(
            model_name='notification',
            name='urgent',
            field=models.BooleanField(default=False),
        ),
        migrations.RunPython(keep_what_the_code_did, migrations.RunPython.noop),
    ]
