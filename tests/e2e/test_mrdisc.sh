#!/bin/bash
# Multicast Router Discovery (RFC 4286), IPv4 and IPv6, seen from the
# neighbours with pktcap: Advertisements with the right type, destination,
# TTL / hop limit 1, Router Alert and interval; three quick ones, then the
# -m interval; a Solicitation answered within a second; a Termination on
# reload without `mrdisc` and on stop; nothing at all where mrdisc is off.
#
#   sender eth0 --- r-in    phyint r-in enable mrdisc       (schedule, solicit, stop)
#   recv1  eth0 --- r-out1  phyint r-out1 enable mrdisc     (reload without mrdisc)
#   recv2  eth0 --- r-out2  phyint r-out2 enable            (must stay silent)
. "$(dirname "$0")/lib.sh"

PKTCAP=$MFCD_BUILD_DIR/tests/pktcap
[ -x "$PKTCAP" ] || fail "$PKTCAP is not built (MFCD_BUILD_DIR=$MFCD_BUILD_DIR)"

topo

# cap_start ROLE: captures MRD messages on ROLE's eth0 into $E2E_WORK/cap.ROLE.
cap_start() {
  local ready=$E2E_WORK/cap.$1.ready
  ip netns exec "$(ns_name "$1")" "$PKTCAP" cap -i eth0 -w 120 --ready "$ready" \
    >"$E2E_WORK/cap.$1" 2>&1 &
  E2E_PIDS+=($!)
  wait_for 5 "capture on $1" test -e "$ready"
}

# cap_count ROLE FAMILY TYPE: how many TYPE messages of FAMILY ROLE received
# (pktcap marks what ROLE sent itself with a last field "out").
cap_count() {
  awk -v f="$2" -v t="$3" '$2 == f && $3 == t && $NF != "out"' "$E2E_WORK/cap.$1" | wc -l
}

# cap_times ROLE FAMILY TYPE [out]: capture times in ms, one a line, of the
# TYPE messages ROLE received, or with "out" of those it sent.
cap_times() {
  awk -v f="$2" -v t="$3" -v dir="${4:-in}" '$2 == f && $3 == t && ($NF == "out") == (dir == "out") {
    sub("t=", "", $1); print $1 }' "$E2E_WORK/cap.$1"
}

cap_at_least() { [ "$(cap_count "$1" "$2" "$3")" -ge "$4" ]; }

# sent_solicitation FAMILY: the sender's capture saw its own Solicitation.
sent_solicitation() { [ -n "$(cap_times sender "$1" solicitation out)" ]; }

# expect_fields ROLE FAMILY TYPE PATTERN...: every TYPE line carries each
# "key=value" PATTERN.
expect_fields() {
  local role=$1 family=$2 type=$3
  shift 3
  local lines pat
  lines=$(awk -v f="$family" -v t="$type" '$2 == f && $3 == t' "$E2E_WORK/cap.$role")
  [ -n "$lines" ] || fail "$role saw no $family $type"
  for pat in "$@"; do
    if grep -v -q -- " $pat\( \|$\)" <<<"$lines"; then
      echo "$lines" >&2
      fail "$role: a $family $type lacks $pat"
    fi
  done
}

for role in sender recv1 recv2; do
  cap_start "$role"
done

mfcd_start -m 4 <<EOF
phyint r-in enable mrdisc
phyint r-out1 enable mrdisc
phyint r-out2 enable
EOF

say "initial burst of three, then the 4 s interval"
wait_for 15 "four IPv4 and four IPv6 advertisements on r-in" \
  bash -c "$(declare -f cap_at_least cap_count); E2E_WORK=$E2E_WORK
    cap_at_least sender ipv4 advertisement 4 && cap_at_least sender ipv6 advertisement 4"
expect_fields sender ipv4 advertisement type=0x30 src=192.0.2.1 dst=224.0.0.106 ttl=1 ra=1 \
  interval=4 len=8 csum=ok
expect_fields sender ipv6 advertisement type=151 'src=fe80::[0-9a-f:]*' dst=ff02::6a ttl=1 ra=1 \
  interval=4 len=8 csum=ok
for family in ipv4 ipv6; do
  mapfile -t t < <(cap_times sender "$family" advertisement)
  gap1=$((t[1] - t[0])) gap2=$((t[2] - t[1])) gap3=$((t[3] - t[2]))
  say "$family gaps: ${gap1} ${gap2} ${gap3} ms"
  # MaxInitialAdvertisementInterval is 2 s; then 4 s +- 2.5 % (100 ms).
  # Early is the daemon's fault (100 ms of slack for the capture); late may
  # be the test bed's: under TCG, with AddressSanitizer and another test
  # running, the daemon's loop was seen to fire its timer 300 ms late.
  [ "$gap1" -le 2150 ] && [ "$gap2" -le 2150 ] || fail "$family initial gaps $gap1, $gap2 ms exceed 2 s"
  [ "$gap3" -ge 3800 ] && [ "$gap3" -le 4600 ] ||
    fail "$family steady gap $gap3 ms is not 4 s +- 2.5 % (with 100 ms early, 500 ms late for scheduling)"
done

