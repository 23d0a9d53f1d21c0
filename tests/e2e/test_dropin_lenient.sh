#!/bin/bash
# Issue 19, replayed: what SMCRoute tolerates, mfcd under the smcrouted and
# smcroutectl names tolerates too, and scripts that follow go on working.
#   1. -f naming a file that does not exist: starts with no routes, serves
#      its socket; routes added with smcroutectl afterwards forward.
#   2. a bare phyint among valid lines: a warning at file:line:column, the
#      rest loads; on reload too.
#   3. host bits in a range (mgroup ... group 225.3.2.250/24, and in
#      smcroutectl join/leave): masked, the whole range joined.
#   4. the inbound interface as an outbound one (config and client): the
#      kernel entry is "Iif: a1 Oifs: a1" and traffic goes back out of a1.
# Then the same files under the mfcd name, as mfcd.conf(5) says: refused,
# in the same words by mfcd -F and config.check, except the hairpin, which
# is accepted under every name.
#
#   sender eth0 --- a1 [router] a2 --- eth0 recv1
#   192.0.2.2     192.0.2.1     198.51.100.1  198.51.100.2
#                               a3 --- eth0 recv2 (203.0.113.1/.2)
. "$(dirname "$0")/lib.sh"

SMCROUTED=$MFCD_BUILD_DIR/smcrouted
SMCROUTECTL=$MFCD_BUILD_DIR/smcroutectl
MFCD_NAME=$MFCD
for bin in "$SMCROUTED" "$SMCROUTECTL"; do
  [ -x "$bin" ] || fail "$bin is not built"
done

for role in sender router recv1 recv2; do
  e2e_add_ns "$role"
done
nsx router test -e /proc/net/ip_mr_vif || skip "kernel without IPv4 multicast routing"
nsx router sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
e2e_wire a1 sender 192.0.2 2001:db8:1
e2e_wire a2 recv1 198.51.100 2001:db8:2
e2e_wire a3 recv2 203.0.113 2001:db8:3
wait_for 20 "router links up" e2e_link_ready router a1 a2 a3
for role in sender recv1 recv2; do
  wait_for 20 "$role link eth0 up" e2e_link_ready "$role" eth0
done
# The hairpin brings the sender's own datagrams back to it; a host drops
# those as coming from a local address unless told to take them.
nsx sender sysctl -qw net.ipv4.conf.all.accept_local=1 net.ipv4.conf.eth0.accept_local=1

smcroutectl() { "$SMCROUTECTL" -u "$SOCK" "$@"; }

# joined DEV GROUP: GROUP is in /proc/net/igmp on DEV, which prints a group
# as the host-order integer of its network-order bytes.
joined() {
  local a b c d
  IFS=. read -r a b c d <<<"$2"
  nsx router cat /proc/net/igmp | awk -v dev="$1" -v hex="$(printf '%02X%02X%02X%02X' "$d" "$c" "$b" "$a")" '
    /^[0-9]/ { on = $2 } on == dev && toupper($1) == hex { found = 1 } END { exit !found }'
}

# joined_count DEV A.B.C: how many groups of A.B.C.0/24 DEV holds.
joined_count() {
  local a b c
  IFS=. read -r a b c <<<"$2"
  nsx router cat /proc/net/igmp | awk -v dev="$1" -v tail="$(printf '%02X%02X%02X' "$c" "$b" "$a")" '
    /^[0-9]/ { on = $2; next } on == dev && substr(toupper($1), 3) == tail { n++ } END { print n + 0 }'
}

# joined_count_is DEV A.B.C N: DEV holds N groups of A.B.C.0/24.
joined_count_is() { [ "$(joined_count "$1" "$2")" -eq "$3" ]; }

# ssm_joined DEV SOURCE GROUP: (SOURCE, GROUP) is in /proc/net/mcfilter.
ssm_joined() {
  local gb sb
  IFS=. read -ra gb <<<"$3"
  IFS=. read -ra sb <<<"$2"
  nsx router cat /proc/net/mcfilter | awk -v dev="$1" \
    -v g="$(printf '0x%02x%02x%02x%02x' "${gb[@]}")" -v s="$(printf '0x%02x%02x%02x%02x' "${sb[@]}")" '
    NR > 1 && $2 == dev && tolower($3) == g && tolower($4) == s && $5 > 0 { found = 1 }
    END { exit !found }'
}

# hairpin_in_kernel S G: the kernel's entry for (S,G) enters on a1 and
# leaves on a1 alone, and ip mroute shows it as SMCRoute users read it.
hairpin_in_kernel() {
  mroutes 4 | grep -qxF "($1,$2) a1 a1" &&
    nsx router ip mroute show | grep -F "($1,$2)" | grep -Eq 'Iif: a1 +Oifs: a1( |$)'
}

