"""Announcements now live in notifications (its migration 0005 takes over the table): state only here."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("dashboard", "0001_initial"),
        ("notifications", "0005_announcement_moves_here"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[migrations.DeleteModel(name="Announcement")],
                                            database_operations=[]),
    ]
