#!/bin/bash
# (S/LEN,G) and (S,G/LEN) forward exactly the covered sources and groups
# and nothing else; a static route whose last OIF is removed stays in the
# kernel as a stop filter and is listed as such. IPv4 and IPv6.
. "$(dirname "$0")/lib.sh"
topo

# One covered and one uncovered source on the sender.
ip -n "$(ns_name sender)" addr add 192.0.2.130/24 dev eth0
ip -n "$(ns_name sender)" addr add 2001:db8:1::8002/64 dev eth0 nodad

mfcd_start <<CONF
phyint r-in enable
phyint r-out1 enable
phyint r-out2 enable
mroute from r-in source 192.0.2.0/25 group 225.1.1.1 to r-out1
mroute from r-in source $SENDER4 group 225.4.4.0/24 to r-out2
mroute from r-in source 2001:db8:1::/113 group ff0e::1:1 to r-out1
mroute from r-in source $SENDER6 group ff0e::4:0/120 to r-out2
mroute from r-in source $SENDER4 group 225.9.9.9 to r-out1 r-out2
mroute from r-in source $SENDER6 group ff0e::9:9 to r-out1 r-out2
CONF

for fam in 4 6; do
  if [ "$fam" = 4 ]; then
    in=$SENDER4 out=192.0.2.130 g=225.1.1.1 gin=225.4.4.77 gout=225.4.5.1 gs=225.9.9.9
  else
    in=$SENDER6 out=2001:db8:1::8002 g=ff0e::1:1 gin=ff0e::4:77 gout=ff0e::4:177 gs=ff0e::9:9
  fi
  say "IPv$fam (S/LEN,G): $in is covered, $out is not"
  flow "$g" 10 10 0 -s "$in"
  flow "$g" 10 0 0 -s "$out"
  expect_mroute "$fam" "$in" "$g" r-in r-out1
  expect_mroute "$fam" "$out" "$g"

  say "IPv$fam (S,G/LEN): $gin is covered, $gout is not, nor $gin from $out"
  flow "$gin" 10 0 10 -s "$in"
  flow "$gout" 10 0 0 -s "$in"
  flow "$gin" 10 0 0 -s "$out"
  expect_mroute "$fam" "$in" "$gin" r-in r-out2
  expect_mroute "$fam" "$in" "$gout"
  expect_mroute "$fam" "$out" "$gin"

  say "IPv$fam: removing the last OIFs of ($in, $gs) leaves a stop filter"
  mfcctl remove r-in "$in" "$gs" r-out1 r-out2
  nsx router ip "-$fam" mroute show | grep -F "($in,$gs)" | grep -q "Iif: r-in *State" ||
    fail "($in, $gs) is not a stop filter in the kernel"
  flow "$gs" 10 0 0 -s "$in"
  rpc_ok route.list | jq -e --arg s "$in" --arg g "$gs" '
    ([.routes.ssm[] | select(.source == $s and .group == $g and .oifs == [] and .state == "installed")] | length == 1) and
    ([.routes.kernel[] | select(.source == $s and .group == $g and .oifs == [] and .type == "static")] | length == 1)' >/dev/null ||
    fail "($in, $gs) is not listed as a stop filter"
done

# The ranges were never expanded: only flows that were sent have entries.
rpc_ok route.list | jq -e '[.routes.ssm[] | select(.state == "rule")] | length == 4' >/dev/null ||
  fail "the four ranges are not listed as rules"

mfcd_stop
expect_no_mroute_state
