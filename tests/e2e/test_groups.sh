#!/usr/bin/env bash
# Group memberships, IPv4 and IPv6: config mgroup lines (ASM, SSM, ranges,
# 200 on one interface, one waiting for its interface), group.join /
# group.leave with owners, mfcctl join/leave/show groups, reload leaving
# exactly the removed line, bad input changing nothing, and stop leaving
# everything. Checked in the kernel's own view (/proc/net/igmp, mcfilter,
# igmp6, mcfilter6, ip maddr) and on the wire: igmpcap in the sender's
# namespace sees the IGMPv3/MLDv2 reports for r-in's joins and leaves.
. "$(dirname "$0")/lib.sh"

IGMPCAP=$MFCD_BUILD_DIR/tests/igmpcap
[ -x "$IGMPCAP" ] || fail "$IGMPCAP is not built"

topo
CAP=$E2E_WORK/wire.txt

# kview: the router's memberships in the test's ranges (225/8, 232/8,
# ff05::/16, ff3e::/16), one per line, sorted:
#   DEV GROUP          (ASM, from /proc/net/igmp{,6})
#   DEV GROUP SOURCE   (from /proc/net/mcfilter{,6}, INCLUDE entries)
kview() {
  nsx router "$PYTHON" - <<'EOF'
import ipaddress
out = set()
def v4hex_le(h):  # /proc/net/igmp prints the raw __be32 as a host integer
    return str(ipaddress.IPv4Address(bytes.fromhex(h)[::-1]))
def v6hex(h):
    return str(ipaddress.IPv6Address(bytes.fromhex(h)))
def ours(g):
    return g.startswith(("225.", "232.", "ff05:", "ff3e:"))
dev = None
ssm = set()
for line in open("/proc/net/mcfilter").read().splitlines()[1:]:
    f = line.split()
    g = str(ipaddress.IPv4Address(int(f[2], 16)))
    s = str(ipaddress.IPv4Address(int(f[3], 16)))
    if ours(g) and int(f[4]) > 0:
        out.add(f"{f[1]} {g} {s}")
        ssm.add((f[1], g))
for line in open("/proc/net/mcfilter6").read().splitlines()[1:]:
    f = line.split()
    g, s = v6hex(f[2]), v6hex(f[3])
    if ours(g) and int(f[4]) > 0:
        out.add(f"{f[1]} {g} {s}")
        ssm.add((f[1], g))
for line in open("/proc/net/igmp").read().splitlines()[1:]:
    if not line.startswith("\t"):
        dev = line.split()[1]
        continue
    g = v4hex_le(line.split()[0])
    if ours(g) and (dev, g) not in ssm:
        out.add(f"{dev} {g}")
for line in open("/proc/net/igmp6").read().splitlines():
    f = line.split()
    g = v6hex(f[2])
    if ours(g) and (f[1], g) not in ssm:
        out.add(f"{f[1]} {g}")
print("\n".join(sorted(out)))
EOF
}

# kcount DEV: memberships of DEV in kview.
kcount() { kview | awk -v d="$1" '$1 == d' | wc -l; }

# khas LINE: kview has exactly this line.
khas() { kview | grep -xF "$1" >/dev/null; }

# wire_has LINE: igmpcap printed this line (a report record).
wire_has() { grep -qxF "$1" "$CAP"; }

# maddr_has DEV GROUP: ip maddr lists GROUP on DEV.
maddr_has() { nsx router ip maddr show dev "$1" | grep -w "$2" >/dev/null; }

no_maddr() { ! maddr_has "$@"; }

# join_state IIF GROUP STATE: group.list shows that join in that state.
join_state() {
  rpc_ok group.list | jq -e --arg i "$1" --arg g "$2" --arg s "$3" \
    '.groups.conf[] | select(.iif == $i and .group == $g) | .state == $s' >/dev/null
}

