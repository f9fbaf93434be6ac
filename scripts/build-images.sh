#!/usr/bin/env bash
# Makes sure the two images the product and its tests use exist in the local Docker engine:
#   codalab/default-cpu:latest  the default run image (bash, coreutils, python3), as in CodaLab
#   busybox:latest              a tiny test image (busybox applets, /bin/bash, user nobody)
# An image that already exists is left alone. A missing one is pulled when a registry answers,
# and otherwise built from Debian packages (our CI reaches no registry; DESIGN.md §4).
# Needs a running engine (scripts/ensure-docker.sh). Building needs root, debootstrap and
# busybox-static. Usage: build-images.sh [--verify]   (--verify: run the smoke checks even when
# nothing was built).
set -euo pipefail

DEFAULT_IMAGE=codalab/default-cpu:latest
BUSYBOX_IMAGE=busybox:latest
# A pull that has not started downloading after this many seconds means no usable registry;
# one that is downloading may take up to the long limit (the real CodaLab image is large).
PULL_START_SECONDS=${CODALAB_PULL_START_SECONDS:-20}
PULL_MAX_SECONDS=${CODALAB_PULL_MAX_SECONDS:-900}
DEBIAN_SUITE=${CODALAB_DEBIAN_SUITE:-bookworm}
# Images are global to the engine, so the lock is machine-wide, not per checkout.
LOCK_FILE=${CODALAB_IMAGES_LOCK:-/tmp/codalab-build-images.lock}
IMAGE_PATH_ENV='PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
# /bin/bash for busybox images, which have no bash applet: the product runs `/bin/bash -c CMD`.
BASH_STANDIN='#!/bin/sh
# No bash in this image: busybox sh (ash) stands in for it.
exec /bin/sh "$@"
'

log() { echo "build-images: $*" >&2; }
die() { log "error: $*"; exit 1; }

has_image() { docker image inspect "$1" >/dev/null 2>&1; }

verify=0
case "${1:-}" in
  --verify) verify=1 ;;
  '') ;;
  *) die "unknown argument '$1' (usage: build-images.sh [--verify])" ;;
esac

docker info >/dev/null 2>&1 || die "no Docker engine answers; run scripts/ensure-docker.sh first"

# Fast path: nothing to do, no lock, no temp dir.
if has_image "$DEFAULT_IMAGE" && has_image "$BUSYBOX_IMAGE" && [ "$verify" = 0 ]; then
  exit 0
fi

# Everything below is created by this run and removed on exit, even on failure.
WORK_DIR=''
PULL_PID=''
cleanup() {
  if [ -n "$PULL_PID" ]; then kill "$PULL_PID" 2>/dev/null || true; fi
  if [ -n "$WORK_DIR" ] && [ -d "$WORK_DIR" ]; then
    # debootstrap mounts proc/sys inside the target; an interrupted run can leave them mounted,
    # and rm -rf must never descend into them.
    awk -v d="$WORK_DIR/" 'index($2, d) == 1 { print $2 }' /proc/mounts | sort -r \
      | while read -r m; do umount -l "$m" 2>/dev/null || true; done
    rm -rf --one-file-system "$WORK_DIR"
  fi
}
trap cleanup EXIT

# Tries `docker pull`; fails fast when no registry answers, waits longer once layers download.
try_pull() {
  local image=$1 out
  out=$(mktemp)
  docker pull "$image" >"$out" 2>&1 </dev/null &
  PULL_PID=$!
  local started=$SECONDS rc=0
  while kill -0 "$PULL_PID" 2>/dev/null; do
    local elapsed=$((SECONDS - started))
    if { [ "$elapsed" -ge "$PULL_START_SECONDS" ] && ! grep -qE 'Downloading|Pull complete|Already exists' "$out"; } \
      || [ "$elapsed" -ge "$PULL_MAX_SECONDS" ]; then
      kill "$PULL_PID" 2>/dev/null || true
      log "pull of $image gave up after ${elapsed}s"
      break
    fi
    sleep 0.5
  done
  wait "$PULL_PID" || rc=$?
  PULL_PID=''
  if [ "$rc" != 0 ]; then
    log "pull of $image failed ($(tail -n 1 "$out")); building it locally"
  fi
  rm -f "$out"
  return "$rc"
}

