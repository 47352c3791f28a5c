"""Per-process caches stay correct when another node changes the plan or a setting (issue 22, item 2).

Every module-level cache in the product (docs/deployment.md, "What each process caches") is keyed by a
plan version's id, and a stored version never changes (plan/models.py; its admin is read-only): a new plan
is a new version with a new id, and the active version's id is read from the database on every call. So
when another node loads a plan, this process, its caches full of the old version, answers from the new
one at once. Settings the office edits (level repeat policies, channels) are rows read on every use.
"""

import subprocess
import sys

import pytest
import yaml

from tests.support.processes import ROOT, database_url

pytestmark = pytest.mark.django_db(transaction=True)


def other_node(settings_dict, code, tmp_path):
    """Run ``code`` in a separate process, as another web or worker node would, against the same database."""
    env = {"SECRET_KEY": "k" * 60, "PATH": "/usr/bin:/bin", "DATABASE_URL": database_url(settings_dict),
           "FENGHUO_VAR_DIR": str(tmp_path / "var"), "CELERY_BROKER_URL": "filesystem://",
           "ESCALATION_ETA_TASKS": "false", "NOTIFICATIONS_KICK_ON_COMMIT": "false"}
    result = subprocess.run([sys.executable, "manage.py", "shell", "-c", code], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_a_plan_loaded_on_another_node_is_what_this_process_answers_from_at_once(
        shipped_plan, make_person, tmp_path, settings):
    from django.db import connection

    from incidents.services import log_fault
    from plan.services import roles_with

    # This process warms its caches on the shipped plan: authority, categories and levels, cells.
    assert "office" in roles_with("archive")
    first = log_fault(reporter=make_person("duty_staff"), category="system", level="yellow", title="before")
    assert first.plan_version_id == shipped_plan.pk

    doc = yaml.safe_load((ROOT / "plan" / "plans" / "credit-system.yaml").read_text(encoding="utf-8"))
    for role in doc["roles"]:
        if role["key"] == "office":
            role["authority"] = [a for a in role["authority"] if a != "archive"]
    for category in doc["categories"]:
        if category["key"] == "system":
            category["responses"]["yellow"]["on_site"][0]["within"] = "7m"
    (tmp_path / "plan.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    other_node(connection.settings_dict, f"from django.core.management import call_command; "
                                         f"call_command('loadplan', {str(tmp_path / 'plan.yaml')!r})", tmp_path)

    assert "office" not in roles_with("archive"), "the new version's authority, not the cached one"
    second = log_fault(reporter=make_person("duty_staff"), category="system", level="yellow", title="after")
    assert second.plan_version_id != shipped_plan.pk
    on_site = second.deadlines.filter(kind="on_site").order_by("due_at").first()
    assert (on_site.due_at - on_site.started_at).total_seconds() == 7 * 60, "the new version's cell"
    # The incident opened before keeps its own version, cached or not.
    assert "office" in roles_with("archive", first.plan_version_id)


def test_a_repeat_policy_the_office_changes_on_another_node_applies_here_at_the_next_follow_up(
        shipped_plan, make_person, tmp_path):
    from datetime import timedelta

    from django.db import connection
    from django.utils import timezone

    from incidents.services import log_fault
    from notifications import answers
    from notifications.models import Notification

    make_person("tech_group")
    make_person("ops_supervisor")
    incident = log_fault(reporter=None, category="system", level="yellow", title="slow")
    start = timezone.now()
    assert answers.follow_up(now=start + timedelta(minutes=5)) == (0, 0), "the plan's 30 min for yellow"
    other_node(connection.settings_dict, "from datetime import timedelta; from notifications.models import "
                                         "LevelPolicy; LevelPolicy.objects.create(level_key='yellow', "
                                         "repeat_every=timedelta(minutes=2), max_repeats=3)", tmp_path)
    repeated, _escalated = answers.follow_up(now=start + timedelta(minutes=5))
    assert repeated > 0
    assert Notification.objects.filter(incident=incident, repeats=1).count() == repeated
