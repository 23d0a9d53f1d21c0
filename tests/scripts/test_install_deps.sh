#!/bin/bash
# scripts/install-deps against a fake apt-get, dpkg-query and id in PATH:
# apt-get is asked to wait for the package manager's locks, a lock still
# held at the end is explained (who holds it, what to do) with exit 1, any
# other failure gets its own hint, and nothing is installed when nothing is
# missing. Needs neither root nor the network.
set -euo pipefail

SRC=${MFCD_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
SCRIPT=$SRC/scripts/install-deps
WORK=$(mktemp -d "/tmp/mfcd-install-deps-$$.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

BIN=$WORK/bin
mkdir -p "$BIN"
# dpkg-query: every package missing, unless FAKE_ALL_INSTALLED is set.
cat >"$BIN/dpkg-query" <<'SH'
#!/bin/sh
[ -n "${FAKE_ALL_INSTALLED:-}" ] && echo "install ok installed"
exit 0
SH
cat >"$BIN/id" <<'SH'
#!/bin/sh
echo 0
SH
# apt-get: records its arguments; fails as FAKE_APT says for the command
# (update or install): "lock" as apt does when another process holds the
# lock past DPkg::Lock::Timeout, "net" as for an unreachable mirror.
cat >"$BIN/apt-get" <<'SH'
#!/bin/sh
echo "$*" >>"$FAKE_LOG"
for a in "$@"; do
  case $a in update | install) cmd=$a ;; esac
done
case "${FAKE_APT:-}" in
  "$cmd:lock")
    echo "E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 4242 (unattended-upgr)" >&2
    echo "E: Unable to acquire the dpkg frontend lock (/var/lib/dpkg/lock-frontend), is another process using it?" >&2
    exit 100
    ;;
  "$cmd:net")
    echo "E: Failed to fetch http://deb.debian.org/debian/dists/bookworm/InRelease" >&2
    exit 100
    ;;
esac
exit 0
SH
chmod +x "$BIN"/*

# run ENV...: install-deps with the fakes; sets rc, out (stdout and stderr).
run() {
  rc=0
  : >"$WORK/apt.log"
  out=$(env PATH="$BIN:$PATH" FAKE_LOG="$WORK/apt.log" "$@" sh "$SCRIPT" 2>&1) || rc=$?
}

run FAKE_ALL_INSTALLED=1
[ "$rc" -eq 0 ] || fail "all installed: exit $rc: $out"
[ ! -s "$WORK/apt.log" ] || fail "all installed, yet apt-get ran: $(cat "$WORK/apt.log")"
echo "ok: nothing missing, apt-get not run"

run
[ "$rc" -eq 0 ] || fail "a plain install: exit $rc: $out"
grep -q '^-o DPkg::Lock::Timeout=600 update' "$WORK/apt.log" ||
  fail "apt-get update does not wait for the lock: $(cat "$WORK/apt.log")"
grep -q '^-o DPkg::Lock::Timeout=600 install -y .* cmake ' "$WORK/apt.log" ||
  fail "apt-get install does not wait for the lock: $(cat "$WORK/apt.log")"
echo "ok: update and install wait for the locks (600 s)"

run INSTALL_DEPS_LOCK_TIMEOUT=30 FAKE_APT=install:lock
[ "$rc" -eq 1 ] || fail "a held lock: exit $rc, expected 1: $out"
grep -q 'DPkg::Lock::Timeout=30 install' "$WORK/apt.log" || fail "INSTALL_DEPS_LOCK_TIMEOUT ignored"
grep -q 'apt-get install failed: another package manager (process 4242 (unattended-upgr)) still holds apt.s lock after 30s' <<<"$out" ||
  fail "a held lock is not explained: $out"
grep -q 'unattended-upgrades.service' <<<"$out" || fail "no hint what to look at: $out"
grep -q 'INSTALL_DEPS_LOCK_TIMEOUT=1800 scripts/install-deps' <<<"$out" || fail "no hint how to wait longer: $out"
grep -q 'E: Could not get lock' <<<"$out" || fail "apt-get's own message is hidden: $out"
echo "ok: a lock held too long: exit 1, who holds it and what to do"

run FAKE_APT=update:lock
[ "$rc" -eq 1 ] || fail "a held lock at update: exit $rc, expected 1: $out"
grep -q 'apt-get update failed: another package manager' <<<"$out" || fail "update: not explained: $out"
if grep -q ' install ' "$WORK/apt.log"; then fail "install ran after update failed"; fi
echo "ok: a lock held at update: exit 1, explained, no install"

run FAKE_APT=update:net
[ "$rc" -eq 1 ] || fail "a failed update: exit $rc, expected 1: $out"
grep -q 'apt-get update failed (apt-get exit 100, see above); check the network' <<<"$out" ||
  fail "a failed update is not explained: $out"
echo "ok: another failure: exit 1, with its own hint"

echo "PASS: install_deps"
