// validate.mjs checks Kubernetes manifests against Kubernetes' own OpenAPI schemas, with the npm
// package kubernetes-models (its compiled validators: types, required fields, enums and formats of
// every field; fields the schemas do not name are not caught). .ci/checks.d/40-k8s-schema.sh
// installs the packages in a temporary folder and runs it on deploy/k8s/*.yaml:
//
//   node validate.mjs FILE.yaml...      (exit 1 when any document fails, naming the field)
import fs from "node:fs";
import yaml from "js-yaml";
const kinds = {
  "apps/v1/Deployment": (await import("kubernetes-models/apps/v1/Deployment")).Deployment,
  "v1/Service": (await import("kubernetes-models/v1/Service")).Service,
  "v1/Secret": (await import("kubernetes-models/v1/Secret")).Secret,
};
let bad = 0;
for (const f of process.argv.slice(2)) {
  for (const doc of yaml.loadAll(fs.readFileSync(f, "utf8"))) {
    if (!doc) continue;
    const K = kinds[`${doc.apiVersion}/${doc.kind}`];
    if (!K) { console.log(`${f}: ${doc.apiVersion} ${doc.kind}: no schema here (add the kind to validate.mjs)`); bad++; continue; }
    try { new K(doc).validate(); console.log(`ok ${f}: ${doc.kind}/${doc.metadata?.name}`); }
    catch (e) { console.log(`FAIL ${f}: ${doc.kind}/${doc.metadata?.name}: ${e.message}`); bad++; }
  }
}
process.exit(bad ? 1 : 0);
