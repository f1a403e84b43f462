#!/usr/bin/env bash
# container-test.sh builds the smartappmock image from the real Dockerfile and runs it under a real
# container engine, podman (with runc), as root: the image by itself, the compose sandbox
# (docker-compose.yml) and the scale-out sandbox (docker-compose.scale.yml: Redis, three replicas,
# HAProxy) driven by docker-compose through podman's Docker API socket, and the testcontainers-go
# module's tests (testcontainers/) against the same socket.
#
# Base images cannot be pulled here, so local stand-ins are made and passed by name: a Go builder
# from this machine's own toolchain (GO_IMAGE), and Redis, HAProxy and curl images from Debian's
# binaries with the libraries they load (REDIS_IMAGE, HAPROXY_IMAGE, CURL_IMAGE). The compose files
# take those names from variables whose defaults are the public images.
#
# podman runs health checks from systemd timers, and this machine has no systemd: a loop here runs
# `podman healthcheck run` on every running container once a second, which is what Docker's own
# health monitor does, so "healthy", compose's service_healthy and testcontainers' waits all work.
#
# Everything it creates lives in one private podman storage under a temporary directory (images,
# containers, the socket), removed on exit with the compose projects' networks; it stops only the
# processes it started, by PID. It prints the image size, the time from `podman run` to healthy,
# and the compose stacks' time to ready.
#
#   sudo bash scripts/container-test.sh
#
# Settings: CONTAINER_TEST_PORT (default 18480, or the next free one); CONTAINER_TEST_SKIP, a comma
# list of parts to leave out (compose, testcontainers); CONTAINER_TEST_WORK, a directory to keep
# the storage in between runs (stand-ins and the build cache are then reused; only the containers,
# networks and the API service are removed at the end).
set -euo pipefail
cd "$(dirname "$0")/.."

t0=$(date +%s%N)
say() { printf '\n-- %s (%ss)\n' "$*" "$(( ($(date +%s%N) - t0) / 1000000000 ))"; }
fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }
ms_since() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
skip_part() { [[ ",${CONTAINER_TEST_SKIP:-}," == *",$1,"* ]]; }

[ "$(id -u)" = 0 ] || fail "needs root (podman with runc, the default storage driver and CNI networks)"
for tool in podman runc curl jq docker-compose ldd; do
  command -v "$tool" >/dev/null || fail "$tool is not installed (.ci/setup.d/35-podman.sh installs it)"
done
grep -q '^runtime = "runc"' /etc/containers/containers.conf 2>/dev/null ||
  fail "/etc/containers/containers.conf does not name runc (.ci/setup.d/35-podman.sh writes it: crun refuses this kernel)"
busybox=$(command -v busybox || true)
[ -n "$busybox" ] || fail "busybox is not installed (Debian busybox-static)"
if ldd "$busybox" >/dev/null 2>&1; then fail "$busybox is not static (install busybox-static)"; fi
redis_server=$(command -v redis-server || true)
redis_cli=$(command -v redis-cli || true)
haproxy_bin=$(command -v haproxy || true)
curl_bin=$(command -v curl)
[ -n "$redis_server" ] && [ -n "$redis_cli" ] || fail "redis-server and redis-cli are not installed (.ci/setup.d/40-redis.sh)"
[ -n "$haproxy_bin" ] || fail "haproxy is not installed (.ci/setup.d/40-redis.sh)"
goroot=$(go env GOROOT)
[ -x "$goroot/bin/go" ] || fail "no Go toolchain at $goroot"

workparent=${TMPDIR:-/tmp}
avail_kb=$(df -Pk "$workparent" | awk 'NR==2 {print $4}')
[ "$avail_kb" -gt $((3 * 1024 * 1024)) ] || fail "less than 3 GB free under $workparent"

keep=${CONTAINER_TEST_WORK:-}
if [ -n "$keep" ]; then
  work=$(mkdir -p "$keep" && cd "$keep" && pwd)
else
  work=$(mktemp -d "$workparent/smartappmock-ctest.XXXXXX")
