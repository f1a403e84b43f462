#!/usr/bin/env bash
# The README's install commands, from this clone: `go install ./cmd/smartappmock` into a private
# GOBIN, then `smartappmock version` through PATH; `go build -o smartappmock`; and a scratch module
# that requires this clone through a replace directive, as the README shows for Go tests, and
# builds. Nothing lands in the real $GOPATH/bin.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
GOBIN="$tmp/bin" go install ./cmd/smartappmock
PATH="$tmp/bin:$PATH" smartappmock version
go build -o "$tmp/smartappmock" ./cmd/smartappmock
"$tmp/smartappmock" version
echo "binary: $(( $(stat -c %s "$tmp/smartappmock") / 1024 / 1024 )) MB"

# A Go module of a user's, next to the clone: the README's two lines, then a test helper import.
mkdir -p "$tmp/user"
cd "$tmp/user"
go mod init example.com/user >/dev/null 2>&1
cat >user_test.go <<'GO'
package user

import (
	"testing"

	"github.com/smartappmock/smartappmock/mockserver/mockservertest"
)

func TestFake(t *testing.T) { _ = mockservertest.New(t, nil) }
GO
go mod edit -require github.com/smartappmock/smartappmock@v0.0.0 -replace "github.com/smartappmock/smartappmock=$root"
GOFLAGS=-mod=mod go mod tidy
go vet ./...
echo "a module requiring the clone builds"
