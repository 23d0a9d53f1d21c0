#!/bin/bash
# Runtime routes have owners. Two owners add the same (S,G) route over
# JSON-RPC; route.list shows both; one takes its share away and traffic
# still flows; a reload in between keeps the API routes (the config's own
# routes are the only ones a reload replaces); when the last owner removes
# it the route is gone. A route both in the config and added over the API
# shows both origins and outlives either alone. Started as smcrouted, a
# reload drops runtime routes, as SMCRoute's does.
. "$(dirname "$0")/lib.sh"
topo

mfcd_start <<CONF
phyint r-in enable
phyint r-out1 enable
phyint r-out2 enable
mroute from r-in source $SENDER4 group 225.1.10.1 to r-out2
mroute from r-in source $SENDER6 group ff0e::10:1 to r-out2
CONF

# route_json SRC GROUP OWNER [OIFS-JSON]
route_json() {
  jq -cn --arg s "$1" --arg g "$2" --arg o "$3" --argjson oifs "${4:-null}" \
    '{iif: "r-in", source: $s, group: $g, owner: $o} + (if $oifs then {oifs: $oifs} else {} end)'
}

# listed GROUP: the route.list item of that group (one), or nothing.
listed() { rpc_ok route.list | jq -c --arg g "$1" '.routes.ssm[] | select(.group == $g)'; }

# expect_listed GROUP JQ-TEST: the group's route.list item passes JQ-TEST.
expect_listed() {
  local item
  item=$(listed "$1")
  jq -e "$2" <<<"${item:-null}" >/dev/null || fail "route.list item of $1 fails '$2': ${item:-none}"
}

for fam in 4 6; do
  if [ "$fam" = 4 ]; then
    src=$SENDER4 g=225.1.10.2 gc=225.1.10.1
  else
    src=$SENDER6 g=ff0e::10:2 gc=ff0e::10:1
  fi

  say "IPv$fam: two owners share one route"
  rpc_ok route.add "$(route_json "$src" "$g" alice '["r-out1"]')" >/dev/null
  rpc_ok route.add "$(route_json "$src" "$g" bob '["r-out1"]')" |
    jq -e '.route.owners == ["alice", "bob"]' >/dev/null || fail "route.add result lacks both owners"
  expect_mroute "$fam" "$src" "$g" r-in r-out1
  expect_listed "$g" '.origins == ["api"] and .owners == ["alice", "bob"] and .oifs == ["r-out1"]'

  say "IPv$fam: a reload keeps both API shares"
  mfcd_reload
  expect_listed "$g" '.owners == ["alice", "bob"]'
  expect_mroute "$fam" "$src" "$g" r-in r-out1

  say "IPv$fam: alice takes her share away; bob's keeps the route"
  rpc_ok route.remove "$(route_json "$src" "$g" alice)" |
    jq -e '.route.owners == ["bob"]' >/dev/null || fail "route.remove by alice: bob's share went too"
  expect_mroute "$fam" "$src" "$g" r-in r-out1
  flow "$g" 20 20 0
  rpc_error route.remove "$(route_json "$src" "$g" alice)" -32003

  mfcctl reload
  expect_listed "$g" '.owners == ["bob"] and .origins == ["api"]'
  flow "$g" 20 20 0

  say "IPv$fam: bob removes the last share: the route is gone"
  rpc_ok route.remove "$(route_json "$src" "$g" bob)" | jq -e '.route == null' >/dev/null ||
    fail "route.remove by the last owner left a route"
  expect_mroute "$fam" "$src" "$g"
  [ -z "$(listed "$g")" ] || fail "route.list still lists $g"
  flow "$g" 20 0 0

  say "IPv$fam: a config route with an API share on top"
  rpc_ok route.add "$(route_json "$src" "$gc" carol '["r-out1"]')" >/dev/null
  expect_mroute "$fam" "$src" "$gc" r-in r-out1 r-out2
  expect_listed "$gc" '.origins == ["config", "api"] and .owners == ["carol"]'
  mfcd_reload
  expect_mroute "$fam" "$src" "$gc" r-in r-out1 r-out2
  flow "$gc" 20 20 20
  rpc_ok route.remove "$(route_json "$src" "$gc" carol)" >/dev/null
  expect_mroute "$fam" "$src" "$gc" r-in r-out2
  expect_listed "$gc" '.origins == ["config"] and .owners == []'
done

say "mfcctl's routes carry its name as owner"
mfcctl add r-in "$SENDER4" 225.1.10.3 r-out1
expect_listed 225.1.10.3 '.owners == ["mfcctl"]'
mfcctl remove r-in "$SENDER4" 225.1.10.3
[ -z "$(listed 225.1.10.3)" ] || fail "mfcctl remove left the route"

mfcd_stop
expect_no_mroute_state

say "as smcrouted, a reload drops runtime routes"
MFCD=$MFCD_BUILD_DIR/smcrouted
[ -x "$MFCD" ] || fail "$MFCD is not built"
mfcd_start <<CONF
phyint r-in enable
phyint r-out1 enable
phyint r-out2 enable
mroute from r-in source $SENDER4 group 225.1.10.1 to r-out2
CONF
rpc_ok route.add "$(route_json "$SENDER4" 225.1.10.2 alice '["r-out1"]')" >/dev/null
rpc_ok route.add "$(route_json "$SENDER6" ff0e::10:2 alice '["r-out1"]')" >/dev/null
expect_mroute 4 "$SENDER4" 225.1.10.2 r-in r-out1
expect_mroute 6 "$SENDER6" ff0e::10:2 r-in r-out1
mfcd_reload
expect_mroutes 4 <<<"($SENDER4,225.1.10.1) r-in r-out2"
expect_mroutes 6 </dev/null
[ -z "$(listed 225.1.10.2)" ] || fail "smcrouted kept a runtime route across a reload"
mfcd_stop
expect_no_mroute_state
