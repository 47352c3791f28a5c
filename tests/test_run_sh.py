"""Issue 14: ./scripts/run.sh (the README's first command) runs with DEBUG off, and the site still works so.

DEBUG's error pages list every URL pattern and show tracebacks to whoever
reaches the machine; with DEBUG off Django's runserver no longer serves static
files itself, so WhiteNoise must.
"""

import os
import re
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.support.processes import free_port

ROOT = Path(__file__).resolve().parent.parent
RUN_SH = ROOT / "scripts" / "run.sh"


def run_sh_environment(**given):
    """The environment run.sh exports before it starts anything, from its own `export X="${X:-...}"` lines."""
    exports = [line.strip() for line in RUN_SH.read_text(encoding="utf-8").splitlines()
               if re.match(r"\s*export (DEBUG|SITE_URL|EMAIL_URL)=", line)]
    script = "port=8000\n" + "\n".join(exports) + '\necho "DEBUG=$DEBUG"; echo "EMAIL_URL=$EMAIL_URL"'
    env = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "EMAIL_URL")} | given
    result = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True, check=True)
    return dict(line.split("=", 1) for line in result.stdout.splitlines())


def test_run_sh_leaves_debug_off_unless_asked():
    assert run_sh_environment()["DEBUG"] == "false"
    assert run_sh_environment(DEBUG="true")["DEBUG"] == "true"


def test_run_sh_prints_mail_to_the_console_so_the_demo_shows_notifications():
    assert run_sh_environment()["EMAIL_URL"] == "console://"


def test_the_site_as_run_sh_starts_it_serves_static_files_and_its_own_404_page(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DEBUG", "DJANGO_ALLOW_ASYNC"))}
    env.update(DEBUG=run_sh_environment()["DEBUG"], SECRET_KEY=secrets.token_urlsafe(50),
               DATABASE_URL=f"sqlite:///{tmp_path / 'run.sqlite3'}", CELERY_BROKER_URL="filesystem://",
               FENGHUO_VAR_DIR=str(tmp_path))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=5)
                break
            except urllib.error.HTTPError:
                break  # answering (healthz may say 503 without migrations): up
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, server.stderr.read().decode()[-2000:]
                time.sleep(0.2)

        css = urllib.request.urlopen(f"{base}/static/fenghuo/app.css", timeout=10)
        assert css.status == 200 and b".topbar" in css.read()
        favicon = urllib.request.urlopen(f"{base}/static/fenghuo/favicon.svg", timeout=10)
        assert favicon.headers["Content-Type"].startswith("image/svg+xml")

        request = urllib.request.Request(f"{base}/no-such-page/", headers={"Accept-Language": "en"})
        try:
            urllib.request.urlopen(request, timeout=10)
            raise AssertionError("a page that does not exist answered 2xx")
        except urllib.error.HTTPError as error:
            assert error.code == 404
            html = error.read().decode()
        assert "Page not found" in html
        assert "Using the URLconf" not in html and "api/v1/" not in html
    finally:
        server.terminate()
        server.wait(timeout=10)
