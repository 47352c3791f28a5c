#!/usr/bin/env bash
# Refresh the README's screenshots from the browser tests: ./scripts/screenshots.sh
#
# The browser tests (Debian's chromium through Playwright) store a screenshot of
# every page they check in test-artifacts/. This runs them through the README's
# test command (PostgreSQL and Redis as it sets them up) and copies the ones the
# README shows into docs/screenshots/, so the pictures are what the tests saw.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

rm -rf test-artifacts
FENGHUO_TEST_PASSES=postgres ./scripts/test.sh -m browser -p no:randomly -q "$@"

mkdir -p docs/screenshots
# test-artifacts/<name>.png → docs/screenshots/<name>.png; the README links these names.
shown=(dashboard-zh dashboard-en incident-page-desktop-en incident-page-phone-zh approval-page-phone-zh
       approval-page-phone-en notification-list-zh notification-list-en storm-page-zh-hans)
missing=0
for name in "${shown[@]}"; do
  if [ -f "test-artifacts/$name.png" ]; then
    cp "test-artifacts/$name.png" "docs/screenshots/$name.png"
  else
    echo "missing: test-artifacts/$name.png (did its browser test run?)" >&2
    missing=1
  fi
done
exit "$missing"
