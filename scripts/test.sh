#!/usr/bin/env bash
# The test command (README, CI): ./scripts/test.sh [pytest arguments...]
#
# Works on a fresh clone: installs chromium for the browser tests if missing,
# creates .venv from requirements.lock, makes sure PostgreSQL and Redis answer
# (starting the local ones if they do not), then runs pytest. pytest-django
# creates and drops the test database (test_<name>) itself.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

export PIP_DISABLE_PIP_VERSION_CHECK=1

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null 2>&1; then sudo -n "$@"; else return 1; fi
}

# chromium drives the browser tests; the CJK font makes their Chinese screenshots readable.
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
[ -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || missing+=(fonts-wqy-microhei)
# Noto Sans CJK: the font of every PDF the product writes (evidence pack, reports); their tests read the Chinese back.
[ -e /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc ] || missing+=(fonts-noto-cjk)
# HarfBuzz's subsetter: WeasyPrint embeds only the glyphs used, in milliseconds instead of seconds.
ls /usr/lib/*/libharfbuzz-subset.so.0 >/dev/null 2>&1 || missing+=(libharfbuzz-subset0)
# nginx -t checks deploy/nginx.conf as it ships (tests/test_deployment.py).
[ -x /usr/sbin/nginx ] || command -v nginx >/dev/null 2>&1 || missing+=(nginx-light)
if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing ${missing[*]} for the tests (apt-get)..."
  if ! { as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"; } >/dev/null; then
    echo "WARNING: could not install ${missing[*]} with apt-get; the browser and nginx tests may fail or skip." >&2
  fi
fi

# Reinstall only when requirements.lock changed since the last install (a new
# dependency in pyproject.toml must reach the lock too: tests/test_deployment.py).
stamp=.venv/.installed-from
wanted=$(sha256sum requirements.lock | cut -d' ' -f1)
if [ ! -x .venv/bin/python ]; then
  echo "Creating .venv with $(command -v python3) ($(python3 -V))..."
  python3 -m venv .venv
fi
if [ "$(cat "$stamp" 2>/dev/null || true)" != "$wanted" ]; then
  echo "Installing dependencies from requirements.lock into .venv..."
  .venv/bin/python -m pip install -q -r requirements.lock
  .venv/bin/python -m pip install -q --no-deps -e .
  echo "$wanted" > "$stamp"
fi

export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/fenghuo}"
export CELERY_BROKER_URL="${CELERY_BROKER_URL:-redis://127.0.0.1:6379/5}"

# Exit 0 when the server answers. PostgreSQL is asked through its `postgres`
# database, since the one DATABASE_URL names need not exist (tests use test_<name>).
reachable() {
  .venv/bin/python - "$1" <<'PY' >/dev/null 2>&1
import os
import sys

if sys.argv[1] == "postgres":
    import psycopg

    psycopg.connect(os.environ["DATABASE_URL"], dbname="postgres", connect_timeout=3).close()
else:
    import redis

    redis.Redis.from_url(os.environ["CELERY_BROKER_URL"], socket_connect_timeout=3, socket_timeout=3).ping()
PY
}

wait_until_reachable() {
  for _ in $(seq 20); do
    reachable "$1" && return 0
    sleep 0.5
  done
  return 1
}

without_password() {
  sed -E 's#(://[^:/@]*):[^@]*@#\1:***@#' <<<"$1"
}

if ! reachable postgres; then
  if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
    version=$(ls /etc/postgresql | sort -V | tail -n 1)
    echo "Starting the local PostgreSQL $version cluster..."
    as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  fi
  if ! wait_until_reachable postgres; then
    echo "PostgreSQL is not reachable at $(without_password "$DATABASE_URL"): start it or set DATABASE_URL" >&2
    exit 2
  fi
fi

if ! reachable redis; then
  if command -v redis-server >/dev/null 2>&1; then
    echo "Starting a local Redis..."
    as_root mkdir -p /var/lib/redis /var/log/redis || true
    as_root redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
      --dir /var/lib/redis --logfile /var/log/redis/ci.log || true
  fi
  if ! wait_until_reachable redis; then
    echo "Redis is not reachable at $(without_password "$CELERY_BROKER_URL"): start it or set CELERY_BROKER_URL" >&2
    exit 2
  fi
fi

# With DEBUG off the settings refuse to start without a strong key; the tests get a fresh one per run.
export SECRET_KEY="${SECRET_KEY:-$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(50))')}"

# Own queue names, so tests never take (or leave) work on a running Fenghuo's queues.
export FENGHUO_QUEUE_PREFIX=fenghuo-test
unset EMAIL_URL

# Two passes, both in CI. First the production stack (PostgreSQL and Redis). Then
# the embedded default that ./scripts/run.sh uses (a SQLite file and kombu's
# filesystem broker, no servers), so nothing PostgreSQL-only can break it
# unseen: the whole suite again, pages, API, browser flows and the timers with
# real Celery worker and beat processes on the filesystem broker, except tests
# marked postgres_only (each such mark says why) and the fault-injection tests
# (faults). A few tests of Redis-only coordination flags skip themselves there.
# FENGHUO_TEST_PASSES=postgres or =sqlite runs just one of them;
# FENGHUO_SQLITE_TESTS (paths) narrows what the second pass runs.
passes="${FENGHUO_TEST_PASSES:-both}"
status=0
# The layers first: an import up the layers (docs/architecture.md) fails CI before any test runs.
echo "Checking the layers (import-linter)..."
PYTHONPATH=. .venv/bin/lint-imports --no-cache || status=$?
# Then the types of the services and selectors ([tool.mypy] files in pyproject.toml).
echo "Checking the types (mypy)..."
.venv/bin/mypy || status=$?
if [ "$passes" != sqlite ]; then
  .venv/bin/python -m pytest "$@" || status=$?
fi
if [ "$passes" != postgres ]; then
  sqlite_tests=${FENGHUO_SQLITE_TESTS:-}
  embedded=$(mktemp -d)
  trap 'rm -rf "$embedded"' EXIT
  echo "Embedded default: the same tests on SQLite with the filesystem broker (in $embedded)..."
  # shellcheck disable=SC2086  # FENGHUO_SQLITE_TESTS is a list of paths
  DATABASE_URL="sqlite:///$embedded/fenghuo.sqlite3" CELERY_BROKER_URL=filesystem:// FENGHUO_VAR_DIR="$embedded" \
    .venv/bin/python -m pytest -m "not postgres_only and not faults" $sqlite_tests "$@" || status=$?
fi
exit "$status"