fi
chmod 755 "$work"
mkdir -p "$work/tmp" "$work/libpod"
# Every podman command, and the API service that docker-compose and testcontainers talk to, use
# this private storage. Without systemd: cgroupfs and a file for events.
P=(podman --root "$work/storage" --runroot "$work/run" --tmpdir "$work/libpod"
  --cgroup-manager cgroupfs --events-backend file)
# pm runs podman on that storage. podman reports, on every container with a health check, that it
# cannot reach systemd for the check's timer: expected here (the ticker below does the job), so
# those lines are dropped from its stderr.
pm() { "${P[@]}" "$@" 2> >(grep -v -e 'unable to get systemd connection' -e 'Removing timer for container' >&2); }
# buildah (inside podman build) keeps RUN --mount=type=cache directories under TMPDIR: keep them here.
export TMPDIR="$work/tmp"

tag=ctest
image=localhost/smartappmock:latest   # the name the docs give it: docker build -t smartappmock .
go_standin=localhost/smartappmock-go-standin:$tag
redis_standin=localhost/smartappmock-redis-standin:$tag
haproxy_standin=localhost/smartappmock-haproxy-standin:$tag
curl_standin=localhost/smartappmock-curl-standin:$tag
projects=()
service_pid=""
ticker_pid=""
version="ctest-$(git describe --always --dirty 2>/dev/null || echo unknown)"
summary=()

