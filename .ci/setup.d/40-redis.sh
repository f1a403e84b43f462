#!/usr/bin/env bash
# Installs Debian's redis-server for the Redis store's tests (store/redisstore) and the scale-out
# test (cmd/smartappmock), and HAProxy, which the scale-out test runs with
# deploy/compose/haproxy.cfg in front of the replicas: each test starts its own processes (Redis
# on a unix socket in a temporary folder) and stops them by PID, so nothing is started here.
set -euo pipefail
cd "$(dirname "$0")/../.."
source .ci/lib.sh
apt_install redis-server haproxy
redis-server --version
# The first line only, without a pipe: under pipefail, `haproxy -v | head -n 1` can end with
# SIGPIPE (exit 141) when head closes the pipe before haproxy has written everything.
v=$(haproxy -v)
echo "${v%%$'\n'*}"