# Start the capture first so the config's own joins are seen.
rm -f "$E2E_WORK/cap.ready"
ip netns exec "$(ns_name sender)" "$IGMPCAP" -i eth0 --ready "$E2E_WORK/cap.ready" >"$CAP" 2>&1 &
E2E_PIDS+=($!)
wait_for 10 "igmpcap ready" test -e "$E2E_WORK/cap.ready"

# 200 joins on r-out2 from one config, IPv4 and IPv6 (10 sockets each at
# the default igmp_max_memberships of 20).
many=""
for i in $(seq 1 200); do
  many+="mgroup from r-out2 group 225.20.$((i / 100)).$((i % 100))"$'\n'
  many+="mgroup from r-out2 group ff05::20:$i"$'\n'
done

mfcd_start <<EOF
mgroup from r-in group 225.1.1.1
ssmgroup from r-in source 192.0.2.2 group 232.1.1.1
mgroup from r-in group ff05::1:1
mgroup from r-in source 2001:db8:1::2 group ff3e::1:1
# ranges: 4 groups; 4 sources x 2 groups
mgroup from r-out1 group 225.2.0.0/30
mgroup from r-out1 source 198.51.100.8/30 group 232.2.2.0/31
mgroup from r-out1 source 2001:db8:2::10/127 group ff3e::2:0/127
# waits for its interface
mgroup from late0 group 225.3.3.3
mgroup from late0 group ff05::3:3
$many
EOF

say "config joins are in the kernel"
for line in "r-in 225.1.1.1" "r-in 232.1.1.1 192.0.2.2" "r-in ff05::1:1" "r-in ff3e::1:1 2001:db8:1::2"; do
  wait_for 5 "kernel membership $line" khas "$line"
done
maddr_has r-in 225.1.1.1 || fail "ip maddr does not show 225.1.1.1 on r-in"
maddr_has r-in ff05::1:1 || fail "ip maddr does not show ff05::1:1 on r-in"

say "reports for exactly those groups and sources reach the neighbour"
wait_for 5 "IGMPv3 TO_EX 225.1.1.1 on the wire" wire_has "ipv4 v3 TO_EX 225.1.1.1"
wait_for 5 "IGMPv3 ALLOW 232.1.1.1 192.0.2.2 on the wire" wire_has "ipv4 v3 ALLOW 232.1.1.1 192.0.2.2"
wait_for 5 "MLDv2 TO_EX ff05::1:1 on the wire" wire_has "ipv6 v2 TO_EX ff05::1:1"
wait_for 5 "MLDv2 ALLOW ff3e::1:1 2001:db8:1::2 on the wire" wire_has "ipv6 v2 ALLOW ff3e::1:1 2001:db8:1::2"
seen=$(awk '$3 != "IS_IN" && $3 != "IS_EX" {print $4, $5}' "$CAP" |
  grep -E '^(225\.|232\.|ff05:|ff3e:)' | sort -u | tr '\n' ';')
[ "$seen" = "225.1.1.1 ;232.1.1.1 192.0.2.2;ff05::1:1 ;ff3e::1:1 2001:db8:1::2;" ] ||
  fail "reports on r-in's link name other groups: $seen"

say "ranges join exactly the covered set"
want_out1="r-out1 225.2.0.0
r-out1 225.2.0.1
r-out1 225.2.0.2
r-out1 225.2.0.3
r-out1 232.2.2.0 198.51.100.10
r-out1 232.2.2.0 198.51.100.11
r-out1 232.2.2.0 198.51.100.8
r-out1 232.2.2.0 198.51.100.9
r-out1 232.2.2.1 198.51.100.10
r-out1 232.2.2.1 198.51.100.11
r-out1 232.2.2.1 198.51.100.8
r-out1 232.2.2.1 198.51.100.9
r-out1 ff3e::2:0 2001:db8:2::10
r-out1 ff3e::2:0 2001:db8:2::11
r-out1 ff3e::2:1 2001:db8:2::10
r-out1 ff3e::2:1 2001:db8:2::11"
got_out1=$(kview | awk '$1 == "r-out1"')
[ "$got_out1" = "$want_out1" ] || fail "r-out1 memberships differ; got:
$got_out1"

