#!/bin/bash
# Traffic for a group (or from a source) without a route is not forwarded,
# while routed traffic beside it is.
. "$(dirname "$0")/lib.sh"
topo

mfcd_start <<CONF
phyint r-in enable
phyint r-out1 enable
phyint r-out2 enable
mroute from r-in source $SENDER4 group 225.1.2.3 to r-out1 r-out2
mroute from r-in source $SENDER6 group ff0e::1:3 to r-out1 r-out2
# The right group from another source: must not match our sender.
mroute from r-in source 192.0.2.99 group 225.1.2.5 to r-out1 r-out2
mroute from r-in source 2001:db8:1::99 group ff0e::1:5 to r-out1 r-out2
CONF

flow 225.1.2.4 20 0 0
flow 225.1.2.5 20 0 0
flow ff0e::1:4 20 0 0
flow ff0e::1:5 20 0 0
flow 225.1.2.3 20 20 20
flow ff0e::1:3 20 20 20

# Whatever the kernel now holds for the unrouted flows (nothing, or a stop
# filter) has no OIF; the routed ones are untouched.
expect_mroute 4 "$SENDER4" 225.1.2.4
expect_mroute 4 "$SENDER4" 225.1.2.5
expect_mroute 6 "$SENDER6" ff0e::1:4
expect_mroute 6 "$SENDER6" ff0e::1:5
expect_mroute 4 "$SENDER4" 225.1.2.3 r-in r-out1 r-out2
expect_mroute 6 "$SENDER6" ff0e::1:3 r-in r-out1 r-out2
expect_mroute 4 192.0.2.99 225.1.2.5 r-in r-out1 r-out2
expect_mroute 6 2001:db8:1::99 ff0e::1:5 r-in r-out1 r-out2

mfcd_stop
expect_no_mroute_state
