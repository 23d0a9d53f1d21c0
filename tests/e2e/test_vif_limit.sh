#!/bin/bash
# The kernel has 32 VIFs per family and table. mfcd holds a VIF only while
# a route (or phyint line) uses its interface; when all 32 are taken, the
# route that needs a 33rd fails with an error naming the interface
# (route.add: -32002 with data.interface; a config line: a logged error
# naming it) and nothing else changes. Freeing an interface's routes frees
# its VIF for another interface. IPv4 and IPv6 (separate tables).
. "$(dirname "$0")/lib.sh"
topo

# 31 more interfaces in the router: x0..x30 (veth pairs whose peers y*
# stay in the router too, unused). With r-in and r-out1 that is 33.
router_ns=$(ns_name router)
for i in $(seq 0 30); do
  ip -n "$router_ns" link add "x$i" type veth peer name "y$i"
  ip -n "$router_ns" link set "x$i" up
  ip -n "$router_ns" link set "y$i" up
done

mfcd_start <<CONF
mroute from r-in source $SENDER4 group 225.1.12.1 to r-out1
mroute from r-in source $SENDER6 group ff0e::12:1 to r-out1
CONF
expect_mroute 4 "$SENDER4" 225.1.12.1 r-in r-out1
vif_count() {
  local f=ip_mr_vif
  [ "$1" = 4 ] || f=ip6_mr_vif
  nsx router cat "/proc/net/$f" | awk 'NR > 1' | wc -l
}
[ "$(vif_count 4)" -eq 2 ] && [ "$(vif_count 6)" -eq 2 ] ||
  fail "VIFs held for unused interfaces: $(vif_count 4) IPv4, $(vif_count 6) IPv6"

say "30 routes out of x0..x29 fill both VIF tables (r-in, r-out1 + 30 = 32)"
{
  for i in $(seq 0 29); do
    echo "add r-in $SENDER4 225.1.13.$i x$i"
    echo "add r-in $SENDER6 ff0e::13:$i x$i"
  done
} | nsx router "$MFCCTL" -u "$SOCK" -b >/dev/null
[ "$(vif_count 4)" -eq 32 ] || fail "expected 32 IPv4 VIFs, the kernel has $(vif_count 4)"
[ "$(vif_count 6)" -eq 32 ] || fail "expected 32 IPv6 MIFs, the kernel has $(vif_count 6)"

say "the 33rd interface: route.add fails naming it, nothing else changes"
before=$(mr_tables)
for fam in 4 6; do
  if [ "$fam" = 4 ]; then src=$SENDER4 g=225.1.13.30; else src=$SENDER6 g=ff0e::13:30; fi
  reply=$(rpc route.add "$(jq -cn --arg s "$src" --arg g "$g" \
    '{iif: "r-in", source: $s, group: $g, oifs: ["x30"], owner: "limit"}')")
  jq -e '.error.code == -32002 and .error.data.interface == "x30" and
         (.error.message | test("x30"))' <<<"$reply" >/dev/null ||
    fail "route.add needing a 33rd VIF (IPv$fam): $reply"
  rpc_ok route.list | jq -e --arg g "$g" '[.routes.ssm[] | select(.group == $g)] == []' >/dev/null ||
    fail "the refused route $g is listed"
done
[ "$(mr_tables)" = "$before" ] || fail "the refused route.add changed the kernel tables"
out=$(mfcctl add r-in "$SENDER4" 225.1.13.30 x30 2>&1) && fail "mfcctl add needing a 33rd VIF succeeded"
grep -q "x30" <<<"$out" || fail "mfcctl add does not name x30: $out"
flow 225.1.12.1 20 20 0
flow ff0e::12:1 20 20 0

say "a config line needing a 33rd VIF: an error naming it, the rest applies"
cat >>"$CONF" <<CONF
mroute from r-in source $SENDER4 group 225.1.12.2 to r-out2
mroute from r-in source $SENDER4 group 225.1.12.1 to r-out1
CONF
cp "$CONF" "$E2E_WORK/good.conf"
mfcctl reload
grep -q "err: .*r-out2" "$MFCD_LOG" || fail "no logged error naming r-out2"
item=$(rpc_ok route.list | jq -c '.routes.ssm[] | select(.group == "225.1.12.2")')
jq -e '.state == "pending" and (.reason | test("r-out2"))' <<<"$item" >/dev/null ||
  fail "route.list shows the refused config route as: $item"
rpc_ok pending.list | jq -e '.pending[] | select(.group == "225.1.12.2") | .reason | test("VIF")' \
  >/dev/null || fail "pending.list does not list the refused config route: $(rpc_ok pending.list)"
[ "$(vif_count 4)" -eq 32 ] || fail "the VIF table changed: $(vif_count 4)"
expect_mroute 4 "$SENDER4" 225.1.12.1 r-in r-out1
flow 225.1.12.1 20 20 0

say "removing x0's routes frees its VIF; x30 can take it"
cp "$E2E_WORK/good.conf" "$CONF"
sed -i '/225.1.12.2/d' "$CONF"
mfcctl reload
mfcctl remove r-in "$SENDER4" 225.1.13.0
mfcctl remove r-in "$SENDER6" ff0e::13:0
nsx router grep -qw x0 /proc/net/ip_mr_vif && fail "the IPv4 VIF of x0 is still held"
nsx router grep -qw x0 /proc/net/ip6_mr_vif && fail "the IPv6 MIF of x0 is still held"
[ "$(vif_count 4)" -eq 31 ] && [ "$(vif_count 6)" -eq 31 ] || fail "x0's VIFs not freed"
mfcctl add r-in "$SENDER4" 225.1.13.30 x30
mfcctl add r-in "$SENDER6" ff0e::13:30 x30
expect_mroute 4 "$SENDER4" 225.1.13.30 r-in x30
expect_mroute 6 "$SENDER6" ff0e::13:30 r-in x30
[ "$(vif_count 4)" -eq 32 ] && [ "$(vif_count 6)" -eq 32 ] || fail "x30 has no VIF"

mfcd_stop
expect_no_mroute_state
