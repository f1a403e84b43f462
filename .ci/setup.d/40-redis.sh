#!/usr/bin/env bash
# Installs Debian's redis-server for the Redis store's tests (store/redisstore): each test starts
# its own server on a unix socket in a temporary folder and stops it by PID, so nothing is started
# here (the package does not start it as a service either way).
set -euo pipefail
cd "$(dirname "$0")/../.."
source .ci/lib.sh
apt_install redis-server
redis-server --version
