#!/usr/bin/env bash
# bench/redis-cost.sh: the instructions Redis runs per send (what the API core asks of the store
# for a plain valid send: Lookup, TakeReply and Append, each a small script, and the commands they
# call), counted by callgrind on a redis-server of its own. Unlike sends/s, the count does not move
# with other work on the machine, so two versions of the store compare on a shared machine. Two
# lines: "sequential" (one send at a time) and "16-callers" (concurrent sends, which share round
# trips as under load).
#
#   bench/redis-cost.sh [SENDS]     (500 sends by default, after 1,200 to fill the journal)
#
# Unix socket in a temp folder only. Needs Go; installs valgrind and redis-server (apt) when
# missing. The redis-server it starts is stopped by its PID on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
sends=${1:-500}
if ! [[ "$sends" =~ ^[0-9]+$ ]] || [ "$sends" -lt 1 ] || [ "$sends" -gt 100000 ]; then
  echo "bench/redis-cost.sh: SENDS must be 1..100000" >&2; exit 2
fi
for tool in valgrind:valgrind redis-server:redis-server redis-cli:redis-tools; do
  if ! command -v "${tool%%:*}" >/dev/null; then
    apt-get update -qq && apt-get install -y -qq "${tool##*:}" >/dev/null
  fi
done
work=$(mktemp -d)
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
valgrind --tool=callgrind --callgrind-out-file="$work/callgrind.out.%p" \
  redis-server --port 0 --unixsocket "$work/redis.sock" --unixsocketperm 700 --save '' --appendonly no --dir "$work" \
  >"$work/valgrind.log" 2>&1 &
pid=$!
for _ in $(seq 200); do redis-cli -s "$work/redis.sock" ping >/dev/null 2>&1 && break; sleep 0.1; done
redis-cli -s "$work/redis.sock" ping >/dev/null || { echo "bench/redis-cost.sh: redis-server did not start:" >&2; cat "$work/valgrind.log" >&2; exit 1; }
CALLGRIND_REDIS_URL="unix://$work/redis.sock" CALLGRIND_REDIS_PID=$pid CALLGRIND_OUT="$work/callgrind.out" \
  go test -run '^$' -bench '^BenchmarkSendRedisInstructions$' -benchtime "${sends}x" ./store/redisstore | grep -E 'redis-instr/op|^(ok|FAIL)'
