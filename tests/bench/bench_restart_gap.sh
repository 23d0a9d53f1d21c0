#!/bin/bash
# The forwarding gap of a package upgrade and of a restart, with N static
# (S,G) routes (default 10,000): one of them carries a 1,000 pps flow from
# the sender to recv1, and the receiver counts the datagrams missing
# between the first and the last it got (mctool's "lost").
#
#   upgrade  what the package does: dpkg writes the new binary beside the
#            old one and renames it over it while mfcd runs, and leaves the
#            daemon running (debian/rules: --no-stop-on-upgrade and
#            --no-restart-after-upgrade; tests/package checks the maintainer
#            scripts). The daemon must keep its PID and answer.
#   restart  what `systemctl restart mfcd` does, and so what an operator
#            pays to run the new version: SIGTERM (mfcd takes every route
#            out of the kernel on exit) and a new start on the same config.
#
# Uses the end-to-end library (tests/e2e/lib.sh) for the namespaces, the
# daemon and the traffic; needs a kernel that routes multicast, so
# tests/bench/run runs it in the test bed here. Under TCG the gap is in the
# emulated machine's time: compare it with the same figure for another
# build, and read the datagram counts as exact.
#
#   tests/bench/bench_restart_gap.sh [-b BUILD_DIR] [-n ROUTES] [-s SECONDS]
set -euo pipefail

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${MFCD_BUILD_DIR:-$src/build}
routes=10000
steady=2
while getopts "b:n:s:h" opt; do
  case $opt in
    b) build=$OPTARG ;;
    n) routes=$OPTARG ;;
    s) steady=$OPTARG ;;
    *) sed -n '2,22p' "$0"; exit 64 ;;
  esac
done
[[ $routes =~ ^[1-9][0-9]*$ ]] || { echo "bench_restart_gap: -n wants a positive count" >&2; exit 64; }
[[ $steady =~ ^[1-9][0-9]*$ ]] || { echo "bench_restart_gap: -s wants whole seconds" >&2; exit 64; }
export MFCD_BUILD_DIR=$build MFCD_SOURCE_DIR=$src
# shellcheck source=../e2e/lib.sh
. "$src/tests/e2e/lib.sh"

# The daemon runs from a copy that the "upgrade" replaces, as dpkg replaces
# /usr/sbin/mfcd.
installed=$E2E_WORK/sbin/mfcd
mkdir -p "$E2E_WORK/sbin"
cp "$MFCD_BINARY" "$installed"
printf '#!/bin/sh\nexec "%s" -S "%s" "$@"\n' "$installed" "$STATE_FILE" >"$MFCD"

topo
GROUP=225.1.2.3
{
  echo "mroute from r-in source $SENDER4 group $GROUP to r-out1"
  awk -v n="$((routes - 1))" 'BEGIN {
    for (i = 0; i < n; i++)
      printf "mroute from r-in source 198.18.%d.%d group 232.%d.%d.%d to r-out1 r-out2\n",
        int(i / 250) % 250, i % 250 + 1, int(i / 65536) + 1, int(i / 256) % 256, i % 256
  }'
} >"$E2E_WORK/routes.conf"

now_ms() { local t=$EPOCHREALTIME; echo $((${t/./} / 1000)); }

# measure WHAT ACTION...: the flow runs for `steady` seconds, ACTION runs,
# the flow runs until its entry is back and `steady` seconds more; prints
# what the receiver lost and how long ACTION took.
measure() {
  local what=$1
  shift
  recv_start gap recv1 "$GROUP" --until-stopped
  local start
  start=$(now_ms)
  send_start "$GROUP" -r 1000
  sleep "$steady"
  local t0 t1
  t0=$(now_ms)
  "$@"
  t1=$(now_ms)
  wait_for 30 "the flow's entry back in the kernel" e2e_resolved 4 "$SENDER4" "$GROUP"
  sleep "$steady"
  send_stop "$SEND_PID"
  local elapsed=$(($(now_ms) - start))
  recv_stop gap 1
  recv_count gap
  local out=$E2E_WORK/recv.gap.out lost sent
  lost=$(awk '$1 == "lost" {print $2}' "$out")
  sent=$(awk '$1 == "first_seq" {f = $2} $1 == "last_seq" {l = $2} END {print l - f + 1}' "$out")
  local pps=$((sent * 1000 / elapsed))
  printf '%s: %d of %d datagrams lost, %d ms of forwarding at the %d pps the sender reached; the step took %d ms\n' \
    "$what" "$lost" "$sent" "$((lost * 1000 / (pps > 0 ? pps : 1)))" "$pps" "$((t1 - t0))"
}

upgrade() {
  cp "$MFCD_BINARY" "$installed.dpkg-new"
  mv -f "$installed.dpkg-new" "$installed"
}
restart() {
  mfcd_stop
  mfcd_start <"$E2E_WORK/routes.conf"
}

mfcd_start <"$E2E_WORK/routes.conf"
expect_mroute 4 "$SENDER4" "$GROUP" r-in r-out1
say "$routes routes in the kernel: $(($(mroutes 4 | wc -l))) IPv4 entries"

pid_before=$MFCD_PID
measure "upgrade (binary replaced, daemon left running)" upgrade
if [ "$MFCD_PID" != "$pid_before" ] || ! kill -0 "$MFCD_PID"; then
  fail "the daemon did not survive the upgrade"
fi
rpc_ok daemon.version >/dev/null
measure "restart (stop, then start on the same $routes routes)" restart
mfcd_stop