# log_has TEXT: the daemon's log holds TEXT (fixed string).
log_has() { grep -qF -- "$1" "$MFCD_LOG" || fail "the log lacks: $1"; }

# hairpin_flow GROUP: 20 datagrams from the sender come back to it.
hairpin_flow() {
  recv_start back sender "$1" -c 20 -w 5
  send "$1" 20
  expect_count back 20 "hairpin $1 back at the sender"
}

say "1. smcrouted -f with no such file: starts, serves, takes routes"
MFCD=$SMCROUTED
missing=$E2E_WORK/no-such.conf
mfcd_start -f "$missing" </dev/null
log_has "warning: cannot read '$missing': No such file or directory; taken as empty"
smcroutectl add a1 192.0.2.2 225.2.2.20 a2 || fail "smcroutectl add after a start without a file"
expect_mroutes 4 <<<"(192.0.2.2,225.2.2.20) a1 a2"
flow 225.2.2.20 20 20 0
# 4 from the client: the inbound interface as the only outbound one.
smcroutectl add a1 192.0.2.2 224.0.1.20 a1 || fail "smcroutectl add of a hairpin"
wait_for 5 "(192.0.2.2,224.0.1.20) Iif: a1 Oifs: a1" hairpin_in_kernel 192.0.2.2 224.0.1.20
smcroutectl -j show | jq -e '[.routes.kernel[] | select(.group == "224.0.1.20")]
  | length == 1 and .[0].iif == "a1" and .[0].oifs == ["a1"]' >/dev/null ||
  fail "smcroutectl -j show: no hairpin entry: $(smcroutectl -j show)"
hairpin_flow 224.0.1.20
smcroutectl remove a1 192.0.2.2 224.0.1.20 || fail "smcroutectl remove of the hairpin"
expect_mroute 4 192.0.2.2 224.0.1.20
mfcd_stop
expect_no_mroute_state

say "2-4. the issue's config under smcrouted"
: >"$MFCD_LOG"
mfcd_start <<'CONF'
phyint a1 enable
phyint
mgroup from a1 source 10.0.0.10 group 225.1.2.40/24
mgroup from a2 group 225.3.2.250/24
mroute from a1 group 225.2.2.5 to a1
mroute from a1 source 192.0.2.2 group 225.2.2.6 to a2 a1
CONF
log_has "$CONF:2:7: warning: expected an interface name after 'phyint', got end of line; line skipped"
log_has "$CONF:3:39: warning: host bits set in 225.1.2.40/24; read as 225.1.2.0/24"
log_has "$CONF:4:22: warning: host bits set in 225.3.2.250/24; read as 225.3.2.0/24"
# 3: the whole ranges are joined (256 groups each; SSM in mcfilter).
wait_for 10 "225.3.2.249 joined on a2" joined a2 225.3.2.249
wait_for 10 "(10.0.0.10, 225.1.2.42) joined on a1" ssm_joined a1 10.0.0.10 225.1.2.42
wait_for 10 "all of 225.3.2.0/24 joined on a2" joined_count_is a2 225.3.2 256
# 4: the static hairpin is in the kernel at start; the (*,G) one once
# traffic comes, and both send every datagram back out of a1.
expect_mroutes 4 <<<"(192.0.2.2,225.2.2.6) a1 a1 a2"
hairpin_flow 225.2.2.6
flow 225.2.2.6 20 20 0
send 225.2.2.5 1
wait_for 5 "(192.0.2.2,225.2.2.5) Iif: a1 Oifs: a1" hairpin_in_kernel 192.0.2.2 225.2.2.5
hairpin_flow 225.2.2.5
# 3 from the client: join and leave with host bits set.
smcroutectl join a3 225.4.2.250/24 || fail "smcroutectl join with host bits"
wait_for 10 "225.4.2.7 joined on a3" joined a3 225.4.2.7
log_has "host bits set in 225.4.2.250/24; read as 225.4.2.0/24"
smcroutectl leave a3 225.4.2.250/24 || fail "smcroutectl leave with host bits"
wait_for 10 "225.4.2.0/24 left on a3" joined_count_is a3 225.4.2 0
smcroutectl join a3 192.0.2.7 225.4.3.9/31 || fail "smcroutectl SSM join with host bits"
wait_for 10 "(192.0.2.7, 225.4.3.8) joined on a3" ssm_joined a3 192.0.2.7 225.4.3.8
# A reload of a file with a bad line applies the rest.
cat >"$CONF" <<'CONF'
mroute from a1 source 192.0.2.2 group 225.2.2.6 to a2 a1
mroute from a1 source 192.0.2.2 group 225.2.2.7 to a3
mroute from a1 source 192.0.2.2 group 300.2.2.8 to a3
CONF
mfcd_reload
wait_for 10 "the reload's new route" e2e_resolved 4 192.0.2.2 225.2.2.7
log_has "$CONF:3:39: warning: '300.2.2.8' is not a valid group address (expected a multicast IPv4 or IPv6 address, optionally with /LEN); line skipped"
expect_mroute 4 192.0.2.2 225.2.2.7 a1 a3
expect_mroute 4 192.0.2.2 225.2.2.6 a1 a1 a2
wait_for 10 "the dropped mgroup left" joined_count_is a2 225.3.2 0
mfcd_stop
expect_no_mroute_state

