#!/bin/bash
# Routes and joins added over the API are the operator's data: they survive
# kill -9 and a restart with the same state file (-S), owners included, and
# traffic flows along them again; the config's routes are not copied into
# the file. A corrupt state file is reported and moved aside, and never
# stops the daemon from starting. (lib.sh runs every test's mfcd with
# -S $STATE_FILE.)
. "$(dirname "$0")/lib.sh"
topo

config() {
  cat <<CONF
phyint r-in enable
phyint r-out1 enable
phyint r-out2 enable
mroute from r-in source $SENDER4 group 225.1.20.1 to r-out2
CONF
}
mfcd_start <<<"$(config)"

say "routes, a stop filter and joins over the API"
rpc_ok route.add "$(jq -cn --arg s "$SENDER4" \
  '{iif: "r-in", source: $s, group: "225.1.20.2", oifs: ["r-out1"], owner: "orch"}')" >/dev/null
rpc_ok route.add "$(jq -cn --arg s "$SENDER4" \
  '{iif: "r-in", source: $s, group: "225.1.20.1", oifs: ["r-out1"], owner: "ops"}')" >/dev/null
rpc_ok route.add "$(jq -cn --arg s "$SENDER6" \
  '{iif: "r-in", source: $s, group: "ff0e::20:2", oifs: ["r-out2"]}')" >/dev/null
rpc_ok route.set "$(jq -cn --arg s "$SENDER4" \
  '{iif: "r-in", source: $s, group: "225.1.20.9", oifs: []}')" >/dev/null
rpc_ok group.join '{"iif": "r-out1", "group": "225.1.20.77", "owner": "orch"}' >/dev/null
expect_mroute 4 "$SENDER4" 225.1.20.2 r-in r-out1
expect_mroute 4 "$SENDER4" 225.1.20.1 r-in r-out1 r-out2

say "the state file holds the API's shares and joins, not the config's"
[ -s "$STATE_FILE" ] || fail "no state file at $STATE_FILE"
jq -e '.version == 1 and (.routes | length) == 4 and (.joins | length) == 1' "$STATE_FILE" \
  >/dev/null || fail "state file: $(cat "$STATE_FILE")"
jq -e '[.routes[] | select(.group == "225.1.20.1")] == [{iif: "r-in", source: "'"$SENDER4"'",
  group: "225.1.20.1", oifs: ["r-out1"], owner: "ops"}]' "$STATE_FILE" >/dev/null ||
  fail "the config route's API share is not in the state file as added: $(cat "$STATE_FILE")"
listed_before=$(rpc_ok route.list '{"detail": true}' | jq -S '.routes')
groups_before=$(rpc_ok group.list | jq -S '.groups.conf')

say "kill -9, and a restart on the same state file"
kill -KILL "$MFCD_PID"
e2e_wait_gone "$MFCD_PID" 10 || fail "mfcd survived SIGKILL"
wait "$MFCD_PID" 2>/dev/null || true
MFCD_PID=
expect_mroute 4 "$SENDER4" 225.1.20.2 # the kernel dropped the table with the socket
mfcd_start <<<"$(config)"
grep -q "restored 4 route share(s) and 1 join(s) from $STATE_FILE" "$MFCD_LOG" ||
  fail "no log line about the restored state"
expect_mroute 4 "$SENDER4" 225.1.20.2 r-in r-out1
expect_mroute 4 "$SENDER4" 225.1.20.1 r-in r-out1 r-out2
expect_mroute 6 "$SENDER6" ff0e::20:2 r-in r-out2
[ "$(rpc_ok route.list '{"detail": true}' | jq -S '.routes')" = "$listed_before" ] ||
  fail "route.list after the restart differs: $(rpc_ok route.list '{"detail": true}')"
[ "$(rpc_ok group.list | jq -S '.groups.conf')" = "$groups_before" ] ||
  fail "group.list after the restart differs: $(rpc_ok group.list)"
member_of() { nsx router ip maddr show dev "$1" | grep -qw "$2"; }
wait_for 10 "r-out1 a member of 225.1.20.77 again" member_of r-out1 225.1.20.77
flow 225.1.20.2 20 20 0

say "a change after the restart is saved too"
rpc_ok route.remove "$(jq -cn --arg s "$SENDER4" \
  '{iif: "r-in", source: $s, group: "225.1.20.2", owner: "orch"}')" >/dev/null
jq -e '[.routes[] | select(.group == "225.1.20.2")] == []' "$STATE_FILE" >/dev/null ||
  fail "route.remove is not in the state file: $(cat "$STATE_FILE")"

say "a corrupt state file is moved aside and the daemon starts"
mfcd_stop
printf '{"version": 1, "routes": [' >"$STATE_FILE"
mfcd_start <<<"$(config)"
[ -f "$STATE_FILE.corrupt" ] || fail "the corrupt state file was not moved aside"
grep -q "state file: $STATE_FILE is not valid JSON; moved aside to $STATE_FILE.corrupt" "$MFCD_LOG" ||
  fail "no log line about the corrupt state file"
rpc_ok route.list | jq -e '(.routes.ssm + .routes.asm) | length == 1' >/dev/null ||
  fail "only the config's route should be there: $(rpc_ok route.list)"
expect_mroute 4 "$SENDER4" 225.1.20.1 r-in r-out2
mfcd_stop
say "ok"
