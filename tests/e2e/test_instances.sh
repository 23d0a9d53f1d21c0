#!/bin/bash
# Two mfcd instances in one router, as SMCRoute's man page sets them up:
# r1 on table 0 (the default table) and r2 on table 123, with `ip mrule`
# sending what arrives on r2's inbound interface to table 123. Each
# forwards its own flows at the same time, a reload of one leaves the
# other alone, and stopping one leaves the other's routes in place.
#
#   sender --r-in--> [r1, table 0]   --r-out1--> recv1
#   recv2  --r-out2-> [r2, table 123] --r-out1--> recv1   (r-out1 is a VIF in both)
. "$(dirname "$0")/lib.sh"
topo
NS=$(ns_name router)
RECV2_4=203.0.113.2
RECV2_6=2001:db8:3::2

nsx router ip mrule add iif r-out2 lookup 123
nsx router ip -6 mrule add iif r-out2 lookup 123

# start_instance NAME ARGS...: mfcd -i NAME with its own files under
# $E2E_WORK/NAME.*; config on stdin. Sets PID_<NAME>.
start_instance() {
  local name=$1
  shift
  cat >"$E2E_WORK/$name.conf"
  ip netns exec "$NS" "$MFCD" -n -i "$name" -f "$E2E_WORK/$name.conf" -u "$E2E_WORK/$name.sock" \
    -P "$E2E_WORK/$name.pid" -l info "$@" >>"$MFCD_LOG" 2>&1 &
  local pid=$!
  E2E_PIDS+=("$pid")
  printf -v "PID_$name" '%s' "$pid"
  wait_for 15 "$name ready" test -s "$E2E_WORK/$name.pid"
  [ "$(cat "$E2E_WORK/$name.pid")" = "$pid" ] || fail "$name: PID file holds the wrong PID"
}

stop_instance() {
  local pid_var="PID_$1"
  local pid=${!pid_var}
  kill -TERM "$pid"
  e2e_wait_gone "$pid" 10 || fail "$1 did not stop"
  local rc=0
  wait "$pid" || rc=$?
  [ "$rc" -eq 0 ] || fail "$1 exited with $rc"
}

# table_routes 4|6 TABLE: the (S,G) entries of one table, sorted.
table_routes() {
  local table=$2
  # The default table is RT_TABLE_DEFAULT (253) for IPv4, RT6_TABLE_DFLT =
  # main (254) for IPv6.
  [ "$table" != default ] || [ "$1" = 4 ] || table=main
  nsx router ip "-$1" mroute show table "$table" | awk '{print $1, $3}' | sort
}

start_instance r1 <<CONF
phyint r-in enable
phyint r-out1 enable
mroute from r-in source $SENDER4 group 225.1.1.1 to r-out1
mroute from r-in source $SENDER6 group ff0e::1:1 to r-out1
CONF
start_instance r2 -t 123 <<CONF
phyint r-out2 enable
phyint r-out1 enable
mroute from r-out2 source $RECV2_4 group 225.2.2.2 to r-out1
mroute from r-out2 source $RECV2_6 group ff0e::2:2 to r-out1
CONF

# Each table holds exactly its own instance's routes.
[ "$(table_routes 4 default)" = "($SENDER4,225.1.1.1) r-in" ] ||
  fail "table default: $(table_routes 4 default)"
[ "$(table_routes 4 123)" = "($RECV2_4,225.2.2.2) r-out2" ] || fail "table 123: $(table_routes 4 123)"
[ "$(table_routes 6 default)" = "($SENDER6,ff0e::1:1) r-in" ] ||
  fail "IPv6 table default: $(table_routes 6 default)"
[ "$(table_routes 6 123)" = "($RECV2_6,ff0e::2:2) r-out2" ] ||
  fail "IPv6 table 123: $(table_routes 6 123)"
# And each client sees only its own.
for name in r1 r2; do
  n=$(nsx router "$MFCCTL" -u "$E2E_WORK/$name.sock" -j show | jq '.routes.ssm | length')
  [ "$n" = 2 ] || fail "$name shows $n routes, expected 2"
done
nsx router "$MFCCTL" -u "$E2E_WORK/r2.sock" -j show | jq -e '[.routes.ssm[].iif] | all(. == "r-out2")' \
  >/dev/null || fail "r2 shows routes that are not its own"

# both_flows N4|N6: one flow per instance at the same time, all to recv1.
both_flows() {
  local g1=$1 g2=$2 count=20
  recv_start a recv1 "$g1" -c "$count" -w 5
  recv_start b recv1 "$g2" -c "$count" -w 5
  send "$g1" "$count" &
  local s1=$!
  nsx recv2 "$MCTOOL" send -g "$g2" -i eth0 -c "$count" -t 16 -r 1000 >/dev/null &
  local s2=$!
  wait "$s1" || fail "sender of $g1 failed"
  wait "$s2" || fail "sender of $g2 failed"
  expect_count a "$count" "r1's flow $g1"
  expect_count b "$count" "r2's flow $g2"
}
both_flows 225.1.1.1 225.2.2.2
both_flows ff0e::1:1 ff0e::2:2

# A reload of r2 changes table 123 only.
before=$(table_routes 4 default)
echo "mroute from r-out2 source $RECV2_4 group 225.2.2.3 to r-out1" >>"$E2E_WORK/r2.conf"
kill -HUP "$PID_r2"
wait_for 10 "r2's reloaded route" sh -c "ip netns exec $NS ip mroute show table 123 | grep -q 225.2.2.3"
[ "$(table_routes 4 default)" = "$before" ] || fail "r2's reload changed table default"

# Stopping r1 leaves r2's routes and flows alone.
stop_instance r1
[ -z "$(table_routes 4 default)" ] || fail "r1 left routes: $(table_routes 4 default)"
[ "$(table_routes 4 123 | wc -l)" -eq 2 ] || fail "table 123 after r1 stopped: $(table_routes 4 123)"
[ "$(table_routes 6 123 | wc -l)" -eq 1 ] || fail "IPv6 table 123 after r1 stopped"
recv_start b recv1 225.2.2.2 -c 20 -w 5
nsx recv2 "$MCTOOL" send -g 225.2.2.2 -i eth0 -c 20 -t 16 -r 1000 >/dev/null
expect_count b 20 "r2's flow after r1 stopped"
stop_instance r2
expect_no_mroute_state
