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

say "a big table, in pages: the README's loop and mfcctl show"
# 2,500 more routes: three pages of 1,000 for the kernel entries alone.
for i in $(seq 0 2499); do
  echo "mroute from r-in source $SENDER4 group 225.3.$((i / 250)).$((i % 250 + 1)) to r-out1"
done >>"$CONF"
mfcd_reload
block=$(awk '/^A big table comes in pages/ { want = 1; next }
  want && /^```/ { if (inside) exit; inside = 1; next }
  inside { print }' "$readme")
grep -q '"limit": 1000\|limit: 1000' <<<"$block" || fail "no paging loop after 'A big table comes in pages' in $readme"
block=$(sed -e "s#/run/mfcd.sock#$SOCK#g" <<<"$block")
paged=$(nsx router bash -eo pipefail -c "$block") || fail "the README's paging loop failed: $block"
whole=$(rpc_ok route.list | jq -r '.routes.kernel[] | "\(.source) \(.group) \(.iif) -> \(.oifs | join(" "))"')
[ "$(wc -l <<<"$whole")" = 2502 ] || fail "route.list holds $(wc -l <<<"$whole") kernel entries, not 2502"
[ "$paged" = "$whole" ] || fail "the paged walk differs from the whole listing: $(diff <(echo "$whole") <(echo "$paged") | head)"
# mfcctl show pages too (three requests at least) and prints every row,
# exactly as one whole reply would be printed (the rows are all as wide).
shown=$(mfcctl -p show) || fail "mfcctl show failed"
rows=$(awk '/^Kernel MFC Table/ { k = 1 } k && /^\(/ { n++ } END { print n + 0 }' <<<"$shown")
[ "$rows" = 2502 ] || fail "mfcctl show printed $rows kernel rows, not 2502"
[ "$(grep -c '^Kernel MFC Table$' <<<"$shown")" = 1 ] || fail "mfcctl show printed the kernel title more than once"
awk '/^Kernel MFC Table/ { k = 1 } k && /^\(/ { print $1, $2 }' <<<"$shown" | tr -d '(),' |
  awk '{ print $1, $2 }' >"$E2E_WORK/shown.txt"
awk '{ print $1, $2 }' <<<"$whole" | diff - "$E2E_WORK/shown.txt" >/dev/null ||
  fail "mfcctl show's kernel rows are not route.list's, in its order"
# -j joins the pages into what one whole reply holds.
mfcctl -j show | jq -S . >"$E2E_WORK/paged.json" || fail "mfcctl -j show failed"
rpc_ok route.list | jq -S . >"$E2E_WORK/whole.json"
cmp -s "$E2E_WORK/paged.json" "$E2E_WORK/whole.json" ||
  fail "mfcctl -j show differs from the whole route.list: $(diff "$E2E_WORK/whole.json" "$E2E_WORK/paged.json" | head)"

mfcd_stop
expect_no_mroute_state
