#!/usr/bin/env bash
# Refresh the README's screenshots from the browser tests: ./scripts/screenshots.sh
#
# The browser tests (Debian's chromium through Playwright) store a screenshot of
# every page they check in test-artifacts/. This runs them through the README's
# test command (PostgreSQL and Redis as it sets them up) and copies the ones the
# README shows into docs/screenshots/, so the pictures are what the tests saw.
# SCREENSHOTS_FROM=<folder> takes them from a run already made instead (a CI
# worktree's test-artifacts/), without running the tests again.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

from="${SCREENSHOTS_FROM:-}"
if [ -z "$from" ]; then
  rm -rf test-artifacts
  FENGHUO_TEST_PASSES=postgres ./scripts/test.sh -m browser -p no:randomly -q "$@"
  from=test-artifacts
fi

mkdir -p docs/screenshots
# <from>/<name>.png → docs/screenshots/<name>.png; the README links these names.
shown=(dashboard-zh dashboard-en incident-page-desktop-en incident-page-phone-zh approval-page-phone-zh
       approval-page-phone-en notification-list-zh notification-list-en storm-page-zh-hans)
missing=0
for name in "${shown[@]}"; do
  source="$from/$name.png" target="docs/screenshots/$name.png"
  if [ ! -f "$source" ]; then
    echo "missing: $source (did its browser test run?)" >&2
    missing=1
  else
    cp "$source" "$target"
  fi
done
exit "$missing"
