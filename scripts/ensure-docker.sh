#!/usr/bin/env bash
# Makes sure a Docker engine answers on this machine (DESIGN.md §4).
# As root on Debian it installs what is missing of docker.io, busybox-static and debootstrap
# (build-images.sh needs them), zip and docker-registry (tests pull from their own registry, which
# they start themselves), then starts dockerd detached, since these machines have no systemd.
# Elsewhere it does nothing when `docker info` already works, and otherwise says how to install
# Docker and fails.
# Idempotent: safe on a fresh machine and on a reused one whose dockerd was stopped.
set -euo pipefail

DOCKERD_LOG=${DOCKERD_LOG:-/var/log/dockerd.log}
WAIT_SECONDS=${DOCKER_WAIT_SECONDS:-60}
# --icc=false: containers on the default bridge cannot reach each other, so workers put runs with a
# network there instead of on a bridge of their own, whose embedded DNS costs each run ~0.1 s of start.
DOCKERD=(/usr/sbin/dockerd --icc=false)
DOCKERD_PIDFILE=/var/run/docker.pid
CONTAINERD_PIDFILE=/var/run/docker/containerd/containerd.pid
LOCK_FILE=/tmp/codalab-ensure-docker.lock

log() { echo "ensure-docker: $*" >&2; }
die() { log "error: $*"; exit 1; }

engine_answers() { docker info >/dev/null 2>&1; }

is_debian_root() { [ "$(id -u)" = 0 ] && [ -r /etc/debian_version ] && command -v apt-get >/dev/null 2>&1; }

engine_up=false
if command -v docker >/dev/null 2>&1 && engine_answers; then engine_up=true; fi

if ! is_debian_root; then
  "$engine_up" && exit 0
  cat >&2 <<'EOF'
ensure-docker: error: no Docker engine answers (`docker info` failed), and this script can only
install one as root on Debian/Ubuntu. Install Docker yourself, then rerun:
  - Debian/Ubuntu:  sudo apt-get install -y docker.io && sudo systemctl start docker
  - others:         https://docs.docker.com/engine/install/
  - make sure your user may use it:  sudo usermod -aG docker "$USER"  (then log in again)
EOF
  exit 1
fi

# Install only what is missing, so a reused machine costs no apt time.
missing=()
[ -x /usr/sbin/dockerd ] || missing+=(docker.io)
# busybox-static specifically: the test image copies the binary, so it must be statically linked.
is_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'ok installed'; }
is_installed busybox-static || missing+=(busybox-static)
is_installed debootstrap || missing+=(debootstrap)
# zip builds the zip files that the tests upload (the server reads them with yauzl).
is_installed zip || missing+=(zip)
# The image cache tests push to and pull from a registry on loopback that they start themselves
# (/usr/bin/docker-registry serve); where systemd runs, the package's own service also starts.
is_installed docker-registry || missing+=(docker-registry)
if [ "${#missing[@]}" -gt 0 ]; then
  log "installing ${missing[*]} (apt)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq </dev/null >/dev/null || die "apt-get update failed"
  apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null >/dev/null \
    || die "apt-get install ${missing[*]} failed"
fi
"$engine_up" && exit 0

# Two set-ups at once (quickstart and tests) must not both start a daemon: the second would
# find the first one's pid file, and removing a "stale" one could race with a fresh start.
exec 8>"$LOCK_FILE"
flock -w $((WAIT_SECONDS + 30)) 8 || die "timed out waiting for $LOCK_FILE"
if engine_answers; then exit 0; fi

# A killed daemon can linger as a zombie (kill -0 succeeds on it) and pids get reused, so
# "alive" means: a process of that name that is not a zombie.
is_live() {
  local pid=$1 name=$2 state
  [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$name" ] || return 1
  state=$(sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1)
  [ -n "$state" ] && [ "$state" != Z ]
}
is_live_dockerd() { is_live "$1" dockerd; }

fail_with_log() {
  log "error: $1; last lines of $DOCKERD_LOG:"
  tail -n 20 "$DOCKERD_LOG" >&2 || true
  exit 1
}

# dockerd writes its pid file first thing, so a live pid there means one is already starting.
# A pid file left by a killed daemon would make a new one refuse to start.
dockerd_pid=$(cat "$DOCKERD_PIDFILE" 2>/dev/null || true)
if is_live_dockerd "$dockerd_pid"; then
  log "dockerd (pid $dockerd_pid) is running but not answering yet; waiting"
else
  rm -f "$DOCKERD_PIDFILE"
  # After a SIGKILL, dockerd's containerd pid file can name a dead (zombie) containerd; dockerd
  # would wait on it and give up ("timeout waiting for containerd to start"). A live one is
  # reused by dockerd, so only a dead one's file goes.
  is_live "$(cat "$CONTAINERD_PIDFILE" 2>/dev/null || true)" containerd || rm -f "$CONTAINERD_PIDFILE"
  [ -w "$(dirname "$DOCKERD_LOG")" ] || DOCKERD_LOG=/tmp/dockerd.log
  log "starting dockerd (log: $DOCKERD_LOG)"
  # setsid + no stdin: the daemon must outlive this script and never hold a CI terminal open.
  # 8>&-: it must not inherit (and so hold forever) the lock. Not a group leader here, so
  # setsid execs dockerd in place and $! is the daemon's pid.
  setsid "${DOCKERD[@]}" >>"$DOCKERD_LOG" 2>&1 </dev/null 8>&- &
  dockerd_pid=$!
fi

# Bounded wait: a daemon that does not answer within the limit is a failure, not a hang, and
# one that exits (bad config, port or pid file in use) fails at once with its log.
deadline=$((SECONDS + WAIT_SECONDS))
until engine_answers; do
  is_live_dockerd "$dockerd_pid" || fail_with_log "dockerd (pid $dockerd_pid) exited"
  [ "$SECONDS" -lt "$deadline" ] || fail_with_log "dockerd did not answer within ${WAIT_SECONDS}s"
  sleep 0.25
done
log "dockerd is up"
