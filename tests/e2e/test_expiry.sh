#!/bin/bash
# Cache expiry (-c 2): an idle dynamic entry is removed while a busy one
# survives; cache.flush (mfcctl flush) removes every dynamic entry at once
# and leaves static routes alone. IPv4 and IPv6.
. "$(dirname "$0")/lib.sh"
topo

mfcd_start -c 2 <<CONF
phyint r-in enable
phyint r-out1 enable
phyint r-out2 enable
mroute from r-in group 225.5.0.0/16 to r-out1
mroute from r-in group ff0e::5:0/112 to r-out1
mroute from r-in source $SENDER4 group 225.6.6.6 to r-out2
mroute from r-in source $SENDER6 group ff0e::6:6 to r-out2
CONF

dynamic_count() { rpc_ok route.list | jq '[.routes.kernel[] | select(.type == "dynamic")] | length'; }
has_entry() { [ -n "$(mroutes "$1" | awk -v sg="($2,$3)" '$1 == sg')" ]; }
no_entry() { ! has_entry "$@"; }

for fam in 4 6; do
  if [ "$fam" = 4 ]; then
    s=$SENDER4 idle=225.5.0.1 busy=225.5.0.2 static=225.6.6.6
  else
    s=$SENDER6 idle=ff0e::5:1 busy=ff0e::5:2 static=ff0e::6:6
  fi
  say "IPv$fam: the idle entry expires, the busy one stays"
  # Its last datagram comes after t0, so it cannot be idle for the 2 s
  # timeout before t0 + 2 s; a slow machine only makes it later.
  t0=${EPOCHREALTIME/./}
  flow "$idle" 5 5 0 -s "$s"
  expect_mroute "$fam" "$s" "$idle" r-in r-out1
  # Traffic until stopped: the busy entry must outlive every check below,
  # however long they take.
  send_start "$busy" -s "$s" -r 50
  busy_pid=$SEND_PID
  wait_for 5 "($s, $busy) installed" has_entry "$fam" "$s" "$busy"
  wait_for 8 "($s, $idle) to expire" no_entry "$fam" "$s" "$idle"
  idle_for=$(((${EPOCHREALTIME/./} - t0) / 1000))
  # The idle check may sample at half the timeout; earlier is wrong.
  [ "$idle_for" -ge 1000 ] || fail "($s, $idle) expired too early: ${idle_for} ms after its flow began"
  has_entry "$fam" "$s" "$busy" || fail "the busy entry ($s, $busy) expired"
  # Well past the timeout: the busy entry is still there while its
  # packets flow.
  e2e_sleep 3
  has_entry "$fam" "$s" "$busy" || fail "the busy entry ($s, $busy) expired"

  say "IPv$fam: flush removes dynamic entries only"
  flow "$static" 5 0 5
  send_stop "$busy_pid"
  mfcctl flush
  [ "$(dynamic_count)" = 0 ] || fail "dynamic entries left after flush"
  no_entry "$fam" "$s" "$busy" || fail "($s, $busy) still in the kernel after flush"
  expect_mroute "$fam" "$s" "$static" r-in r-out2
done
rpc_ok daemon.status | jq -e '.cache_timeout == 2 and .upcalls.expired >= 2 and .upcalls.flushed >= 2' >/dev/null ||
  fail "daemon.status: $(rpc_ok daemon.status | jq -c .upcalls)"

mfcd_stop
expect_no_mroute_state
