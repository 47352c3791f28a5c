"""A remediation action may hang from an asset alone (an inspection finding): its incident becomes optional."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('assets', '0001_register'),
        ('incidents', '0015_timeline_hash_chain'),
        ('reviews', '0002_reviews_of_incidents_closed_before'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='action',
            name='asset',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='remediation_actions', to='assets.asset', verbose_name='asset'),
        ),
        migrations.AddField(
            model_name='historicalaction',
            name='asset',
            field=models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='assets.asset', verbose_name='asset'),
        ),
        migrations.AlterField(
            model_name='action',
            name='incident',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='remediation_actions', to='incidents.incident', verbose_name='incident'),
        ),
        migrations.AlterField(
            model_name='historicalaction',
            name='incident',
            field=models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='incidents.incident', verbose_name='incident'),
        ),
        migrations.AddConstraint(
            model_name='action',
            constraint=models.CheckConstraint(condition=models.Q(('incident__isnull', False), ('asset__isnull', False), _connector='OR'), name='action_hangs_from_an_incident_or_an_asset'),
        ),
    ]
