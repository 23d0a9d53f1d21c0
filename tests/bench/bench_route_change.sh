#!/bin/bash
# One route.add / route.add of an OIF / route.remove over mfcctl while N
# static (S,G) routes are installed: what a single API call costs on a big
# table. Each figure is the mean over K calls, minus the mean of K calls
# that change nothing (mfcctl version), so the client's own start-up and
# round trip are not counted. Needs root; everything runs in a network
# namespace named bench-chg-PID, deleted at exit. See tests/bench/README.md.
#
#   tests/bench/bench_route_change.sh [-b BUILD_DIR] [-m MFCD] [-n N,N,...] [-k K]
set -euo pipefail

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$src/tests/bench/lib.sh"
build=${MFCD_BUILD_DIR:-$src/build}
sizes=10000,50000
calls=20
mfcd=
while getopts "b:m:n:k:h" opt; do
  case $opt in
    b) build=$OPTARG ;;
    m) mfcd=$OPTARG ;;
    n) sizes=$OPTARG ;;
    k) calls=$OPTARG ;;
    *) sed -n '2,10p' "$0"; exit 2 ;;
  esac
done
mfcd=${mfcd:-$build/mfcd}
ctl=$build/mfcctl
[ -x "$mfcd" ] && [ -x "$ctl" ] || { echo "build mfcd and mfcctl in $build first" >&2; exit 1; }

ns=bench-chg-$$
work=$(mktemp -d /tmp/bench-chg.XXXXXX)
pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  ip netns del "$ns" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

ip netns add "$ns"
ip -n "$ns" link set lo up
ip -n "$ns" link add bi0 type veth peer name bi0p
for i in 1 2 3; do ip -n "$ns" link add "bo$i" type veth peer name "bo${i}p"; done
for l in bi0 bi0p bo1 bo1p bo2 bo2p bo3 bo3p; do ip -n "$ns" link set "$l" up; done

run_calls() {  # prints the total time of K calls of: mfcctl ARGS (with $i substituted)
  local t0 t1 i
  t0=$(now_us)
  for ((i = 1; i <= calls; i++)); do
    ip netns exec "$ns" "$ctl" -u "$work/sock" $(eval echo "$*") >/dev/null
  done
  t1=$(now_us)
  echo $((t1 - t0))
}

printf '%8s %12s %12s %12s %12s %9s\n' N "no-op us" "add us" "+oif us" "remove us" entries
for n in ${sizes//,/ }; do
  write_config "$n" "$work/routes.conf" bi0 bo1 bo2 bo3
  rm -f "$work/pid"
  ip netns exec "$ns" "$mfcd" -n -S "" -f "$work/routes.conf" -u "$work/sock" -P "$work/pid" -l err &
  pid=$!
  for _ in $(seq 600); do [ -e "$work/pid" ] && break; sleep 0.1; done
  [ -e "$work/pid" ] || { echo "mfcd did not start with $n routes" >&2; exit 1; }
  nop=$(run_calls version)
  add=$(run_calls 'add bi0 198.51.100.$i 226.0.0.$i bo1 bo2')
  oif=$(run_calls 'add bi0 198.51.100.$i 226.0.0.$i bo3')
  del=$(run_calls 'remove bi0 198.51.100.$i 226.0.0.$i')
  entries=$(ip netns exec "$ns" tail -n +2 /proc/net/ip_mr_cache | wc -l)
  printf '%8d %12d %12d %12d %12d %9d\n' "$n" $((nop / calls)) $(((add - nop) / calls)) \
    $(((oif - nop) / calls)) $(((del - nop) / calls)) "$entries"
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  pid=
done
