"""Incidents closed before this app have a review too: the one-box review text becomes its lessons.

A resolved incident gets a draft (what happened: its description and resolution summary); a reviewed or
archived one an approved review whose lessons are the old ``review_notes``, so archiving and the evidence
pack find one. No timeline entry is written: the timeline records what people did, and nobody did this.
"""

from django.db import migrations


def forward(apps, schema_editor):
    Incident = apps.get_model("incidents", "Incident")
    Review = apps.get_model("reviews", "Review")
    closed = Incident.objects.filter(status__in=["resolved", "reviewed", "archived"], review__isnull=True)
    for incident in closed.iterator():
        approved = incident.status != "resolved"
        what = "\n\n".join(t for t in (incident.description.strip(), incident.resolution_summary.strip()) if t)
        Review.objects.create(
            incident=incident, summary=what, lessons=incident.review_notes.strip(),
            status="approved" if approved else "draft", drafted_at=incident.resolved_at,
            updated_at=incident.resolved_at, approved_at=incident.resolved_at if approved else None)


class Migration(migrations.Migration):
    dependencies = [
        ("reviews", "0001_initial"),
        ("incidents", "0012_timeline_kinds_of_the_review"),
    ]

    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
