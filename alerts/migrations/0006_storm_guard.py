"""The storm guard (alerts/storms.py): per-integration threshold, window and quiet period; storms; groups remember when they opened."""

import datetime
import django.core.validators
import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('alerts', '0005_worker_settings'),
        ('incidents', '0005_timeline_kind_announced'),
    ]

    operations = [
        migrations.AddField(
            model_name='alertgroup',
            name='opened_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='historicalintegration',
            name='storm_quiet',
            field=models.DurationField(default=datetime.timedelta(seconds=600), help_text='A storm with no new alert for this long ends by itself.', validators=[django.core.validators.MinValueValidator(datetime.timedelta(seconds=60))], verbose_name='storm quiet period'),
        ),
        migrations.AddField(
            model_name='historicalintegration',
            name='storm_threshold',
            field=models.PositiveIntegerField(default=20, help_text='More new incidents than this within the storm window start an alert storm: further new alert groups join one storm incident. 0 turns the guard off.', verbose_name='storm threshold (new incidents)'),
        ),
        migrations.AddField(
            model_name='historicalintegration',
            name='storm_window',
            field=models.DurationField(default=datetime.timedelta(seconds=60), validators=[django.core.validators.MinValueValidator(datetime.timedelta(seconds=1))], verbose_name='storm window'),
        ),
        migrations.AddField(
            model_name='integration',
            name='storm_quiet',
            field=models.DurationField(default=datetime.timedelta(seconds=600), help_text='A storm with no new alert for this long ends by itself.', validators=[django.core.validators.MinValueValidator(datetime.timedelta(seconds=60))], verbose_name='storm quiet period'),
        ),
        migrations.AddField(
            model_name='integration',
            name='storm_threshold',
            field=models.PositiveIntegerField(default=20, help_text='More new incidents than this within the storm window start an alert storm: further new alert groups join one storm incident. 0 turns the guard off.', verbose_name='storm threshold (new incidents)'),
        ),
        migrations.AddField(
            model_name='integration',
            name='storm_window',
            field=models.DurationField(default=datetime.timedelta(seconds=60), validators=[django.core.validators.MinValueValidator(datetime.timedelta(seconds=1))], verbose_name='storm window'),
        ),
        migrations.CreateModel(
            name='AlertStorm',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('started_at', models.DateTimeField()),
                ('last_alert_at', models.DateTimeField()),
                ('ended_at', models.DateTimeField(blank=True, null=True)),
                ('groups_joined', models.PositiveIntegerField(default=0)),
                ('alerts_joined', models.PositiveIntegerField(default=0)),
                ('incident', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='incidents.incident')),
                ('integration', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='storms', to='alerts.integration')),
            ],
            options={
                'verbose_name': 'alert storm',
                'verbose_name_plural': 'alert storms',
                'ordering': ['-started_at'],
            },
        ),
        migrations.AddField(
            model_name='alertgroup',
            name='storm',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='groups', to='alerts.alertstorm'),
        ),
        migrations.AddIndex(
            model_name='alertgroup',
            index=models.Index(condition=models.Q(('opened_at__isnull', False)), fields=['integration', 'opened_at'], name='alert_group_opened'),
        ),
        migrations.AddConstraint(
            model_name='alertstorm',
            constraint=models.UniqueConstraint(condition=models.Q(('ended_at__isnull', True)), fields=('integration',), name='one_storm_under_way_per_integration'),
        ),
    ]
