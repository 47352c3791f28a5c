"""An integration's own grouping: the labels that make one incident, and how long an incident takes alerts in."""

import alerts.models
import datetime
import django.core.validators
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('alerts', '0006_storm_guard'),
    ]

    operations = [
        migrations.AddField(
            model_name='historicalintegration',
            name='group_by',
            field=models.JSONField(blank=True, default=list, help_text='Label names whose values make one incident, e.g. ["alertname", "site"]. Empty: the source\'s own grouping (Alertmanager\'s groupKey, the events API\'s dedup_key).', validators=[alerts.models.validate_label_names], verbose_name='group by labels'),
        ),
        migrations.AddField(
            model_name='historicalintegration',
            name='group_window',
            field=models.DurationField(default=datetime.timedelta(0), help_text='Alerts of a group join its open incident for this long after it opened; later ones open a new incident. 0: for as long as the incident is open.', validators=[django.core.validators.MinValueValidator(datetime.timedelta(0))], verbose_name='grouping window'),
        ),
        migrations.AddField(
            model_name='integration',
            name='group_by',
            field=models.JSONField(blank=True, default=list, help_text='Label names whose values make one incident, e.g. ["alertname", "site"]. Empty: the source\'s own grouping (Alertmanager\'s groupKey, the events API\'s dedup_key).', validators=[alerts.models.validate_label_names], verbose_name='group by labels'),
        ),
        migrations.AddField(
            model_name='integration',
            name='group_window',
            field=models.DurationField(default=datetime.timedelta(0), help_text='Alerts of a group join its open incident for this long after it opened; later ones open a new incident. 0: for as long as the incident is open.', validators=[django.core.validators.MinValueValidator(datetime.timedelta(0))], verbose_name='grouping window'),
        ),
    ]
