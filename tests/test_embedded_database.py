"""The embedded SQLite of ./scripts/run.sh has several writers at once: the web process, the worker and beat."""

import threading
from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.db import connection, transaction
from django.utils import timezone

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_writer_that_read_first_waits_for_the_other_writer_instead_of_failing_on_a_locked_database():
    """What an escalation task does (read the deadline, then write) while the web process writes.

    In SQLite's default DEFERRED transactions the first one would take the write
    lock only at its write, find the second holding it, and fail at once with
    "database is locked" (waiting could deadlock).
    """
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's whole-database write lock; PostgreSQL locks rows")
    expires = timezone.now() + timedelta(days=1)
    first_has_read, second_is_done = threading.Event(), threading.Event()
    errors = []

    def first():
        try:
            with transaction.atomic():
                Session.objects.count()
                first_has_read.set()
                second_is_done.wait(timeout=1)
                Session.objects.create(session_key="first", session_data="", expire_date=expires)
        except Exception as exc:  # noqa: BLE001 - asserted below, in the test's thread
            errors.append(exc)
        finally:
            connection.close()

    def second():
        first_has_read.wait(timeout=10)
        try:
            with transaction.atomic():
                Session.objects.create(session_key="second", session_data="", expire_date=expires)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            second_is_done.set()
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert set(Session.objects.values_list("session_key", flat=True)) == {"first", "second"}