cleanup() {
  local rc=$?
  set +e
  for p in "${projects[@]}"; do # NAME:FILE
    compose "${p%%:*}" -f "${p#*:}" down --volumes --timeout 5 >/dev/null 2>&1
  done
  pm rm --all --force --time 3 >/dev/null 2>&1
  for p in "${projects[@]}"; do pm network rm --force "${p%%:*}_default" >/dev/null 2>&1; done
  [ -n "$ticker_pid" ] && kill "$ticker_pid" 2>/dev/null && wait "$ticker_pid" 2>/dev/null
  if [ -n "$service_pid" ]; then
    kill "$service_pid" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$service_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$service_pid" 2>/dev/null
    wait "$service_pid" 2>/dev/null
  fi
  # conmon keeps the monitor of an exec session (a health check) for up to 5 minutes after its
  # container is gone, and then runs podman on this storage again, which would bring the directory
  # back: end every process whose command line names this storage, by PID.
  local d cmdline
  for d in /proc/[0-9]*; do
    cmdline=$(tr '\0' ' ' 2>/dev/null <"$d/cmdline") || continue
    [[ $cmdline == *"$work/storage"* ]] && kill "${d#/proc/}" 2>/dev/null
  done
  sleep 1
  if [ -z "$keep" ]; then
    pm rmi --all --force >/dev/null 2>&1
    # Overlay mounts and network namespaces podman left behind would keep the directory busy.
    grep -o " $work/[^ ]*" /proc/mounts | sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
    rm -rf "$work"
    if [ -e "$work" ]; then echo "warning: could not remove $work" >&2; fi
  fi
  [ "$rc" = 0 ] && echo "cleaned up: containers, images, networks, the API service, $work" ||
    echo "FAILED (exit $rc); cleaned up $work" >&2
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
pick_port() {
  local p
  for p in $(seq "$1" $(($1 + 19))); do
    port_busy "$p" || { echo "$p"; return 0; }
  done
  return 1
}
port=$(pick_port "${CONTAINER_TEST_PORT:-18480}") || fail "no free loopback port near ${CONTAINER_TEST_PORT:-18480}"
base=http://127.0.0.1:$port

# copy_with_libs DIR FILE...: copies each file into the root DIR at the same path and, for a
# dynamically linked program, every library ldd names, so that the program runs in DIR.
copy_with_libs() {
  local dir=$1 f lib
  shift
  for f in "$@"; do
    mkdir -p "$dir$(dirname "$f")"
    cp -L "$f" "$dir$f"
    for lib in $(ldd "$f" 2>/dev/null | grep -o '/[^ ]*' || true); do
      [ -e "$dir$lib" ] && continue
      mkdir -p "$dir$(dirname "$lib")"
      cp -L "$lib" "$dir$lib"
    done
  done
}

# add_busybox DIR: a static busybox in DIR/bin with a link per applet (sh, sed, sleep, ...).
add_busybox() {
  local a
  mkdir -p "$1/bin" "$1/tmp" "$1/etc"
  chmod 1777 "$1/tmp"
  cp "$busybox" "$1/bin/busybox"
  for a in $("$busybox" --list); do [ -e "$1/bin/$a" ] || ln -s busybox "$1/bin/$a"; done
}

# import_root DIR IMAGE CHANGE...: imports the root DIR as IMAGE with Dockerfile-style changes.
import_root() {
  local dir=$1 name=$2 args=() c
  shift 2
  for c in "$@"; do args+=(--change "$c"); done
  tar -C "$dir" -cf - . | pm import --quiet "${args[@]}" - "$name" >/dev/null
  rm -rf "$dir"
}

say "podman $(podman --version | awk '{print $3}') with $(runc --version | awk 'NR==1 {print $3}'); API service on $work/podman.sock"
"${P[@]}" system service --time 0 "unix://$work/podman.sock" >"$work/service.log" 2>&1 &
service_pid=$!
export DOCKER_HOST=unix://$work/podman.sock
for _ in $(seq 100); do curl -fsS --unix-socket "$work/podman.sock" http://d/_ping >/dev/null 2>&1 && break; sleep 0.1; done
curl -fsS --unix-socket "$work/podman.sock" http://d/_ping >/dev/null || { cat "$work/service.log"; fail "podman system service does not answer"; }
ok "the Docker API answers on $DOCKER_HOST (API version $(curl -fsS --unix-socket "$work/podman.sock" http://d/version | jq -r .ApiVersion))"

# health_ticker runs every running container's health check once a second (see the top comment).
health_ticker() {
  local c
  while :; do
    for c in $(pm ps --quiet 2>/dev/null); do
      pm healthcheck run "$c" >/dev/null 2>&1 || true
    done
    sleep 1
  done
}
health_ticker &
ticker_pid=$!

say "stand-in images: Go builder from $goroot, Redis, HAProxy and curl from Debian's binaries"
have() { pm image exists "$1"; }
if ! have "$go_standin"; then
  root=$work/root-go
  add_busybox "$root"
  mkdir -p "$root/usr/local" "$root/etc/ssl/certs" "$root/root" "$root/go"
  cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/"
  tar -C "$(dirname "$goroot")" --exclude="$(basename "$goroot")/test" -cf - "$(basename "$goroot")" | tar -C "$root/usr/local" -xf -
  [ "$goroot" = /usr/local/go ] || mv "$root/usr/local/$(basename "$goroot")" "$root/usr/local/go"
  import_root "$root" "$go_standin" \
    "ENV PATH=/go/bin:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
    "ENV GOPATH=/go" "ENV GOTOOLCHAIN=local" "ENV HOME=/root" "WORKDIR /go"
fi
pm run --rm --network none "$go_standin" go version

# Redis: the official image turns protected mode off (it listens for other containers without a
# password); Debian's binary has it on, so the stand-in's entrypoint passes --protected-mode no.
if ! have "$redis_standin"; then
  root=$work/root-redis
  add_busybox "$root"
  copy_with_libs "$root" "$redis_server" "$redis_cli"
  mkdir -p "$root/usr/local/bin" "$root/data"
  printf '#!/bin/sh\nif [ "$1" = redis-server ]; then shift; exec redis-server --protected-mode no "$@"; fi\nexec "$@"\n' \
    >"$root/usr/local/bin/docker-entrypoint.sh"
  chmod 755 "$root/usr/local/bin/docker-entrypoint.sh"
  import_root "$root" "$redis_standin" "ENV PATH=/usr/local/bin:/usr/sbin:/usr/bin:/bin" "WORKDIR /data" \
    'ENTRYPOINT ["docker-entrypoint.sh"]' 'CMD ["redis-server"]' "EXPOSE 6379"
fi

# HAProxy: the official image runs haproxy -W -db -f /usr/local/etc/haproxy/haproxy.cfg.
if ! have "$haproxy_standin"; then
  root=$work/root-haproxy
  add_busybox "$root"
  copy_with_libs "$root" "$haproxy_bin"
  mkdir -p "$root/usr/local/etc/haproxy" "$root/run/haproxy" "$root/var/lib/haproxy"
  import_root "$root" "$haproxy_standin" "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/bin" \
    'CMD ["haproxy", "-W", "-db", "-f", "/usr/local/etc/haproxy/haproxy.cfg"]' "STOPSIGNAL SIGUSR1"
fi

# curl: curl and a POSIX shell with sed (deploy/compose/client.sh).
if ! have "$curl_standin"; then
  root=$work/root-curl
  add_busybox "$root"
  copy_with_libs "$root" "$curl_bin"
  mkdir -p "$root/etc/ssl/certs"
  cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/"
  import_root "$root" "$curl_standin" "ENV PATH=/usr/local/bin:/usr/bin:/bin" 'ENTRYPOINT ["curl"]' "USER 100:101"
fi
v=$(pm run --rm --network none "$curl_standin" --version) || fail "the curl stand-in does not run"
echo "${v%%$'\n'*}"
ok "stand-ins: $(pm images --format '{{.Repository}} {{.Size}}' | grep standin | tr '\n' ';')"

# podman and buildah resolve no short names: the default builder image must be fully qualified.
grep -q '^ARG GO_IMAGE=docker\.io/library/golang:' Dockerfile || fail "Dockerfile's GO_IMAGE default is not fully qualified (docker.io/library/golang:…)"
say "podman build --format docker -t smartappmock . (GO_IMAGE=$go_standin, VERSION=$version)"
tb=$(date +%s%N)
pm build --quiet --format docker --network host --layers=false \
  --build-arg GO_IMAGE="$go_standin" --build-arg VERSION="$version" \
  -t "$image" -f Dockerfile . >/dev/null
build_ms=$(ms_since "$tb")
ok "built in $((build_ms / 1000))s"
[ -n "$keep" ] || pm rmi --force "$go_standin" >/dev/null # 300 MB nobody needs any more

say "image config and size"
cfg=$(pm image inspect "$image")
user=$(jq -r '.[0].Config.User // ""' <<<"$cfg")
entry=$(jq -c '[(.[0].Config.Entrypoint // [])[], (.[0].Config.Cmd // [])[]]' <<<"$cfg")
health=$(jq -c '.[0].Healthcheck.Test // []' <<<"$cfg")
ports=$(jq -c '.[0].Config.ExposedPorts // {} | keys' <<<"$cfg")
echo "   user=$user entrypoint+cmd=$entry healthcheck=$health exposed=$ports"
case ${user%%:*} in "" | 0 | root) fail "image USER is '$user': want a non-root numeric user" ;; esac
[[ ${user%%:*} =~ ^[0-9]+$ ]] || fail "image USER '$user' is not numeric (Kubernetes runAsNonRoot needs a number)"
[ "$ports" = '["8080/tcp"]' ] || fail "exposed ports $ports, want [\"8080/tcp\"]"
[ "$(jq -r '.[0]' <<<"$health")" = CMD ] || fail "HEALTHCHECK $health is not an exec-form CMD"
[ "$(jq -r '.[1:] | join(" ")' <<<"$health")" = "/smartappmock healthcheck" ] || fail "HEALTHCHECK $health, want /smartappmock healthcheck"
c=$(pm create "$image")
files=$(pm export "$c" | tar -t | grep -v '/$' | sort | tr '\n' ' ')
pm rm "$c" >/dev/null
echo "   files: $files"
[[ " $files " != *" bin/sh "* ]] || fail "the image has a shell"
size=$(pm image inspect --format '{{.Size}}' "$image")
gzsize=$(pm save --format docker-archive "$image" | gzip -c | wc -c)
[[ $size =~ ^[0-9]+$ && $gzsize =~ ^[0-9]+$ ]] || fail "cannot read the image size ($size, $gzsize)"
mb() { awk -v s="$1" 'BEGIN {printf "%.1f MB", s / 1e6}'; }
echo "IMAGE SIZE: $size bytes ($(mb "$size")) uncompressed, about $(mb "$gzsize") gzip-compressed"
# The target: at most 20 MB uncompressed with the Redis client (14.7 MB without it). The usual way
# to lose it is a package in the binary that calls reflect's Method/MethodByName (text/template,
# go-cmp's diff); cmd/smartappmock's TestBinaryKeepsUnusedMethodsOut names the culprit.
[ "$size" -le 20000000 ] || fail "image is $(mb "$size") uncompressed; the target is at most 20 MB"
ok "image is at most 20 MB uncompressed"
summary+=("image size:            $(mb "$size") uncompressed, about $(mb "$gzsize") compressed")

