#!/bin/bash
# route.explain / mfcctl explain on a real router: each reason a flow can be
# lost here is made for real in the router's namespace (a sysctl, a link
# down or without carrier, an interface missing or without MULTICAST, a
# snooping bridge without querier, a TTL threshold, an SSM group under a
# (*,G) rule, a link-local group, no route, a learned stop filter, the VIF
# table full and so mc_forwarding off), and the explanation must name it and what it looked at. A
# healthy flow passes every check, and its counters and their change since
# the last explain grow with the traffic sent.
#
# "Another daemon holds the table" is made the way it happens beside mfcd:
# a second daemon on table 10 and an `ip mrule` that sends the inbound
# interface's packets there. (mfcd will not start when its own table is
# taken, so that case is unit-tested only, in explain_test.cpp.)
. "$(dirname "$0")/lib.sh"
topo

router_ns=$(ns_name router)
# Extra links in the router, each a veth whose peer stays there too:
#   r-dn   up, its peer down: no carrier
#   r-nm   up, multicast off
#   br0    a bridge (snooping on, no querier, as the kernel makes it) with
#          one port, br0p, so that it has carrier
ip -n "$router_ns" -batch - <<EOF
link add r-dn type veth peer name r-dnp
link set r-dn up
link add r-nm type veth peer name r-nmp
link set r-nm multicast off
link set r-nm up
link set r-nmp up
link add br0 type bridge
link add br0p type veth peer name br0q
link set br0p master br0
link set br0q up
link set br0p up
link set br0 up
EOF
[ "$(nsx router cat /sys/class/net/br0/bridge/multicast_snooping)" = 1 ] ||
  skip "bridges here do not snoop by default"
nsx router sh -c 'echo 0 > /sys/class/net/br0/bridge/multicast_querier'

mfcd_start <<CONF
phyint r-in enable
phyint r-out1 enable
phyint r-out2 enable ttl-threshold 8
phyint br0 enable
phyint r-dn enable
mroute from r-in source $SENDER4 group 233.252.0.1 to r-out1
mroute from r-in source $SENDER6 group ff0e::db8:1 to r-out1
mroute from r-in source $SENDER4 group 233.252.0.2 to r-out2
mroute from r-in source $SENDER4 group 233.252.0.3 to r-out1 r-gone
mroute from r-in source $SENDER4 group 233.252.0.4 to br0
mroute from r-in source $SENDER4 group 233.252.0.5 to r-dn
mroute from r-in source $SENDER4 group 233.252.0.6 to r-nm
mroute from r-in group 232.1.1.0/24 to r-out1
CONF
expect_mroute 4 "$SENDER4" 233.252.0.1 r-in r-out1

explain() { mfcctl -j explain "$@"; }

# check JSON ID IFACE OK: the explanation has check ID (about IFACE, or
# the flow when IFACE is "") with that ok; prints its looked_at.
check() {
  jq -er --arg id "$2" --arg i "$3" --argjson ok "$4" \
    'first(.checks[] | select(.check == $id and (.interface // "") == $i and .ok == $ok))
     | .looked_at' <<<"$1" || fail "no check $2 ${3:-(flow)} ok=$4 in: $1"
}

say "a healthy flow: every check passes, and the counters move with the traffic"
flow 233.252.0.1 10 10 0
# Through the raw API once, so that the reply is held to the schema.
out=$(rpc_ok route.explain "{\"source\":\"$SENDER4\",\"group\":\"233.252.0.1\"}")
jq -e '.verdict == "forwarding" and ([.checks[] | select(.ok | not)] == [])
       and .covered_by.kind == "route" and .kernel.iif == "r-in"
       and .kernel.oifs == [{"interface": "r-out1", "ttl": 1}]
       and .kernel.packets >= 10 and .kernel.change == null' <<<"$out" >/dev/null ||
  fail "healthy flow: $out"
looked=$(check "$out" rp_filter r-in true)
[[ $looked == *"/proc/sys/net/ipv4/conf/r-in/rp_filter = 0"* ]] || fail "rp_filter looked at: $looked"
check "$out" mc_forwarding r-out1 true >/dev/null
# The kernel's own table, parsed: the entry is there, resolved, on VIF 0.
looked=$(check "$out" unresolved "" true)
[ "$looked" = "/proc/net/ip_mr_cache: Iif 0" ] || fail "ip_mr_cache: $looked"
before=$(jq .kernel.packets <<<"$out")
flow 233.252.0.1 10 10 0
out=$(explain "$SENDER4" 233.252.0.1)
jq -e --argjson b "$before" '.kernel.change.packets >= 10 and .kernel.packets >= $b + 10
       and .kernel.change.bytes > 0 and .kernel.change.wrong_if == 0' <<<"$out" >/dev/null ||
  fail "the counters did not move by the 10 packets sent since ($before before): $out"
