#!/bin/bash
# -p nobody: after start-up mfcd runs as nobody with only CAP_NET_ADMIN and
# CAP_NET_RAW, a bounding set of just those two and no_new_privs set (and
# its -e script inherits exactly that), and keeps doing its whole job: forwarding, reloads on
# SIGHUP, VIFs for interfaces that appear later, runtime routes from the
# client, a clean teardown at exit; and it removes its PID file and socket
# when it may write their directory.
. "$(dirname "$0")/lib.sh"
id nobody >/dev/null 2>&1 || skip "no user nobody"
topo

# nobody must read the config on reload, and owns the run directory.
chmod 755 "$E2E_WORK"
RUN=$E2E_WORK/run
mkdir "$RUN"
chown nobody "$RUN"
PIDFILE=$RUN/mfcd.pid
SOCK=$RUN/mfcd.sock
# The -e script records what it runs with.
SCRIPT=$E2E_WORK/script.sh
cat >"$SCRIPT" <<SH
#!/bin/sh
grep -E '^(Uid|NoNewPrivs|Cap[A-Za-z]+):' /proc/\$\$/status >"$RUN/script.status.tmp"
mv "$RUN/script.status.tmp" "$RUN/script.status"
SH
chmod 755 "$SCRIPT"

mfcd_start -p nobody -e "$SCRIPT" <<CONF
phyint r-in enable
phyint r-out1 enable
mroute from r-in source $SENDER4 group 225.1.2.3 to r-out1
mroute from r-in source $SENDER6 group ff0e::1:3 to r-out1
# r-new does not exist yet: this one waits for it.
mroute from r-in source $SENDER4 group 225.1.2.5 to r-new
CONF
chmod 644 "$CONF"

# The process: nobody in all four UIDs, and exactly the two kept bits
# (CAP_NET_ADMIN = 12, CAP_NET_RAW = 13) permitted and effective.
status=/proc/$MFCD_PID/status
nobody_uid=$(id -u nobody)
awk '$1 == "Uid:"' "$status" | grep -qE "^Uid:\s+$nobody_uid\s+$nobody_uid\s+$nobody_uid\s+$nobody_uid$" ||
  fail "mfcd does not run as nobody: $(grep Uid: "$status")"
for set in CapEff CapPrm; do
  got=$(awk -v s="$set:" '$1 == s {print $2}' "$status")
  [ "$got" = 0000000000003000 ] || fail "$set is $got, expected 0000000000003000 (NET_ADMIN|NET_RAW)"
done
for set in CapInh CapAmb; do
  got=$(awk -v s="$set:" '$1 == s {print $2}' "$status")
  [ "$got" = 0000000000000000 ] || fail "$set is $got, expected nothing"
done
grep -q 'running as nobody' "$MFCD_LOG" || fail "no log line about the privilege drop"
# The bounding set: the most a program it executes could ever get; and
# no_new_privs, so that a setuid binary gives nothing either.
got=$(awk '$1 == "CapBnd:" {print $2}' "$status")
[ "$got" = 0000000000003000 ] || fail "CapBnd is $got, expected 0000000000003000 (NET_ADMIN|NET_RAW)"
got=$(awk '$1 == "NoNewPrivs:" {print $2}' "$status")
[ "$got" = 1 ] || fail "NoNewPrivs is $got, expected 1"

# The -e script (run at start-up with "reload") inherits exactly that, as
# nobody and without capabilities.
wait_for 10 "the -e script's report" test -s "$RUN/script.status"
script_status=$RUN/script.status
for want in "NoNewPrivs:	1" "CapBnd:	0000000000003000" "CapEff:	0000000000000000" \
  "CapPrm:	0000000000000000" "CapInh:	0000000000000000" "CapAmb:	0000000000000000"; do
  grep -qx "$want" "$script_status" || fail "the -e script lacks '$want': $(cat "$script_status")"
done
grep -qE "^Uid:\s+$nobody_uid\s+$nobody_uid\s+$nobody_uid\s+$nobody_uid$" "$script_status" ||
  fail "the -e script does not run as nobody: $(grep Uid: "$script_status")"

flow 225.1.2.3 20 20 0
flow ff0e::1:3 20 20 0

# Reload as nobody: the new route reaches the kernel.
cat >>"$CONF" <<CONF
phyint r-out2 enable
mroute from r-in source $SENDER4 group 225.1.2.4 to r-out2
CONF
mfcd_reload
wait_for 10 "the reloaded route in the kernel" expect_mroute 4 "$SENDER4" 225.1.2.4 r-in r-out2
flow 225.1.2.4 20 0 20

# An interface appearing now still gets a VIF and its pending route.
ip -n "$(ns_name router)" link add r-new type veth peer name r-new-peer
ip -n "$(ns_name router)" link set r-new up
ip -n "$(ns_name router)" link set r-new-peer up
wait_for 10 "a VIF for r-new" sh -c "ip netns exec $(ns_name router) cat /proc/net/ip_mr_vif | grep -q r-new"
wait_for 10 "the pending route on r-new" expect_mroute 4 "$SENDER4" 225.1.2.5 r-in r-new

# The client (root) still changes routes through the socket.
mfcctl add r-in "$SENDER4" 225.1.2.6 r-out1 r-out2
expect_mroute 4 "$SENDER4" 225.1.2.6 r-in r-out1 r-out2
mfcctl remove r-in "$SENDER4" 225.1.2.6
expect_mroute 4 "$SENDER4" 225.1.2.6

mfcd_stop
expect_no_mroute_state
[ ! -e "$PIDFILE" ] || fail "PID file $PIDFILE left behind"
[ ! -e "$SOCK" ] || fail "socket $SOCK left behind"

# With the PID file in a directory nobody cannot write, mfcd still runs and
# exits cleanly, and says at start and at exit that the file stays.
PIDFILE=$E2E_WORK/mfcd.pid
SOCK=$E2E_WORK/mfcd.sock
: >"$MFCD_LOG"
cp "$CONF" "$E2E_WORK/again.conf"
mfcd_start -p nobody:"$(id -gn nobody)" -l info <"$E2E_WORK/again.conf"
grep -q "nobody cannot write $E2E_WORK: $PIDFILE will be left behind" "$MFCD_LOG" ||
  fail "no warning about the PID file's directory"
flow 225.1.2.3 20 20 0
mfcd_stop
grep -q "PID file $PIDFILE left behind" "$MFCD_LOG" || fail "no warning at exit about the PID file"
expect_no_mroute_state