# wait_healthy CONTAINER START: waits up to 20 s for podman to call CONTAINER healthy (the
# ticker runs the image's HEALTHCHECK) and prints the milliseconds since START (date +%s%N).
wait_healthy() {
  local s
  for _ in $(seq 400); do
    s=$(pm inspect --format '{{.State.Health.Status}} {{.State.Running}}' "$1" 2>/dev/null || echo "gone false")
    case $s in
      "healthy true") ms_since "$2"; return 0 ;;
      *" false") pm logs "$1" >&2 || true; fail "container $1 exited before it was healthy" ;;
    esac
    pm healthcheck run "$1" >/dev/null 2>&1 || true   # do not wait for the next tick
    sleep 0.05
  done
  pm logs "$1" >&2 || true
  fail "container $1 not healthy within 20 s ($s)"
}

say "podman run -p 127.0.0.1:$port:8080 smartappmock (journal file on a mounted directory)"
mkdir -p "$work/out"
chmod 777 "$work/out"
ts=$(date +%s%N)
pm run -d --name "smartappmock-$tag" -p "127.0.0.1:$port:8080" \
  -v "$work/out:/out" -e SMARTAPPMOCK_JOURNAL_FILE=/out/journal.ndjson "$image" >/dev/null
healthy=$(wait_healthy "smartappmock-$tag" "$ts")
curl -fsS -o /dev/null "$base/__admin/health" || fail "healthy, but $base/__admin/health does not answer from the host"
echo "START TO HEALTHY: $healthy ms (podman run to the image's HEALTHCHECK passing)"
# Not `logs | grep -q`: under pipefail, grep's early exit can fail the pipeline (SIGPIPE).
grep -q "listening on http://.*:8080 (every interface; config: embedded default)" <<<"$(pm logs "smartappmock-$tag" 2>/dev/null)" ||
  { pm logs "smartappmock-$tag"; fail "unexpected start line"; }
