#!/bin/bash
# mfcctl show on a big table: the whole client run (paged: 10,000 rows a
# request) against cat of a file holding the same text, -j (one reply), the
# first page of route.list against a page of a small table, and what the
# listings cost mfcd in memory (VmHWM before and after). Each time is the
# mean of K runs. Needs root; everything runs in a network namespace named
# bench-show-PID, deleted at exit. See tests/bench/README.md.
#
# With -s, SMCRoute side by side (smcrouted and smcroutectl from PATH; the
# Debian package smcroute, which tests/bench/run unpacks into the build
# tree and puts on PATH without installing it): the same config
# in a namespace of its own (bench-show-PID-smc, the same interface names),
# its `show` and `-d show` against mfcctl's `show` and `-j show`, its peak
# memory, and a batch of 1,000 new routes through each client's -b (one
# run each, then the same routes removed the same way).
#
#   tests/bench/bench_show.sh [-b BUILD_DIR] [-m MFCD] [-n N,N,...] [-k K] [-s]
set -euo pipefail

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$src/tests/bench/lib.sh"
build=${MFCD_BUILD_DIR:-$src/build}
sizes=1000,10000,50000
runs=5
mfcd=
smc=0
while getopts "b:m:n:k:sh" opt; do
  case $opt in
    b) build=$OPTARG ;;
    m) mfcd=$OPTARG ;;
    n) sizes=$OPTARG ;;
    k) runs=$OPTARG ;;
    s) smc=1 ;;
    *) sed -n '2,17p' "$0"; exit 2 ;;
  esac
done
mfcd=${mfcd:-$build/mfcd}
ctl=$build/mfcctl
[ -x "$mfcd" ] && [ -x "$ctl" ] || { echo "build mfcd and mfcctl in $build first" >&2; exit 1; }
command -v socat >/dev/null || { echo "bench_show needs socat" >&2; exit 1; }
if [ "$smc" = 1 ]; then
  command -v smcrouted >/dev/null && command -v smcroutectl >/dev/null ||
    { echo "bench_show -s needs smcrouted and smcroutectl (Debian package smcroute)" >&2; exit 1; }
fi

ns=bench-show-$$
smc_ns=$ns-smc
work=$(mktemp -d /tmp/bench-show.XXXXXX)
pid=
smc_pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  [ -n "$smc_pid" ] && kill "$smc_pid" 2>/dev/null && wait "$smc_pid" 2>/dev/null || true
  ip netns del "$ns" 2>/dev/null || true
  ip netns del "$smc_ns" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

for n in "$ns" $([ "$smc" = 1 ] && echo "$smc_ns"); do
  ip netns add "$n"
  ip -n "$n" link set lo up
  ip -n "$n" link add bi0 type veth peer name bi0p
  ip -n "$n" link add bo1 type veth peer name bo1p
  for l in bi0 bi0p bo1 bo1p; do ip -n "$n" link set "$l" up; done
done

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
smc_show() { ip netns exec "$smc_ns" smcroutectl -p -u "$work/smc.sock" show >"$work/smc.txt"; }
smc_show_d() { ip netns exec "$smc_ns" smcroutectl -pd -u "$work/smc.sock" show >/dev/null; }
# batch_lines VERB N: N lines "VERB bi0 SOURCE GROUP [bo1]" for routes no
# config holds (groups from 226.0.0.1 up).
batch_lines() {
  awk -v verb="$1" -v n="$2" 'BEGIN {
    for (i = 1; i <= n; i++)
      printf "%s bi0 198.19.%d.%d 226.%d.%d.%d%s\n", verb, int(i / 250) % 250, i % 250 + 1,
        int(i / 65536) % 256, int(i / 256) % 256, i % 256, verb == "add" ? " bo1" : ""
  }'
}
# timed_us CMD... <INPUT: one run's wall time, in microseconds.
timed_us() {
  local t0 t1
  t0=$(now_us)
  "$@" >/dev/null
  t1=$(now_us)
  echo $((t1 - t0))
}
mfcd_batch() { ip netns exec "$ns" "$ctl" -b -u "$work/sock"; }
smc_batch() { ip netns exec "$smc_ns" smcroutectl -b -u "$work/smc.sock"; }
mfc_count() { ip netns exec "$1" awk 'NR > 1' /proc/net/ip_mr_cache | wc -l; }

