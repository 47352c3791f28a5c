"""The post-incident review's and the remediation actions' timeline kinds (reviews app)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('incidents', '0011_timeline_kinds_of_every_app'),
    ]

    operations = [
        migrations.AlterField(
            model_name='timelineentry',
            name='kind',
            field=models.CharField(choices=[('opened', 'Opened'), ('level_changed', 'Level changed'), ('notified', 'Notified'), ('acknowledged', 'Acknowledged'), ('checked_in', 'Checked in on site'), ('deadline_met', 'Deadline met'), ('deadline_missed', 'Deadline missed'), ('condition_not_met', 'Escalation condition not met'), ('plan_proposed', 'Response plan proposed'), ('plan_approved', 'Response plan approved'), ('plan_rejected', 'Response plan rejected'), ('implementing', 'Implementing'), ('recovered', 'Recovered'), ('resolved', 'Resolved'), ('review_drafted', 'Review drafted'), ('review_submitted', 'Review submitted for approval'), ('review_returned', 'Review returned for changes'), ('reviewed', 'Review approved'), ('action_added', 'Remediation action added'), ('action_done', 'Remediation action done'), ('action_carried_over', 'Remediation action carried over'), ('action_overdue', 'Remediation action overdue'), ('archived', 'Archived'), ('updated', 'Details updated'), ('reported_to', 'Reported up'), ('alert', 'Monitoring alert'), ('note', 'Note'), ('announced', 'Level announced to the business departments'), ('stability_confirmed', 'Stability confirmed'), ('deadline_cancelled', 'Deadline cancelled'), ('plan_change_proposed', 'Plan change proposed'), ('plan_change_approved', 'Plan change approved'), ('plan_change_rejected', 'Plan change rejected'), ('external_report_sent', 'Report sent to an outside party'), ('external_report_reminded', 'Reminder: a report to an outside party is due'), ('callout', 'Carrier or vendor called out'), ('callout_arrived', 'Called-out party arrived'), ('callout_departed', 'Called-out party left')], max_length=32),
        ),
    ]
