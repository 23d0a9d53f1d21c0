#!/bin/bash
# Interfaces that come late, go away and come back, followed without a
# reload. The router starts with r-in and r-out1 only; r-out2 (to recv2) is
# named by the config but does not exist yet:
#   G1: r-in  -> r-out1 r-out2   installed without r-out2, r-out2 missing
#   G2: r-in  -> r-out2          installed as a stop filter, r-out2 missing
#   G3: r-out2 -> r-out1         wholly pending (recv2 is its sender)
#   G4: r-in  -> r-out1          unrelated: never touched
# Then r-out2 is created: everything forwards. It is deleted: G1 loses the
# OIF, G2 is a stop filter again, G3 is pending, G4 is untouched and the
# VIF of r-out2 is freed. It is created again with a new ifindex: all of it
# forwards again. Both families throughout. Last, up/down and the MULTICAST
# flag: interface.list follows them and the VIF and entries are kept (the
# kernel keeps a VIF on a down device, and forwarding resumes the moment
# it comes up, with nothing to re-install).
. "$(dirname "$0")/lib.sh"

topo --late-r-out2
R2_4=203.0.113.2
R2_6=2001:db8:3::2

mfcd_start <<CONF
phyint r-in enable
phyint r-out1 enable
mroute from r-in source $SENDER4 group 225.1.11.1 to r-out1 r-out2
mroute from r-in source $SENDER4 group 225.1.11.2 to r-out2
mroute from r-out2 source $R2_4 group 225.1.11.3 to r-out1
mroute from r-in source $SENDER4 group 225.1.11.4 to r-out1
mroute from r-in source $SENDER6 group ff0e::11:1 to r-out1 r-out2
mroute from r-in source $SENDER6 group ff0e::11:2 to r-out2
mroute from r-out2 source $R2_6 group ff0e::11:3 to r-out1
mroute from r-in source $SENDER6 group ff0e::11:4 to r-out1
CONF

# Config joins: a config line waits for an interface that does not exist,
# as group.join does (unless asked to be strict).
printf 'mgroup from r-out2 group 225.1.11.99\nmgroup from r-out2 group ff0e::11:99\n' >>"$CONF"
mfcctl reload

# kernel_without_r_out2: the kernel state while r-out2 does not exist.
kernel_without_r_out2() {
  expect_mroutes 4 <<EOF
($SENDER4,225.1.11.1) r-in r-out1
($SENDER4,225.1.11.2) r-in
($SENDER4,225.1.11.4) r-in r-out1
EOF
  expect_mroutes 6 <<EOF
($SENDER6,ff0e::11:1) r-in r-out1
($SENDER6,ff0e::11:2) r-in
($SENDER6,ff0e::11:4) r-in r-out1
EOF
}
kernel_with_r_out2() {
  expect_mroutes 4 <<EOF
($SENDER4,225.1.11.1) r-in r-out1 r-out2
($SENDER4,225.1.11.2) r-in r-out2
($R2_4,225.1.11.3) r-out2 r-out1
($SENDER4,225.1.11.4) r-in r-out1
EOF
  expect_mroutes 6 <<EOF
($SENDER6,ff0e::11:1) r-in r-out1 r-out2
($SENDER6,ff0e::11:2) r-in r-out2
($R2_6,ff0e::11:3) r-out2 r-out1
($SENDER6,ff0e::11:4) r-in r-out1
EOF
}