say "interface.list shows mrdisc and the next announcement"
list=$(rpc_ok interface.list)
jq -e '.interfaces[] | select(.name == "r-in") | .mrdisc == true and
         (.mrdisc_next | type == "number" and . >= 0 and . <= 4.2)' <<<"$list" >/dev/null ||
  fail "interface.list for r-in: $list"
jq -e '.interfaces[] | select(.name == "r-out2") | .mrdisc == false and .mrdisc_next == null' \
  <<<"$list" >/dev/null || fail "interface.list for r-out2: $list"

say "a Solicitation is answered within a second"
# Right after a periodic Advertisement the next one is at least 3.9 s away,
# so an Advertisement within a second is the answer. Both ends are timed by
# the sender's capture, on the wire: starting the sending tool, slow under
# TCG, does not count.
for family in ipv4 ipv6; do
  before=$(cap_count sender "$family" advertisement)
  wait_for 6 "the next $family advertisement" cap_at_least sender "$family" advertisement $((before + 1))
  n=$(cap_count sender "$family" advertisement)
  nsx sender "$PKTCAP" solicit -i eth0 -f "${family#ipv}"
  wait_for 2 "the $family solicitation on the wire" sent_solicitation "$family"
  wait_for 2 "an answer to the $family solicitation" cap_at_least sender "$family" advertisement $((n + 1))
  asked=$(cap_times sender "$family" solicitation out | tail -n 1)
  answered=$(cap_times sender "$family" advertisement | sed -n "$((n + 1))p")
  took=$((answered - asked))
  say "$family answer ${took} ms after the solicitation"
  [ "$took" -ge 0 ] && [ "$took" -lt 1000 ] || fail "$family solicitation answered after $took ms"
done

say "reload without mrdisc on r-out1 sends a Termination there"
cap_at_least recv1 ipv4 advertisement 1 || fail "recv1 saw no IPv4 advertisement"
cap_at_least recv1 ipv6 advertisement 1 || fail "recv1 saw no IPv6 advertisement"
cat >"$CONF" <<EOF
phyint r-in enable mrdisc
phyint r-out1 enable
phyint r-out2 enable
EOF
mfcd_reload
wait_for 2 "Terminations on r-out1" bash -c "$(declare -f cap_at_least cap_count); E2E_WORK=$E2E_WORK
  cap_at_least recv1 ipv4 termination 1 && cap_at_least recv1 ipv6 termination 1"
expect_fields recv1 ipv4 termination type=0x32 src=198.51.100.1 dst=224.0.0.106 ttl=1 ra=1 len=4 csum=ok
expect_fields recv1 ipv6 termination type=153 dst=ff02::6a ttl=1 ra=1 len=4 csum=ok
ads_recv1=$(($(cap_count recv1 ipv4 advertisement) + $(cap_count recv1 ipv6 advertisement)))
rpc_ok interface.list | jq -e '.interfaces[] | select(.name == "r-out1") | .mrdisc == false' \
  >/dev/null || fail "r-out1 still shows mrdisc after the reload"

say "an interface that goes away stops announcing; mfcd carries on"
# Nothing can leave through a deleted interface (the kernel reports the
# deletion only after the link is down), so no Termination is observable
# here; mfcd must forget it and keep announcing elsewhere.
ip -n "$(ns_name router)" link add r-gone type veth peer name r-gone-peer
ip -n "$(ns_name router)" addr add 192.0.2.129/25 dev r-gone 2>/dev/null || true
ip -n "$(ns_name router)" link set r-gone up
ip -n "$(ns_name router)" link set r-gone-peer up
cat >"$CONF" <<EOF
phyint r-in enable mrdisc
phyint r-gone enable mrdisc
phyint r-out1 enable
phyint r-out2 enable
EOF
mfcd_reload
r_gone_announced() {
  rpc_ok interface.list | jq -e '.interfaces[] | select(.name == "r-gone") | .mrdisc'
}
r_gone_listed() {
  rpc_ok interface.list | jq -e '.interfaces[] | select(.name == "r-gone")'
}
wait_for 5 "mrdisc on r-gone" r_gone_announced
ip -n "$(ns_name router)" link del r-gone
wait_for 5 "r-gone to leave interface.list" eval '! r_gone_listed'
grep -q "mrdisc: r-gone is gone" "$MFCD_LOG" || fail "mfcd did not notice r-gone went away"

say "stopping mfcd sends a Termination on r-in"
mfcd_stop TERM
wait_for 2 "Terminations on r-in" bash -c "$(declare -f cap_at_least cap_count); E2E_WORK=$E2E_WORK
  cap_at_least sender ipv4 termination 1 && cap_at_least sender ipv6 termination 1"
expect_fields sender ipv4 termination type=0x32 src=192.0.2.1 dst=224.0.0.106 ttl=1 ra=1 csum=ok
expect_fields sender ipv6 termination type=153 dst=ff02::6a ttl=1 ra=1 csum=ok

say "nothing after the Termination; nothing ever where mrdisc is off"
now=$(($(cap_count recv1 ipv4 advertisement) + $(cap_count recv1 ipv6 advertisement)))
[ "$now" -eq "$ads_recv1" ] || fail "r-out1 kept advertising after the reload ($ads_recv1 -> $now)"
[ ! -s "$E2E_WORK/cap.recv2" ] || {
  cat "$E2E_WORK/cap.recv2" >&2
  fail "r-out2 (no mrdisc) sent router discovery messages"
}
