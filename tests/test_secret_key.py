"""With DEBUG off a missing or weak SECRET_KEY stops Fenghuo at start-up (issue 13, finding 4)."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def start(tmp_path, **env):
    clean = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEBUG", "FENGHUO_PRODUCTION")}
    clean.update(FENGHUO_VAR_DIR=str(tmp_path), **env)
    return subprocess.run([sys.executable, "-c", "import django; django.setup()"], cwd=ROOT, env=clean,
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("key", [None, "", "short-key", "django-insecure-" + "x" * 50])
def test_with_debug_off_a_missing_or_weak_secret_key_is_a_startup_error_naming_it(tmp_path, key):
    started = start(tmp_path, **({} if key is None else {"SECRET_KEY": key}))
    assert started.returncode != 0
    assert "ImproperlyConfigured: SECRET_KEY is" in started.stderr
    assert "secrets.token_urlsafe(50)" in started.stderr


def test_with_debug_off_a_strong_secret_key_starts(tmp_path):
    assert start(tmp_path, SECRET_KEY=secrets.token_urlsafe(50)).returncode == 0


def test_with_debug_on_a_developer_starts_without_a_key(tmp_path):
    assert start(tmp_path, DEBUG="true").returncode == 0


def test_run_sh_makes_a_private_key_once_and_reuses_it(tmp_path):
    script = (ROOT / "scripts" / "run.sh").read_text(encoding="utf-8")
    block = script[script.index('if [ -z "${SECRET_KEY:-}" ]; then'):script.index("\nfi\n", script.index(
        'if [ -z "${SECRET_KEY:-}" ]; then')) + 4]
    probe = f'python={sys.executable}\n{block}\necho "$SECRET_KEY"\n'
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"} | {"FENGHUO_VAR_DIR": str(tmp_path / "var")}
    first = subprocess.run(["bash", "-c", probe], env=env, capture_output=True, text=True, check=True).stdout.strip()
    second = subprocess.run(["bash", "-c", probe], env=env, capture_output=True, text=True, check=True).stdout.strip()
    key_file = tmp_path / "var" / "secret_key"
    assert len(first) >= 50 and first == second == key_file.read_text().strip()
    assert key_file.stat().st_mode & 0o077 == 0
