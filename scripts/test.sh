#!/usr/bin/env bash
# Sets everything up (scripts/setup.sh), runs the type check and the linter, starts what the tests
# need, runs the whole vitest suite and prints one line `N passed, N failed` (`, N skipped` only
# when some were), which CI reads; vitest's own summary is not a format CI understands
# (reference/stack.md §3.6). The type check and the linter count as one test each in that line.
# Exits non-zero when the suite or either check failed; a failed set-up prints `0 passed, 1 failed`.
# Extra arguments go to vitest (e.g. a file filter: scripts/test.sh test/e2e).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
REPORT=.ci/vitest.json

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

mkdir -p "$(dirname "$REPORT")"
rm -f "$REPORT"
rc=0
node_modules/.bin/vitest run --reporter=default --reporter=json --outputFile.json="$REPORT" "$@" \
  </dev/null || rc=$?

# Count from the JSON report. A test file that fails to load has no failed test but fails the
# run, and so do errors outside tests: both count as failures so the line agrees with the status.
node - "$REPORT" "$rc" "$checks_passed" "$checks_failed" <<'EOF'
const fs = require('node:fs');
const [file, rcText, checksPassedText, checksFailedText] = process.argv.slice(2);
const rc = Number(rcText);
const checksPassed = Number(checksPassedText);
const checksFailed = Number(checksFailedText);
if (!fs.existsSync(file)) {
  console.error(`test: vitest wrote no report (${file}); see its output above`);
  console.log(`${checksPassed} passed, ${checksFailed + 1} failed`);
  process.exit(0);
}
const r = JSON.parse(fs.readFileSync(file, 'utf8'));
const brokenFiles = r.testResults.filter(
  (f) => f.status === 'failed' && !f.assertionResults.some((t) => t.status === 'failed'),
).length;
let failed = r.numFailedTests + brokenFiles;
if (rc !== 0 && failed === 0) {
  console.error('test: vitest failed outside any test (see its output above); counted as 1 failure');
  failed = 1;
}
const skipped = r.numPendingTests + r.numTodoTests;
const passed = r.numPassedTests + checksPassed;
failed += checksFailed;
console.log(`${passed} passed, ${failed} failed` + (skipped ? `, ${skipped} skipped` : ''));
EOF
summary_printed=1
if [ "$checks_failed" -gt 0 ] && [ "$rc" = 0 ]; then
  log "the suite passed, but $checks_failed static check(s) failed (see FAILED above); exiting 1"
  rc=1
fi
exit "$rc"
