#!/bin/bash
# phyint ttl-threshold: a packet leaves an interface only when its TTL is
# above that interface's threshold.
#
# IPv4 only: the kernel's IPv6 multicast forwarding ignores a MIF's
# threshold (every OIF of an IPv6 MFC entry gets threshold 1; checked on
# this kernel: hop limit 5 went out of a MIF with threshold 10), so there
# is nothing for mfcd to honour there.
. "$(dirname "$0")/lib.sh"
topo

mfcd_start <<CONF
phyint r-in enable
phyint r-out1 enable ttl-threshold 10
phyint r-out2 enable
mroute from r-in source $SENDER4 group 225.1.2.3 to r-out1 r-out2
CONF

expect_mroutes 4 <<MFC
($SENDER4,225.1.2.3) r-in r-out1:10 r-out2
MFC

# The router forwards with the TTL the packet has on arrival; it needs
# TTL > 10 for r-out1 and TTL > 1 for r-out2.
flow 225.1.2.3 20 0 20 -t 5
flow 225.1.2.3 20 20 20 -t 20
flow 225.1.2.3 20 0 20 -t 10
flow 225.1.2.3 20 20 20 -t 11
flow 225.1.2.3 20 0 0 -t 1

mfcd_stop
expect_no_mroute_state
