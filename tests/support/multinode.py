"""The product as several hosts run it: processes against private PostgreSQL and Redis servers.

``Deployment`` holds the environment every process shares (the private servers' URLs, one queue prefix),
runs ``manage.py`` in it, and reads the private database back with plain SQL in fresh connections, so a
server switched under the test never breaks the test's own reads. Workers and beats are started through
``CeleryProcesses`` under names of their own (``w1``, ``w2``, ``beat1``, ``beat2``), as on two hosts.
"""

import json
import os
import subprocess
import sys

import psycopg

from tests.support.processes import ROOT, CeleryProcesses

# Run by `manage.py shell` in the private database: the fast plan (unanswered messages repeated every few seconds), one
# person with an email address in every role, and the office's robot (a webhook receiver on loopback).
SEED = """
import json
from datetime import timedelta
from notifications.models import ChannelConfig, LevelPolicy
from people.models import Person, RoleAssignment
from plan.services import load_plan_text
from plan.tests.documents import fast_plan_text

version = load_plan_text(fast_plan_text(seconds_per_hour={seconds_per_hour}), source="multinode")
# The plan refuses repeats under a minute; the office's per-level policy (admin) is what a test may shorten.
for level in version.levels.all():
    LevelPolicy.objects.create(level_key=level.key, repeat_every=timedelta(seconds={repeat_every}),
                               max_repeats={repeat_times})
for role in version.roles.all():
    person = Person.objects.create_user(username=f"p-{{role.key}}", password="pw-for-tests-only",
                                        email=f"{{role.key}}@example.test")
    RoleAssignment.objects.create(person=person, role_key=role.key)
if "{hook_url}":
    ChannelConfig.objects.create(name="office robot", kind="webhook", url="{hook_url}", secret="{secret}",
                                 role_key="office")
print(json.dumps({{"roles": version.roles.count()}}))
"""

# Opens ``count`` incidents of one category and level under the active plan, in one transaction.
OPEN = """
from incidents.services import log_faults
incidents = log_faults([dict(reporter=None, category="{category}", level="{level}", title=f"{tag} {{i}}",
                             actor_label="multinode") for i in range({count})])
print(",".join(str(i.pk) for i in incidents))
"""


class Deployment:
    def __init__(self, *, database_url, broker_url, workdir, extra_env=None):
        self.database_url = database_url
        self.workdir = workdir
        self.env = {**os.environ, "DATABASE_URL": database_url, "CELERY_BROKER_URL": broker_url,
                    "FENGHUO_QUEUE_PREFIX": "fenghuo-multinode", "FENGHUO_VAR_DIR": str(workdir / "var"),
                    "CONN_MAX_AGE": "60", "HEARTBEAT_SECONDS": "1", "LOG_LEVEL": "INFO", **(extra_env or {})}
        self.env.pop("CACHE_URL", None)
        self.celery = CeleryProcesses(workdir=workdir, env=self.env)

    def manage(self, *args, timeout=300):
        result = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, capture_output=True,
                                text=True, timeout=timeout)
        if result.returncode != 0:
            raise RuntimeError(f"manage.py {args[0]} failed:\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}")
        return result.stdout

    def shell(self, code):
        return self.manage("shell", "-c", code).strip().splitlines()[-1]

    def create_database(self, admin_url, name):
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')

    def prepare(self, *, seconds_per_hour=6, repeat_every=2, repeat_times=1, hook_url="", secret=""):
        self.manage("migrate", "--noinput", "-v", "0")
        return json.loads(self.shell(SEED.format(seconds_per_hour=seconds_per_hour, repeat_every=repeat_every,
                                                 repeat_times=repeat_times, hook_url=hook_url, secret=secret)))

    def open_incidents(self, *, count, category="system", level="yellow", tag="multinode"):
        out = self.shell(OPEN.format(count=count, category=category, level=level, tag=tag))
        return [int(pk) for pk in out.split(",")]

    def rows(self, query, *params):
        with psycopg.connect(self.database_url, autocommit=True, connect_timeout=5) as conn:
            return conn.execute(query, params).fetchall()

    def sql(self, query, *params):
        row = self.rows(query, *params)
        row = row[0] if row else None
        return row[0] if row is not None and len(row) == 1 else row

    def stop(self):
        self.celery.stop_all()
