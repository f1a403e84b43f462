#!/usr/bin/env bash
# Installs what scripts/container-test.sh needs: buildah (builds and runs OCI images without a
# Docker engine, here with the vfs storage driver and chroot isolation) and a static busybox for the
# stand-in Go base image's shell; docker-compose validates docker-compose.yml (no engine needed).
set -euo pipefail
cd "$(dirname "$0")/../.."
source .ci/lib.sh
apt_install buildah busybox-static ca-certificates curl jq docker-compose
buildah --version
