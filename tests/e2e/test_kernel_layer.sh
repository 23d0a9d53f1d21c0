#!/usr/bin/env bash
# The kernel layer (daemon/kernel/) against the real kernel, without the
# daemon: tests/tools/kernel_check drives Mroute, dump_links and LinkMonitor
# inside a router namespace built here and compares the kernel's /proc view
# exactly. A second namespace plays the sender so that real packets arrive on
# a1 (a sender in the router's own namespace gets its IPv4 packets dropped as
# martians). a2/b2 is a veth pair left up in the router, standing in for a
# dummy (no dummy module on the test machines).
#
#   sender: b1 192.0.2.2 2001:db8:1::2  <->  router: a1 192.0.2.1 2001:db8:1::1
#                                             router: a2 <-> b2
#
# Exit 0 pass, 77 skip (reason on stdout), anything else fail.
set -eu -o pipefail

MFCD_SOURCE_DIR=${MFCD_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
MFCD_BUILD_DIR=${MFCD_BUILD_DIR:-$MFCD_SOURCE_DIR/build}
KERNEL_CHECK=$MFCD_BUILD_DIR/tests/kernel_check

skip() { echo "SKIP: $*"; exit 77; }

[ "$(id -u)" -eq 0 ] || skip "needs root"
command -v ip >/dev/null || skip "no ip(8)"
[ -x "$KERNEL_CHECK" ] || { echo "FAIL: $KERNEL_CHECK not built" >&2; exit 1; }

ROUTER=mfcd-kl-r-$$
SENDER=mfcd-kl-s-$$
cleanup() {
  ip netns del "$ROUTER" 2>/dev/null || true
  ip netns del "$SENDER" 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ip netns add "$ROUTER" || skip "cannot create network namespaces"
ip netns add "$SENDER"

r() { ip -n "$ROUTER" "$@"; }
s() { ip -n "$SENDER" "$@"; }

r link add a1 type veth peer name b1 netns "$SENDER" || skip "no veth support"
r link add a2 type veth peer name b2
for l in lo a1 a2 b2; do r link set "$l" up; done
for l in lo b1; do s link set "$l" up; done
r addr add 192.0.2.1/24 dev a1
r addr add 2001:db8:1::1/64 dev a1 nodad
s addr add 192.0.2.2/24 dev b1
s addr add 2001:db8:1::2/64 dev b1 nodad
# A router with rp_filter on drops multicast from sources it has no route
# back to; new namespaces start with it off here, but say so explicitly.
for k in all default a1; do
  ip netns exec "$ROUTER" sysctl -qw "net.ipv4.conf.$k.rp_filter=0"
done

ip netns exec "$ROUTER" "$KERNEL_CHECK" --sender-netns "$SENDER"
