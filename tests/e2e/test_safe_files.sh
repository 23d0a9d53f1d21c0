#!/bin/bash
# The PID file and the control socket cannot be redirected or taken over:
#   - a symlink planted at the PID file's (old, fixed) temporary name is not
#     written through;
#   - a second mfcd on the same socket path, in another table and another
#     network namespace, exits 69 naming the path and the first daemon, and
#     the first one stays reachable after it is gone;
#   - a socket left by a daemon killed with -9 is replaced at the next start;
#   - something that is not a socket at the path is never replaced;
#   - at exit, files that are no longer the daemon's own are left alone.
. "$(dirname "$0")/lib.sh"

e2e_add_ns router
e2e_add_ns other
nsx router test -e /proc/net/ip_mr_vif || skip "kernel without IPv4 multicast routing"

: >"$E2E_WORK/empty.conf"
precious=$E2E_WORK/precious
echo "keep me" >"$precious"
ln -s "$precious" "$PIDFILE.tmp"

mfcd_start </dev/null
[ "$(cat "$precious")" = "keep me" ] || fail "the PID file was written through the planted symlink"
{ [ -f "$PIDFILE" ] && [ ! -L "$PIDFILE" ]; } || fail "$PIDFILE is not a regular file"
[ -L "$PIDFILE.tmp" ] || fail "the planted symlink was removed"
leftover=$(find "$E2E_WORK" -maxdepth 1 -name "$(basename "$PIDFILE").*" ! -name '*.tmp')
[ -z "$leftover" ] || fail "temporary files left behind: $leftover"
[ "$(stat -c %a "$PIDFILE")" = 644 ] || fail "PID file mode $(stat -c %a "$PIDFILE")"
[ "$(stat -c %a "$SOCK")" = 660 ] || fail "socket mode $(stat -c %a "$SOCK")"
sock_inode=$(stat -c %i "$SOCK")

# A second daemon: same socket path, other table, other namespace.
rc=0
ip netns exec "$(ns_name other)" "$MFCD" -n -t 7 -f "$E2E_WORK/empty.conf" -u "$SOCK" -P "$E2E_WORK/2.pid" \
  -l err >"$E2E_WORK/second.log" 2>&1 || rc=$?
[ "$rc" -eq 69 ] || fail "a second daemon on $SOCK exited $rc, expected 69: $(cat "$E2E_WORK/second.log")"
grep -q "another daemon (pid $MFCD_PID) answers on $SOCK; not taking it over" "$E2E_WORK/second.log" ||
  fail "the second daemon does not name the path and the first daemon: $(cat "$E2E_WORK/second.log")"
[ "$(stat -c %i "$SOCK")" = "$sock_inode" ] || fail "the socket file was replaced"
[ ! -e "$E2E_WORK/2.pid" ] || fail "the second daemon wrote its PID file"
rpc_ok daemon.version >/dev/null

# kill -9 leaves a stale socket (and PID file): the next start replaces it.
kill -KILL "$MFCD_PID"
e2e_wait_gone "$MFCD_PID" 10 || fail "mfcd survived kill -9"
wait "$MFCD_PID" 2>/dev/null || true
MFCD_PID=
[ -S "$SOCK" ] || fail "no stale socket after kill -9"
mfcd_start </dev/null
rpc_ok daemon.version >/dev/null

# Files that are not ours any more stay at exit: another daemon's socket
# and PID file, put there since.
mv "$SOCK" "$E2E_WORK/moved.sock"
echo "another socket" >"$SOCK"
echo 1 >"$PIDFILE.new" && mv "$PIDFILE.new" "$PIDFILE"
mfcd_stop
[ "$(cat "$SOCK")" = "another socket" ] || fail "a socket path that is not ours any more was removed"
[ "$(cat "$PIDFILE")" = 1 ] || fail "a PID file that is not ours any more was removed"

# Not a socket at the path: never replaced, exit 71 naming it.
rc=0
ip netns exec "$(ns_name router)" "$MFCD" -n -f "$E2E_WORK/empty.conf" -u "$SOCK" -P "$PIDFILE" -l err \
  >"$E2E_WORK/third.log" 2>&1 || rc=$?
[ "$rc" -eq 71 ] || fail "start over a regular file at the socket path exited $rc, expected 71"
grep -q "$SOCK exists and is not a socket; not replacing it" "$E2E_WORK/third.log" ||
  fail "no message naming the path: $(cat "$E2E_WORK/third.log")"
[ "$(cat "$SOCK")" = "another socket" ] || fail "a regular file at the socket path was replaced"
