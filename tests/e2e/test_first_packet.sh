#!/bin/bash
# First packets: the kernel queues the packets of a flow it has no entry
# for and forwards them once mfcd has installed one, so the very first
# packet of every new flow of a (*,G/LEN) rule reaches the receiver. Eight
# new flows start at once here; tests/bench/bench_upcalls shows 10,000 new
# IPv4 flows in one burst all getting their first packet through.
# IPv4 and IPv6.
. "$(dirname "$0")/lib.sh"
topo

mfcd_start <<CONF
phyint r-in enable
phyint r-out1 enable
mroute from r-in group 225.10.0.0/16 to r-out1
mroute from r-in group ff0e::10:0/112 to r-out1
CONF

for fam in 4 6; do
  groups=()
  for i in 1 2 3 4 5 6 7 8; do
    if [ "$fam" = 4 ]; then groups+=("225.10.0.$i"); else groups+=("ff0e::10:$i"); fi
  done
  say "IPv$fam: one packet each to ${#groups[@]} new flows at once"
  for g in "${groups[@]}"; do
    recv_start "first-$g" recv1 "$g" -c 1 -w 5
  done
  pids=()
  for g in "${groups[@]}"; do
    send "$g" 1 &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do wait "$pid"; done
  for g in "${groups[@]}"; do
    expect_count "first-$g" 1 "the first packet to $g"
  done
done
rpc_ok daemon.status | jq -e '.upcalls.installed == 16 and .upcalls.lost == 0' >/dev/null ||
  fail "daemon.status: $(rpc_ok daemon.status | jq -c .upcalls)"

mfcd_stop
expect_no_mroute_state
