#!/usr/bin/env bash
# Installs and configures a real container engine: Debian's podman with runc. crun, podman's
# default runtime, refuses this kernel's hybrid cgroups and the default rlimits, so
# /etc/containers/containers.conf names runc and sets no default ulimits. docker-compose (Debian's,
# already installed by 30-buildah.sh) drives podman through the Docker API socket that
# scripts/engine-test.sh starts with `podman system service`; debootstrap is not needed: the local
# stand-in images are made from this machine's Go toolchain and Debian's static busybox, redis and
# haproxy binaries are copied with their libraries. Idempotent: running it again changes nothing.
set -euo pipefail
cd "$(dirname "$0")/../.."
source .ci/lib.sh
apt_install podman runc uidmap slirp4netns containernetworking-plugins docker-compose jq curl

conf=/etc/containers/containers.conf
mkdir -p /etc/containers
# Write the two settings this machine needs, keeping anything else an administrator put there.
want='[containers]
default_ulimits = []

[engine]
runtime = "runc"'
if ! grep -q '^runtime = "runc"' "$conf" 2>/dev/null || ! grep -q '^default_ulimits = \[\]' "$conf" 2>/dev/null; then
  if [ -s "$conf" ]; then
    cp "$conf" "$conf.smartappmock-backup"
    echo "note: $conf existed; a copy is in $conf.smartappmock-backup"
  fi
  printf '# Written by smartappmock .ci/setup.d/35-podman.sh: crun refuses this kernel'"'"'s cgroups and rlimits.\n%s\n' "$want" >"$conf"
fi
podman --version
runc --version | head -n 1 || true
podman info --format '{{.Host.OCIRuntime.Name}} {{.Host.CgroupsVersion}} {{.Store.GraphDriverName}}'
