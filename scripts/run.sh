#!/usr/bin/env bash
# The run command (README): ./scripts/run.sh
#
# Runs Fenghuo on this machine with nothing else installed: .venv from
# requirements.lock, the embedded SQLite database and filesystem broker under var/
# (unless DATABASE_URL / CELERY_BROKER_URL say otherwise), the shipped plan and
# demo people, then the web server, a Celery worker and Celery beat until Ctrl-C.
# Running it again changes nothing that is already in place.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

export PIP_DISABLE_PIP_VERSION_CHECK=1

# The PDFs the product writes (evidence pack, reports) are set in Debian's Noto Sans CJK; without it
# their Chinese would be missing glyphs. Installed once when apt-get may be used; a warning otherwise.
if [ ! -e /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc ] || ! ls /usr/lib/*/libharfbuzz-subset.so.0 >/dev/null 2>&1; then
  as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null 2>&1; then sudo -n "$@"; else return 1; fi; }
  echo "Installing fonts-noto-cjk and libharfbuzz-subset0 for the PDF documents (apt-get)..."
  if ! { as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-noto-cjk libharfbuzz-subset0; } >/dev/null 2>&1; then
    echo "WARNING: could not install fonts-noto-cjk; PDF documents will lack Chinese glyphs." >&2
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

port="${PORT:-8000}"
# DEBUG off unless asked for: its error pages list every URL and show tracebacks (issue 14). The static
# files are served by WhiteNoise either way (settings: WHITENOISE_USE_FINDERS).
export DEBUG="${DEBUG:-false}"
export SITE_URL="${SITE_URL:-http://127.0.0.1:$port}"
# No SMTP server is assumed on a developer's machine: mail goes to the worker's log.
export EMAIL_URL="${EMAIL_URL:-console://}"
# Without DATABASE_URL / CELERY_BROKER_URL the settings fall back to a SQLite file
# and kombu's filesystem broker under var/ (they create var/broker themselves).

python=.venv/bin/python
# A random signing key, made once and kept in the var folder (readable by this user only), unless one is given.
if [ -z "${SECRET_KEY:-}" ]; then
  key_file="${FENGHUO_VAR_DIR:-var}/secret_key"
  if [ ! -s "$key_file" ]; then
    mkdir -p "$(dirname "$key_file")"
    (umask 077 && "$python" -c 'import secrets; print(secrets.token_urlsafe(50))' > "$key_file")
  fi
  SECRET_KEY=$(cat "$key_file")
  export SECRET_KEY
fi
"$python" manage.py migrate --noinput
"$python" manage.py loadplan plan/plans/credit-system.yaml --if-changed
"$python" manage.py seeddemo

# The worker must consume the queues config/celery.py routes to.
prefix="${FENGHUO_QUEUE_PREFIX:-fenghuo}"
queues="$prefix.escalation,$prefix.notifications,$prefix.intake"

pids=()
stop() {
  trap - INT TERM EXIT
  if [ ${#pids[@]} -gt 0 ]; then
    kill "${pids[@]}" 2>/dev/null || true
    wait "${pids[@]}" 2>/dev/null || true
  fi
}
trap 'stop; exit 130' INT
trap 'stop; exit 143' TERM
trap stop EXIT

"$python" manage.py runserver "127.0.0.1:$port" --noreload &
pids+=($!)
.venv/bin/celery -A config worker --pool solo -Q "$queues" --loglevel INFO &
pids+=($!)
.venv/bin/celery -A config beat --loglevel INFO &
pids+=($!)

echo
echo "Fenghuo is running at http://127.0.0.1:$port/ — sign in with a demo login printed above."
echo "Ctrl-C stops the web server, the worker and beat."
echo

# When any of the three stops on its own, stop the others too rather than run half a system.
status=0
wait -n || status=$?
echo "A Fenghuo process exited (status $status); stopping the others." >&2
stop
exit "$status"
