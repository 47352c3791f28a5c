"""The settings of several machines, read from the environment as each process reads them at start-up.

Each case starts a fresh interpreter with only the environment given, as a node does, and reads what
config/settings.py made of it: several PostgreSQL hosts, Sentinel URLs for the broker and the cache, and the
arming horizon the multi-node tests shorten.
"""

import json
import subprocess
import sys

import pytest

from tests.support.processes import ROOT


def settings_with(tmp_path, code, **env):
    script = ("import json, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings'); "
              "import django; django.setup(); from django.conf import settings; " + code)
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60,
                            env={"SECRET_KEY": "k" * 60, "PATH": "/usr/bin:/bin",
                                 "FENGHUO_VAR_DIR": str(tmp_path / "var"), **env})
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


DATABASE = "print(json.dumps({k: settings.DATABASES['default'][k] for k in ('HOST', 'PORT', 'NAME', 'USER', " \
           "'PASSWORD', 'OPTIONS', 'CONN_HEALTH_CHECKS')}))"


@pytest.mark.parametrize(("url", "host", "port"), [
    ("postgres://fenghuo:pw@db1:5432,db2:5433/fenghuo?target_session_attrs=read-write", "db1,db2", "5432,5433"),
    ("postgres://fenghuo:pw@db1,db2,db3/fenghuo?target_session_attrs=read-write", "db1,db2,db3", "5432,5432,5432"),
    ("postgres://fenghuo:pw@db1:6432/fenghuo?target_session_attrs=read-write", "db1", 6432),
])
def test_database_url_may_name_several_hosts_for_libpq_to_choose_the_writable_one(tmp_path, url, host, port):
    database = settings_with(tmp_path, DATABASE, DATABASE_URL=url)
    assert (database["HOST"], database["PORT"]) == (host, port)
    assert (database["NAME"], database["USER"], database["PASSWORD"]) == ("fenghuo", "fenghuo", "pw")
    assert database["OPTIONS"] == {"target_session_attrs": "read-write"}
    assert database["CONN_HEALTH_CHECKS"] is True


def test_a_sentinel_broker_names_its_master_and_the_cache_follows_it_on_the_next_database(tmp_path):
    found = settings_with(
        tmp_path, "print(json.dumps({'options': settings.CELERY_BROKER_TRANSPORT_OPTIONS, "
                  "'cache': settings.CACHES['default']}))",
        CELERY_BROKER_URL="sentinel://:pw@s1:26379/4;sentinel://:pw@s2:26379/4", REDIS_SENTINEL_MASTER="prod")
    assert found["options"] == {"visibility_timeout": 3600, "master_name": "prod"}
    assert found["cache"]["BACKEND"] == "config.cache.ForgivingRedisCache"
    assert found["cache"]["LOCATION"] == "sentinel://:pw@s1:26379/5;sentinel://:pw@s2:26379/5"


def test_a_sentinel_location_reaches_the_named_master_with_its_password_and_database():
    from core.broker import sentinel_addresses

    assert sentinel_addresses("sentinel://:pw@s1:26379/5;sentinel://s2/5") == (
        [("s1", 26379), ("s2", 26379)], 5, "pw")
    with pytest.raises(ValueError, match="not a sentinel"):
        sentinel_addresses("redis://s1:6379/0")


def test_the_arming_horizon_and_the_notification_sweeps_come_from_the_environment(tmp_path):
    found = settings_with(
        tmp_path, "from escalation import services; print(json.dumps({'horizon': services.ETA_HORIZON."
                  "total_seconds(), 'every': services.ARM_EVERY.total_seconds(), 'beat': "
                  "{k: v['schedule'] for k, v in settings.CELERY_BEAT_SCHEDULE.items()}}))",
        ESCALATION_ETA_HORIZON_SECONDS="2", ESCALATION_ARM_SECONDS="1", NOTIFICATIONS_FOLLOW_UP_SECONDS="3",
        NOTIFICATIONS_DELIVER_SECONDS="4")
    assert (found["horizon"], found["every"]) == (2, 1)
    assert found["beat"]["arm-near-deadlines"] == 1
    assert found["beat"]["follow-up-notifications"] == 3 and found["beat"]["deliver-notifications"] == 4
    shipped = settings_with(tmp_path, "from escalation import services; print(json.dumps("
                                      "services.ETA_HORIZON.total_seconds()))")
    assert shipped == 300, "five minutes unless a test shortens it"
