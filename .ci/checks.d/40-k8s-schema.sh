#!/usr/bin/env bash
# Validates the Kubernetes manifests (deploy/k8s/*.yaml) against Kubernetes' OpenAPI schemas with
# the npm package kubernetes-models (deploy/k8s/validate.mjs), installed at pinned versions in a
# temporary folder. A broken copy (a port given as a string) must fail, so the validator is known
# to validate. TestDeploy_Kubernetes (cmd/smartappmock) checks that the pieces fit.
set -euo pipefail
cd "$(dirname "$0")/../.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp deploy/k8s/validate.mjs "$tmp/"
(cd "$tmp" && npm install --no-audit --no-fund --silent kubernetes-models@5.1.0 js-yaml@4.1.0 >/dev/null)
node "$tmp/validate.mjs" deploy/k8s/*.yaml
sed 's/containerPort: 8080/containerPort: "8080"/' deploy/k8s/smartappmock.yaml >"$tmp/broken.yaml"
if node "$tmp/validate.mjs" "$tmp/broken.yaml" >"$tmp/broken.out"; then
  cat "$tmp/broken.out"; echo "the validator accepted a port given as a string"; exit 1
fi
grep -q 'containerPort must be integer' "$tmp/broken.out" || { cat "$tmp/broken.out"; exit 1; }
echo "k8s schema ok (and a broken copy fails: $(grep -m1 FAIL "$tmp/broken.out"))"