# Start to healthy over several runs: the number the docs give.
times=()
for i in 1 2 3 4 5; do
  ts=$(date +%s%N)
  pm run -d --name "start$i-$tag" "$image" >/dev/null
  times+=("$(wait_healthy "start$i-$tag" "$ts")")
  pm rm --force --time 0 "start$i-$tag" >/dev/null
done
echo "START TO HEALTHY over five more runs: ${times[*]} ms"
summary+=("start to healthy:      $healthy ms, then ${times[*]} ms (podman run to the HEALTHCHECK passing)")

say "HEALTHCHECK command and version"
pm exec "smartappmock-$tag" /smartappmock healthcheck || fail "healthcheck failed against a healthy server"
if pm exec -e SMARTAPPMOCK_ADDR=127.0.0.1:1 "smartappmock-$tag" /smartappmock healthcheck 2>/dev/null; then
  fail "healthcheck exits 0 with nothing listening"
fi
ok "healthcheck passes, and fails with nothing listening"
hv=$(curl -fsS "$base/__admin/health" | jq -r .version)
[ "$hv" = "$version" ] || fail "health says version '$hv', want the stamped '$version'"
ok "version stamped: $hv"

say "runs as non-root"
spid=$(pm inspect --format '{{.State.Pid}}' "smartappmock-$tag")
uids=$(awk '/^Uid:/ {print $2, $3, $4, $5}' "/proc/$spid/status")
want=${user%%:*}
[ "$uids" = "$want $want $want $want" ] || fail "server PID $spid has uids '$uids', want $want"
ok "server PID $spid runs with uid $uids"

