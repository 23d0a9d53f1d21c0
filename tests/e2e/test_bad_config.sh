#!/bin/bash
# A bad config is refused with its position: mfcd -F exits 78 (EX_CONFIG)
# and prints FILE:LINE:COL: error: ...; the daemon will not start with it;
# a reload with it changes nothing.
. "$(dirname "$0")/lib.sh"
topo

good=$E2E_WORK/good.conf
bad=$E2E_WORK/bad.conf
bare=$E2E_WORK/bare.conf
cat >"$good" <<CONF
phyint r-in enable
phyint r-out1 enable
mroute from r-in source $SENDER4 group 225.1.2.3 to r-out1
CONF
# Line 3, column 41 is where the impossible group starts.
cat >"$bad" <<CONF
phyint r-in enable
phyint r-out1 enable
mroute from r-in source $SENDER4 group 300.1.2.3 to r-out1
CONF
echo phyint >"$bare" # SMCRoute's own test case: a phyint without a name

# check_config FILE: runs mfcd -F; sets CHECK_RC and CHECK_OUT.
check_config() {
  CHECK_RC=0
  CHECK_OUT=$(nsx router timeout 10 "$MFCD" -F "$1" 2>&1) || CHECK_RC=$?
}

check_config "$good"
[ "$CHECK_RC" -eq 0 ] || fail "mfcd -F on a good config exited $CHECK_RC: $CHECK_OUT"

check_config "$bad"
[ "$CHECK_RC" -eq 78 ] || fail "mfcd -F on a bad config: expected exit 78, got $CHECK_RC: $CHECK_OUT"
grep -q "^$bad:3:41: error: " <<<"$CHECK_OUT" ||
  fail "mfcd -F: expected '$bad:3:41: error: ...', got: $CHECK_OUT"

check_config "$bare"
[ "$CHECK_RC" -eq 78 ] || fail "mfcd -F on a bare phyint: expected exit 78, got $CHECK_RC: $CHECK_OUT"
grep -q "^$bare:1:[0-9]*: error: " <<<"$CHECK_OUT" ||
  fail "mfcd -F: expected '$bare:1:COL: error: ...', got: $CHECK_OUT"

# Starting with the bad config fails, with the same message, and leaves
# nothing behind.
rc=0
out=$(nsx router timeout 10 "$MFCD" -n -f "$bad" -u "$SOCK" -P "$PIDFILE" 2>&1) || rc=$?
[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] || fail "mfcd started with a bad config (status $rc): $out"
[ "$rc" -eq 78 ] || fail "mfcd with a bad config: expected exit 78, got $rc: $out"
grep -q "$bad:3:41: error: " <<<"$out" || fail "mfcd with a bad config did not say where: $out"
[ ! -e "$PIDFILE" ] || fail "mfcd with a bad config left a PID file"
expect_no_mroute_state

# A reload with a bad file keeps the running state.
mfcd_start <"$good"
expect_mroutes 4 <<<"($SENDER4,225.1.2.3) r-in r-out1"
cp "$bad" "$CONF"
kill -HUP "$MFCD_PID"
wait_for 10 "mfcd to answer after SIGHUP" rpc_ok daemon.version
expect_mroutes 4 <<<"($SENDER4,225.1.2.3) r-in r-out1"
flow 225.1.2.3 20 20 0
mfcd_stop
expect_no_mroute_state
