#!/usr/bin/env bash
# Installs and configures a real container engine for scripts/container-test.sh: Debian's podman
# with runc, the CNI plugins and dnsname (containers of a compose project find each other by
# service name), docker-compose (it drives podman through the Docker API socket that the script
# starts with `podman system service`), and what the local stand-in images are made of: a static
# busybox, curl, jq, CA certificates (Redis and HAProxy come from 40-redis.sh).
#
# crun, podman's default runtime, refuses this kernel's hybrid cgroups and the default rlimits, so
# /etc/containers/containers.conf names runc and sets no default ulimits. Idempotent: running it
# again changes nothing. Nothing is started here: the script starts and stops its own service.
set -euo pipefail
cd "$(dirname "$0")/../.."
source .ci/lib.sh
apt_install podman runc uidmap slirp4netns containernetworking-plugins \
  golang-github-containernetworking-plugin-dnsname docker-compose busybox-static curl jq ca-certificates

conf=/etc/containers/containers.conf
want='[containers]
default_ulimits = []

[engine]
runtime = "runc"'
if ! grep -q '^runtime = "runc"' "$conf" 2>/dev/null || ! grep -q '^default_ulimits = \[\]' "$conf" 2>/dev/null; then
  mkdir -p /etc/containers
  if [ -s "$conf" ]; then
    cp "$conf" "$conf.before-smartappmock"
    echo "note: $conf replaced; the previous file is $conf.before-smartappmock"
  fi
  printf '# Written by .ci/setup.d/35-podman.sh: crun refuses this kernel'"'"'s cgroups and rlimits.\n%s\n' "$want" >"$conf"
fi
podman --version
v=$(runc --version) # not `| head`: under pipefail that can end with SIGPIPE (exit 141)
echo "${v%%$'\n'*}"
docker-compose version --short
podman info --format 'runtime {{.Host.OCIRuntime.Name}}, cgroups {{.Host.CgroupsVersion}}, storage {{.Store.GraphDriverName}}'
