#!/usr/bin/env bash
# bench/run.sh: the side-by-side benchmark of smartappmock against a hand-written net/http handler
# (the ceiling, bench/ceiling) and, with --prism, Stoplight Prism.
#
# For each server it measures start-up (exec to first HTTP answer), then for each scenario (a valid
# text send, an image send, an invalid request, a token error) runs wrk for a bounded time and reads
# sends/s and p50/p99; then the server's peak RSS (VmHWM). Both servers are built as the Dockerfile
# builds the shipped binary (CGO_ENABLED=0, -trimpath, -ldflags "-s -w"). The ceiling and the fake
# run back to back, scenario by scenario, so the ratios compare like with like on a shared
# machine. The fake runs twice: as shipped (one text log line per request to a file) and
# "fake-quiet" (--log-level warn: no per-request line), so the logger's cost shows. "fake-redis" is
# the fake as shipped with its state in a redis-server that the script starts on a unix socket
# (--store unix://…, no persistence); for it the table also shows, per send, the round trips to
# Redis (the commands the fake sent, from MONITOR during 20 sends after each load: a script run with
# EVALSHA is one, the commands it calls inside are not) and the commands Redis ran during the load,
# scripts' inner calls included (INFO commandstats before and after). Every process it starts (the
# servers and redis-server) is stopped by its PID on exit.
#
#   bench/run.sh [-d SECONDS] [-r ROUNDS] [-c CONNECTIONS] [-C CONNECTIONS] [-t THREADS] [--prism] [--fake-args "ARGS"]
#
# After the table's loads (and its RSS readings), the fake and fake-redis run each scenario again
# with -C connections (256 by default; 0 skips it): at -c 32 the Redis-backed fake waits on round
# trips with cores idle, so its sends/s there measure latency more than capacity; with more
# connections waiting, its batches fill and the machine's cores do. Every load's line, and a
# second table, show how busy the machine was (cores, from /proc/stat).
#
# With -r N every (server, scenario) load runs N times, interleaved, and the table shows medians;
# a ratio is the median of the per-round ratios (each taken between loads run back to back), which
# is what stays meaningful when other work shares the machine.
#
# Loopback and a unix socket only. Needs Go; installs wrk and redis-server (apt) when missing, and
# Prism (npm, pinned) with --prism.
set -euo pipefail
cd "$(dirname "$0")/.."

duration=10
rounds=1
conns=32
sat_conns=256
threads=2
prism=0
fake_args=""
while [ $# -gt 0 ]; do
  case "$1" in
    -d) duration=$2; shift 2 ;;
    -r) rounds=$2; shift 2 ;;
    -c) conns=$2; shift 2 ;;
    -C) sat_conns=$2; shift 2 ;;
    -t) threads=$2; shift 2 ;;
    --prism) prism=1; shift ;;
    --fake-args) fake_args=$2; shift 2 ;;
    -h|--help) sed -n '2,32p' "$0"; exit 0 ;;
    *) echo "bench/run.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
if ! [[ "$duration" =~ ^[0-9]+$ ]] || [ "$duration" -lt 1 ] || [ "$duration" -gt 120 ]; then
  echo "bench/run.sh: -d must be 1..120 seconds" >&2; exit 2
fi
if ! [[ "$sat_conns" =~ ^[0-9]+$ ]] || [ "$sat_conns" -gt 4096 ]; then
  echo "bench/run.sh: -C must be 0..4096 connections" >&2; exit 2
fi
if ! [[ "$rounds" =~ ^[0-9]+$ ]] || [ "$rounds" -lt 1 ] || [ "$rounds" -gt 9 ]; then
  echo "bench/run.sh: -r must be 1..9" >&2; exit 2
fi

PRISM_VERSION=5.14.2
FAKE_PORT=18631
CEIL_PORT=18632
PRISM_PORT=18633
QUIET_PORT=18634
REDIS_FAKE_PORT=18635
TOKEN=bench-token