say "200 joins per family on one interface all succeed"
[ "$(kcount r-out2)" -eq 400 ] || fail "r-out2 holds $(kcount r-out2) memberships, expected 400"
list=$(rpc_ok group.list)
jq -e '[.groups.conf[] | select(.iif == "r-out2" and .state == "joined")] | length == 400' <<<"$list" >/dev/null ||
  fail "group.list does not show 400 joined on r-out2"
jq -e '[.groups.kernel[].socket] | unique | length >= 20' <<<"$list" >/dev/null ||
  fail "400 memberships should need at least 20 sockets"
jq -e '.groups.conf[] | select(.iif == "late0" and .group == "225.3.3.3") | .state == "pending"' <<<"$list" >/dev/null ||
  fail "the join on late0 should be pending"
jq -e '.groups.conf[] | select(.group == "232.1.1.1") | .source == "192.0.2.2" and .origins == ["config"]' <<<"$list" >/dev/null ||
  fail "232.1.1.1 is listed wrong: $list"

say "group.list in pages of 37 walks the same joins and memberships, across sockets"
paged=$(rpc_pages group.list 37) || exit 1
pages=$(wc -l <<<"$paged")
walked=$(jq -sc '{conf: (map(.groups.conf) | add), kernel: (map(.groups.kernel) | add)}' <<<"$paged")
[ "$walked" = "$(jq -c '.groups' <<<"$list")" ] || fail "group.list's pages differ from the whole listing"
total=$(jq '.groups.conf + .groups.kernel | length' <<<"$list")
[ "$pages" -eq $(((total + 36) / 37)) ] || fail "$total items came in $pages pages of 37"
[ "$(mfcctl -j show groups | jq -c '.groups')" = "$walked" ] || fail "mfcctl -j show groups differs from group.list"

say "a join waits for its interface, then follows it (new ifindex too)"
ip -n "$(ns_name router)" link add late0 type veth peer name late0p
ip -n "$(ns_name router)" link set late0p up
ip -n "$(ns_name router)" link set late0 up
wait_for 10 "late0 join" khas "late0 225.3.3.3"
wait_for 10 "late0 IPv6 join" khas "late0 ff05::3:3"
ip -n "$(ns_name router)" link del late0
wait_for 5 "late0 membership gone with it" no_maddr late0 225.3.3.3
wait_for 5 "late0 join pending again" join_state late0 225.3.3.3 pending
ip -n "$(ns_name router)" link add late0 type veth peer name late0p
ip -n "$(ns_name router)" link set late0p up
ip -n "$(ns_name router)" link set late0 up
wait_for 10 "late0 join after re-creation" khas "late0 225.3.3.3"
wait_for 10 "late0 IPv6 join after re-creation" khas "late0 ff05::3:3"

say "API joins are counted per owner (IPv4 and IPv6)"
for g in 225.5.5.5 ff05::5:5; do
  fam=ipv4
  [[ $g == *:* ]] && fam=ipv6
  r=$(rpc_ok group.join "{\"iif\":\"r-in\",\"group\":\"$g\",\"owner\":\"alice\"}")
  jq -e ".group.state == \"joined\" and .group.owners == [\"alice\"] and .group.family == \"$fam\"" <<<"$r" >/dev/null ||
    fail "group.join $g: $r"
  khas "r-in $g" || fail "$g not in the kernel right after group.join returned"
  rpc_ok group.join "{\"iif\":\"r-in\",\"group\":\"$g\",\"owner\":\"bob\"}" |
    jq -e '.group.owners == ["alice","bob"]' >/dev/null || fail "second owner not listed"
  rpc_ok group.leave "{\"iif\":\"r-in\",\"group\":\"$g\",\"owner\":\"alice\"}" |
    jq -e '.group.owners == ["bob"]' >/dev/null || fail "alice's leave should keep bob's share"
  khas "r-in $g" || fail "$g left while bob still holds it"
  rpc_ok group.leave "{\"iif\":\"r-in\",\"group\":\"$g\",\"owner\":\"bob\"}" |
    jq -e '.group == null' >/dev/null || fail "last leave should drop the join"
  ! khas "r-in $g" || fail "$g still in the kernel after the last leave"
