#!/bin/bash
# mfcd started the way packaging/systemd/mfcd.service starts it: the unit's
# ExecStart (its flags, plus this test's config, socket and PID file
# paths), systemd's clean environment, stdin from /dev/null, and a
# NOTIFY_SOCKET that this test listens on, as systemd does for
# Type=notify. The daemon runs in the router namespace.
#
# Checks the readiness protocol that Type=notify and ExecReload depend on:
# READY=1 once started (with the PID file written), RELOADING=1 with
# MONOTONIC_USEC then READY=1 on SIGHUP and on the unit's ExecReload
# command (which must fail, with the daemon still running, when the
# configuration has errors), STOPPING=1 on SIGTERM. Every datagram must
# come from the main PID (NotifyAccess=main). The flags of
# /etc/default/mfcd ($MFCD_OPTS) reach the daemon as systemd passes them.
# Then smcroute.service (mfcd-smcroute-compat) the same way, with
# SMCROUTED_OPTS. Also runs systemd-analyze verify on the units when
# systemd-analyze is installed.

# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

UNIT=$MFCD_SOURCE_DIR/packaging/systemd/mfcd.service
COMPAT_UNIT=$MFCD_SOURCE_DIR/packaging/systemd/smcroute.service
[ -r "$UNIT" ] || fail "$UNIT is missing"
[ -r "$COMPAT_UNIT" ] || fail "$COMPAT_UNIT is missing"

# unit_value KEY [UNIT]: the value of KEY= in the unit (the last one).
unit_value() { sed -n "s/^$1=//p" "${2:-$UNIT}" | tail -n 1; }

# expand_opts VAR VALUE WORD...: the words with "$VAR" replaced by VALUE
# split at blanks, as systemd expands an unquoted $VAR from EnvironmentFile=
# (an empty or unset one adds no word). One word per line.
expand_opts() {
  local var=$1 value=$2 w
  shift 2
  for w in "$@"; do
    if [ "$w" = "\$$var" ]; then
      [ -z "$value" ] || tr -s ' ' '\n' <<<"$value"
    else
      printf '%s\n' "$w"
    fi
  done
}

# Flags come from /etc/default, and a restart cannot cure exit 69 (another
# daemon holds the table) any more than 64, 76, 77 (a socket group mfcd may
# not give) or 78.
for u in "$UNIT" "$COMPAT_UNIT" "$MFCD_SOURCE_DIR/packaging/systemd/mfcd@.service"; do
  [ "$(unit_value RestartPreventExitStatus "$u")" = "64 69 76 77 78" ] ||
    fail "$(basename "$u"): RestartPreventExitStatus=$(unit_value RestartPreventExitStatus "$u")"
done
[ "$(unit_value EnvironmentFile)" = -/etc/default/mfcd ] ||
  fail "mfcd.service: EnvironmentFile=$(unit_value EnvironmentFile)"
[ "$(unit_value EnvironmentFile "$COMPAT_UNIT")" = -/etc/default/smcroute ] ||
  fail "smcroute.service: EnvironmentFile=$(unit_value EnvironmentFile "$COMPAT_UNIT")"
[ "$(unit_value ExecStart "$COMPAT_UNIT")" = '/usr/sbin/smcrouted -n -s $SMCROUTED_OPTS' ] ||
  fail "smcroute.service: ExecStart=$(unit_value ExecStart "$COMPAT_UNIT")"
[ "$(unit_value Conflicts "$COMPAT_UNIT")" = mfcd.service ] ||
  fail "smcroute.service does not conflict with mfcd.service"

