"""Fixtures shared by every app's tests: plans, people with plan roles, API clients."""

import importlib
from pathlib import Path

import pytest

from plan.tests.documents import SHIPPED_PLAN


@pytest.fixture
def minimal_plan_version(db):
    from plan.services import load_plan_text
    from plan.tests.documents import as_yaml, minimal_plan

    return load_plan_text(as_yaml(minimal_plan()), source="minimal")


@pytest.fixture
def shipped_plan(db):
    from plan.services import load_plan_text

    return load_plan_text(SHIPPED_PLAN.read_text(encoding="utf-8"), source=str(SHIPPED_PLAN))


@pytest.fixture
def make_person(db):
    """make_person("duty_staff", "office", username="wang") → a Person holding those plan roles."""
    from people.models import Person, RoleAssignment

    counter = {"n": 0}

    def make(*roles, username=None, language="", password="pw-for-tests-only", **fields):
        counter["n"] += 1
        person = Person.objects.create_user(
            username=username or f"{'-'.join(roles) or 'nobody'}-{counter['n']}", password=password,
            language=language, email=fields.pop("email", f"p{counter['n']}@example.test"), **fields,
        )
        for key in roles:
            RoleAssignment.objects.create(person=person, role_key=key)
        return person

    return make


@pytest.fixture
def api_client_for():
    """api_client_for(person) → a DRF client authenticated with a real personal token."""
    from rest_framework.test import APIClient

    from people.models import ApiToken

    def make(person):
        _token, secret = ApiToken.issue(person)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
        return client

    return make


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # The default PBKDF2 hasher is most of the time of a test that creates people.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _no_queued_delivery_run():
    """A delivery kick of an earlier test (never consumed) must not absorb this test's kicks."""
    from notifications.delivery import delivery_run_started

    delivery_run_started()


@pytest.fixture(autouse=True)
def _own_cache(settings):
    """Each test starts with empty throttle counters and dashboard cache, in this process's memory.

    The configured Redis cache would carry counters from one test (and one run) to the next, and
    cache.clear() there would flush a database other runs share.
    """
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                                   "LOCATION": "fenghuo-tests"}}
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _fresh_plan_caches():
    """Stored plan versions never change, so services cache their parts per process by version id.

    A rolled-back test's ids come back on SQLite (PostgreSQL's sequences never
    reuse one), so each test starts with empty caches or it would read the last
    test's plan under its own version's id.
    """
    import alerts.grouping
    import alerts.intake
    import escalation.services
    import incidents.deadlines
    import incidents.faults
    import plan.services

    incidents.deadlines._role.cache_clear()
    for cache in (escalation.services._cells, incidents.faults._plan_items, plan.services._authority,
                  alerts.intake._category_keys_by_version, alerts.grouping._level_ranks,
                  alerts.intake._last_touched):
        cache.clear()


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """On SQLite the test database is a file beside the configured one (test_<name>, as on PostgreSQL).

    Django's default for SQLite is an in-memory database, which the Celery
    worker, beat and gunicorn processes the tests start could never open.
    """
    from django.conf import settings

    db = settings.DATABASES["default"]
    if db["ENGINE"] == "django.db.backends.sqlite3" and not db.get("TEST", {}).get("NAME"):
        name = Path(db["NAME"])
        db.setdefault("TEST", {})["NAME"] = str(name.with_name(f"test_{name.name}"))


@pytest.fixture(scope="session", autouse=True)
def _sqlite_test_flush_lifts_the_append_only_triggers():
    """Let the test runner's flush (after every transactional test) empty the timeline on SQLite.

    PostgreSQL's flush is a TRUNCATE, which its row-level append-only trigger
    (incidents/migrations/0003) never sees. SQLite's flush is DELETE FROM, which
    the triggers of 0004 refuse: the flush failed and left that test's rows in
    the database for every later test. Here, for this test session only, the
    flush drops the two triggers, deletes, and creates them again, all in the
    flush's one transaction, so no statement outside it ever finds them gone.
    Production code has no such path: `manage.py flush` on SQLite is refused.
    """
    from django.db import connection

    if connection.vendor != "sqlite":
        yield
        return
    operations = type(connection.ops)
    triggers = importlib.import_module("incidents.migrations.0004_timeline_append_only_sqlite")
    plain_sql_flush = operations.sql_flush

    def sql_flush(self, style, tables, **options):
        statements = plain_sql_flush(self, style, tables, **options)
        if "incidents_timelineentry" not in tables:
            return statements
        return [*triggers.ALLOW, *statements, *triggers.FORBID]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(operations, "sql_flush", sql_flush)
        yield


@pytest.fixture
def open_incident(minimal_plan_version):
    """open_incident(level="yellow", drill=False) → an incident opened through the incidents service.

    Here rather than in notifications/tests: tests of a lower layer may set up a higher one, through a
    fixture, without their package importing it (the layers contract, docs/architecture.md).

    In the minimal plan every cell notifies tech_group; system/yellow also wants it on site within 1 h.
    """
    from incidents.services import log_fault

    def make(level="yellow", category="system", drill=False, title="Credit query timeouts"):
        return log_fault(reporter=None, category=category, level=level, title=title, is_drill=drill)

    return make


@pytest.fixture
def approve_review():
    """approve_review(incident, writer=person, approver=person) → the resolved incident's review written,
    submitted and approved (reviews app), so the incident is reviewed.

    Here so that the incidents tests, a layer below reviews, can take an incident to reviewed and archived
    the one way the product does, without their package importing reviews.
    """
    from reviews import services

    def run(incident, *, writer, approver=None):
        services.review_update(incident, actor=writer, changes={
            "summary": "The fault and what was done.", "impact": "One system.", "root_cause": "A full disk.",
            "went_wrong": "Nothing alerted on the disk.", "lessons": "Alert on disk usage."})
        services.review_submit(incident, actor=writer)
        services.review_approve(incident, actor=approver or writer)
        incident.refresh_from_db()
        return incident

    return run


@pytest.fixture
def smtp(settings):
    """A real SMTP server on loopback (aiosmtpd) that Django's SMTP backend sends to; yields what it received."""
    from notifications.tests.receivers import start_smtp

    controller, sink = start_smtp()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    yield sink
    controller.stop()