for tool in wrk:wrk redis-server:redis-server redis-cli:redis-tools; do
  if ! command -v "${tool%%:*}" >/dev/null; then
    echo "installing ${tool#*:} (apt)" >&2
    if [ -e .ci/lib.sh ]; then
      # shellcheck source=/dev/null
      source .ci/lib.sh
      apt_install "${tool#*:}"
    else
      DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${tool#*:}"
    fi
  fi
done

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do
    kill "$p" 2>/dev/null || true
  done
  for p in "${pids[@]}"; do
    # wait only works for our own children; poll for the others (started via bench/startup).
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

echo "building" >&2
# The fake and the ceiling are built alike, as the Dockerfile builds the shipped binary: without
# cgo (no libc mapped: about 1.3 MB less RSS), trimmed paths, no symbol tables.
ship_build() { CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" "$@"; }
ship_build -o "$work/smartappmock" ./cmd/smartappmock
ship_build -o "$work/ceiling" ./bench/ceiling
go build -o "$work/startup" ./bench/startup

# Scenarios: name, query, body. The Content-Type is always a form.
scenarios=(text image invalid token)
declare -A query body expect
query[text]="access_token=$TOKEN"
body[text]="user_type=1&open_id=bench-user&msg_type=text&content=hello%20from%20the%20benchmark&pic_url="
expect[text]='"errno":0'
query[image]="access_token=$TOKEN"
body[image]="user_type=2&open_id=bench-user&msg_type=image&content=&pic_url=https%3A%2F%2Fexample.com%2Fa.png"
expect[image]='"errno":0'
query[invalid]="access_token=$TOKEN"
body[invalid]="user_type=3&open_id=&msg_type=video&content=hi"
expect[invalid]='"errno":3001'
query[token]="access_token=not-a-token"
body[token]="user_type=1&open_id=bench-user&msg_type=text&content=hi"
expect[token]='"error_code":110'

for s in "${scenarios[@]}"; do
  cat >"$work/$s.lua" <<EOF
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.body = "${body[$s]}"
EOF
done

# start NAME PORT CMD...: starts a server, records its PID and start-up time.
declare -A pid startup
start() {
  local name=$1 port=$2
  shift 2
  local out
  out=$("$work/startup" -url "http://127.0.0.1:$port/" -log "$work/$name.log" -- "$@")
  pid[$name]=${out%% *}
  startup[$name]=${out##* }
  pids+=("${pid[$name]}")
}

# to_ms converts a wrk latency ("812.00us", "1.23ms", "1.01s") to milliseconds.
to_ms() {
  awk -v v="$1" 'BEGIN {
    n = v + 0
    if (v ~ /us$/) n = n / 1000
    else if (v ~ /ms$/) n = n
    else if (v ~ /m$/) n = n * 60000
    else if (v ~ /s$/) n = n * 1000
    printf "%.2f", n }'
}

# redis_calls prints how many commands the bench's redis-server has run, INFO itself left out.
redis_calls() {
  redis-cli -s "$work/redis.sock" info commandstats |
    awk -F'[:=,]' '/^cmdstat_/ && $1 != "cmdstat_info" { n += $3 } END { print n + 0 }'
}

# round_trips S prints the commands the fake sends Redis per send of scenario S: MONITOR shows every
# command, those that scripts call marked "[N lua]"; the fake's once-a-second PING of its store is
# left out.
round_trips() {
  local s=$1 mon=$work/monitor.txt n=20 i
  redis-cli -s "$work/redis.sock" monitor >"$mon" &
  local mpid=$!
  for _ in $(seq 100); do grep -q '^OK' "$mon" 2>/dev/null && break; sleep 0.01; done
  for i in $(seq "$n"); do
    curl -s -o /dev/null --max-time 5 -X POST -H 'Content-Type: application/x-www-form-urlencoded' \
      --data "${body[$s]}" "http://127.0.0.1:$REDIS_FAKE_PORT/rest/2.0/smartapp/message/custom/send?${query[$s]}"
  done
  sleep 0.1 # MONITOR's last lines
  kill "$mpid" 2>/dev/null || true
  wait "$mpid" 2>/dev/null || true
  awk -v n="$n" '/^[0-9.]+ \[[0-9]+ / && !/ lua\] / && !/"ping"/ { c++ } END { printf "%.2f", c / n }' "$mon"
}

# busy_ticks prints the machine's busy CPU time so far, in clock ticks (user, nice, system, irq,
# softirq of every core).
busy_ticks() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8}' /proc/stat; }

# load NAME PORT S R [CONNECTIONS KEY]: one wrk load of scenario S on server NAME in round R, with
# -c CONNECTIONS (default -c's), its results kept under KEY (default NAME).
declare -A rps p50 p99 rtt cps busy
load() {
  local name=$1 port=$2 s=$3 r=$4 c=${5:-$conns} key=${6:-$1}
  local url="http://127.0.0.1:$port/rest/2.0/smartapp/message/custom/send?${query[$s]}"
  local answer
  answer=$(curl -s --max-time 5 -X POST -H 'Content-Type: application/x-www-form-urlencoded' --data "${body[$s]}" "$url" || true)
  if [ "$name" != prism ] && [[ "$answer" != *"${expect[$s]}"* ]]; then
    echo "bench: $name answered $s with $answer, want ${expect[$s]}" >&2
    exit 1
  fi
  local out calls0=0 calls1 extra="" t0 t1 ns0 ns1
  if [ "$key" = fake-redis ]; then calls0=$(redis_calls); fi
  t0=$(busy_ticks)
  ns0=$(date +%s%N)
  out=$(timeout $((duration + 30)) wrk -t"$threads" -c"$c" -d"${duration}s" --timeout 5s --latency -s "$work/$s.lua" "$url")
  t1=$(busy_ticks)
  ns1=$(date +%s%N)
  # Busy cores: the machine's busy CPU time over the wall time wrk took (its -d plus set-up).
  busy[$key.$s.$r]=$(awk -v t=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" -v ns=$((ns1 - ns0)) 'BEGIN { printf "%.2f", t / hz / (ns / 1e9) }')
  rps[$key.$s.$r]=$(awk '/^Requests\/sec:/ {printf "%.0f", $2}' <<<"$out")
  p50[$key.$s.$r]=$(to_ms "$(awk '$1 == "50%" {print $2}' <<<"$out")")
  p99[$key.$s.$r]=$(to_ms "$(awk '$1 == "99%" {print $2}' <<<"$out")")
  rtt[$key.$s.$r]="-"
  cps[$key.$s.$r]="-"
  if [ "$key" = fake-redis ]; then
    calls1=$(redis_calls)
    # Sends: wrk's requests, the check above, and any still in flight when wrk stopped (at most one
    # per connection, so the figure is exact to conns / requests).
    cps[$key.$s.$r]=$(awk -v c=$((calls1 - calls0)) -v n="$(awk '/ requests in / {print $1}' <<<"$out")" 'BEGIN { if (n > 0) printf "%.2f", c / (n + 1); else print "-" }')
    rtt[$key.$s.$r]=$(round_trips "$s")
    extra=", ${rtt[$key.$s.$r]} Redis round trips per send (${cps[$key.$s.$r]} commands with the scripts' own)"
  fi
  echo "  round $r, $key $s: ${rps[$key.$s.$r]} req/s, p50 ${p50[$key.$s.$r]} ms, p99 ${p99[$key.$s.$r]} ms, ${busy[$key.$s.$r]} cores busy$extra" >&2
}

# median prints the median of its arguments.
median() {
  printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

rss_mb() {
  awk '/^VmHWM:/ {printf "%.1f", $2 / 1024}' "/proc/$1/status"
}

servers=(ceiling fake fake-quiet fake-redis)
declare -A port=([ceiling]=$CEIL_PORT [fake]=$FAKE_PORT [fake-quiet]=$QUIET_PORT [fake-redis]=$REDIS_FAKE_PORT [prism]=$PRISM_PORT)
echo "starting redis-server on $work/redis.sock" >&2
redis-server --port 0 --unixsocket "$work/redis.sock" --unixsocketperm 700 --save '' --appendonly no \
  --dir "$work" --logfile "$work/redis.log" &
pids+=("$!")
for _ in $(seq 100); do redis-cli -s "$work/redis.sock" ping >/dev/null 2>&1 && break; sleep 0.05; done
redis-cli -s "$work/redis.sock" ping >/dev/null || { echo "bench: redis-server did not start:" >&2; cat "$work/redis.log" >&2; exit 1; }
echo "starting servers" >&2
start ceiling "$CEIL_PORT" "$work/ceiling" --addr "127.0.0.1:$CEIL_PORT" --token "$TOKEN"
# shellcheck disable=SC2086
start fake "$FAKE_PORT" "$work/smartappmock" --addr "127.0.0.1:$FAKE_PORT" --config bench/bench.yaml $fake_args
# shellcheck disable=SC2086
start fake-quiet "$QUIET_PORT" "$work/smartappmock" --addr "127.0.0.1:$QUIET_PORT" --config bench/bench.yaml --log-level warn $fake_args
# shellcheck disable=SC2086
start fake-redis "$REDIS_FAKE_PORT" "$work/smartappmock" --addr "127.0.0.1:$REDIS_FAKE_PORT" --config bench/bench.yaml --store "unix://$work/redis.sock" $fake_args
if [ "$prism" = 1 ]; then
  prism_dir=${PRISM_DIR:-$HOME/.cache/smartappmock-bench/prism-$PRISM_VERSION}
  if [ ! -x "$prism_dir/node_modules/.bin/prism" ]; then
    echo "installing Prism $PRISM_VERSION (npm) into $prism_dir" >&2
    mkdir -p "$prism_dir"
    (cd "$prism_dir" && npm install --silent --no-audit --no-fund "@stoplight/prism-cli@$PRISM_VERSION" >/dev/null)
  fi
  start prism "$PRISM_PORT" "$prism_dir/node_modules/.bin/prism" mock -h 127.0.0.1 -p "$PRISM_PORT" openapi.yaml
  servers+=(prism)
fi

for r in $(seq "$rounds"); do
  for s in "${scenarios[@]}"; do
    for name in "${servers[@]}"; do
      load "$name" "${port[$name]}" "$s" "$r"
    done
  done
done

declare -A rss
for name in "${servers[@]}"; do
  rss[$name]=$(rss_mb "${pid[$name]}")
done

# The saturation loads, after the RSS readings (more connections hold more memory).
sat_servers=()
if [ "$sat_conns" -gt 0 ]; then
  sat_servers=(fake fake-redis)
  for r in $(seq "$rounds"); do
    for s in "${scenarios[@]}"; do
      for name in "${sat_servers[@]}"; do
        load "$name" "${port[$name]}" "$s" "$r" "$sat_conns" "$name@$sat_conns"
      done
    done
  done
fi

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }

# med KIND NAME S: the median over rounds of rps, p50, p99 or busy; ratio_to NAME OTHER S: the median of
# the per-round ratios.
med() {
  local -n arr=$1
  local vals=() r
  for r in $(seq "$rounds"); do vals+=("${arr[$2.$3.$r]}"); done
  median "${vals[@]}" | awk -v k="$1" '{ if (k == "rps") printf "%.0f\n", $1; else printf "%.2f\n", $1 }'
}
ratio_to() {
  local vals=() r
  for r in $(seq "$rounds"); do vals+=("$(ratio "${rps[$1.$3.$r]}" "${rps[$2.$3.$r]}")"); done
  median "${vals[@]}"
}
# med_redis KIND NAME S: the median over rounds of rtt or cps ("-" for the servers without Redis).
med_redis() {
  local -n arr=$1
  local vals=() r
  [ "$2" = fake-redis ] || { echo "-"; return; }
  for r in $(seq "$rounds"); do vals+=("${arr[$2.$3.$r]}"); done
  median "${vals[@]}"
}

echo
echo "wrk -t$threads -c$conns -d${duration}s on loopback, $rounds round(s) (medians), $(nproc) cores, $(go env GOVERSION), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo
printf '| %-10s | %-8s | %10s | %9s | %9s | %9s | %8s | %8s | %8s | %9s |\n' server scenario "sends/s" "x ceiling" "p50 ms" "p99 ms" "start ms" "RSS MB" "RT/send" "cmds/send"
printf '|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|\n' ------------ ---------- -----------: ----------: ----------: ----------: ---------: ---------: ---------: ----------:
for s in "${scenarios[@]}"; do
  for name in "${servers[@]}"; do
    printf '| %-10s | %-8s | %10s | %9s | %9s | %9s | %8s | %8s | %8s | %9s |\n' "$name" "$s" "$(med rps "$name" "$s")" \
      "$(ratio_to "$name" ceiling "$s")" "$(med p50 "$name" "$s")" "$(med p99 "$name" "$s")" \
      "${startup[$name]}" "${rss[$name]}" "$(med_redis rtt "$name" "$s")" "$(med_redis cps "$name" "$s")"
  done
done
echo
echo "RT/send: round trips to Redis per send (MONITOR, 20 sends); cmds/send: commands Redis ran per send, scripts' inner calls included"
for s in "${scenarios[@]}"; do
  line="cores busy during the loads of $s (of $(nproc)):"
  for name in "${servers[@]}"; do line+=" $name $(med busy "$name" "$s"),"; done
  echo "${line%,}"
done
for s in "${scenarios[@]}"; do
  echo "fake-redis / fake (in memory), $s: $(ratio_to fake-redis fake "$s")x"
done
if [ "$sat_conns" -gt 0 ]; then
  echo
  echo "At -c $sat_conns (busy: the machine's cores in use during the load, of $(nproc); a server is saturated when the cores are):"
  echo
  printf '| %-16s | %-8s | %10s | %9s | %9s | %6s |\n' server scenario "sends/s" "p50 ms" "p99 ms" busy
  printf '|%s|%s|%s|%s|%s|%s|\n' ------------------ ---------- -----------: ----------: ----------: -------:
  for s in "${scenarios[@]}"; do
    for name in "${sat_servers[@]}"; do
      printf '| %-16s | %-8s | %10s | %9s | %9s | %6s |\n' "$name@$sat_conns" "$s" "$(med rps "$name@$sat_conns" "$s")" \
        "$(med p50 "$name@$sat_conns" "$s")" "$(med p99 "$name@$sat_conns" "$s")" "$(med busy "$name@$sat_conns" "$s")"
    done
  done
  echo
  for s in "${scenarios[@]}"; do
    echo "fake-redis / fake (in memory) at -c $sat_conns, $s: $(ratio_to "fake-redis@$sat_conns" "fake@$sat_conns" "$s")x"
  done
fi
if [ "$prism" = 1 ]; then
  echo
  for s in "${scenarios[@]}"; do
    echo "fake / prism, $s: $(ratio_to fake prism "$s")x; fake-quiet / prism: $(ratio_to fake-quiet prism "$s")x"
  done
fi