[ "$(unit_value Type)" = notify ] || fail "the unit is not Type=notify"
[ "$(unit_value NotifyAccess)" = main ] || fail "the unit does not say NotifyAccess=main"
exec_start=$(unit_value ExecStart)
exec_reload=$(unit_value ExecReload)
read -ra start_words <<<"$exec_start"
read -ra reload_words <<<"$exec_reload"
[ "${start_words[0]}" = /usr/sbin/mfcd ] || fail "ExecStart does not run /usr/sbin/mfcd: $exec_start"
[[ " $exec_start " == *' $MFCD_OPTS '* ]] || fail "ExecStart does not pass \$MFCD_OPTS: $exec_start"
[ "${reload_words[0]}" = /usr/sbin/mfcctl ] || fail "ExecReload does not run /usr/sbin/mfcctl: $exec_reload"

# --- systemd-analyze verify ---------------------------------------------------

# In a scratch root holding the host's units, the programs and a config,
# so that verify finds what the unit names; man pages are checked by
# test_package.sh on the installed package.
if command -v systemd-analyze >/dev/null && [ -d /lib/systemd/system ]; then
  vroot=$E2E_WORK/root
  mkdir -p "$vroot/usr/sbin" "$vroot/etc" "$vroot/lib/systemd"
  cp -a /lib/systemd/system "$vroot/lib/systemd/"
  cp "$MFCD" "$MFCCTL" "$vroot/usr/sbin/"
  cp "$UNIT" "$vroot/lib/systemd/system/mfcd.service"
  cp "$MFCD_SOURCE_DIR/packaging/systemd/mfcd@.service" "$COMPAT_UNIT" "$vroot/lib/systemd/system/"
  ln -s mfcd "$vroot/usr/sbin/smcrouted"
  ln -s mfcctl "$vroot/usr/sbin/smcroutectl"
  : >"$vroot/etc/mfcd.conf"
  : >"$vroot/etc/mfcd-b.conf"
  out=$(systemd-analyze verify --root="$vroot" --man=no mfcd.service mfcd@mfcd-b.service \
    smcroute.service 2>&1) || fail "systemd-analyze verify: $out"
  [ -z "$out" ] || fail "systemd-analyze verify warns: $out"
  say "systemd-analyze verify: clean"
else
  say "systemd-analyze not installed: unit not verified"
fi

# --- the listener ------------------------------------------------------------

NOTIFY_SOCK=$E2E_WORK/notify.sock
NOTIFY_LOG=$E2E_WORK/notify.log
# One line per datagram: "PID MONOTONIC_NOW_USEC STATE", newlines in the
# state shown as '|'. The sender's PID comes from SCM_CREDENTIALS, as
# systemd gets it.
"$PYTHON" - "$NOTIFY_SOCK" "$NOTIFY_LOG" <<'PY' &
import socket, struct, sys, time
path, log = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
s.bind(path)
out = open(log, "a", buffering=1)
deadline = time.monotonic() + 120
while time.monotonic() < deadline:
    s.settimeout(max(0.1, deadline - time.monotonic()))
    try:
        data, anc, _, _ = s.recvmsg(4096, socket.CMSG_SPACE(12))
    except socket.timeout:
        break
    pid = -1
    for level, kind, payload in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
            pid = struct.unpack("iII", payload[:12])[0]
    now = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
    out.write("%d %d %s\n" % (pid, now, data.decode(errors="replace").replace("\n", "|")))
PY
E2E_PIDS+=("$!")
wait_for 10 "the notify listener" test -S "$NOTIFY_SOCK"

# notify_count PATTERN: how many datagrams so far match PATTERN (ERE, on
# the state text).
notify_count() { cut -d' ' -f3- "$NOTIFY_LOG" 2>/dev/null | grep -Ec "$1" || true; }
# notify_wait N PATTERN WHAT: until at least N datagrams match.
notify_wait() {
  local n=$1 pattern=$2
  wait_for 15 "$3" bash -c '[ "$(cut -d" " -f3- "$0" | grep -Ec "$1")" -ge "$2" ]' \
    "$NOTIFY_LOG" "$pattern" "$n"
}

# --- start as the unit does -----------------------------------------------------

