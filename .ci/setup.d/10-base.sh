#!/usr/bin/env bash
# Tools the README's walk-through and the docs' command tests need (curl) — present on most machines, installed if not.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
command -v curl >/dev/null || apt_install curl ca-certificates
