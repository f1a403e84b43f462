#!/usr/bin/env bash
# The developers' inner loop, as docs/development.md shows it: `go test -short ./...` skips the tests
# that start a program outside Go or build a binary (internal/testenv) and must pass on its own.
# It prints how long it took; docs/development.md says what to expect on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/../.."
start=$(date +%s)
go test -short ./...
echo "go test -short ./...: $(( $(date +%s) - start )) s"
