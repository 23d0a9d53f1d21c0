#!/bin/bash
# A clean exit (SIGTERM, or mfcctl kill) takes down every MFC entry and
# every VIF/MIF of both families and exits 0.
. "$(dirname "$0")/lib.sh"
topo

config() {
  cat <<CONF
phyint r-in enable
phyint r-out1 enable
phyint r-out2 enable
mroute from r-in source $SENDER4 group 225.1.2.3 to r-out1 r-out2
mroute from r-in source $SENDER6 group ff0e::1:3 to r-out1 r-out2
CONF
}

# vifs 4|6: how many VIFs/MIFs the kernel has.
vifs() {
  local file=/proc/net/ip_mr_vif
  [ "$1" = 4 ] || file=/proc/net/ip6_mr_vif
  nsx router cat "$file" | awk 'NR > 1' | wc -l
}

for how in SIGTERM "mfcctl kill" SIGINT; do
  say "stopping with $how"
  mfcd_start < <(config)
  expect_mroutes 4 <<<"($SENDER4,225.1.2.3) r-in r-out1 r-out2"
  expect_mroutes 6 <<<"($SENDER6,ff0e::1:3) r-in r-out1 r-out2"
  [ "$(vifs 4)" -eq 3 ] || fail "expected 3 IPv4 VIFs, the kernel has $(vifs 4)"
  [ "$(vifs 6)" -ge 3 ] || fail "expected at least 3 IPv6 MIFs, the kernel has $(vifs 6)"
  flow 225.1.2.3 20 20 20
  case $how in
  SIGTERM) mfcd_stop TERM ;;
  SIGINT) mfcd_stop INT ;;
  *)
    mfcctl kill
    mfcd_wait_exit 10
    ;;
  esac
  expect_no_mroute_state
done
