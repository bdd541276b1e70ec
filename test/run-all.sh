#!/usr/bin/env bash
# `npm test`: everything, in the order that fails fastest. Build, types, lint, unit specs, the
# models' Python tests, the offline chart checks (real helm, kubeconform, kube-score), then the
# integration and end-to-end tests against real Mosquitto and Kafka (started by jest's global setup),
# then the fault tests (test/faults: toxiproxy between clients and brokers, fuzzed input, model volume,
# every component killed and restarted, 10× overload),
# then the cluster tests on a real single-node Kubernetes (test/infra/cluster.sh, images.sh).
# Benchmarks are separate (`npm run bench`).
set -euo pipefail
root="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${root}"
export NX_DAEMON=false NX_NO_CLOUD=true NX_SKIP_NX_CACHE=true
out="${root}/test-output"
mkdir -p "${out}"
rm -f "${out}"/jest-*.json

step() { printf '\n=== %s ===\n' "$*"; }
# Each jest stage runs under a time limit far above its usual length, so a hang (a handle left
# open, a stuck broker) fails that stage with its name instead of eating the whole CI budget.
limited() {
  local limit="$1"; shift
  local rc=0
  timeout --kill-after=30 "${limit}" "$@" || rc=$?
  if [[ ${rc} -eq 124 || ${rc} -eq 137 ]]; then
    printf '\n!!! stage exceeded its %ss limit: %s\n' "${limit}" "$*" >&2
  fi
  return "${rc}"
}

step build
npm run --silent build
step typecheck
npm run --silent typecheck
step lint
npm run --silent lint
step "models (pytest)"
bash models/test.sh
step "deploy tools, fault proxy"
bash test/infra/install.sh tools toxiproxy
step "unit, deploy"
limited 900 npx jest --selectProjects unit deploy --json --outputFile "${out}/jest-unit.json"
# No --forceExit: every suite closes what it opened, so jest exits on its own; a handle left
# open shows as "Jest did not exit one second after the test run has completed".
step "integration, e2e (real brokers)"
limited 1500 npx jest --selectProjects integration e2e --runInBand --json --outputFile "${out}/jest-integration.json"
step "faults (network faults through toxiproxy, hostile input, model volume, kill-and-restart matrix, overload)"
# 2100 s: the kill-and-restart matrix (~8 min) and the overload test (~2 min) joined the stage.
limited 2100 npx jest --selectProjects faults --runInBand --json --outputFile "${out}/jest-faults.json"
step "cluster (real Kubernetes node, images from the repository)"
limited 2100 npx jest --selectProjects cluster --runInBand --forceExit --json --outputFile "${out}/jest-cluster.json"

node -e '
const fs = require("fs");
let passed = 0, failed = 0, skipped = 0;
for (const f of ["jest-unit.json", "jest-integration.json", "jest-faults.json", "jest-cluster.json"]) {
  const r = JSON.parse(fs.readFileSync(process.argv[1] + "/" + f, "utf8"));
  passed += r.numPassedTests; failed += r.numFailedTests; skipped += r.numPendingTests + r.numTodoTests;
}
console.log(`\njest: ${passed} passed, ${failed} failed` + (skipped ? `, ${skipped} skipped` : ""));
process.exit(failed ? 1 : 0);
' "${out}"
