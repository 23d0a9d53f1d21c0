#!/bin/bash
# Routes added, changed and removed at runtime, over mfcctl and over raw
# JSON-RPC, in both families: after each call returns, the kernel holds
# exactly the new OIF set and traffic follows it (a receiver whose OIF is
# not in the route gets nothing). Traffic sent after a removal may leave a
# kernel entry without OIFs behind, so later checks look at one (S,G) each.
. "$(dirname "$0")/lib.sh"
topo

mfcd_start <<CONF
phyint r-in enable
phyint r-out1 enable
phyint r-out2 enable
CONF
expect_mroutes 4 </dev/null
expect_mroutes 6 </dev/null

for fam in 4 6; do
  if [ "$fam" = 4 ]; then
    src=$SENDER4 g1=225.1.2.3 g2=225.1.2.4
  else
    src=$SENDER6 g1=ff0e::1:3 g2=ff0e::1:4
  fi

  say "IPv$fam over mfcctl"
  mfcctl add r-in "$src" "$g1" r-out1
  expect_mroute "$fam" "$src" "$g1" r-in r-out1
  flow "$g1" 20 20 0

  mfcctl add r-in "$src" "$g1" r-out2 # merges
  expect_mroute "$fam" "$src" "$g1" r-in r-out1 r-out2
  flow "$g1" 20 20 20

  mfcctl remove r-in "$src" "$g1" r-out1 # only that OIF
  expect_mroute "$fam" "$src" "$g1" r-in r-out2
  flow "$g1" 20 0 20

  mfcctl remove r-in "$src" "$g1" # the whole route
  expect_mroute "$fam" "$src" "$g1"
  flow "$g1" 20 0 0

  say "IPv$fam over JSON-RPC"
  route=$(jq -cn --arg s "$src" --arg g "$g2" '{iif: "r-in", source: $s, group: $g}')
  with_oifs() { jq -c --argjson o "$1" '. + {oifs: $o}' <<<"$route"; }

  rpc_ok route.add "$(with_oifs '["r-out1"]')" |
    jq -e '.route.oifs == ["r-out1"]' >/dev/null || fail "route.add: wrong route in the result"
  expect_mroute "$fam" "$src" "$g2" r-in r-out1
  flow "$g2" 20 20 0

  rpc_ok route.add "$(with_oifs '["r-out2"]')" |
    jq -e '.route.oifs | sort == ["r-out1", "r-out2"]' >/dev/null ||
    fail "route.add: OIFs not merged in the result"
  expect_mroute "$fam" "$src" "$g2" r-in r-out1 r-out2
  flow "$g2" 20 20 20

  rpc_ok route.set "$(with_oifs '["r-out2"]')" |
    jq -e '.route.oifs == ["r-out2"]' >/dev/null || fail "route.set: wrong route in the result"
  expect_mroute "$fam" "$src" "$g2" r-in r-out2
  flow "$g2" 20 0 20

  rpc_ok route.set "$(with_oifs '["r-out1", "r-out2"]')" >/dev/null
  expect_mroute "$fam" "$src" "$g2" r-in r-out1 r-out2
  rpc_ok route.remove "$(with_oifs '["r-out2"]')" |
    jq -e '.route.oifs == ["r-out1"]' >/dev/null || fail "route.remove of one OIF: wrong result"
  expect_mroute "$fam" "$src" "$g2" r-in r-out1
  flow "$g2" 20 20 0

  rpc_ok route.list | jq -e --arg g "$g2" '[.routes.ssm[] | select(.group == $g)] | length == 1' \
    >/dev/null || fail "route.list does not list ($src,$g2) once"

  rpc_ok route.remove "$route" | jq -e '.route == null' >/dev/null ||
    fail "route.remove of the whole route: result.route is not null"
  expect_mroute "$fam" "$src" "$g2"
  flow "$g2" 20 0 0
  rpc_error route.remove "$route" -32003
done

mfcd_stop
expect_no_mroute_state
