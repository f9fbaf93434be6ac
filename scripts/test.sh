#!/usr/bin/env bash
# Sets everything up (scripts/setup.sh), runs the type check and the linter, starts what the tests
# need, runs the whole vitest suite, then the fault suite (test/faults, vitest.faults.config.ts: it
# restarts dockerd and takes the machine, so it runs alone, one file at a time), and prints one
# line `N passed, N failed` (`, N skipped` only when some were) over both, which CI reads; vitest's
# own summary is not a format CI understands (reference/stack.md §3.6). The type check and the
# linter count as one test each in that line. The fault suite's scenario table (lost and stuck
# runs per scenario) is printed in its output. Exits non-zero when either suite or either check
# failed; a failed set-up prints `0 passed, 1 failed`.
# Extra arguments select what runs: ones naming test/faults go to the fault suite alone
# (scripts/test.sh test/faults/burst.test.ts); any others go to the main suite alone, and the
# fault suite is skipped (scripts/test.sh test/e2e).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
REPORT=.ci/vitest.json
FAULTS_REPORT=.ci/vitest-faults.json

log() { echo "test: $*" >&2; }

# CI must always see a count line, even when no test could run.
summary_printed=0
trap '[ "$summary_printed" = 1 ] || echo "0 passed, 1 failed"' EXIT

if ! bash scripts/setup.sh; then
  log "set-up failed; no tests ran (counted as 1 failure)"
  exit 1
fi

# Static checks before the suite. Both run even when the first fails, and the suite runs after
# them either way, so one CI round shows every problem.
checks_passed=0
checks_failed=0
run_check() {
  local name=$1
  shift
  log "running $name ($*)"
  if "$@" </dev/null; then
    checks_passed=$((checks_passed + 1))
  else
    log "FAILED: $name (output above); counted as 1 failure"
    checks_failed=$((checks_failed + 1))
  fi
}
run_check "type check" npm run --silent typecheck
run_check "linter" npm run --silent lint

# Components the tests need that no test starts itself. dockerd is already up after set-up;
# asking again is free and keeps this list honest as components are added.
bash scripts/ensure-docker.sh

# Remove stopped containers that earlier runs left behind (a reused machine keeps
# /var/lib/docker). Running ones are left alone: after a dockerd restart none of ours runs,
# so a running one belongs to a live test or a user's run on this machine.
stale=$(docker ps -aq --filter label=org.codalab.worker \
  --filter status=exited --filter status=created --filter status=dead)
if [ -n "$stale" ]; then
  # shellcheck disable=SC2086  # one id a line, split on purpose
  docker rm -f $stale >/dev/null
fi

# Which suites run (see the header): by default both, one after the other.
run_main=1
run_faults=1
if [ "$#" -gt 0 ]; then
  case " $* " in
    *test/faults*) run_main=0 ;;
    *) run_faults=0 ;;
  esac
fi

mkdir -p "$(dirname "$REPORT")"
rm -f "$REPORT" "$FAULTS_REPORT"
# Each suite that ran is counted from its own JSON report, with its exit status.
main_rc=0
faults_rc=0
counted=()
if [ "$run_main" = 1 ]; then
  node_modules/.bin/vitest run --reporter=default --reporter=json --outputFile.json="$REPORT" "$@" \
    </dev/null || main_rc=$?
  counted+=("$REPORT" "$main_rc")
fi
if [ "$run_faults" = 1 ]; then
  log "running the fault suite (test/faults, one file at a time)"
  # The main run has built dist/ already.
  if [ "$run_main" = 1 ]; then export CL_SKIP_BUILD=1; fi
  node_modules/.bin/vitest run --config vitest.faults.config.ts --reporter=default --reporter=json \
    --outputFile.json="$FAULTS_REPORT" "$@" </dev/null || faults_rc=$?
  counted+=("$FAULTS_REPORT" "$faults_rc")
fi
rc=0
if [ "$main_rc" != 0 ] || [ "$faults_rc" != 0 ]; then rc=1; fi

# Count from the JSON reports. A test file that fails to load has no failed test but fails the
# run, and so do errors outside tests: both count as failures so the line agrees with the status.
node - "$checks_passed" "$checks_failed" "${counted[@]}" <<'EOF'
const fs = require('node:fs');
const [checksPassedText, checksFailedText, ...reports] = process.argv.slice(2);
let passed = Number(checksPassedText);
let failed = Number(checksFailedText);
let skipped = 0;
for (let i = 0; i < reports.length; i += 2) {
  const file = reports[i];
  const rc = Number(reports[i + 1]);
  if (!fs.existsSync(file)) {
    console.error(`test: vitest wrote no report (${file}); see its output above`);
    failed += 1;
    continue;
  }
  const r = JSON.parse(fs.readFileSync(file, 'utf8'));
  const brokenFiles = r.testResults.filter(
    (f) => f.status === 'failed' && !f.assertionResults.some((t) => t.status === 'failed'),
  ).length;
  let failedHere = r.numFailedTests + brokenFiles;
  if (rc !== 0 && failedHere === 0) {
    console.error(`test: vitest failed outside any test (${file}; see its output above); counted as 1 failure`);
    failedHere = 1;
  }
  failed += failedHere;
  passed += r.numPassedTests;
  skipped += r.numPendingTests + r.numTodoTests;
}
console.log(`${passed} passed, ${failed} failed` + (skipped ? `, ${skipped} skipped` : ''));
EOF
summary_printed=1
if [ "$checks_failed" -gt 0 ] && [ "$rc" = 0 ]; then
  log "the suites passed, but $checks_failed static check(s) failed (see FAILED above); exiting 1"
  rc=1
fi
exit "$rc"