text=$(mfcctl explain "$SENDER4" 233.252.0.1 r-in)
grep -q '^Verdict: forwarding$' <<<"$text" || fail "plain words: $text"
grep -q '^  [0-9]* packets (+0), ' <<<"$text" || fail "plain words, no traffic since: $text"

say "asked about another inbound interface than the entry's"
out=$(explain "$SENDER4" 233.252.0.1 r-out2)
looked=$(check "$out" wrong_iif "" false)
[ "$looked" = "mfcd's kernel entry for the flow: inbound interface r-in" ] || fail "wrong iif: $looked"

say "IPv6: a healthy flow passes too (mc_forwarding of the IPv6 interfaces)"
out=$(explain "$SENDER6" ff0e::db8:1)
jq -e '.verdict == "forwarding" and ([.checks[] | select(.ok | not)] == [])' <<<"$out" >/dev/null ||
  fail "healthy IPv6 flow: $out"
looked=$(check "$out" mc_forwarding r-in true)
[ "$looked" = "/proc/sys/net/ipv6/conf/r-in/mc_forwarding = 1" ] || fail "IPv6 mc_forwarding: $looked"
looked=$(check "$out" unresolved "" true)
[ "$looked" = "/proc/net/ip6_mr_cache: Iif 0" ] || fail "ip6_mr_cache: $looked"

say "rp_filter on the inbound interface: the larger of all and the interface"
nsx router sysctl -qw net.ipv4.conf.r-in.rp_filter=1
looked=$(check "$(explain "$SENDER4" 233.252.0.1)" rp_filter r-in false)
[[ $looked == *"conf/r-in/rp_filter = 1 (effective 1)" ]] || fail "rp_filter 1: $looked"
nsx router sysctl -qw net.ipv4.conf.all.rp_filter=2
looked=$(check "$(explain "$SENDER4" 233.252.0.1)" rp_filter r-in false)
[[ $looked == *"conf/all/rp_filter = 2;"*"(effective 2)" ]] || fail "rp_filter 2: $looked"
nsx router sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.r-in.rp_filter=0

say "an ip mrule hands r-in's packets to another daemon's table: explain names the rule"
if nsx router ip mrule add iif r-in lookup 10 pref 100 &&
  nsx router ip -6 mrule add iif r-in lookup 10 pref 100; then
  # The other daemon: a second mfcd holding table 10 for both families,
  # with no routes, so that what reaches its table is dropped.
  : >"$E2E_WORK/other.conf"
  nsx router "$MFCD" -n -i other -t 10 -f "$E2E_WORK/other.conf" -u "$E2E_WORK/other.sock" \
    -P "$E2E_WORK/other.pid" -l info >>"$MFCD_LOG" 2>&1 &
  other_pid=$!
  E2E_PIDS+=("$other_pid")
  wait_for 15 "the daemon on table 10" test -s "$E2E_WORK/other.pid"
  flow 233.252.0.1 20 0 0
  out=$(explain "$SENDER4" 233.252.0.1)
  looked=$(check "$out" mroute_rule "" false)
  [ "$looked" = $'ip mrule: 2 rule(s) (rule "100:\tfrom all iif r-in lookup 10")' ] ||
    fail "mroute_rule (IPv4): $looked"
  jq -e '.verdict | startswith("dropped: packets entering r-in are routed by table 10, not by mfcd'"'"'s (default)")' \
    <<<"$out" >/dev/null || fail "mroute_rule verdict (IPv4): $out"
  out=$(explain "$SENDER6" ff0e::db8:1)
  looked=$(check "$out" mroute_rule "" false)
  [[ $looked == "ip -6 mrule: "*"iif r-in lookup 10"* ]] || fail "mroute_rule (IPv6): $looked"
  jq -e '.verdict | startswith("dropped: packets entering r-in are routed by table 10, not by mfcd'"'"'s (main)")' \
    <<<"$out" >/dev/null || fail "mroute_rule verdict (IPv6): $out"

  # Without the rules the flows are mfcd's again, and forwarded.
  nsx router ip mrule del pref 100
  nsx router ip -6 mrule del pref 100
  kill -TERM "$other_pid"
  e2e_wait_gone "$other_pid" 10 || fail "the daemon on table 10 did not stop"
  flow 233.252.0.1 20 20 0
  out=$(explain "$SENDER4" 233.252.0.1)
  check "$out" mroute_rule "" true >/dev/null
  jq -e '.verdict == "forwarding"' <<<"$out" >/dev/null || fail "rule removed: $out"