topo
cat >"$CONF" <<EOF2
mroute from r-in source 192.0.2.2 group 225.1.2.3 to r-out1
EOF2
rm -f "$PIDFILE"
: >"$NOTIFY_LOG"
# /etc/default/mfcd of this test.
MFCD_OPTS="-c 30 -l info"
mapfile -t start_args < <(expand_opts MFCD_OPTS "$MFCD_OPTS" "${start_words[@]:1}")
# systemd's environment for a system service: PATH, and NOTIFY_SOCKET for
# Type=notify (plus INVOCATION_ID, which mfcd does not read).
ip netns exec "$(ns_name router)" env -i \
  PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  NOTIFY_SOCKET="$NOTIFY_SOCK" INVOCATION_ID=0123456789abcdef0123456789abcdef \
  "$MFCD" "${start_args[@]}" -f "$CONF" -u "$SOCK" -P "$PIDFILE" \
  </dev/null >>"$MFCD_LOG" 2>&1 &
MFCD_PID=$!

notify_wait 1 '^READY=1' "READY=1 at start"
[ -s "$PIDFILE" ] || wait_for 5 "the PID file" test -s "$PIDFILE"
[ "$(cat "$PIDFILE")" = "$MFCD_PID" ] || fail "PID file holds $(cat "$PIDFILE"), mfcd is $MFCD_PID"
# Ready means the routes are in the kernel.
expect_mroutes 4 <<<"(192.0.2.2,225.1.2.3) r-in r-out1"
[ "$(notify_count 'RELOADING=1|STOPPING=1')" -eq 0 ] || fail "unexpected state at start: $(cat "$NOTIFY_LOG")"
# (lib.sh's wrapper execs the binary with the test's own -S first.)
[ "$(tr '\0' ' ' <"/proc/$MFCD_PID/cmdline")" = "$MFCD_BINARY -S $STATE_FILE -n -s -c 30 -l info -f $CONF -u $SOCK -P $PIDFILE " ] ||
  fail "MFCD_OPTS did not reach the daemon: $(tr '\0' ' ' <"/proc/$MFCD_PID/cmdline")"
say "READY=1 at start, with the flags of MFCD_OPTS"

# check_reload N: the Nth RELOADING=1 carries MONOTONIC_USEC close to the
# listener's own clock and is followed by READY=1.
check_reload() {
  local n=$1
  notify_wait "$n" '^RELOADING=1' "RELOADING=1 number $n"
  notify_wait $((n + 1)) '^READY=1' "READY=1 after reload $n"
  local line usec now
  line=$(grep -E '^[0-9-]+ [0-9]+ RELOADING=1' "$NOTIFY_LOG" | sed -n "${n}p")
  usec=$(sed -n 's/.*MONOTONIC_USEC=\([0-9]*\).*/\1/p' <<<"$line")
  now=$(cut -d' ' -f2 <<<"$line")
  [ -n "$usec" ] || fail "RELOADING=1 without MONOTONIC_USEC: $line"
  # Sent at most a few seconds before it was read, never after.
  [ "$usec" -le "$now" ] && [ $((now - usec)) -lt 5000000 ] ||
    fail "MONOTONIC_USEC=$usec is not the sender's CLOCK_MONOTONIC (listener: $now)"
  # READY=1 comes after RELOADING=1 in the log.
  local last_reload_line last_ready_line
  last_reload_line=$(grep -nE ' RELOADING=1' "$NOTIFY_LOG" | sed -n "${n}p" | cut -d: -f1)
  last_ready_line=$(grep -nE ' READY=1' "$NOTIFY_LOG" | sed -n "$((n + 1))p" | cut -d: -f1)
  [ "$last_ready_line" -gt "$last_reload_line" ] || fail "READY=1 before RELOADING=1: $(cat "$NOTIFY_LOG")"
}

# --- SIGHUP -----------------------------------------------------------------------

cat >"$CONF" <<EOF2
mroute from r-in source 192.0.2.2 group 225.1.2.3 to r-out1 r-out2
EOF2
kill -HUP "$MFCD_PID"
check_reload 1
expect_mroutes 4 <<<"(192.0.2.2,225.1.2.3) r-in r-out1 r-out2"
say "RELOADING=1, MONOTONIC_USEC, READY=1 on SIGHUP"