# The first Debian mirror apt uses here (deb822 or one-line format), else deb.debian.org.
debian_mirror() {
  local uri=''
  if [ -r /etc/apt/sources.list.d/debian.sources ]; then
    uri=$(awk '/^URIs:/ { for (i = 2; i <= NF; i++) if ($i !~ /security/) { print $i; exit } }' \
      /etc/apt/sources.list.d/debian.sources)
  fi
  if [ -z "$uri" ] && [ -r /etc/apt/sources.list ]; then
    # "deb [options] URI suite components": skip the optional [...] field.
    uri=$(awk '$1 == "deb" { f = 2; if ($2 ~ /^\[/) { while ($f !~ /\]$/) f++; f++ }
                             if ($f !~ /security/) { print $f; exit } }' /etc/apt/sources.list)
  fi
  echo "${CODALAB_DEBIAN_MIRROR:-${uri:-http://deb.debian.org/debian}}"
}

need_root_tool() {
  [ "$(id -u)" = 0 ] || die "building $1 needs root (or a reachable registry to pull it from)"
  command -v "$2" >/dev/null 2>&1 || die "building $1 needs '$2': run scripts/ensure-docker.sh as root, or apt-get install $3"
}

build_default_image() {
  need_root_tool "$DEFAULT_IMAGE" debootstrap debootstrap
  local root="$WORK_DIR/default-cpu" mirror
  mirror=$(debian_mirror)
  log "building $DEFAULT_IMAGE with debootstrap ($DEBIAN_SUITE from $mirror; about a minute)"
  # minbase = essential + apt: bash and coreutils come with it; python3 is what runs need most.
  debootstrap --variant=minbase --include=python3 "$DEBIAN_SUITE" "$root" "$mirror" \
    >"$WORK_DIR/debootstrap.log" 2>&1 </dev/null \
    || { tail -n 20 "$WORK_DIR/debootstrap.log" >&2; die "debootstrap failed (log above)"; }
  # Package caches are a third of the tree and useless in a run; /dev is provided by Docker.
  rm -rf "${root:?}"/var/cache/apt/archives/*.deb "${root:?}"/var/cache/apt/*.bin \
    "${root:?}"/var/lib/apt/lists/* "${root:?}"/var/log/* "${root:?}"/dev/*
  tar -C "$root" -c . | docker import -c "ENV $IMAGE_PATH_ENV" -c 'ENV LANG=C.UTF-8' \
    -c 'CMD ["/bin/bash"]' - "$DEFAULT_IMAGE" >/dev/null
}

build_busybox_image() {
  local busybox
  busybox=$(command -v busybox || true)
  [ -n "$busybox" ] || die "building $BUSYBOX_IMAGE needs busybox-static: run scripts/ensure-docker.sh as root, or apt-get install busybox-static"
  # The image holds nothing but this binary, so it must not need shared libraries.
  if ldd "$busybox" >/dev/null 2>&1; then
    die "$busybox is dynamically linked; install busybox-static (apt-get install busybox-static)"
  fi
  local root="$WORK_DIR/busybox" applet
  log "building $BUSYBOX_IMAGE from $busybox"
  mkdir -p "$root"/{bin,etc,tmp,proc,sys,dev,root,usr,var/tmp}
  chmod 1777 "$root/tmp" "$root/var/tmp"
  cp -L "$busybox" "$root/bin/busybox"
  for applet in $("$root/bin/busybox" --list); do
    [ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"
  done
  # One directory serves all the usual PATH entries (scripts with #!/usr/bin/env work).
  ln -s bin "$root/sbin"
  ln -s ../bin "$root/usr/bin"
  ln -s ../bin "$root/usr/sbin"
  # The product runs every command as `/bin/bash -c ...`. Debian's busybox has no bash applet
  # (checked by the loop above); then /bin/bash is a script run by busybox sh (ash).
  if [ ! -e "$root/bin/bash" ]; then
    printf '%s' "$BASH_STANDIN" >"$root/bin/bash"
    chmod 755 "$root/bin/bash"
  fi
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/sh\n' \
    >"$root/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
  tar -C "$root" -c . | docker import -c "ENV $IMAGE_PATH_ENV" -c 'CMD ["/bin/sh"]' \
    - "$BUSYBOX_IMAGE" >/dev/null
}

# Smoke checks: what every run does (/bin/bash -c), as root and as an unprivileged user.
verify_images() {
  local user out
  for user in 0:0 65534:65534; do
    out=$(docker run --rm --network none --user "$user" "$BUSYBOX_IMAGE" /bin/bash -c 'echo hi; id -u') \
      || die "$BUSYBOX_IMAGE failed to run /bin/bash -c as $user"
    [ "$out" = "hi"$'\n'"${user%%:*}" ] || die "$BUSYBOX_IMAGE as $user printed '$out', expected hi and ${user%%:*}"
    out=$(docker run --rm --network none --user "$user" "$DEFAULT_IMAGE" \
      /bin/bash -c 'python3 -c "print(1)"; id -u') \
      || die "$DEFAULT_IMAGE failed to run /bin/bash -c as $user"
    [ "$out" = "1"$'\n'"${user%%:*}" ] || die "$DEFAULT_IMAGE as $user printed '$out', expected 1 and ${user%%:*}"
  done
}

# A pulled busybox (Docker Hub's) has no /bin/bash either: add the same stand-in on top of it.
add_bash_if_missing() {
  local image=$1 cid
  docker run --rm --network none --entrypoint /bin/sh "$image" -c '[ -x /bin/bash ]' && return 0
  log "adding a /bin/bash stand-in (busybox sh) to the pulled $image"
  printf '%s' "$BASH_STANDIN" >"$WORK_DIR/bash"
  chmod 755 "$WORK_DIR/bash"
  cid=$(docker create "$image")
  local ok=0
  if docker cp "$WORK_DIR/bash" "$cid:/bin/bash"; then
    docker commit -m 'add /bin/bash stand-in' "$cid" "$image" >/dev/null && ok=1
  fi
  docker rm -f "$cid" >/dev/null
  [ "$ok" = 1 ] || die "could not add /bin/bash to $image"
}

ensure_image() {
  local image=$1 build=$2
  has_image "$image" && return 0
  changed=1
  if try_pull "$image"; then
    [ "$image" != "$BUSYBOX_IMAGE" ] || add_bash_if_missing "$image"
    return 0
  fi
  "$build"
}

# Two set-ups at once (e.g. quickstart and tests) must not both spend a minute building.
# Opened read-only: flock needs no write access, so a user in the docker group can share the
# lock file root created (and /tmp's protected_regular forbids O_CREAT on others' files).
[ -e "$LOCK_FILE" ] || : >"$LOCK_FILE"
exec 9<"$LOCK_FILE"
if ! flock -n 9; then
  log "another build-images is running; waiting for it"
  flock -w 1800 9 || die "timed out waiting for $LOCK_FILE"
fi

WORK_DIR=$(mktemp -d "${TMPDIR:-/var/tmp}/codalab-images.XXXXXX")
changed=0
# busybox first: it takes a second, and tests that only need it can start sooner.
ensure_image "$BUSYBOX_IMAGE" build_busybox_image
ensure_image "$DEFAULT_IMAGE" build_default_image
if [ "$changed" = 1 ] || [ "$verify" = 1 ]; then
  verify_images
  log "images ready: $BUSYBOX_IMAGE, $DEFAULT_IMAGE"
fi