# expect_pending_state: pending.list and mfcctl show pending while r-out2
# is missing, each entry with the reason naming r-out2 (issue 15: after
# `ip link del` the reason was null, and show pending had no reason).
expect_pending_state() {
  local p
  p=$(rpc_ok pending.list)
  jq -e --arg s "$SENDER4" '[.pending[] | select(.kind == "mroute")] as $m |
      ($m | length) == 6 and
      ([$m[] | select(.group == "225.1.11.1" or .group == "ff0e::11:1" or
                      .group == "225.1.11.2" or .group == "ff0e::11:2") |
        .state == "installed" and .missing_oifs == ["r-out2"] and
        .reason == "outbound interface r-out2 does not exist"] | all) and
      ([$m[] | select(.group == "225.1.11.3" or .group == "ff0e::11:3") |
        select(.state == "pending" and .iif == "r-out2" and
               .reason == "inbound interface r-out2 does not exist")] | length) == 2' \
      <<<"$p" >/dev/null ||
    fail "pending.list while r-out2 is missing: $p"
  local text in_why out_why
  text=$(mfcctl show pending)
  in_why="  *# inbound interface r-out2 does not exist"
  out_why="  *# outbound interface r-out2 does not exist"
  grep -q "^mroute  *from r-out2 source $R2_4 group 225.1.11.3 to r-out1$in_why\$" <<<"$text" ||
    fail "mfcctl show pending lacks the route from r-out2 and why: $text"
  grep -q "group 225.1.11.1 to r-out1 r-out2$out_why\$" <<<"$text" ||
    fail "mfcctl show pending lacks the route missing an OIF and why: $text"
}

# flow1 GROUP COUNT WANT: like flow, with recv1 only (recv2 has no link).
flow1() {
  recv_start only1 recv1 "$1" -c "$3" -w 5
  send "$1" "$2"
  expect_count only1 "$3" "recv1 ($1, $2 sent, r-out2 missing)"
}

# vif_of IFNAME: prints "4:N 6:M" for the VIF/MIF numbers in /proc.
vifs_of() {
  local v4 v6
  v4=$(nsx router cat /proc/net/ip_mr_vif | awk -v n="$1" 'NR > 1 && $2 == n {print $1}')
  v6=$(nsx router cat /proc/net/ip6_mr_vif | awk -v n="$1" 'NR > 1 && $2 == n {print $1}')
  echo "4:${v4:-none} 6:${v6:-none}"
}

# entry_text FAM GROUP: the /proc line of an entry with its counters, to
# tell an entry never touched (same packet count) from a rewritten one.
g4_hex() { printf '%02X%02X%02X%02X' $(tr . ' ' <<<"$1" | awk '{print $4, $3, $2, $1}'); }

# join_state GROUP: the group.list state of the join on r-out2.
join_state() {
  rpc_ok group.list | jq -r --arg g "$1" '[.groups.conf[] | select(.group == $g)][0].state // "none"'
}
join_is() { [ "$(join_state "$1")" = "$2" ]; }
# in_kernel_joins: the router's r-out2 is a member of both groups.
in_kernel_joins() {
  nsx router cat /proc/net/igmp | awk '/r-out2/ {on = 1; next} /^[0-9]/ {on = 0} on' |
    grep -q "$(g4_hex 225.1.11.99)" &&
    nsx router cat /proc/net/igmp6 | awk '$2 == "r-out2"' | grep -q "ff0e0000000000000000000000110099"
}
expect_joins() {
  if [ "$1" = pending ]; then
    join_is 225.1.11.99 pending || fail "join on the missing r-out2: $(join_state 225.1.11.99)"
    join_is ff0e::11:99 pending || fail "join on the missing r-out2: $(join_state ff0e::11:99)"
    # pending.list names them too, as kind "mgroup" (docs/api.md).
    rpc_ok pending.list | jq -e '[.pending[] | select(.kind == "mgroup" and .iif == "r-out2")] |
      length == 2' >/dev/null || fail "pending.list does not list the joins waiting for r-out2"
  else
    wait_for 10 "the IPv4 join on r-out2" join_is 225.1.11.99 joined
    wait_for 10 "the IPv6 join on r-out2" join_is ff0e::11:99 joined
    wait_for 10 "r-out2's memberships in the kernel" in_kernel_joins
  fi
}

say "r-out2 does not exist: routes installed without it, pending where needed"
kernel_without_r_out2
expect_joins pending
expect_pending_state
[ "$(vifs_of r-out2)" = "4:none 6:none" ] || fail "a VIF for the missing r-out2: $(vifs_of r-out2)"
flow1 225.1.11.1 20 20
flow1 ff0e::11:1 20 20
flow1 225.1.11.4 20 20

