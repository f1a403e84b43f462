#!/usr/bin/env bash
# npm, for the Kubernetes schema check (.ci/checks.d/40-k8s-schema.sh installs kubernetes-models
# with it in a temporary folder). Node's own packages often bring npm; Debian's nodejs does not.
set -euo pipefail
cd "$(dirname "$0")/../.."
source .ci/lib.sh
command -v npm >/dev/null || apt_install npm
echo "npm $(npm --version)"
