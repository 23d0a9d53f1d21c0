#!/bin/bash
# The README's socat + jq examples, run exactly as written: the API works
# with nothing but a shell, socat and jq.
. "$(dirname "$0")/lib.sh"
topo

mfcd_start <<CONF
phyint r-in enable
phyint r-out1 enable
phyint r-out2 enable
CONF

export SOCK
nsx router bash -eo pipefail -c '
echo '\''{"jsonrpc":"2.0","id":1,"method":"route.list"}'\'' | socat - UNIX-CONNECT:$SOCK | jq -e '\''.result.routes'\''
echo '\''{"jsonrpc":"2.0","id":2,"method":"route.add","params":{"iif":"r-in","source":"192.0.2.2","group":"225.1.2.3","oifs":["r-out1"]}}'\'' | socat - UNIX-CONNECT:$SOCK | jq -e '\''.result.route'\''
echo '\''{"jsonrpc":"2.0","id":3,"method":"route.add","params":{"iif":"r-in","source":"2001:db8:1::2","group":"ff0e::1:3","oifs":["r-out2"]}}'\'' | socat - UNIX-CONNECT:$SOCK | jq -e '\''.result.route'\''
' || fail "the README's socat + jq example failed"

# The README's own block, taken from README.md, with this topology's names
# (socket, interfaces, sender) put in.
readme=$MFCD_SOURCE_DIR/README.md
block=$(awk '/^With socat and jq:/ { want = 1; next }
  want && /^```/ { if (inside) exit; inside = 1; next }
  inside { print }' "$readme")
grep -q 'socat - UNIX-CONNECT:/run/mfcd.sock' <<<"$block" ||
  fail "no socat example under 'With socat and jq:' in $readme"
block=$(sed -e "s#/run/mfcd.sock#$SOCK#g" -e 's/"eth0"/"r-in"/g; s/"eth1"/"r-out1"/g' \
  -e "s/192\.0\.2\.10/$SENDER4/g" <<<"$block")
nsx router bash -eo pipefail -c "$block" || fail "the README's socat block failed: $block"

expect_mroutes 4 <<<"($SENDER4,225.1.2.3) r-in r-out1"
expect_mroutes 6 <<<"($SENDER6,ff0e::1:3) r-in r-out2"
flow 225.1.2.3 20 20 0
flow ff0e::1:3 20 0 20

# And the list shows both now.
nsx router bash -eo pipefail -c '
echo '\''{"jsonrpc":"2.0","id":1,"method":"route.list"}'\'' | socat - UNIX-CONNECT:$SOCK | jq -e '\''.result.routes.ssm | length == 2'\''
' >/dev/null || fail "route.list over socat does not show the two routes"

mfcd_stop
expect_no_mroute_state
