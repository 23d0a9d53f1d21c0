#!/bin/bash
# mfcctl -b: one command per stdin line, sent as one JSON-RPC batch. A mix
# of adds, removes (and joins/leaves once the daemon answers group.join)
# in both families takes effect; bad lines, whether the client or the
# daemon refuses them, are reported with their line number, exit status 1,
# and the good lines around them are not lost.
. "$(dirname "$0")/lib.sh"
topo

mfcd_start <<CONF
phyint r-in enable
phyint r-out1 enable
phyint r-out2 enable
CONF

HAVE_JOINS=1
rpc_send '{"jsonrpc":"2.0","id":1,"method":"group.join"}' | grep -q '"code":-32601' && HAVE_JOINS=
JOIN_LINES="# joins: not answered by this daemon yet"
if [ -n "$HAVE_JOINS" ]; then
  JOIN_LINES="join r-out1 225.7.7.7
join r-out2 $SENDER4 232.7.7.7
join r-out1 ff0e::7:7"
else
  say "group.join not answered yet: batch runs with routes only"
fi

rc=0
nsx router "$MFCCTL" -u "$SOCK" -b >"$E2E_WORK/batch.out" 2>"$E2E_WORK/batch.err" <<BATCH || rc=$?
# a comment line, then a blank one

add r-in $SENDER4 225.1.1.1 r-out1
add r-in $SENDER4 225.1.1.2 r-out1 r-out2
a r-in $SENDER6 ff0e::1:1 r-out2
add r-in $SENDER4 225.1.1.3 r-out1   # a trailing comment
frobnicate r-in
add r-in $SENDER4 225.1.1.3 r-out2
remove r-in $SENDER4 225.1.1.2
remove r-in $SENDER4 225.9.9.9
del r-in $SENDER4 225.1.1.3 r-out1
$JOIN_LINES
BATCH
cat "$E2E_WORK/batch.err" >&2
[ "$rc" -eq 1 ] || fail "a batch with bad lines: exit $rc, expected 1"
err=$(cat "$E2E_WORK/batch.err")
grep -q '^mfcctl: line 7: ' <<<"$err" || fail "the unknown command (line 7) not reported: $err"
grep -q '^mfcctl: line 10: ' <<<"$err" || fail "removing a missing route (line 10) not reported: $err"
[ "$(wc -l <<<"$err")" -eq 2 ] || fail "expected exactly two error lines: $err"

# Every good line took effect, in order: .3 got r-out2 merged, then lost r-out1.
expect_mroutes 4 <<MFC
($SENDER4,225.1.1.1) r-in r-out1
($SENDER4,225.1.1.3) r-in r-out2
MFC
expect_mroutes 6 <<MFC
($SENDER6,ff0e::1:1) r-in r-out2
MFC
flow 225.1.1.1 20 20 0
flow 225.1.1.3 20 0 20
if [ -n "$HAVE_JOINS" ]; then
  nsx router grep -q "" /proc/net/igmp
  out=$(mfcctl -p show groups)
  [ "$(grep 225.7.7.7 <<<"$out" | tr -d '[:space:]')" = "(*,225.7.7.7)r-out1" ] || fail "groups: $out"
  [ "$(grep 232.7.7.7 <<<"$out" | tr -d '[:space:]')" = "($SENDER4,232.7.7.7)r-out2" ] ||
    fail "groups: $out"
fi

# A clean batch removing everything (and leaving) exits 0 and empties the kernel.
LEAVE_LINES=
if [ -n "$HAVE_JOINS" ]; then
  LEAVE_LINES="leave r-out1 225.7.7.7
leave r-out2 $SENDER4 232.7.7.7
leave r-out1 ff0e::7:7"
fi
nsx router "$MFCCTL" -u "$SOCK" -b <<BATCH || fail "clean batch failed"
remove r-in $SENDER4 225.1.1.1
remove r-in $SENDER4 225.1.1.3
remove r-in $SENDER6 ff0e::1:1
$LEAVE_LINES
BATCH
expect_mroutes 4 </dev/null
expect_mroutes 6 </dev/null
[ "$(mfcctl -j show | jq '.routes.ssm | length')" = 0 ] || fail "routes left: $(mfcctl -j show)"
if [ -n "$HAVE_JOINS" ]; then
  [ -z "$(mfcctl -p show groups)" ] || fail "groups left: $(mfcctl -p show groups)"
fi

# Batch with -j prints the whole reply array.
nsx router "$MFCCTL" -u "$SOCK" -bj <<BATCH | jq -e 'type == "array" and length == 2' >/dev/null ||
add r-in $SENDER4 225.1.1.1 r-out1
show
BATCH
  fail "-bj: expected a JSON array of two replies"
mfcd_stop
expect_no_mroute_state