say "the README tour against the container (TestREADMEWalkthrough, SMARTAPPMOCK_TOUR_TARGET=$base)"
out=$(SMARTAPPMOCK_TOUR_TARGET=$base go test -count=1 -v -run '^TestREADMEWalkthrough$' ./cmd/smartappmock 2>&1) ||
  { echo "$out"; fail "the README tour failed against the container"; }
grep -q "the tour runs against $base" <<<"$out" || { echo "$out"; fail "the tour did not run against the container"; }
grep -E '^(--- |ok )' <<<"$out"

say "the contract kit against the container"
hostbin=$work/smartappmock
go build -o "$hostbin" ./cmd/smartappmock
"$hostbin" contract verify --strict --target "$base" || fail "contract verify against the container failed"
"$hostbin" contract run --target "$base" -- sh examples/shell/send.sh || fail "contract run --target against the container failed"
ok "contract verify --strict and contract run --target pass"
# docs/docker.md's admin API calls from the host.
curl -fsS "$base/__admin/requests" | jq -e '.count > 0' >/dev/null || fail "GET /__admin/requests: an empty journal"
curl -fsS "$base/__admin/apps" | jq -e '.apps | length > 0' >/dev/null || fail "GET /__admin/apps: no app"
curl -fsS -o /dev/null -X POST "$base/__admin/reset" || fail "POST /__admin/reset failed"
ok "admin API from the host: requests, apps, reset"

say "graceful stop on SIGTERM (podman stop)"
# The last request before the stop: its journal entry must be the file's last line.
tok=$(curl -fsS "$base/oauth/2.0/token?grant_type=client_credentials&client_id=ctest-client&client_secret=ctest-secret" | jq -r .access_token)
last=$(curl -fsS -D - -o /dev/null "$base/rest/2.0/smartapp/message/custom/send?access_token=$tok" \
  -d user_type=1 -d open_id=ctest-last -d msg_type=text -d content=last-before-stop |
  tr -d '\r' | sed -n 's/^[Xx]-[Ss]martappmock-[Rr]equest-[Ii]d: //p')
[ -n "$last" ] || fail "the last send has no X-Smartappmock-Request-Id"
tstop=$(date +%s%N)
pm stop --time 10 "smartappmock-$tag" >/dev/null
stop_ms=$(ms_since "$tstop")
rc=$(pm inspect --format '{{.State.ExitCode}}' "smartappmock-$tag")
[ "$rc" = 0 ] || { pm logs "smartappmock-$tag"; fail "exit status $rc after SIGTERM, want 0"; }
grep -q 'shutting down' <<<"$(pm logs "smartappmock-$tag" 2>&1)" || fail "no 'shutting down' log line"
jq -e . "$work/out/journal.ndjson" >/dev/null || fail "the journal file has a line that is not JSON"
filelast=$(tail -n 1 "$work/out/journal.ndjson" | jq -r .id)
[ "$filelast" = "$last" ] || fail "the journal file ends with request $filelast, the last request was $last"
ok "exit 0 in $stop_ms ms after SIGTERM; the journal file ends with the newest entry ($(wc -l <"$work/out/journal.ndjson") lines)"
summary+=("stop on SIGTERM:       exit 0 in $stop_ms ms, journal file complete")
pm rm "smartappmock-$tag" >/dev/null

