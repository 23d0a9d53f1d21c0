#!/bin/bash
# A reload must not disturb a running flow. Two flows (IPv4 and IPv6) of
# 1,000 datagrams/s each run through routes that no reload changes, while
# 20 reloads (SIGHUP and mfcctl reload, alternating) add, change and remove
# other routes; every datagram sent must arrive, and after every reload the
# kernel must hold exactly the new set of entries. Then the same with the
# flows' own routes gaining and losing a second OIF on every reload: the
# receiver on the OIF that stays loses nothing.
. "$(dirname "$0")/lib.sh"
topo

G4=225.1.5.1
G6=ff0e::5:1
RATE=1000
COUNT=6000 # 6 s of traffic per flow; the 20 reloads take well under that

# conf_for STEP EXTRA_FLOW_OIF: the config of one reload step. The flow
# routes are the same in every step (plus EXTRA_FLOW_OIF when given); the
# other routes change with STEP: one that toggles its OIF set, one that
# exists only in this step (added here, removed by the next), one that
# exists in even steps only.
conf_for() {
  local step=$1 extra=${2:-}
  cat <<EOF
phyint r-in enable
phyint r-out1 enable
phyint r-out2 enable
mroute from r-in source $SENDER4 group $G4 to r-out1 $extra
mroute from r-in source $SENDER6 group $G6 to r-out1 $extra
EOF
  local toggle=r-out2
  [ $((step % 2)) -eq 0 ] || toggle="r-out1 r-out2"
  echo "mroute from r-in source $SENDER4 group 225.1.6.1 to $toggle"
  echo "mroute from r-in source $SENDER6 group ff0e::6:1 to $toggle"
  echo "mroute from r-in source $SENDER4 group 225.1.7.$step to r-out2"
  echo "mroute from r-in source $SENDER6 group ff0e::7:$step to r-out1"
  if [ $((step % 2)) -eq 0 ]; then
    echo "mroute from r-in source $SENDER4 group 225.1.8.1 to r-out1"
    echo "mroute from r-in source $SENDER6 group ff0e::8:1 to r-out2"
  fi
}

# kernel_for STEP EXTRA_FLOW_OIF: what the kernel must hold after that step,
# in mroutes' format, for one family ($2 = 4|6).
kernel_for() {
  local step=$1 fam=$2 extra=${3:-}
  local toggle=r-out2
  [ $((step % 2)) -eq 0 ] || toggle="r-out1 r-out2"
  if [ "$fam" = 4 ]; then
    echo "($SENDER4,$G4) r-in r-out1${extra:+ $extra}"
    echo "($SENDER4,225.1.6.1) r-in $toggle"
    echo "($SENDER4,225.1.7.$step) r-in r-out2"
    [ $((step % 2)) -ne 0 ] || echo "($SENDER4,225.1.8.1) r-in r-out1"
  else
    echo "($SENDER6,$G6) r-in r-out1${extra:+ $extra}"
    echo "($SENDER6,ff0e::6:1) r-in $toggle"
    echo "($SENDER6,ff0e::7:$step) r-in r-out1"
    [ $((step % 2)) -ne 0 ] || echo "($SENDER6,ff0e::8:1) r-in r-out2"
  fi
}

# kernel_is STEP FAM EXTRA: true when the kernel holds exactly that.
kernel_is() {
  [ "$(mroutes "$2")" = "$(kernel_for "$1" "$2" "${3:-}" | sort)" ]
}

# reload_step STEP EXTRA: writes the step's config, reloads (odd steps by
# SIGHUP, even ones by mfcctl reload) and waits until the kernel matches.
reload_step() {
  local step=$1 extra=${2:-}
  conf_for "$step" "$extra" >"$CONF.new"
  mv "$CONF.new" "$CONF"
  if [ $((step % 2)) -eq 1 ]; then
    kill -HUP "$MFCD_PID"
  else
    mfcctl reload
  fi
  local fam
  for fam in 4 6; do
    if ! (wait_for 10 "the kernel after reload $step (IPv$fam)" kernel_is "$step" "$fam" "$extra"); then
      echo "expected:" >&2
      kernel_for "$step" "$fam" "$extra" | sort >&2
      echo "got:" >&2
      mroutes "$fam" >&2
      fail "reload $step not applied to the IPv$fam kernel table"
    fi
  done
}

# flows_during ROUND EXTRA_TOGGLE: runs both flows while 20 reloads go on,
# then checks that recv1 got every datagram of both.
flows_during() {
  local round=$1 toggle_extra=$2
  recv_start "flow4-$round" recv1 "$G4" -c "$COUNT" -w 30
  recv_start "flow6-$round" recv1 "$G6" -c "$COUNT" -w 30
  nsx sender "$MCTOOL" send -g "$G4" -i eth0 -c "$COUNT" -t 16 -r "$RATE" >/dev/null &
  local s4=$!
  nsx sender "$MCTOOL" send -g "$G6" -i eth0 -c "$COUNT" -t 16 -r "$RATE" >/dev/null &
  local s6=$!
  local started=$SECONDS step extra=
  for step in $(seq 1 20); do
    if [ "$toggle_extra" = yes ]; then
      extra=
      [ $((step % 2)) -eq 0 ] || extra=r-out2
    fi
    reload_step "$step" "$extra"
    sleep 0.2 # pacing only: spread the reloads over the whole flow
  done
  local took=$((SECONDS - started))
  wait "$s4" || fail "IPv4 sender failed"
  wait "$s6" || fail "IPv6 sender failed"
  [ "$took" -lt $((COUNT / RATE)) ] ||
    say "warning: the 20 reloads took ${took}s, longer than the flow"
  expect_count "flow4-$round" "$COUNT" "IPv4 flow through reloads (round $round)"
  expect_count "flow6-$round" "$COUNT" "IPv6 flow through reloads (round $round)"
  grep -q '^lost 0$' "$E2E_WORK/recv.flow4-$round.out" || fail "IPv4 flow lost datagrams"
  grep -q '^lost 0$' "$E2E_WORK/recv.flow6-$round.out" || fail "IPv6 flow lost datagrams"
  say "round $round: 20 reloads in ${took}s, $COUNT of $COUNT datagrams in each family"
}

mfcd_start < <(conf_for 0)
for fam in 4 6; do
  wait_for 5 "the initial kernel table (IPv$fam)" kernel_is 0 "$fam"
done

say "other routes change while the flows run"
flows_during 1 no

say "the flows' own routes gain and lose r-out2 on every reload"
flows_during 2 yes

# The changed routes really forward: step 20 is even, so 225.1.8.1 goes to
# recv1 and 225.1.6.1 to recv2 only.
flow 225.1.8.1 20 20 0
flow 225.1.6.1 20 0 20
flow ff0e::8:1 20 0 20
flow ff0e::7:20 20 20 0

# Unchanged entries were never rewritten: their counters kept counting
# across all reloads (a re-created entry would start from zero).
n=$(nsx router ip -4 mroute show | awk -v sg="($SENDER4,$G4)" '$1 == sg' | wc -l)
[ "$n" -eq 1 ] || fail "($SENDER4,$G4) not in the kernel once"
pk=$(nsx router cat /proc/net/ip_mr_cache | awk -v g="$(printf '%02X%02X%02X%02X' 1 5 1 225)" '$1 == g {print $4}')
[ "${pk:-0}" -ge $((2 * COUNT)) ] ||
  fail "($SENDER4,$G4) counts $pk packets; expected at least $((2 * COUNT)) (entry re-created?)"

mfcd_stop
expect_no_mroute_state
