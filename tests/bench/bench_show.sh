#!/bin/bash
# mfcctl show on a big table: the whole client run (paged: 1000 rows a
# request) against cat of a file holding the same text, -j (one reply), the
# first page of route.list against a page of a small table, and what the
# listings cost mfcd in memory (VmHWM before and after). Each time is the
# mean of K runs. Needs root; everything runs in a network namespace named
# bench-show-PID, deleted at exit. See tests/bench/README.md.
#
#   tests/bench/bench_show.sh [-b BUILD_DIR] [-m MFCD] [-n N,N,...] [-k K]
set -euo pipefail

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$src/tests/bench/lib.sh"
build=${MFCD_BUILD_DIR:-$src/build}
sizes=1000,10000,50000
runs=5
mfcd=
while getopts "b:m:n:k:h" opt; do
  case $opt in
    b) build=$OPTARG ;;
    m) mfcd=$OPTARG ;;
    n) sizes=$OPTARG ;;
    k) runs=$OPTARG ;;
    *) sed -n '2,9p' "$0"; exit 2 ;;
  esac
done
mfcd=${mfcd:-$build/mfcd}
ctl=$build/mfcctl
[ -x "$mfcd" ] && [ -x "$ctl" ] || { echo "build mfcd and mfcctl in $build first" >&2; exit 1; }
command -v socat >/dev/null || { echo "bench_show needs socat" >&2; exit 1; }

ns=bench-show-$$
work=$(mktemp -d /tmp/bench-show.XXXXXX)
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
ip -n "$ns" link add bo1 type veth peer name bo1p
for l in bi0 bi0p bo1 bo1p; do ip -n "$ns" link set "$l" up; done

# mean_us CMD...: the mean wall time of K runs of CMD, in microseconds.
mean_us() {
  local t0 t1 i
  t0=$(now_us)
  for ((i = 1; i <= runs; i++)); do "$@"; done
  t1=$(now_us)
  echo $(((t1 - t0) / runs))
}
ms() { awk -v u="$1" 'BEGIN { printf "%.1f", u / 1000 }'; }
hwm_kb() { awk '/^VmHWM/ {print $2}' "/proc/$pid/status"; }
show_text() { ip netns exec "$ns" "$ctl" -p -u "$work/sock" show >"$work/show.txt"; }
show_json() { ip netns exec "$ns" "$ctl" -j -u "$work/sock" show >"$work/show.json"; }
cat_text() { cat "$work/show.txt" >/dev/null; }
page() {  # the first page of 1000, over socat as a script would ask
  echo '{"jsonrpc":"2.0","id":1,"method":"route.list","params":{"limit":1000}}' |
    ip netns exec "$ns" socat -t 10 - "UNIX-CONNECT:$work/sock" >/dev/null
}
# The floor of one client run: a call that lists nothing.
version() { ip netns exec "$ns" "$ctl" -u "$work/sock" version >/dev/null; }

printf '%8s %10s %10s %10s %10s %8s %10s %12s %12s\n' N "show ms" "cat ms" "-j ms" \
  "1st page" "rows" "version ms" "HWM before" "HWM show/-j"
for n in ${sizes//,/ }; do
  write_config "$n" "$work/routes.conf" bi0 bo1
  rm -f "$work/pid"
  ip netns exec "$ns" "$mfcd" -n -S "" -f "$work/routes.conf" -u "$work/sock" -P "$work/pid" -l err &
  pid=$!
  for _ in $(seq 1200); do [ -e "$work/pid" ] && break; sleep 0.1; done
  [ -e "$work/pid" ] || { echo "mfcd did not start with $n routes" >&2; exit 1; }
  hwm0=$(hwm_kb)
  show_text
  hwm_show=$(hwm_kb)
  t_show=$(mean_us show_text)
  t_cat=$(mean_us cat_text)
  rows=$(grep -c '^(' "$work/show.txt" || true)
  t_page=$(mean_us page)
  t_version=$(mean_us version)
  t_json=$(mean_us show_json)
  hwm_json=$(hwm_kb)
  printf '%8d %10s %10s %10s %10s %8d %10s %9d kB %6d/%d kB\n' "$n" \
    "$(ms "$t_show")" "$(ms "$t_cat")" "$(ms "$t_json")" \
    "$(ms "$t_page")" "$rows" "$(ms "$t_version")" "$hwm0" "$hwm_show" "$hwm_json"
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  pid=
done