else
  echo "SKIP part: ip mrule (this kernel has one multicast routing table): not made"
fi

say "an OIF's TTL threshold, with its value"
out=$(explain "$SENDER4" 233.252.0.2)
looked=$(check "$out" ttl_threshold r-out2 false)
[ "$looked" = "mfcd's VIF for r-out2: TTL threshold 8" ] || fail "ttl threshold: $looked"
jq -e '.kernel.oifs == [{"interface": "r-out2", "ttl": 8}]
       and (.verdict | startswith("forwarding, but: packets arriving with TTL 8"))' <<<"$out" \
  >/dev/null || fail "ttl threshold: $out"

say "an OIF that does not exist"
out=$(explain "$SENDER4" 233.252.0.3)
check "$out" interface_present r-gone false >/dev/null
jq -e '.verdict == "dropped: outbound interface r-gone does not exist"' <<<"$out" >/dev/null ||
  fail "missing OIF: $out"

say "a bridge that snoops without a querier"
looked=$(check "$(explain "$SENDER4" 233.252.0.4)" bridge_querier br0 false)
[ "$looked" = "/sys/class/net/br0/bridge/multicast_snooping = 1; /sys/class/net/br0/bridge/multicast_querier = 0" ] ||
  fail "bridge: $looked"
nsx router sh -c 'echo 1 > /sys/class/net/br0/bridge/multicast_querier'
check "$(explain "$SENDER4" 233.252.0.4)" bridge_querier br0 true >/dev/null

say "an OIF without carrier, then down"
looked=$(check "$(explain "$SENDER4" 233.252.0.5)" interface_up r-dn false)
[ "$looked" = "link table: r-dn UP; /sys/class/net/r-dn/carrier = 0" ] || fail "no carrier: $looked"
nsx router ip link set r-dn down
wait_for 5 "mfcd to see r-dn down" \
  sh -c "$MFCCTL -u $SOCK -j explain $SENDER4 233.252.0.5 | grep -q 'r-dn not UP'"

say "an OIF without the MULTICAST flag"
# The kernel gives it a VIF all the same (seen here), so mc_forwarding is
# on; only IGMP/MLD suffer.
out=$(explain "$SENDER4" 233.252.0.6)
looked=$(check "$out" multicast_capable r-nm false)
[ "$looked" = "link table: r-nm no MULTICAST flag" ] || fail "no MULTICAST: $looked"
looked=$(check "$out" mc_forwarding r-nm true)
[ "$looked" = "/proc/sys/net/ipv4/conf/r-nm/mc_forwarding = 1" ] || fail "mc_forwarding: $looked"


say "an SSM group under a (*,G) rule"
out=$(explain "$SENDER4" 232.1.1.1)
check "$out" ssm_rule "" false >/dev/null
jq -e '.covered_by.kind == "rule" and .covered_by.route.source == null
       and (.verdict | startswith("would be forwarded, but: "))' <<<"$out" >/dev/null ||
  fail "SSM rule: $out"

say "a link-local group"
out=$(explain "$SENDER4" 224.0.0.251)
check "$out" link_local "" false >/dev/null
jq -e '.verdict == "dropped: group 224.0.0.251 is link-local: the kernel never routes it"' \
  <<<"$out" >/dev/null || fail "link-local: $out"

say "an entry the kernel holds unresolved: explain names it"
# With mfcd stopped, nobody answers the upcall, and the kernel keeps the
# entry unresolved (Iif -1). The explain request is already in mfcd's
# socket when the packet comes, so that when mfcd runs again epoll hands
# it the request first (its ready list is in order of readiness) and
# explain reads the table before the upcall is answered.
"$PYTHON" - "$SOCK" "$E2E_WORK/unres" "$SENDER4" <<'PY' &
import os, socket, sys, time
path, base, source = sys.argv[1:4]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(path)
open(base + ".ready", "w").close()
while not os.path.exists(base + ".go"):
    time.sleep(0.05)
