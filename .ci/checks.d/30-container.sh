#!/usr/bin/env bash
# The container check: builds the image from Dockerfile with buildah (no Docker engine needed) and
# tests the running container (scripts/container-test.sh; setup.d/30-buildah.sh installs buildah).
set -euo pipefail
cd "$(dirname "$0")/../.."
bash scripts/container-test.sh