say "r-out2 appears: everything naming it forwards, no reload"
reloads=$(grep -c "reloading" "$MFCD_LOG" || true)
wire_r_out2
wait_for 10 "the IPv4 entries to take r-out2" kernel_with_r_out2
kernel_with_r_out2
[ "$(vifs_of r-out2)" != "4:none 6:none" ] || fail "no VIF for r-out2 after it appeared"
rpc_ok pending.list | jq -e '.pending | map(select(.kind == "mroute")) == []' >/dev/null ||
  fail "pending.list not empty once r-out2 exists: $(rpc_ok pending.list)"
flow 225.1.11.1 20 20 20
flow 225.1.11.2 20 0 20
flow ff0e::11:1 20 20 20
flow ff0e::11:2 20 0 20
for g in 225.1.11.3 ff0e::11:3; do
  recv_start late3 recv1 "$g" -c 20 -w 5
  nsx recv2 "$MCTOOL" send -g "$g" -i eth0 -c 20 -t 16 -r 1000 >/dev/null
  expect_count late3 20 "recv1 ($g from recv2 through the late r-out2)"
done
expect_joins joined
[ "$(grep -c "reloading" "$MFCD_LOG" || true)" = "$reloads" ] || fail "something reloaded"

say "r-out2 goes away: only what used it changes, its VIF is freed"
pk4=$(nsx router cat /proc/net/ip_mr_cache | awk -v g="$(g4_hex 225.1.11.4)" '$1 == g {print $4}')
writes_g4() { grep -c "kernel: add_mfc $SENDER4,225.1.11.4 \|kernel: del_mfc $SENDER4,225.1.11.4\$" "$MFCD_LOG" || true; }
w4=$(writes_g4)
ip -n "$(ns_name router)" link del r-out2
wait_for 10 "the entries to drop r-out2" kernel_without_r_out2
kernel_without_r_out2
expect_pending_state
no_vifs_of() { [ "$(vifs_of "$1")" = "4:none 6:none" ]; }
wait_for 5 "the VIFs of r-out2 to be freed" no_vifs_of r-out2
pk4_after=$(nsx router cat /proc/net/ip_mr_cache | awk -v g="$(g4_hex 225.1.11.4)" '$1 == g {print $4}')
[ "$pk4_after" = "$pk4" ] || fail "the unrelated entry 225.1.11.4 was rewritten ($pk4 -> $pk4_after packets)"
[ "$(writes_g4)" = "$w4" ] || fail "mfcd wrote the unrelated entry 225.1.11.4 again"
flow1 225.1.11.1 20 20
flow1 ff0e::11:1 20 20

say "r-out2 comes back with a new ifindex: everything forwards again"
wire_r_out2
wait_for 10 "the entries to take the new r-out2" kernel_with_r_out2
kernel_with_r_out2
flow 225.1.11.1 20 20 20
flow ff0e::11:2 20 0 20
for g in 225.1.11.3 ff0e::11:3; do
  recv_start back3 recv1 "$g" -c 20 -w 5
  nsx recv2 "$MCTOOL" send -g "$g" -i eth0 -c 20 -t 16 -r 1000 >/dev/null
  expect_count back3 20 "recv1 ($g from recv2 through the re-created r-out2)"
done
expect_joins joined

say "up/down and MULTICAST flag: followed, VIF and entries kept"
iface() { rpc_ok interface.list | jq -c --arg n "$1" '.interfaces[] | select(.name == $n)'; }
iface_is() { iface "$1" | jq -e "$2" >/dev/null; }
vifs_before=$(vifs_of r-out2)
tables_before=$(mr_tables)
ip -n "$(ns_name router)" link set r-out2 down
wait_for 5 "interface.list to show r-out2 down" iface_is r-out2 '.up == false'
[ "$(vifs_of r-out2)" = "$vifs_before" ] || fail "r-out2 down: its VIFs changed"
ip -n "$(ns_name router)" link set r-out2 multicast off
wait_for 5 "interface.list to show r-out2 without MULTICAST" iface_is r-out2 '.multicast == false'
ip -n "$(ns_name router)" link set r-out2 multicast on
ip -n "$(ns_name router)" link set r-out2 up
wait_for 5 "interface.list to show r-out2 up" iface_is r-out2 '.up == true and .multicast == true'
wait_for 10 "router link r-out2 up" e2e_link_ready router r-out2
[ "$(mr_tables)" = "$tables_before" ] || fail "up/down changed the kernel tables"
flow 225.1.11.2 20 0 20
flow ff0e::11:2 20 0 20

