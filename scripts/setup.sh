#!/usr/bin/env bash
# The common set-up behind quickstart.sh and test.sh: Node check, npm dependencies, build,
# Docker engine, Slurm packages (for the Slurm tests), images. Every step is skipped when already
# done, so a second run takes seconds and prints nothing. On a fresh machine it takes about 2-3
# minutes (npm ci compiles better-sqlite3; the default image is built with debootstrap), the two
# running side by side.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
SCRIPTS=scripts

log() { echo "setup: $*" >&2; }
die() { log "error: $*"; exit 1; }

# Runs a quiet step; its output is shown only when it fails.
run_quietly() {
  local what=$1 out rc=0
  shift
  out=$(mktemp)
  "$@" >"$out" 2>&1 </dev/null || rc=$?
  if [ "$rc" != 0 ]; then
    tail -n 40 "$out" >&2
    rm -f "$out"
    die "$what failed (exit $rc; output above)"
  fi
  rm -f "$out"
}

# 1. Node 20.15 or newer (the dependency pins assume 20; zip checksums use zlib.crc32, new in 20.15).
command -v node >/dev/null 2>&1 \
  || die "node is not installed; install Node.js 20.15 or newer (https://nodejs.org/en/download)"
node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 15) ? 0 : 1)' \
  || die "node $(node --version) is too old; this project needs Node.js 20.15 or newer"

# Installs a Debian package the tests need, as root on Debian only; elsewhere says what will fail.
install_test_package() { # PACKAGE WHAT-FAILS-WITHOUT-IT
  if [ "$(id -u)" = 0 ] && [ -f /etc/debian_version ]; then
    log "installing $1 (apt-get install $1)"
    run_quietly "apt-get update" apt-get update -qq
    run_quietly "apt-get install $1" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$1"
  else
    log "$1 is not installed; $2 will fail: install Debian's $1 package"
  fi
}

# 2a. PostgreSQL server binaries, for the tests that run the Store on a private cluster (they fail
# without them, never skip). Debian's package, as root only; the cluster it may start is not used.
# Before the Docker step, which may run apt-get too: two at once would fight over apt's lock.
if ! compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; then
  install_test_package postgresql "the tests of the PostgreSQL store"
fi

# 2b. Chromium, for the web interface's browser tests (driven by playwright-core; they fail
# without it, never skip). Debian's package, as root only; before Docker's apt for the same reason.
if ! command -v chromium >/dev/null 2>&1; then
  install_test_package chromium "the web interface's browser tests"
fi

# 2. Docker engine, Slurm packages and images, in the background: on a fresh machine they take
# about as long as npm ci, and neither needs the other. Their scripts print only when they do
# something. Slurm comes after Docker because both may run apt, which takes one lock.
(bash "$SCRIPTS/ensure-docker.sh" && bash "$SCRIPTS/ensure-slurm.sh" && bash "$SCRIPTS/build-images.sh") </dev/null >&2 &
docker_pid=$!
# Even when a later step fails, let it finish (apt or debootstrap must not be cut off halfway)
# rather than leave it running after this script has returned.
trap 'wait "$docker_pid" 2>/dev/null || true' EXIT

# 3. npm dependencies, only when missing or older than the lock file. npm rewrites its hidden
# lock file node_modules/.package-lock.json on every install, so it dates the installed tree.
installed_stamp=node_modules/.package-lock.json
if [ -L node_modules ]; then
  # A node_modules shared with another checkout through a symlink: npm ci would empty the
  # directory it points to under every other user of it. Use it as it is.
  log "node_modules is a symlink; not installing npm dependencies over a shared install"
elif [ -f package-lock.json ]; then
  if [ ! -d node_modules ] || [ ! -e "$installed_stamp" ] || [ package-lock.json -nt "$installed_stamp" ]; then
    log "installing npm dependencies (npm ci; about 2 minutes on a fresh machine)"
    run_quietly "npm ci" npm ci --no-audit --no-fund
    touch "$installed_stamp"
  fi
elif [ ! -d node_modules ] || [ package.json -nt node_modules ]; then
  log "installing npm dependencies (npm install; no package-lock.json)"
  run_quietly "npm install" npm install --no-audit --no-fund
  touch node_modules
fi

# 4. Compile TypeScript to dist/ (bin/* load the compiled code).
run_quietly "npm run build" npm run --silent build

# 5. Wait for the Docker side.
docker_rc=0
wait "$docker_pid" || docker_rc=$?
[ "$docker_rc" = 0 ] || die "Docker or Slurm set-up failed (exit $docker_rc; output above)"
