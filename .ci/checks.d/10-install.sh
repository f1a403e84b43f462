#!/usr/bin/env bash
# The README's install commands, from this clone: `go install` of the command (what
# `go install …/cmd/smartappmock@latest` does with the published module) into a private GOBIN, and
# `go build -o smartappmock`; both binaries run. Nothing lands in the real $GOPATH/bin.
set -euo pipefail
cd "$(dirname "$0")/../.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
GOBIN="$tmp/bin" go install ./cmd/smartappmock
"$tmp/bin/smartappmock" version
go build -o "$tmp/smartappmock" ./cmd/smartappmock
"$tmp/smartappmock" version
echo "binary: $(( $(stat -c %s "$tmp/smartappmock") / 1024 / 1024 )) MB"
