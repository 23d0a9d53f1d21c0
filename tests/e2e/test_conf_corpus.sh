#!/bin/bash
# The example SMCRoute configurations under conf/examples: every file (and
# every included snippet) passes `mfcd -F`; an error inside an included
# file is found through the include; and the IPTV and IPv6 examples,
# started unchanged in a topology with their interface names, forward
# what they say.
. "$(dirname "$0")/lib.sh"
EXAMPLES=$MFCD_SOURCE_DIR/conf/examples
[ -d "$EXAMPLES" ] || fail "no $EXAMPLES"

# --- mfcd -F on the whole corpus ----------------------------------------------
n=0
for f in "$EXAMPLES"/*.conf "$EXAMPLES"/smcroute.d/*.conf; do
  out=$("$MFCD" -F "$f" 2>&1) || fail "mfcd -F $f: exit $?: $out"
  # Interfaces of another host are only warnings; nothing else may be said.
  ! grep -v 'warning: ' <<<"$out" | grep -q . || fail "mfcd -F $f said: $out"
  n=$((n + 1))
done
say "mfcd -F: $n files pass"

# includes.conf points at /etc/smcroute.d; aim it at the corpus's own
# directory and check that the snippets are really read.
sed "s|/etc/smcroute.d/|$E2E_WORK/smcroute.d/|" "$EXAMPLES/includes.conf" >"$E2E_WORK/includes.conf"
cp -r "$EXAMPLES/smcroute.d" "$E2E_WORK/"
out=$("$MFCD" -F "$E2E_WORK/includes.conf" 2>&1) || fail "includes.conf with its snippets: $out"
! grep -q 'matches no files' <<<"$out" || fail "the include matched nothing: $out"
echo "mroute from eth1 group 239.50.0.3 to" >>"$E2E_WORK/smcroute.d/10-cameras.conf"
rc=0
out=$("$MFCD" -F "$E2E_WORK/includes.conf" 2>&1) || rc=$?
[ "$rc" -eq 78 ] || fail "an error in an included file: exit $rc, expected 78"
grep -q '10-cameras.conf:4' <<<"$out" || fail "the error does not name the included file: $out"

# --- IPTV from the WAN VLAN to the LAN bridge ---------------------------------------
#
#   sender eth0.100 --- wan0.100 [router] br0 (snooping bridge) -+- lan1 --- eth0 recv1
#   192.0.2.2  (VLAN 100 on    192.0.2.1   198.51.100.1         +- lan2 --- eth0 recv2
#              the wan0 link)
#
# The WAN port is a real 802.1Q VLAN, 100, on a veth (wan0 to the sender's
# eth0) when the kernel has 8021q; otherwise a veth named like one, which is
# all the configuration sees, and that part is reported as skipped.
for role in sender router recv1 recv2; do
  e2e_add_ns "$role"
done
nsx router test -e /proc/net/ip_mr_vif || skip "kernel without IPv4 multicast routing"
nsx router test -e /proc/net/ip6_mr_vif || skip "kernel without IPv6 multicast routing"
nsx router sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
R=$(ns_name router)
S=$(ns_name sender)
ip -n "$R" link add wan0 type veth peer name eth0 netns "$S"
if ip -n "$R" link add link wan0 name wan0.100 type vlan id 100 2>/dev/null; then
  ip -n "$S" link add link eth0 name eth0.100 type vlan id 100
  ip -n "$R" link set wan0 up
  ip -n "$S" link set eth0 up
  sender_if=eth0.100
else
  echo "SKIP part: 802.1Q VLAN (this kernel cannot create a vlan link): wan0.100 is a veth named like one"
  ip -n "$R" link del wan0
  ip -n "$R" link add wan0.100 type veth peer name eth0 netns "$S"
  sender_if=eth0
fi
ip -n "$R" addr add 192.0.2.1/24 dev wan0.100
ip -n "$S" addr add 192.0.2.2/24 dev "$sender_if"
ip -n "$R" link set wan0.100 up
ip -n "$S" link set "$sender_if" up
ip -n "$S" route add 224.0.0.0/4 dev "$sender_if"
if ! ip -n "$R" link add br0 type bridge vlan_filtering 1 mcast_snooping 1 2>/dev/null; then
  echo "SKIP part: bridge VLAN filtering (no CONFIG_BRIDGE_VLAN_FILTERING): a plain bridge is used"
  ip -n "$R" link add br0 type bridge mcast_snooping 1
fi
ip -n "$R" addr add 198.51.100.1/24 dev br0
i=2
for role in recv1 recv2; do
  port=lan$((i - 1))
  ip -n "$R" link add "$port" type veth peer name eth0 netns "$(ns_name "$role")"
  ip -n "$R" link set "$port" master br0
  ip -n "$R" link set "$port" up
  nsx "$role" ip addr add "198.51.100.$i/24" dev eth0
  nsx "$role" ip link set eth0 up
  nsx "$role" ip route add default via 198.51.100.1
  i=$((i + 1))
done
ip -n "$R" link set br0 up
link_up() { ip -n "$1" link show dev "$2" | grep -q 'state UP'; }
for ifc in wan0.100 br0 lan1 lan2; do
  wait_for 10 "router link $ifc up" link_up "$R" "$ifc"
done
wait_for 10 "sender link up" link_up "$S" "$sender_if"
for role in recv1 recv2; do
  wait_for 10 "$role link up" link_up "$(ns_name "$role")" eth0
done

mfcd_start <"$EXAMPLES/iptv-vlan-bridge.conf"
# The static channels are in the kernel before any packet.
expect_mroutes 4 <<MFC
(192.0.2.2,239.1.1.1) wan0.100 br0
(192.0.2.2,239.1.1.2) wan0.100 br0
(192.0.2.2,239.1.1.3) wan0.100 br0
MFC
# Each channel reaches both set-top boxes behind the bridge.
flow 239.1.1.1 20 20 20 -i "$sender_if"
flow 239.1.1.3 20 20 20 -i "$sender_if"
# The upstream joins, on the WAN VLAN. /proc/net/igmp prints a group as
# the host-order integer of its network-order bytes.
joined_on_wan() {
  nsx router cat /proc/net/igmp | awk -v hex="$1" '
    /^[0-9]/ { dev = $2 } dev == "wan0.100" && $1 == hex { found = 1 } END { exit !found }'
}
for g in 239.1.1.1 239.1.1.2 239.1.1.3; do
  IFS=. read -r a b c d <<<"$g"
  wait_for 5 "join of $g on wan0.100" joined_on_wan "$(printf '%02X%02X%02X%02X' "$d" "$c" "$b" "$a")"
done
# The (*,G) range: a channel the file does not list by source. Its first
# datagram has mfcd install the entry on demand (the kernel keeps only 4
# datagrams until then, so that one goes first, uncounted); from then on
# every datagram must arrive.
send 239.1.2.5 1 -i "$sender_if"
wait_for 5 "the on-demand entry for (192.0.2.2, 239.1.2.5)" e2e_resolved 4 192.0.2.2 239.1.2.5
recv_start star recv1 239.1.2.5 -c 20 -w 2
send 239.1.2.5 20 -i "$sender_if"
expect_count star 20 "(*,G) 239.1.2.0/24"
expect_mroute 4 192.0.2.2 239.1.2.5 wan0.100 br0
mfcd_stop
expect_no_mroute_state

# --- IPv6 ------------------------------------------------------------------------------
#
#   sender eth0 --- wan0 [router] lan0 --- eth0 recv1
#   2001:db8:1::2          lan1 --- eth0 recv2 (2001:db8:2::2, 2001:db8:3::2)
for ifc in wan0.100 wan0 br0 lan1 lan2; do
  ip -n "$R" link del "$ifc" 2>/dev/null || true
done
ip -n "$S" link del eth0 2>/dev/null || true
e2e_wire wan0 sender 192.0.2 2001:db8:1
e2e_wire lan0 recv1 198.51.100 2001:db8:2
e2e_wire lan1 recv2 203.0.113 2001:db8:3
wait_for 10 "router links up" e2e_link_ready router wan0 lan0 lan1
for role in sender recv1 recv2; do
  wait_for 10 "$role link eth0 up" e2e_link_ready "$role" eth0
done

mfcd_start <"$EXAMPLES/ipv6.conf"
expect_mroutes 6 <<MFC
(2001:db8:1::2,ff0e::1:1) wan0 lan0 lan1
(2001:db8:1::2,ff0e::1:2) wan0 lan1
(2001:db8:2::2,ff05::1:3) lan0 lan1
(2001:db8:3::2,ff05::1:3) lan1 lan0
MFC
expect_mroutes 4 </dev/null
flow ff0e::1:1 20 20 20
flow ff0e::1:2 20 0 20
mfcd_stop
expect_no_mroute_state
