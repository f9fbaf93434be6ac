#!/usr/bin/env bash
# First contact on a fresh machine: sets everything up (scripts/setup.sh), then runs one bundle on
# the embedded local instance (no server to configure: bin/cl starts one with a worker) and shows
# its stdout. The run prints from inside a container of the default image.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/setup.sh

# --tail follows the run's output until it finishes; ^1 is the newest bundle on the worksheet.
bin/cl run 'echo hello from inside a container; uname -a; python3 --version' --tail </dev/null
echo '--- bin/cl cat ^1/stdout:'
bin/cl cat ^1/stdout </dev/null
