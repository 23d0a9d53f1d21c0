#!/bin/bash
# The LSB init scripts, for systems without systemd: /etc/init.d/mfcd
# (packaging/debian/mfcd.init) and /etc/init.d/smcroute
# (packaging/debian/mfcd-smcroute-compat.smcroute.init), each run as
# sysvinit runs it, in the router namespace. Only their paths are this
# test's: the daemon, its PID file and its defaults file (MFCD_OPTS,
# SMCROUTED_OPTS), which carries the test's config, socket and state file.
#
# For each: `start` returns once the routes are in the kernel, with the
# daemon in the background; `status` says it runs (0); `reload` makes it
# read a changed config; `start` again is a no-op that succeeds; `stop`
# ends it (0) and `status` then says 3 (not running). While another daemon
# holds the multicast routing table, `start` fails and leaves nothing
# running. (A config with errors fails mfcd's start too, not smcrouted's:
# SMCRoute starts on such a file, and so does mfcd under its names.)
. "$(dirname "$0")/lib.sh"

topo
[ -r /lib/lsb/init-functions ] || skip "no /lib/lsb/init-functions (sysvinit-utils)"
command -v start-stop-daemon >/dev/null || skip "no start-stop-daemon"

INIT_PID=$E2E_WORK/init.pid
DEFAULTS=$E2E_WORK/defaults

# init_script SOURCE DAEMON: a copy of the init script SOURCE that runs
# DAEMON, keeps its PID in $INIT_PID and reads $DEFAULTS, its only changes.
init_script() {
  local out
  out=$E2E_WORK/init.$(basename "$1")
  sed -e "s|^DAEMON=.*|DAEMON=$2|" \
    -e "s|^PIDFILE=.*|PIDFILE=$INIT_PID|" \
    -e "s|/etc/default/[a-z]*|$DEFAULTS|g" "$1" >"$out"
  if ! grep -q "^DAEMON=$2\$" "$out" || ! grep -q "^PIDFILE=$INIT_PID\$" "$out" ||
    ! grep -q "\. $DEFAULTS\$" "$out"; then
    fail "$1: its DAEMON, PIDFILE or defaults line moved"
  fi
  printf '%s\n' "$out"
}

# routed GROUP: the kernel forwards (SENDER4, GROUP) from r-in to r-out1.
routed() { mroutes 4 | grep -qxF "($SENDER4,$1) r-in r-out1"; }

# run_init SCRIPT ACTION: the script's exit status, its output in $INIT_OUT.
run_init() {
  local rc=0
  INIT_OUT=$(ip netns exec "$(ns_name router)" sh "$1" "$2" 2>&1) || rc=$?
  return "$rc"
}

# check_script SOURCE DAEMON OPTS-VARIABLE
check_script() {
  local name script pid rc
  name=$(basename "$1")
  script=$(init_script "$1" "$2")
  printf '%s="-f %s -u %s -P %s -S %s -l debug"\n' "$3" "$CONF" "$SOCK" "$INIT_PID" \
    "$STATE_FILE" >"$DEFAULTS"
  printf 'phyint r-in enable\nphyint r-out1 enable\nmroute from r-in source %s group 225.1.2.3 to r-out1\n' \
    "$SENDER4" >"$CONF"

  say "$name: start"
  run_init "$script" start || fail "$name start: exit $?: $INIT_OUT"
  [ -s "$INIT_PID" ] || fail "$name start: no PID file"
  pid=$(cat "$INIT_PID")
  MFCD_PID=$pid # the cleanup stops it if the test fails
  kill -0 "$pid" 2>/dev/null || fail "$name start: the daemon ($pid) does not run"
  # The routes are in the kernel when start returns.
  expect_mroute 4 "$SENDER4" 225.1.2.3 r-in r-out1
  rpc_ok daemon.version >/dev/null

  say "$name: status, and start again"
  run_init "$script" status || fail "$name status: exit $? while running: $INIT_OUT"
  run_init "$script" start || fail "$name start while running: exit $?: $INIT_OUT"
  [ "$(cat "$INIT_PID")" = "$pid" ] || fail "$name start while running started another daemon"

  say "$name: reload"
  printf 'mroute from r-in source %s group 225.1.2.4 to r-out1\n' "$SENDER4" >>"$CONF"
  run_init "$script" reload || fail "$name reload: exit $?: $INIT_OUT"
  wait_for 10 "the reloaded route" routed 225.1.2.4

  say "$name: stop"
  run_init "$script" stop || fail "$name stop: exit $?: $INIT_OUT"
  e2e_gone "$pid" || fail "$name stop: the daemon ($pid) still runs"
  # shellcheck disable=SC2034 # read by lib.sh's cleanup
  MFCD_PID=
  rc=0
  run_init "$script" status || rc=$?
  [ "$rc" -eq 3 ] || fail "$name status after stop: exit $rc, not 3: $INIT_OUT"

  say "$name: start fails while another daemon holds the multicast routing table"
  mfcd_start -u "$E2E_WORK/other.sock" <<<"phyint r-in enable"
  rm -f "$INIT_PID"
  rc=0
  run_init "$script" start || rc=$?
  [ "$rc" -ne 0 ] || fail "$name start succeeded with the table held: $INIT_OUT"
  if [ -s "$INIT_PID" ] && kill -0 "$(cat "$INIT_PID")" 2>/dev/null; then
    fail "$name start failed but left a daemon running"
  fi
  mfcd_stop
}

check_script "$MFCD_SOURCE_DIR/packaging/debian/mfcd.init" "$MFCD" MFCD_OPTS
check_script "$MFCD_SOURCE_DIR/packaging/debian/mfcd-smcroute-compat.smcroute.init" \
  "$MFCD_BUILD_DIR/smcrouted" SMCROUTED_OPTS
