#!/bin/bash
# (S,G) routes from the config: in the kernel at start, exactly as written,
# and traffic reaches exactly the receivers each route names.
. "$(dirname "$0")/lib.sh"
topo

mfcd_start <<CONF
# Both families; one route per family to both receivers, one to a single one.
phyint r-in enable
phyint r-out1 enable
phyint r-out2 enable
mroute from r-in source $SENDER4 group 225.1.2.3 to r-out1 r-out2
mroute from r-in source $SENDER4 group 225.1.2.4 to r-out1
mroute from r-in source $SENDER6 group ff0e::1:3 to r-out1 r-out2
mroute from r-in source $SENDER6 group ff0e::1:4 to r-out2
CONF

expect_mroutes 4 <<MFC
($SENDER4,225.1.2.3) r-in r-out1 r-out2
($SENDER4,225.1.2.4) r-in r-out1
MFC
expect_mroutes 6 <<MFC
($SENDER6,ff0e::1:3) r-in r-out1 r-out2
($SENDER6,ff0e::1:4) r-in r-out2
MFC

flow 225.1.2.3 20 20 20
flow 225.1.2.4 20 20 0
flow ff0e::1:3 20 20 20
flow ff0e::1:4 20 0 20

# The kernel's counters, read back through the API, saw every packet.
list=$(rpc_ok route.list '{"detail": true}')
for g in 225.1.2.3 225.1.2.4 ff0e::1:3 ff0e::1:4; do
  jq -e --arg g "$g" '[.routes.kernel[] | select(.group == $g)] | length == 1 and .[0].packets == 20' \
    <<<"$list" >/dev/null || fail "route.list detail: expected one kernel entry for $g with 20 packets: $list"
done
# And the client shows the four configured (S,G) rules.
mfcctl -j show | jq -e '.routes.ssm | length == 4' >/dev/null ||
  fail "mfcctl -j show: expected 4 (S,G) rules: $(mfcctl -j show)"
mfcctl show routes -d

mfcd_stop
expect_no_mroute_state
