#!/usr/bin/env bash
# End-to-end check of the webhook kit's CLI with the real binary: `contract webhook` against the
# Python example bot (every case, valid JUnit XML, exit 0), against a flawed bot (exit 1, naming
# exactly its case) and bad usage (exit 2).
set -euo pipefail
cd "$(dirname "$0")/../.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

go build -o "$tmp/smartappmock" ./cmd/smartappmock
sam="$tmp/smartappmock"

echo "-- contract webhook against examples/bots/python/bot.py"
"$sam" contract webhook --junit "$tmp/webhook.xml" -- python3 examples/bots/python/bot.py
# Every case the kit lists is in the report, none failed.
cases=$("$sam" contract webhook --list | grep -cE '^(must|should) ')
python3 -c 'import sys, xml.etree.ElementTree as ET; r = ET.parse(sys.argv[1]).getroot(); assert r.tag == "testsuites" and int(r.get("tests")) == int(sys.argv[2]) and r.get("failures") == "0", (sys.argv[2], ET.tostring(r)[:300]); print("junit ok:", r.get("tests"), "tests")' "$tmp/webhook.xml" "$cases"

echo "-- contract webhook against a flawed bot must exit 1, failing exactly its case"
set +e
"$sam" contract webhook -- python3 examples/bots/flawed/unpad16.py >"$tmp/flawed.txt"
rc=$?
set -e
[ "$rc" = 1 ] || { cat "$tmp/flawed.txt"; echo "exit $rc, want 1"; exit 1; }
grep -qx 'FAIL: must-cases failed: secure_padding_over_16_replied' "$tmp/flawed.txt" || { cat "$tmp/flawed.txt"; exit 1; }

echo "-- bad usage must exit 2"
set +e
"$sam" contract webhook --junit x.xml 2>/dev/null
rc=$?
set -e
[ "$rc" = 2 ] || { echo "exit $rc, want 2"; exit 1; }
"$sam" contract webhook --list | grep -q "^must  *sixth_reply_90001_not_retried" || { echo "--list lacks a case"; exit 1; }
echo "webhook ok"
