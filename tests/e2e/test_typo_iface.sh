#!/bin/bash
# Issue 15, items 1 and 2, replayed: a misspelled interface is visible the
# moment it is typed, and a bad address names itself.
#   - mfcctl add with a typo'd OIF: kept (the API keeps pending intent),
#     exit 0, a warning on stderr naming it and what happens meanwhile;
#     the route forwards once an interface of that name appears.
#   - mfcctl -S (strict): the same is an error, exit 1, nothing installed.
#   - mfcctl set (only in full) replaces mfcctl's OIFs and warns the same way.
#   - mfcctl join on a missing interface agrees with add: kept, warned.
#   - mfcctl reload of a file naming "to r-oot" prints the summary and the
#     warning at its file:line:column, as mfcd -F does; -S refuses it and
#     nothing changes.
#   - smcroutectl does what SMCRoute does: a missing inbound interface
#     (add, join) is refused, a missing outbound one is accepted.
#   - mfcctl add r-in 10.1.0.300 ... names the bad source address.
. "$(dirname "$0")/lib.sh"
topo

SMCROUTECTL=$MFCD_BUILD_DIR/smcroutectl
[ -x "$SMCROUTECTL" ] || fail "$SMCROUTECTL is not built"
smcroutectl() { "$SMCROUTECTL" -u "$SOCK" "$@"; }

mfcd_start <<CONF
phyint r-in enable
phyint r-out1 enable
phyint r-out2 enable
CONF

ERR=$E2E_WORK/stderr
# run EXPECTED-STATUS COMMAND...: COMMAND exits with that status; its
# stderr is left in $ERR.
run() {
  local want=$1 rc=0
  shift
  "$@" 2>"$ERR" || rc=$?
  [ "$rc" -eq "$want" ] || fail "'$*' exited $rc, expected $want; stderr: $(cat "$ERR")"
}
# err_has TEXT: the last command's stderr holds TEXT (a fixed string).
err_has() {
  grep -qF -- "$1" "$ERR" || fail "stderr lacks '$1'; it is: $(cat "$ERR")"
}
# listed GROUP: route.list holds a route to GROUP.
listed() { grep -qF "\"group\":\"$1\"" <<<"$(rpc_ok route.list)"; }
# in_kernel GROUP: the kernel holds an IPv4 entry for GROUP.
in_kernel() { [[ $(mroutes 4) == *",$1)"* ]]; }
# forwards S G IIF OIF...: that entry is exactly this (for wait_for; does
# not fail the test as expect_mroute does).
forwards() {
  local sg="($1,$2)"
  shift 2
  [ "$(mroutes 4 | awk -v sg="$sg" '$1 == sg')" = "$sg $*" ]
}

say "add with a typo'd OIF: accepted, warned, the entry drops the flow"
run 0 mfcctl add r-in "$SENDER4" 225.9.9.9 r-ot
err_has "mfcctl: warning: interface r-ot does not exist; the route has no outbound interface and drops the flow until it appears"
expect_mroute 4 "$SENDER4" 225.9.9.9
grep -qF '"missing_oifs":["r-ot"]' <<<"$(rpc_ok pending.list)" || fail "pending.list lacks r-ot"

say "set fixes the typo: mfcctl's OIFs become exactly these, a new typo is warned about"
run 64 mfcctl se r-in "$SENDER4" 225.9.9.9 r-out1
err_has "'se' is not a command: type 'set' in full"
run 0 mfcctl set r-in "$SENDER4" 225.9.9.9 r-out1 r-ot2
err_has "mfcctl: warning: interface r-ot2 does not exist"
expect_mroute 4 "$SENDER4" 225.9.9.9 r-in r-out1
pending=$(rpc_ok pending.list)
grep -qF '"missing_oifs":["r-ot2"]' <<<"$pending" || fail "pending.list lacks r-ot2: $pending"
! grep -qF '"r-ot"' <<<"$pending" || fail "set left the old typo r-ot: $pending"
run 1 mfcctl -S set r-in "$SENDER4" 225.9.9.9 r-out1 r-ot3
err_has "mfcctl: outbound interface r-ot3 does not exist; nothing changed"
expect_mroute 4 "$SENDER4" 225.9.9.9 r-in r-out1
run 0 mfcctl set r-in "$SENDER4" 225.9.9.9 r-ot
expect_mroute 4 "$SENDER4" 225.9.9.9