printf '%8s %10s %10s %10s %10s %8s %10s %12s %12s\n' N "show ms" "cat ms" "-j ms" \
  "1st page" "rows" "version ms" "HWM before" "HWM show/-j"
smc_lines=()
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
  if [ "$smc" = 1 ]; then
    # The batch: 1,000 new routes, then the same removed, through -b.
    batch_lines add 1000 >"$work/add.txt"
    batch_lines remove 1000 >"$work/remove.txt"
    # The same number of calls that change nothing: what the batch costs
    # apart from the routes (reading, the round trip, the replies).
    for _ in $(seq 1000); do echo version; done >"$work/version.txt"
    t_calls=$(timed_us mfcd_batch <"$work/version.txt")
    t_add=$(timed_us mfcd_batch <"$work/add.txt")
    [ "$(mfc_count "$ns")" -eq $((n + 1000)) ] || echo "mfcd: the batch did not add 1,000 entries" >&2
    t_del=$(timed_us mfcd_batch <"$work/remove.txt")
    [ "$(mfc_count "$ns")" -eq "$n" ] || echo "mfcd: the batch did not remove 1,000 entries" >&2
    mfcd_batch_ms="$(ms "$t_add")/$(ms "$t_del")/$(ms "$t_calls")"
  fi
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  pid=
  [ "$smc" = 1 ] || continue

  # SMCRoute on the same config, in its own namespace (one mroute socket a
  # table a namespace: the two cannot share one).
  rm -f "$work/smc.pid"
  ip netns exec "$smc_ns" smcrouted -n -N -l err -f "$work/routes.conf" -u "$work/smc.sock" \
    -P "$work/smc.pid" -i bench-smc &
  smc_pid=$!
  for _ in $(seq 1200); do
    [ -e "$work/smc.pid" ] && [ "$(mfc_count "$smc_ns")" -ge "$n" ] && break
    sleep 0.1
  done
  [ "$(mfc_count "$smc_ns")" -ge "$n" ] || { echo "smcrouted did not install $n routes" >&2; exit 1; }
  smc_show
  t_smc=$(mean_us smc_show)
  t_smc_d=$(mean_us smc_show_d)
  smc_rows=$(grep -c '^(' "$work/smc.txt" || true)
  smc_hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$smc_pid/status")
  t_add=$(timed_us smc_batch <"$work/add.txt")
  [ "$(mfc_count "$smc_ns")" -eq $((n + 1000)) ] || echo "smcrouted: the batch did not add 1,000 entries" >&2
  t_del=$(timed_us smc_batch <"$work/remove.txt")
  [ "$(mfc_count "$smc_ns")" -eq "$n" ] || echo "smcrouted: the batch did not remove 1,000 entries" >&2
  smc_lines+=("$(printf '%8d %10s %10s %10s %10s %8d %10s %9d kB %20s %14s' "$n" \
    "$(ms "$t_show")" "$(ms "$t_smc")" "$(ms "$t_json")" "$(ms "$t_smc_d")" "$smc_rows" \
    "$(ms "$t_version")" "$smc_hwm" "$mfcd_batch_ms" "$(ms "$t_add")/$(ms "$t_del")")")
  kill "$smc_pid"
  wait "$smc_pid" 2>/dev/null || true
  smc_pid=
done
if [ "$smc" = 1 ]; then
  echo
  echo "side by side with SMCRoute ($(smcroutectl -v 2>/dev/null | head -1 || echo smcroutectl)): show of the same table, and 1,000 routes added/removed through -b"
  echo "(-b columns: adds/removes, and for mfcd also 1,000 calls of version in one batch)"
  printf '%8s %10s %10s %10s %10s %8s %10s %12s %20s %14s\n' N "show ms" "smc show" "-j ms" \
    "smc -d" "smc rows" "version ms" "smc HWM" "mfcd -b ms" "smc -b ms"
  printf '%s\n' "${smc_lines[@]}"
fi
