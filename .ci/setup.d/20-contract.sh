#!/usr/bin/env bash
# What the contract kit's example clients need (examples/examples_test.go): python3 (standard
# library only), node (18+ for fetch; 20 is what the examples are written for), sh and curl (7.87+
# for --url-query). Installed only when missing.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
missing=()
command -v python3 >/dev/null || missing+=(python3)
command -v node >/dev/null || missing+=(nodejs)
command -v curl >/dev/null || missing+=(curl ca-certificates)
if [ ${#missing[@]} -gt 0 ]; then apt_install "${missing[@]}"; fi
python3 --version
node --version
v=$(curl --version) # not `| head`: under pipefail that can end with SIGPIPE (exit 141)
echo "${v%%$'\n'*}"