done
wait_for 5 "IGMPv3 join report 225.5.5.5" wire_has "ipv4 v3 TO_EX 225.5.5.5"
wait_for 5 "IGMPv3 leave report 225.5.5.5" wire_has "ipv4 v3 TO_IN 225.5.5.5"
wait_for 5 "MLDv2 join report ff05::5:5" wire_has "ipv6 v2 TO_EX ff05::5:5"
wait_for 5 "MLDv2 leave report ff05::5:5" wire_has "ipv6 v2 TO_IN ff05::5:5"

say "SSM over the API: leave needs the same source"
for sg in "192.0.2.2 232.5.5.5 192.0.2.3" "2001:db8:1::2 ff3e::5:5 2001:db8:1::3"; do
  read -r s g wrong <<<"$sg"
  fam=4
  [[ $g == *:* ]] && fam=6
  rpc_ok group.join "{\"iif\":\"r-in\",\"source\":\"$s\",\"group\":\"$g\"}" >/dev/null
  khas "r-in $g $s" || fail "($s, $g) not in mcfilter$([ $fam = 4 ] || echo 6)"
  rpc_error group.leave "{\"iif\":\"r-in\",\"source\":\"$wrong\",\"group\":\"$g\"}" -32003
  rpc_error group.leave "{\"iif\":\"r-in\",\"group\":\"$g\"}" -32003
  khas "r-in $g $s" || fail "a wrong leave changed ($s, $g)"
  rpc_ok group.leave "{\"iif\":\"r-in\",\"source\":\"$s\",\"group\":\"$g\"}" >/dev/null
  ! khas "r-in $g $s" || fail "($s, $g) still joined after leave"
done
wait_for 5 "IGMPv3 ALLOW 232.5.5.5" wire_has "ipv4 v3 ALLOW 232.5.5.5 192.0.2.2"
wait_for 5 "IGMPv3 BLOCK 232.5.5.5" wire_has "ipv4 v3 BLOCK 232.5.5.5 192.0.2.2"
wait_for 5 "MLDv2 ALLOW ff3e::5:5" wire_has "ipv6 v2 ALLOW ff3e::5:5 2001:db8:1::2"
wait_for 5 "MLDv2 BLOCK ff3e::5:5" wire_has "ipv6 v2 BLOCK ff3e::5:5 2001:db8:1::2"

say "bad input gets a clear error and changes nothing"
before_k=$(kview)
before_l=$(rpc_ok group.list | jq -c '.groups')
rpc_error group.join '{"iif":"r-in","group":"192.0.2.77"}' -32602
rpc_error group.join '{"iif":"r-in","group":"2001:db8::77"}' -32602
rpc_error group.join '{"iif":"r-in","source":"2001:db8:1::2","group":"232.1.1.9"}' -32602
rpc_error group.join '{"iif":"r-in","source":"192.0.2.2","group":"ff3e::9"}' -32602
rpc_error group.join '{"iif":"r-in","source":"225.1.1.2","group":"232.1.1.9"}' -32602
# Without strict a join on a missing interface waits for it (test_typo_iface).
rpc_error group.join '{"iif":"nosuch0","group":"225.9.9.9","strict":true}' -32001
rpc_error group.join '{"iif":"r-in","group":"225.9.0.0/21"}' -32006
rpc_error group.join '{"iif":"r-in","group":"225.9.9.9","oifs":["r-out1"]}' -32602
rpc_error group.leave '{"iif":"r-in","group":"225.9.9.9"}' -32003
rpc_error group.leave '{"iif":"r-out1","group":"225.2.0.1"}' -32003
msg=$(rpc group.join '{"iif":"r-in","group":"192.0.2.77"}' | jq -r '.error.data.message')
[ "$msg" = "group 192.0.2.77 is not a multicast address" ] || fail "unclear message: $msg"
msg=$(rpc group.leave '{"iif":"r-in","group":"225.9.9.9"}' | jq -r '.error.message')
[ "$msg" = "no join r-in (*, 225.9.9.9)" ] || fail "unclear message: $msg"
msg=$(rpc group.join '{"iif":"nosuch0","group":"225.9.9.9","strict":true}' |
  jq -c '.error.data | {interface, message}')
