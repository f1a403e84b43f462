#!/usr/bin/env bash
# End-to-end check of the contract kit's CLI with the real binary: `contract run` against the
# Python example (summary, valid JUnit XML, exit 0), against a flawed client (exit 1), bad usage
# (exit 2), and against a running fake: `contract verify --target` and `contract run --target`.
set -euo pipefail
cd "$(dirname "$0")/../.."
tmp=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

go build -o "$tmp/smartappmock" ./cmd/smartappmock
sam="$tmp/smartappmock"

echo "-- contract run (in-process) against examples/python/send.py"
"$sam" contract run --junit "$tmp/report.xml" -- python3 examples/python/send.py
python3 -c 'import sys, xml.etree.ElementTree as ET; r = ET.parse(sys.argv[1]).getroot(); assert r.tag == "testsuites" and int(r.get("tests")) > 0 and r.get("failures") == "0", ET.tostring(r)[:300]; print("junit ok:", r.get("tests"), "tests")' "$tmp/report.xml"

echo "-- contract run against a flawed client must exit 1"
set +e
"$sam" contract run --case errno_3001_fails_without_retry -- sh examples/flawed/http_200_is_success.sh >"$tmp/flawed.txt"
rc=$?
set -e
[ "$rc" = 1 ] || { cat "$tmp/flawed.txt"; echo "exit $rc, want 1"; exit 1; }

echo "-- bad usage must exit 2"
set +e
"$sam" contract run --junit x.xml 2>/dev/null
rc=$?
set -e
[ "$rc" = 2 ] || { echo "exit $rc, want 2"; exit 1; }

echo "-- against a running fake"
"$sam" serve --addr 127.0.0.1:0 >"$tmp/serve.log" 2>&1 &
pid=$!
for _ in $(seq 50); do grep -q 'listening on' "$tmp/serve.log" && break; sleep 0.1; done
base=$(sed -n 's/.*listening on \(http:\/\/[^ ]*\).*/\1/p' "$tmp/serve.log" | head -n 1)
[ -n "$base" ] || { cat "$tmp/serve.log"; echo "the fake did not start"; exit 1; }
"$sam" contract verify --strict --target "$base"   # the default sandbox answers every probe as Baidu documents
"$sam" contract run --target "$base" -- sh examples/shell/send.sh
kill "$pid"; wait "$pid" 2>/dev/null || true

echo "-- verify --strict against a fake that issues tokens (every code as Baidu documents it)"
cat >"$tmp/strict.yaml" <<'YAML'
version: 1
policy:
  apps: sandbox
  tokens: issued
  window:
    mode: open_on_first_send
YAML
"$sam" serve --addr 127.0.0.1:0 --config "$tmp/strict.yaml" >"$tmp/serve2.log" 2>&1 &
pid=$!
for _ in $(seq 50); do grep -q 'listening on' "$tmp/serve2.log" && break; sleep 0.1; done
base=$(sed -n 's/.*listening on \(http:\/\/[^ ]*\).*/\1/p' "$tmp/serve2.log" | head -n 1)
[ -n "$base" ] || { cat "$tmp/serve2.log"; echo "the fake did not start"; exit 1; }
"$sam" contract verify --strict --target "$base"
