#!/usr/bin/env bash
# The inbox browser tests (mockserver/sandbox/inbox_browser_test.go, inbox_push_browser_test.go) skip when no Chromium is installed,
# except with CI=true. Run them once more with CI=true so that a missing browser fails CI instead
# of passing silently, and check that none skipped.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=$(CI=true go test -count=1 -v -run '^TestInboxBrowser' ./mockserver/sandbox/ 2>&1) || { echo "$out"; exit 1; }
echo "$out" | grep -E '^(---|ok|PASS|FAIL)|page weight: [0-9]|5,000 entries'
if echo "$out" | grep -q -- '--- SKIP'; then
  echo "inbox browser tests skipped in CI"; exit 1
fi
