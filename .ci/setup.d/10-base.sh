#!/usr/bin/env bash
# Tools the README's walk-through and the docs' command tests need (curl), openssl (the CA's test), and the C compiler that
# go test -race needs (the race detector is built with cgo) — present on most machines, installed if not.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
command -v curl >/dev/null || apt_install curl ca-certificates
command -v openssl >/dev/null || apt_install openssl  # tlsca: openssl x509 -text shows the CA's name constraints
command -v "${CC:-gcc}" >/dev/null || command -v cc >/dev/null || apt_install gcc libc6-dev