say "second run: mounted config (deploy/compose) and SMARTAPPMOCK_* variables"
conf=deploy/compose/smartappmock.yaml
pm run --rm -v "$PWD/$conf:/etc/smartappmock/config.yaml:ro" "$image" config check /etc/smartappmock/config.yaml
ts=$(date +%s%N)
pm run -d -p "127.0.0.1:$port:8080" \
  -v "$PWD/$conf:/etc/smartappmock/config.yaml:ro" \
  -e SMARTAPPMOCK_CONFIG=/etc/smartappmock/config.yaml \
  -e SMARTAPPMOCK_LOG_FORMAT=json -e SMARTAPPMOCK_ADMIN_TOKEN=ctest-admin \
  --name smartappmock "$image" >/dev/null
echo "START TO HEALTHY: $(wait_healthy smartappmock "$ts") ms (mounted config)"
grep -q "config: /etc/smartappmock/config.yaml)" <<<"$(pm logs smartappmock 2>/dev/null)" || fail "the mounted config was not used"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$base/__admin/requests")" = 401 ] || fail "admin API without the token is not 401"
[ "$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer ctest-admin' "$base/__admin/requests")" = 200 ] || fail "admin API with the token is not 200"
SMARTAPP_API_BASE=$base "$busybox" sh deploy/compose/client.sh || fail "the compose client script failed"
pm logs smartappmock 2>&1 >/dev/null | tail -n 1 | jq -e . >/dev/null || fail "SMARTAPPMOCK_LOG_FORMAT=json did not give JSON logs"
ok "mounted config, admin token, JSON logs, client.sh"
pm stop --time 10 smartappmock >/dev/null
[ "$(pm inspect --format '{{.State.ExitCode}}' smartappmock)" = 0 ] || fail "second run: exit status after SIGTERM is not 0"
pm rm smartappmock >/dev/null

# compose PROJECT ARGS...: docker-compose against podman's socket, with the stand-in images.
compose() {
  local project=$1
  shift
  SMARTAPPMOCK_IMAGE=$image REDIS_IMAGE=$redis_standin HAPROXY_IMAGE=$haproxy_standin CURL_IMAGE=$curl_standin \
    SMARTAPPMOCK_PORT=$port COMPOSE_PROJECT_NAME=$project docker-compose "$@"
}

if skip_part compose; then
  echo "SKIPPED: compose (CONTAINER_TEST_SKIP)"
