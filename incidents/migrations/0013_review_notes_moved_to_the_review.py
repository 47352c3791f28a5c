"""The one-box review's text now lives in the review (reviews/migrations/0002 copied it first)."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('incidents', '0012_timeline_kinds_of_the_review'),
        # The text is copied into each incident's review before the column goes.
        ('reviews', '0002_reviews_of_incidents_closed_before'),
    ]

    operations = [
        migrations.RemoveField(
            model_name='historicalincident',
            name='review_notes',
        ),
        migrations.RemoveField(
            model_name='incident',
            name='review_notes',
        ),
    ]