# --- ExecReload ---------------------------------------------------------------------

# The unit's reload command, against this test's socket.
unit_reload() {
  ip netns exec "$(ns_name router)" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
    MAINPID="$MFCD_PID" "$MFCCTL" "${reload_words[@]:1}" -u "$SOCK"
}
cat >"$CONF" <<EOF2
mroute from r-in source 192.0.2.2 group 225.1.2.3 to r-out2
EOF2
out=$(unit_reload 2>&1) || fail "ExecReload ($exec_reload) failed: $out"
check_reload 2
# The client returns once the kernel holds the change.
expect_mroutes 4 <<<"(192.0.2.2,225.1.2.3) r-in r-out2"
say "ExecReload: RELOADING=1, READY=1, routes applied"

# A broken file: the reload fails (systemctl reload reports it), the old
# configuration stays and the daemon is ready again.
echo "mroute from r-in group" >>"$CONF"
rc=0
out=$(unit_reload 2>&1) || rc=$?
[ "$rc" -ne 0 ] || fail "ExecReload succeeded on a broken configuration: $out"
notify_wait 4 '^READY=1' "READY=1 after the refused reload"
expect_mroutes 4 <<<"(192.0.2.2,225.1.2.3) r-in r-out2"
e2e_gone "$MFCD_PID" && fail "mfcd exited after a refused reload"
say "ExecReload on a broken file: exit $rc, old routes kept, READY=1 again"

# --- stop ---------------------------------------------------------------------------------

main_pid=$MFCD_PID
kill -TERM "$MFCD_PID"
notify_wait 1 '^STOPPING=1' "STOPPING=1"
mfcd_wait_exit 10
expect_no_mroute_state
say "STOPPING=1 on SIGTERM, exit 0, nothing left in the kernel"

# Every datagram came from the main PID.
others=$(awk -v main="$main_pid" '$1 != main' "$NOTIFY_LOG")
[ -z "$others" ] || fail "datagrams not from the main PID $main_pid: $others"
say "$(wc -l <"$NOTIFY_LOG") datagrams, all from the main PID"

# --- smcroute.service ------------------------------------------------------------------

# Its ExecStart, with /etc/default/smcroute's SMCROUTED_OPTS (here the
# test's paths), under the name smcrouted: SMCRoute's defaults, ready as
# mfcd.service is.
read -ra compat_words <<<"$(unit_value ExecStart "$COMPAT_UNIT")"
ln -s "$MFCD" "$E2E_WORK/smcrouted"
ln -s "$MFCCTL" "$E2E_WORK/smcroutectl"
cat >"$CONF" <<EOF2
mroute from r-in source 192.0.2.2 group 225.1.2.3 to r-out2
EOF2
SMCROUTED_OPTS="-f $CONF -u $SOCK -P $PIDFILE"
mapfile -t compat_args < <(expand_opts SMCROUTED_OPTS "$SMCROUTED_OPTS" "${compat_words[@]:1}")
: >"$NOTIFY_LOG"
rm -f "$PIDFILE"
ip netns exec "$(ns_name router)" env -i \
  PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  NOTIFY_SOCKET="$NOTIFY_SOCK" "$E2E_WORK/smcrouted" "${compat_args[@]}" \
  </dev/null >>"$MFCD_LOG" 2>&1 &
MFCD_PID=$!
notify_wait 1 '^READY=1' "READY=1 from smcrouted"
expect_mroutes 4 <<<"(192.0.2.2,225.1.2.3) r-in r-out2"
out=$("$E2E_WORK/smcroutectl" -u "$SOCK" reload) || fail "smcroutectl reload failed: $out"
kill -TERM "$MFCD_PID"
mfcd_wait_exit 10
expect_no_mroute_state
say "smcroute.service's ExecStart with SMCROUTED_OPTS: ready, routes in the kernel, stopped clean"