else
  say "docker-compose.yml: the fake and its client (docker-compose $(docker-compose version --short) on podman)"
  p=smctest$$
  projects+=("$p:docker-compose.yml")
  tc=$(date +%s%N)
  compose "$p" -f docker-compose.yml up --no-build --abort-on-container-exit --exit-code-from client client ||
    { compose "$p" -f docker-compose.yml logs; fail "docker compose up … client failed"; }
  compose_ms=$(ms_since "$tc")
  grep -q '"msg":"request"' <<<"$(compose "$p" -f docker-compose.yml logs smartappmock)" ||
    { compose "$p" -f docker-compose.yml logs smartappmock; fail "docker compose logs smartappmock shows no request"; }
  curl -fsS "$base/__admin/requests" | jq -e '.count >= 2' >/dev/null || fail "the journal from the host lacks the client's sends"
  compose "$p" -f docker-compose.yml down --timeout 10
  [ -z "$(pm ps -a --quiet --filter "label=com.docker.compose.project=$p")" ] || fail "containers left after down"
  ok "the client passed; $compose_ms ms from up to the client's exit; down left nothing"
  summary+=("docker-compose.yml:    $compose_ms ms from up to the client done")

  say "docker-compose.scale.yml: Redis, three replicas, HAProxy"
  p=smscale$$
  projects+=("$p:docker-compose.scale.yml")
  tc=$(date +%s%N)
  compose "$p" -f docker-compose.scale.yml up --no-build -d ||
    { compose "$p" -f docker-compose.scale.yml logs; fail "docker compose -f docker-compose.scale.yml up failed"; }
  for _ in $(seq 600); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$base/__admin/ready")" = 200 ] && break
    sleep 0.1
  done
  [ "$(curl -s -o /dev/null -w '%{http_code}' "$base/__admin/ready")" = 200 ] ||
    { compose "$p" -f docker-compose.scale.yml logs; fail "the scale sandbox is not ready through HAProxy after 60 s"; }
  ready_ms=$(ms_since "$tc")
  echo "COMPOSE READY: $ready_ms ms (up -d to the first 200 from /__admin/ready through HAProxy)"
  summary+=("scale sandbox ready:   $ready_ms ms (up -d to /__admin/ready through HAProxy)")
  out=$(SMARTAPPMOCK_SCALE_TARGET=$base go test -count=1 -v -run '^TestScaleOut_ComposeSandbox$' ./cmd/smartappmock 2>&1) ||
    { echo "$out"; compose "$p" -f docker-compose.scale.yml logs --tail 20; fail "the scale sandbox checks failed"; }
  grep -E '^ *(--- |ok )|spread|successes' <<<"$out"
  grep -q -- '--- SKIP' <<<"$out" && fail "TestScaleOut_ComposeSandbox skipped"

  say "one replica stopped: the others keep serving"
  compose "$p" -f docker-compose.scale.yml stop --timeout 10 replica2
  served=""
  for i in $(seq 30); do
    r=$(curl -sS -D "$work/h" "$base/oauth/2.0/token?grant_type=client_credentials&client_id=compose-client-id&client_secret=compose-client-secret" 2>&1) || true
    by=$(tr -d '\r' <"$work/h" | sed -n 's/^[Xx]-[Ss]erved-[Bb]y: //p')
    [[ $r == *'"access_token":"24.'* ]] || fail "token request $i with replica2 stopped answered '$r' (served by '$by')"
    served+="$by "
  done
  [[ $served != *replica2* ]] || fail "HAProxy sent a request to the stopped replica2: $served"
  ok "30 token requests after stopping replica2, each answered by $(tr ' ' '\n' <<<"$served" | sort -u | tr '\n' ' ')"
  td=$(date +%s%N)
  compose "$p" -f docker-compose.scale.yml down --timeout 10
  [ -z "$(pm ps -a --quiet --filter "label=com.docker.compose.project=$p")" ] || fail "containers left after down"
  ! pm network exists "${p}_default" 2>/dev/null || fail "network ${p}_default left after down"
  ok "down in $(ms_since "$td") ms: no container or network left"
fi

if skip_part testcontainers; then
  echo "SKIPPED: testcontainers (CONTAINER_TEST_SKIP)"
else
  say "the testcontainers-go module (testcontainers/) against $DOCKER_HOST"
  (
    cd testcontainers
    unformatted=$(gofmt -l .)
    [ -z "$unformatted" ] || fail "not gofmt-ed: $unformatted"
    go mod tidy -diff
    go vet ./...
    go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...
    # This machine has /.dockerenv, so testcontainers-go would look for the ports on the bridge's
    # gateway; the module publishes them on 127.0.0.1 only.
    # SMARTAPPMOCK_IMAGE is left unset: the tests' default, smartappmock:latest (the docs' name),
    # must find the image built above, localhost/smartappmock:latest.
    REDIS_IMAGE=$redis_standin TESTCONTAINERS_RYUK_DISABLED=true \
      TESTCONTAINERS_HOST_OVERRIDE=127.0.0.1 CI=true go test -count=1 -v ./... >"$work/tc.log" 2>&1 ||
      { cat "$work/tc.log"; fail "the testcontainers module's tests failed"; }
    grep -E '^(--- |ok |PASS|FAIL)' "$work/tc.log"
    ! grep -q -- '--- SKIP' "$work/tc.log" || { cat "$work/tc.log"; fail "a testcontainers test skipped under CI"; }
  )
fi

say "summary"
printf '%s\n' "${summary[@]}"
echo "build time:            $((build_ms / 1000)) s"
echo "PASS"
