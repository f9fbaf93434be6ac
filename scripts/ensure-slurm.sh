#!/usr/bin/env bash
# Makes sure the Slurm and munge programs are installed, for the slurm-batch worker manager's
# tests: each test file starts its own private one-node Slurm (test/support/slurm.ts) and never
# uses /etc/slurm or a system munged, so this script only installs and starts nothing.
# As root on Debian it installs what is missing of slurmctld, slurmd, slurm-client and munge
# (about 12 s); elsewhere it says what to install and carries on, since only those tests need it.
# Idempotent: a machine that has them costs one dpkg query.
set -euo pipefail

log() { echo "ensure-slurm: $*" >&2; }

is_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'ok installed'; }
is_debian_root() { [ "$(id -u)" = 0 ] && [ -r /etc/debian_version ] && command -v apt-get >/dev/null 2>&1; }

if ! is_debian_root; then
  [ -x /usr/sbin/slurmctld ] && [ -x /usr/sbin/slurmd ] && [ -x /usr/sbin/munged ] && command -v sbatch >/dev/null 2>&1 && exit 0
  log "warning: Slurm is not installed and this script installs it only as root on Debian/Ubuntu;"
  log "  the Slurm tests will fail until slurmctld, slurmd, the Slurm client commands and munge are installed"
  exit 0
fi

missing=()
for package in slurmctld slurmd slurm-client munge; do
  is_installed "$package" || missing+=("$package")
done
[ "${#missing[@]}" -eq 0 ] && exit 0

log "installing ${missing[*]} (apt)"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq </dev/null >/dev/null || { log "error: apt-get update failed"; exit 1; }
# Debian has no policy to start daemons here (no systemd), so installing starts nothing.
if ! apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null >/dev/null 2>&1; then
  # Older releases ship the daemons only inside the slurm-wlm metapackage.
  log "installing slurm-wlm munge instead"
  apt-get install -y -qq slurm-wlm munge </dev/null >/dev/null || { log "error: apt-get install slurm-wlm munge failed"; exit 1; }
fi