say "smcrouted -F: a bad line fails the check, as SMCRoute's -F does"
rc=0
out=$(nsx router "$SMCROUTED" -F "$CONF" 2>&1) || rc=$?
[ "$rc" -eq 78 ] || fail "smcrouted -F with a bad line: exit $rc, expected 78: $out"
grep -qF "$CONF:3:39: error: '300.2.2.8' is not a valid group address (expected a multicast IPv4 or IPv6 address, optionally with /LEN)" <<<"$out" ||
  fail "smcrouted -F: $out"

say "the mfcd name: refused as mfcd.conf(5) says, the hairpin accepted"
MFCD=$MFCD_NAME
bad=$E2E_WORK/bad.conf
cat >"$bad" <<'CONF'
phyint
mgroup from a2 group 225.3.2.250/24
mroute from a1 group 225.2.2.5 to a1
CONF
rc=0
check=$(nsx router "$MFCD" -F "$bad" 2>&1) || rc=$?
[ "$rc" -eq 78 ] || fail "mfcd -F on the issue's lines: exit $rc, expected 78: $check"
want="$bad:1:7: error: expected an interface name after 'phyint', got end of line
$bad:2:22: error: host bits set in 225.3.2.250/24 (did you mean 225.3.2.0/24?)
$bad: 2 error(s)"
[ "$check" = "$want" ] || fail "mfcd -F said:
$check
expected:
$want"
rc=0
out=$(nsx router timeout 60 "$MFCD" -n -f "$bad" -u "$SOCK" -P "$PIDFILE" 2>&1) || rc=$?
[ "$rc" -eq 78 ] || fail "mfcd with the issue's lines: exit $rc, expected 78: $out"
rc=0
out=$(nsx router timeout 60 "$MFCD" -n -f "$missing" -u "$SOCK" -P "$PIDFILE" 2>&1) || rc=$?
[ "$rc" -eq 78 ] || fail "mfcd -f with no such file: exit $rc, expected 78: $out"
grep -qF "cannot read '$missing': No such file or directory" <<<"$out" || fail "mfcd -f missing: $out"
expect_no_mroute_state

: >"$MFCD_LOG"
mfcd_start <<'CONF'
mroute from a1 group 225.2.2.5 to a1
CONF
# config.check: the same errors, in the same words, as mfcd -F.
checked=$(rpc_ok config.check "{\"file\": \"$bad\"}")
words=$(jq -r '.errors[] | "\(.file):\(.line):\(.column): error: \(.message)"' <<<"$checked")
[ "$words" = "$(head -n 2 <<<"$want")" ] || fail "config.check said: $checked"
jq -e '.valid == false' <<<"$checked" >/dev/null || fail "config.check: $checked"
# The hairpin, from the file and from the client, under the mfcd name too.
send 225.2.2.5 1
wait_for 5 "(192.0.2.2,225.2.2.5) Iif: a1 Oifs: a1" hairpin_in_kernel 192.0.2.2 225.2.2.5
mfcctl add a1 192.0.2.2 224.0.1.21 a1 || fail "mfcctl add of a hairpin"
wait_for 5 "(192.0.2.2,224.0.1.21) Iif: a1 Oifs: a1" hairpin_in_kernel 192.0.2.2 224.0.1.21
hairpin_flow 224.0.1.21
# Host bits in a request: refused with the parser's words.
rpc_error group.join '{"iif": "a2", "group": "225.3.2.250/24"}' -32602
reply=$(rpc group.join '{"iif": "a2", "group": "225.3.2.250/24"}')
jq -e '.error.message | contains("host bits set in 225.3.2.250/24 (did you mean 225.3.2.0/24?)")' \
  <<<"$reply" >/dev/null || fail "group.join with host bits: $reply"
[ "$(joined_count a2 225.3.2)" -eq 0 ] || fail "mfcd joined a range it refused"
# A reload with the bad lines changes nothing.
cp "$bad" "$CONF"
mfcd_reload
expect_mroute 4 192.0.2.2 224.0.1.21 a1 a1
hairpin_flow 225.2.2.5
mfcd_stop
expect_no_mroute_state