# While mfcd is stopped, more link messages queue than its netlink socket
# holds: the kernel drops some and mfcd must re-read the whole list. One
# interface with VIFs goes, and a route's outbound interface comes, among
# the lost messages.
say "link messages lost to an overrun: the re-read list brings them back"
burst=8
printf 'mroute from r-in source %s group 225.1.11.5 to burst%d\n' "$SENDER4" "$burst" >>"$CONF"
printf 'mroute from r-in source %s group ff0e::11:5 to burst%d\n' "$SENDER6" "$burst" >>"$CONF"
mfcd_reload
# netlink_drops: the drops of mfcd's link monitor, the only socket in the
# router's namespace that listens to RTMGRP_LINK alone (/proc/net/netlink:
# sk Eth Pid Groups Rmem Wmem Dump Locks Drops Inode).
netlink_drops() { nsx router cat /proc/net/netlink | awk '$2 == 0 && $4 == "00000001" {print $9}'; }
[ "$(netlink_drops | wc -l)" = 1 ] || fail "no single link monitor socket in /proc/net/netlink"
log_mark=$(wc -l <"$MFCD_LOG")
kill -STOP "$MFCD_PID"
overrun() {
  {
    echo "link del r-out2"
    for i in $(seq 1 "$burst"); do
      echo "link add burst$i type veth peer name burstp$i"
      echo "link set burst$i up"
      echo "link set burstp$i up"
    done
  } | ip -n "$(ns_name router)" -batch - || return 1
  # Then messages that change nothing mfcd keeps, until the socket is full.
  local round
  for round in $(seq 1 20); do
    [ "$(netlink_drops)" -gt 0 ] && return 0
    seq 1 2000 | sed 's/^/link set burstp1 alias a/' | ip -n "$(ns_name router)" -batch - || return 1
  done
  [ "$(netlink_drops)" -gt 0 ]
}
if ! overrun; then
  kill -CONT "$MFCD_PID"
  fail "could not overrun mfcd's link monitor (drops: $(netlink_drops))"
fi
kill -CONT "$MFCD_PID"
overrun_logged() { tail -n "+$((log_mark + 1))" "$MFCD_LOG" | grep -q "netlink overrun"; }
wait_for 10 "mfcd to see the overrun" overrun_logged
has_vifs() { [ "$(vifs_of "$1")" != "4:none 6:none" ] && [ "$(vifs_of "$1" | grep -c none)" = 0 ]; }
wait_for 30 "burst$burst to get its VIFs" has_vifs "burst$burst"
wait_for 10 "the VIFs of r-out2 to be freed" no_vifs_of r-out2
burst_kernel() {
  expect_mroutes 4 <<EOF
($SENDER4,225.1.11.1) r-in r-out1
($SENDER4,225.1.11.2) r-in
($SENDER4,225.1.11.4) r-in r-out1
($SENDER4,225.1.11.5) r-in burst$burst
EOF
  expect_mroutes 6 <<EOF
($SENDER6,ff0e::11:1) r-in r-out1
($SENDER6,ff0e::11:2) r-in
($SENDER6,ff0e::11:4) r-in r-out1
($SENDER6,ff0e::11:5) r-in burst$burst
EOF
}
wait_for 10 "the entries to drop r-out2 and take burst$burst" burst_kernel
burst_kernel
listed=$(rpc_ok interface.list | jq '[.interfaces[] | select(.name | startswith("burst"))] | length')
[ "$listed" = $((2 * burst)) ] || fail "interface.list holds $listed burst interfaces, not $((2 * burst))"
since=$(tail -n "+$((log_mark + 1))" "$MFCD_LOG")
grep -q "interface burst$burst (index [0-9]*) appeared" <<<"$since" ||
  fail "the log does not tell burst$burst appeared"
grep -q "interface r-out2 (index [0-9]*) removed" <<<"$since" || fail "the log does not tell r-out2 went"

mfcd_stop
expect_no_mroute_state
