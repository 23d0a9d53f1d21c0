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
  flow "$idle" 5 5 0 -s "$s"
  expect_mroute "$fam" "$s" "$idle" r-in r-out1
  send "$busy" 300 -s "$s" -r 50 & # 6 s of traffic
  busy_pid=$!
  wait_for 5 "($s, $busy) installed" has_entry "$fam" "$s" "$busy"
  t0=$SECONDS
  wait_for 8 "($s, $idle) to expire" no_entry "$fam" "$s" "$idle"
  [ $((SECONDS - t0)) -ge 1 ] || fail "($s, $idle) expired too early"
  has_entry "$fam" "$s" "$busy" || fail "the busy entry ($s, $busy) expired"
  sleep 2 # well past the timeout: still there while packets flow
  has_entry "$fam" "$s" "$busy" || fail "the busy entry ($s, $busy) expired"

  say "IPv$fam: flush removes dynamic entries only"
  flow "$static" 5 0 5
  wait "$busy_pid"
  mfcctl flush
  [ "$(dynamic_count)" = 0 ] || fail "dynamic entries left after flush"
  no_entry "$fam" "$s" "$busy" || fail "($s, $busy) still in the kernel after flush"
  expect_mroute "$fam" "$s" "$static" r-in r-out2
done
rpc_ok daemon.status | jq -e '.cache_timeout == 2 and .upcalls.expired >= 2 and .upcalls.flushed >= 2' >/dev/null ||
  fail "daemon.status: $(rpc_ok daemon.status | jq -c .upcalls)"

mfcd_stop
expect_no_mroute_state
