#!/bin/bash
# WRONGVIF: a flow whose source moves behind another interface that a rule
# covers follows it once the old side is quiet; a flow whose first packet
# came in where no rule covers it is not left blocked when it shows up on
# the covered side; a redundant feed (the same (S,G) routed from two
# inbound interfaces) fails over when the first feed stops and the second
# starts, and route.list shows which one is active. IPv4 and IPv6.
. "$(dirname "$0")/lib.sh"
topo

# The moving source lives on both sides.
for role in sender recv2; do
  ip -n "$(ns_name "$role")" addr add 192.0.2.50/24 dev eth0
  ip -n "$(ns_name "$role")" addr add 2001:db8:1::50/64 dev eth0 nodad
done

mfcd_start <<CONF
phyint r-in enable
phyint r-out1 enable
phyint r-out2 enable
mroute from r-in group 225.7.0.0/16 to r-out1
mroute from r-out2 group 225.7.0.0/16 to r-out1
mroute from r-out2 group 225.8.8.8 to r-out1
mroute from r-in source 192.0.2.50 group 225.9.1.1 to r-out1
mroute from r-out2 source 192.0.2.50 group 225.9.1.1 to r-out1
mroute from r-in group ff0e::7:0/112 to r-out1
mroute from r-out2 group ff0e::7:0/112 to r-out1
mroute from r-out2 group ff0e::8:8 to r-out1
mroute from r-in source 2001:db8:1::50 group ff0e::9:1 to r-out1
mroute from r-out2 source 2001:db8:1::50 group ff0e::9:1 to r-out1
CONF

# send_from ROLE GROUP COUNT RATE
send_from() {
  nsx "$1" "$MCTOOL" send -g "$2" -i eth0 -s "$S" -c "$3" -t 16 -r "$4" >/dev/null
}
iif_is() { [ "$(mroutes "$1" | awk -v sg="($2,$3)" '$1 == sg {print $2}')" = "$4" ]; }

for fam in 4 6; do
  if [ "$fam" = 4 ]; then
    S=192.0.2.50 gm=225.7.1.1 gs=225.8.8.8 gr=225.9.1.1
  else
    S=2001:db8:1::50 gm=ff0e::7:11 gs=ff0e::8:8 gr=ff0e::9:1
  fi

  say "IPv$fam: the source of ($S, $gm) moves from r-in to r-out2"
  send_from sender "$gm" 5 100
  wait_for 5 "($S, $gm) from r-in" iif_is "$fam" "$S" "$gm" r-in
  recv_start moved recv1 "$gm" -c 20 -w 15
  send_from recv2 "$gm" 600 100 &
  mover=$!
  wait_for 12 "($S, $gm) to move to r-out2" iif_is "$fam" "$S" "$gm" r-out2
  expect_mroute "$fam" "$S" "$gm" r-out2 r-out1
  recv_count moved
  [ "${RECV_COUNT:-0}" -ge 20 ] || fail "after the move recv1 got ${RECV_COUNT:-none} of 20"
  kill "$mover" 2>/dev/null || true
  wait "$mover" 2>/dev/null || true

  say "IPv$fam: ($S, $gs) first seen on r-in (no rule: stop filter), then on r-out2"
  send_from sender "$gs" 3 100
  wait_for 5 "a stop filter for ($S, $gs)" iif_is "$fam" "$S" "$gs" r-in
  expect_mroute "$fam" "$S" "$gs"
  recv_start unblocked recv1 "$gs" -c 10 -w 10
  send_from recv2 "$gs" 400 100 &
  mover=$!
  wait_for 6 "($S, $gs) to move to r-out2" iif_is "$fam" "$S" "$gs" r-out2
  expect_mroute "$fam" "$S" "$gs" r-out2 r-out1
  recv_count unblocked
  [ "${RECV_COUNT:-0}" -ge 10 ] || fail "the unblocked flow: recv1 got ${RECV_COUNT:-none} of 10"
  kill "$mover" 2>/dev/null || true
  wait "$mover" 2>/dev/null || true

  say "IPv$fam: redundant feed ($S, $gr) fails over from r-in to r-out2"
  expect_mroute "$fam" "$S" "$gr" r-in r-out1
  rpc_ok route.list | jq -e --arg g "$gr" '[.routes.ssm[] | select(.group == $g) | .iif + "=" + .state] == ["r-in=installed", "r-out2=standby"]' >/dev/null ||
    fail "before failover: $(rpc_ok route.list | jq -c --arg g "$gr" '[.routes.ssm[] | select(.group == $g) | {iif, state}]')"
  send_from sender "$gr" 20 100 # the first feed runs, then stops
  recv_start feed recv1 "$gr" -c 20 -w 15
  send_from recv2 "$gr" 800 100 & # the second feed starts
  feed=$!
  wait_for 12 "($S, $gr) to fail over to r-out2" iif_is "$fam" "$S" "$gr" r-out2
  expect_mroute "$fam" "$S" "$gr" r-out2 r-out1
  recv_count feed
  [ "${RECV_COUNT:-0}" -ge 20 ] || fail "after failover recv1 got ${RECV_COUNT:-none} of 20"
  rpc_ok route.list | jq -e --arg g "$gr" '[.routes.ssm[] | select(.group == $g) | .iif + "=" + .state] | sort == ["r-in=standby", "r-out2=installed"]' >/dev/null ||
    fail "after failover: $(rpc_ok route.list | jq -c --arg g "$gr" '[.routes.ssm[] | select(.group == $g) | {iif, state}]')"
  kill "$feed" 2>/dev/null || true
  wait "$feed" 2>/dev/null || true
done

rpc_ok daemon.status | jq -e '.upcalls.wrongvif >= 6 and .upcalls.moved >= 6' >/dev/null ||
  fail "daemon.status: $(rpc_ok daemon.status | jq -c .upcalls)"
mfcd_stop
expect_no_mroute_state
