#!/usr/bin/env bash
# Sets everything up (scripts/setup.sh), starts what the tests need, runs the whole vitest suite
# and prints one line `N passed, N failed` (`, N skipped` only when some were), which CI reads;
# vitest's own summary is not a format CI understands (reference/stack.md §3.6).
# Exits with vitest's status; a failed set-up prints `0 passed, 1 failed` and exits non-zero.
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
node - "$REPORT" "$rc" <<'EOF'
const fs = require('node:fs');
const [file, rcText] = process.argv.slice(2);
const rc = Number(rcText);
if (!fs.existsSync(file)) {
  console.error(`test: vitest wrote no report (${file}); see its output above`);
  console.log('0 passed, 1 failed');
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
console.log(`${r.numPassedTests} passed, ${failed} failed` + (skipped ? `, ${skipped} skipped` : ''));
EOF
summary_printed=1
exit "$rc"
