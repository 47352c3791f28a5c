"""Announcements move from dashboard to notifications (issue 15: announcements belong to notifications).

The model changes app in Django's state only, then its table is renamed; no row is copied.
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

import plan.text


class Migration(migrations.Migration):

    dependencies = [
        ("dashboard", "0001_initial"),
        ("incidents", "0004_timeline_append_only_sqlite"),
        ("notifications", "0004_historicalchannelconfig_historicaldutyshift_and_more"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Announcement",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False,
                                                   verbose_name="ID")),
                        ("level_key", models.SlugField(max_length=32, verbose_name="level")),
                        ("text_en", models.TextField(blank=True, verbose_name="text (English)")),
                        ("text_zh", models.TextField(blank=True, verbose_name="text (Chinese)")),
                        ("created_at", models.DateTimeField(db_index=True, default=django.utils.timezone.now,
                                                            verbose_name="announced at")),
                        ("created_by", models.ForeignKey(blank=True, null=True,
                                                         on_delete=django.db.models.deletion.PROTECT,
                                                         related_name="+", to=settings.AUTH_USER_MODEL,
                                                         verbose_name="announced by")),
                        ("incident", models.ForeignKey(on_delete=django.db.models.deletion.PROTECT,
                                                       related_name="announcements", to="incidents.incident",
                                                       verbose_name="incident")),
                    ],
                    options={
                        "verbose_name": "announcement",
                        "verbose_name_plural": "announcements",
                        "ordering": ["-created_at", "-id"],
                        "db_table": "dashboard_announcement",
                        "constraints": [
                            models.UniqueConstraint(condition=models.Q(("created_by__isnull", True)),
                                                    fields=("incident", "level_key"),
                                                    name="one_automatic_announcement_per_level"),
                            models.CheckConstraint(
                                condition=models.Q(models.Q(("text_en", ""), _negated=True),
                                                   models.Q(("text_zh", ""), _negated=True), _connector="OR"),
                                name="announcement_has_text"),
                        ],
                    },
                    bases=(plan.text.BilingualMixin, models.Model),
                ),
            ],
            database_operations=[],
        ),
        migrations.AlterModelTable(name="announcement", table=None),
    ]