s.sendall(('{"jsonrpc":"2.0","id":1,"method":"route.explain","params":'
           '{"source":"%s","group":"233.252.0.98"}}\n' % source).encode())
open(base + ".sent", "w").close()
data = b""
while not data.endswith(b"\n"):
    chunk = s.recv(65536)
    if not chunk:
        break
    data += chunk
open(base + ".out", "wb").write(data)
PY
UNRES_PID=$!
E2E_PIDS+=("$UNRES_PID")
wait_for 10 "the explain client to connect" test -e "$E2E_WORK/unres.ready"
kill -STOP "$MFCD_PID"
touch "$E2E_WORK/unres.go"
# 233.252.0.98 from 192.0.2.2, printed as native (little-endian) integers.
unres() { nsx router cat /proc/net/ip_mr_cache | grep -Eq '^6200FCE9 020200C0 -1 '; }
# Polled by hand rather than with wait_for: mfcd must be woken up on
# failure too.
seen=0
for _ in $(seq 1 $((100 * E2E_SLOWDOWN))); do
  if [ -e "$E2E_WORK/unres.sent" ]; then
    [ "$seen" = 0 ] && send 233.252.0.98 1 && seen=sent
    if unres; then
      seen=1
      break
    fi
  fi
  e2e_sleep 0.05
done
kill -CONT "$MFCD_PID"
[ "$seen" = 1 ] || fail "no unresolved entry (Iif -1) in ip_mr_cache: $(nsx router cat /proc/net/ip_mr_cache)"
wait "$UNRES_PID" || fail "the explain client failed"
out=$(jq -c .result "$E2E_WORK/unres.out")
looked=$(check "$out" unresolved "" false)
[ "$looked" = "/proc/net/ip_mr_cache: Iif -1" ] || fail "unresolved looked at: $looked"
jq -e '.kernel.resolved == false' <<<"$out" >/dev/null || fail "unresolved entry: $out"

say "no route, then the stop filter its first packet left"
out=$(explain "$SENDER4" 233.252.0.99)
jq -e '.covered_by.kind == "none" and .kernel == null
       and (.verdict | startswith("dropped: no route"))' <<<"$out" >/dev/null || fail "no route: $out"
send 233.252.0.99 1
wait_for 5 "a stop filter for 233.252.0.99" \
  sh -c "$MFCCTL -u $SOCK -j explain $SENDER4 233.252.0.99 | grep -q '\"learned_stop_filter\"'"
out=$(explain "$SENDER4" 233.252.0.99)
jq -e '.kernel.oifs == [] and .kernel.type == "dynamic" and
       ([.checks[] | select(.check == "route" and (.ok | not))] | length == 1)' <<<"$out" \
  >/dev/null || fail "learned stop filter: $out"

say "the VIF table full: an OIF gets no VIF"
used=$(nsx router cat /proc/net/ip_mr_vif | awk 'NR > 1' | wc -l)
n=$((32 - used))
{
  for i in $(seq 1 "$n"); do
    echo "link add x$i type veth peer name y$i"
    echo "link set x$i up"
    echo "link set y$i up"
  done
  echo "link add x-late type veth peer name y-late"
  echo "link set x-late up"
  echo "link set y-late up"
} | ip -n "$router_ns" -batch -
{
  for i in $(seq 1 "$n"); do
    echo "mroute from r-in source $SENDER4 group 233.252.1.$i to x$i"
  done
  echo "mroute from r-in source $SENDER4 group 233.252.0.7 to x-late"
} >>"$CONF"
mfcd_reload
wait_for 5 "32 IPv4 VIFs" sh -c "[ \$(awk 'NR > 1' /proc/${E2E_HOLDER[router]}/net/ip_mr_vif | wc -l) -eq 32 ]"
out=$(explain "$SENDER4" 233.252.0.7)
looked=$(check "$out" vif_table_full x-late false)
[ "$looked" = "mfcd's VIF table (ipv4): 32 of 32 used, x-late has none" ] || fail "VIF full: $looked"
# Without a VIF the kernel does not forward multicast there.
looked=$(check "$out" mc_forwarding x-late false)
[ "$looked" = "/proc/sys/net/ipv4/conf/x-late/mc_forwarding = 0" ] || fail "mc_forwarding: $looked"

mfcd_stop
expect_no_mroute_state
