"""Every deployment knob lives in config/settings.py, read from the environment, with a row in the README's table.

A ``getattr(settings, "X", default)`` elsewhere hides a setting from operators:
it has a default nobody can find and no line in the table (issue 15).
"""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENVIRONMENT_READ = re.compile(r"""(?:os\.environ\.get\(|os\.environ\[|env_bool\(|env_list\()\s*["']([A-Z][A-Z0-9_]*)["']""")
# A third argument is the hidden default; getattr(settings, name) alone (a test saving a value) is fine.
GETATTR_SETTINGS = re.compile(r"getattr\(\s*settings\s*,[^,)]+,")


def _readme_table_names():
    rows = [line for line in (ROOT / "README.md").read_text(encoding="utf-8").splitlines() if line.startswith("| `")]
    return {name for row in rows for name in re.findall(r"`([A-Z][A-Z0-9_]*)`", row.split("|")[1])}


def _project_sources():
    skip = {".venv", ".git", "node_modules", "var"}
    return [path for path in ROOT.rglob("*.py") if not skip & set(path.relative_to(ROOT).parts)]


def test_every_environment_variable_settings_read_has_a_row_in_the_readme_table():
    read = set(ENVIRONMENT_READ.findall((ROOT / "config" / "settings.py").read_text(encoding="utf-8")))
    assert "NOTIFICATIONS_MAX_ATTEMPTS" in read  # the pattern does find them
    assert read - _readme_table_names() == set()


def test_no_code_reads_a_setting_with_a_default_of_its_own():
    offenders = [f"{path.relative_to(ROOT)}:{number}"
                 for path in _project_sources() if path.name != "test_settings_table.py"
                 for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                 if GETATTR_SETTINGS.search(line)]
    assert offenders == []
