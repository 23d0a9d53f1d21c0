#!/bin/bash
# A kernel fact the router and its unit tests' fake kernel rely on
# (docs/kernel.md): deleting a VIF, or its device, hides it from an entry's
# OIFs but leaves its TTL in the entry, so a VIF given that index again, on
# any device, forwards the entry's traffic at once. That is why mfcd
# rewrites every entry that named a VIF that went, before the index is
# reused. tests/tools/vif_ttls.py checks it step by step, for IPv4 and IPv6,
# in a namespace of this test's own.
. "$(dirname "$0")/lib.sh"
e2e_add_ns router
nsx router test -e /proc/net/ip_mr_vif || skip "kernel without IPv4 multicast routing"
nsx router test -e /proc/net/ip6_mr_vif || skip "kernel without IPv6 multicast routing"
out=$(ip netns exec "$(ns_name router)" python3 "$MFCD_SOURCE_DIR/tests/tools/vif_ttls.py" 2>&1) ||
  fail "the kernel does not keep a deleted VIF's TTLs as docs/kernel.md says:
$out"
printf '%s\n' "$out"
say "ok"