say "strict: the same is an error and nothing is installed"
run 1 mfcctl -S add r-in "$SENDER4" 225.9.9.8 r-ot
err_has "mfcctl: outbound interface r-ot does not exist; nothing changed"
! listed 225.9.9.8 || fail "a refused strict add left a route"
! in_kernel 225.9.9.8 || fail "a refused strict add reached the kernel"
rpc_error route.add "{\"iif\":\"r-in\",\"source\":\"$SENDER4\",\"group\":\"225.9.9.8\",\"oifs\":[\"r-ot\"],\"strict\":true}" -32001

say "join on a missing interface agrees with add"
run 0 mfcctl join r-zz 225.5.5.5
err_has "mfcctl: warning: interface r-zz does not exist; the join stays pending until it appears"
grep -qF '"iif":"r-zz"' <<<"$(rpc_ok group.list)" || fail "the join on r-zz is not kept"
run 1 mfcctl -S join r-zz 225.5.5.6
err_has "interface r-zz does not exist; nothing changed"

say "reload of a file with 'to r-oot': summary and warning; strict refuses it"
cat >>"$CONF" <<CONF
mroute from r-in source $SENDER4 group 225.9.9.5 to r-out1
mroute from r-in source $SENDER4 group 225.9.9.6 to r-oot
CONF
before=$(mroutes 4)
run 1 mfcctl -S reload
err_has "mfcctl: outbound interface r-oot does not exist; nothing changed"
err_has "$CONF:5:1: interface r-oot does not exist"
[ "$(mroutes 4)" = "$before" ] || fail "a refused strict reload changed the kernel"
! listed 225.9.9.5 || fail "a refused strict reload added a route"
out=$(mfcctl reload 2>"$ERR") || fail "mfcctl reload failed: $(cat "$ERR")"
[ "$out" = "Reloaded: 2 added, 0 changed, 0 removed" ] || fail "reload summary: '$out'"
err_has "mfcctl: $CONF:5:1: warning: interface r-oot does not exist; the route has no outbound interface and drops the flow until it appears"
expect_mroute 4 "$SENDER4" 225.9.9.5 r-in r-out1
# The log says it too, as it would for a reload by SIGHUP.
grep -qF "$CONF:5:1: interface r-oot does not exist" "$MFCD_LOG" ||
  fail "the daemon's log does not name r-oot after the reload"
grep -qF '"interface":"r-oot"' <<<"$(rpc_ok config.reload)" ||
  fail "config.reload lists no warning for r-oot"
# mfcd -F says the same of the same file, in the same words.
check=$(nsx router "$MFCD" -F "$CONF" 2>&1) || fail "mfcd -F failed: $check"
grep -qF "$CONF:5:1: warning: interface r-oot does not exist; the route has no outbound interface" \
  <<<"$check" || fail "mfcd -F does not warn as reload does: $check"

say "smcroutectl: a missing inbound interface is refused, a missing outbound one is not"
run 1 smcroutectl add r-inn "$SENDER4" 225.9.9.4 r-out1
err_has "smcroutectl: inbound interface r-inn does not exist; nothing changed"
! listed 225.9.9.4 || fail "smcroutectl add from a missing inbound interface left a route"
run 0 smcroutectl add r-in "$SENDER4" 225.9.9.3 r-ot
listed 225.9.9.3 || fail "smcroutectl add with a missing OIF was not kept"
run 1 smcroutectl join r-zz 225.5.5.7
err_has "interface r-zz does not exist; nothing changed"

say "a bad address names the word and what was expected"
run 64 mfcctl add r-in 10.1.0.300 225.9.9.9 r-out1
err_has "add: '10.1.0.300' is not a valid source address (expected an IPv4 or IPv6 address, optionally with /LEN)"

say "the interface appears: the pending OIF forwards"
nsx router ip link add r-ot type dummy
nsx router ip link set r-ot multicast on up
wait_for 10 "r-ot in the (S,G) entry" forwards "$SENDER4" 225.9.9.9 r-in r-ot

mfcd_stop
expect_no_mroute_state
