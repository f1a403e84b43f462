#!/usr/bin/env bash
# The container check under a real engine: builds the image from Dockerfile with podman, runs it,
# the compose sandboxes (docker-compose.yml, docker-compose.scale.yml) and the testcontainers
# module's tests (scripts/container-test.sh; setup.d/35-podman.sh installs podman and runc).
set -euo pipefail
cd "$(dirname "$0")/../.."
bash scripts/container-test.sh