[ "$msg" = '{"interface":"nosuch0","message":"interface nosuch0 does not exist; nothing changed"}' ] ||
  fail "unclear data: $msg"
[ "$(kview)" = "$before_k" ] || fail "bad input changed the kernel's memberships"
[ "$(rpc_ok group.list | jq -c '.groups')" = "$before_l" ] || fail "bad input changed group.list"

say "mfcctl join, show groups, leave"
mfcctl join r-in 225.6.6.6
mfcctl join r-in 192.0.2.2 232.6.6.6
khas "r-in 225.6.6.6" || fail "mfcctl join did not join"
shown=$(mfcctl -p show groups | tr -d ' ')
grep -qxF "(*,225.6.6.6)r-in" <<<"$shown" || fail "show groups lacks (*, 225.6.6.6): $shown"
grep -qxF "(192.0.2.2,232.6.6.6)r-in" <<<"$shown" || fail "show groups lacks (192.0.2.2, 232.6.6.6)"
grep -qxF "(198.51.100.8/30,232.2.2.0/31)r-out1" <<<"$shown" || fail "show groups lacks the range"
mfcctl -j show groups | jq -e '.groups.conf[] | select(.group == "225.6.6.6") | .owners == ["mfcctl"]' >/dev/null ||
  fail "mfcctl's joins should be owned by mfcctl"
mfcctl leave r-in 225.6.6.6
mfcctl leave r-in 192.0.2.2 232.6.6.6
! khas "r-in 225.6.6.6" || fail "mfcctl leave did not leave"
! mfcctl leave r-in 225.6.6.6 2>/dev/null || fail "leaving twice should fail"

say "reload leaves exactly the removed line, keeps API joins"
rpc_ok group.join '{"iif":"r-in","group":"225.7.7.7","owner":"orch"}' >/dev/null
sed -i '/225.2.0.0\/30/d; /ff05::1:1/d' "$CONF"
mfcd_reload
for i in 0 1 2 3; do
  wait_for 5 "225.2.0.$i left" no_maddr r-out1 "225.2.0.$i"
done
! khas "r-in ff05::1:1" || fail "ff05::1:1 should be left after reload"
khas "r-in 225.7.7.7" || fail "the API join did not survive the reload"
khas "r-in 225.1.1.1" || fail "an unchanged config join was lost"
[ "$(kcount r-out2)" -eq 400 ] || fail "r-out2 lost memberships in the reload"
[ "$(kcount r-out1)" -eq 12 ] || fail "r-out1 should keep its 12 SSM memberships, has $(kcount r-out1)"
# Unchanged joins were not touched: no leave for them in the log.
! grep -qE 'left r-(in|out2) \(\*, (225\.1\.1\.1|225\.20\.)' "$MFCD_LOG" ||
  fail "an unchanged join was left during reload"
wait_for 5 "MLDv2 leave report ff05::1:1" wire_has "ipv6 v2 TO_IN ff05::1:1"

say "stop leaves everything"
mfcd_stop
[ -z "$(kview)" ] || fail "memberships left after stop: $(kview | head -5)"
