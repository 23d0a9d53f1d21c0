#!/bin/bash
# mfcd's exit codes are sysexits.h's, as compat.md lists them, and each one
# is reached by a real condition: 0 ok, 64 usage, 69 table held by another
# daemon, 71 OS error, 76 no multicast routing in the kernel, 77 not
# enough permission, 78 configuration error (at start and with -F).
. "$(dirname "$0")/lib.sh"
topo
NS=$(ns_name router)

# expect_exit CODE WHAT COMMAND...: runs COMMAND, which must exit with CODE.
expect_exit() {
  local want=$1 what=$2
  shift 2
  local rc=0
  "$@" >>"$MFCD_LOG" 2>&1 || rc=$?
  [ "$rc" -eq "$want" ] || fail "$what: exit $rc, expected $want"
  say "$what: $rc"
}

# mfcd_once ARGS...: a foreground mfcd in the router with this test's
# paths; ARGS come last and win.
mfcd_once() { ip netns exec "$NS" "$MFCD" -n -f "$CONF" -u "$SOCK" -P "$PIDFILE" -l err "$@"; }

cat >"$CONF" <<CONF
phyint r-in enable
phyint r-out1 enable
mroute from r-in source $SENDER4 group 225.1.2.3 to r-out1
CONF
chmod 755 "$E2E_WORK"
chmod 644 "$CONF"

# 0: a clean run (-D stops it) and the informational flags.
expect_exit 0 "clean run and exit" mfcd_once -D 1
expect_exit 0 "-v" "$MFCD" -v
expect_exit 0 "-h" "$MFCD" -h
expect_exit 0 "-F on a good file" "$MFCD" -F "$CONF"

# 64: usage.
expect_exit 64 "unknown flag" "$MFCD" -Z
expect_exit 64 "bad number" "$MFCD" -t table
expect_exit 64 "missing value" "$MFCD" -f
expect_exit 64 "stray argument" "$MFCD" -n extra

# 69: the table is held by another mfcd in the same namespace; other
# tables and other namespaces are free.
mfcd_start <<<"$(cat "$CONF")"
expect_exit 69 "second daemon on table 0" mfcd_once -u "$E2E_WORK/2.sock" -P "$E2E_WORK/2.pid"
grep -q 'another multicast routing daemon holds this table' "$MFCD_LOG" ||
  fail "69 without saying why"
expect_exit 0 "second daemon on table 7" mfcd_once -t 7 -u "$E2E_WORK/2.sock" -P "$E2E_WORK/2.pid" -D 1
# The first daemon is unharmed.
expect_mroute 4 "$SENDER4" 225.1.2.3 r-in r-out1
mfcd_stop
# The loser left nothing behind (its PID file was never written).
[ ! -e "$E2E_WORK/2.pid" ] || fail "a failed start left a PID file"

# 71: an OS error, here a control socket in a directory that does not exist.
expect_exit 71 "socket in a missing directory" mfcd_once -u "$E2E_WORK/no/such/dir/mfcd.sock"
expect_no_mroute_state
# A PID file that cannot be written is one too.
expect_exit 71 "PID file in a missing directory" mfcd_once -P "$E2E_WORK/no/such/dir/mfcd.pid"
expect_no_mroute_state

# 76: the kernel lacks multicast routing. This kernel has it built in, so
# its answer is emulated: a preloaded shim makes setsockopt(MRT_INIT /
# MRT_TABLE) fail with ENOPROTOOPT, which is exactly what a kernel without
# CONFIG_IP_MROUTE (or without multiple tables) returns.
if command -v cc >/dev/null; then
  cat >"$E2E_WORK/nomroute.c" <<'EOF'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
int setsockopt(int fd, int level, int name, const void *val, socklen_t len) {
  static int (*real)(int, int, int, const void *, socklen_t);
  if (!real) real = (int (*)(int, int, int, const void *, socklen_t))dlsym(RTLD_NEXT, "setsockopt");
  /* MRT_INIT 200 .. MRT_TABLE 209 on IPv4, MRT6_INIT 200 .. on IPv6 */
  if ((level == IPPROTO_IP || level == IPPROTO_IPV6) && name >= 200 && name <= 212) {
    errno = ENOPROTOOPT;
    return -1;
  }
  return real(fd, level, name, val, len);
}
EOF
  cc -shared -fPIC -o "$E2E_WORK/nomroute.so" "$E2E_WORK/nomroute.c" -ldl ||
    fail "cannot build the shim"
  # An ASan build insists on its runtime coming first in the preload list;
  # the shim only wraps setsockopt, so that check can be waived here.
  expect_exit 76 "kernel without multicast routing (emulated)" \
    ip netns exec "$NS" env LD_PRELOAD="$E2E_WORK/nomroute.so" \
    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
    "$MFCD" -n -f "$CONF" -u "$SOCK" -P "$PIDFILE" -l err
else
  say "SKIP 76: no C compiler to build the ENOPROTOOPT shim"
fi

# 77: not root. nobody without capabilities cannot open the mroute socket.
if command -v setpriv >/dev/null && id nobody >/dev/null 2>&1; then
  expect_exit 77 "not root" ip netns exec "$NS" setpriv --reuid nobody --regid "$(id -g nobody)" \
    --clear-groups --inh-caps=-all --bounding-set=-all \
    "$MFCD" -n -f "$CONF" -u "$E2E_WORK/nobody.sock" -P "$E2E_WORK/nobody.pid" -l err
  grep -q 'IGMP.*Operation not permitted' "$MFCD_LOG" || fail "77 for another reason than the mroute socket"
  # Root without CAP_CHOWN cannot give the control socket a group it is
  # not in: also 77 (a restart would not mend it), and it says why.
  expect_exit 77 "socket group without CAP_CHOWN" ip netns exec "$NS" setpriv --bounding-set=-chown \
    "$MFCD" -n -f "$CONF" -u "$E2E_WORK/group.sock" -P "$E2E_WORK/group.pid" -l err \
    --socket-group 4242
  grep -q 'group 4242.*takes CAP_CHOWN' "$MFCD_LOG" || fail "77 for the socket group without saying why"
  [ ! -e "$E2E_WORK/group.sock" ] || fail "the refused start left its socket"
else
  say "SKIP 77: no setpriv or no user nobody"
fi

# 78: configuration errors, at start (foreground and background) and with -F.
printf 'phyint\n' >"$E2E_WORK/bad.conf"
printf 'mroute from r-in group 225.1.2.3 to\nmgroup from r-in group 10.0.0.1\n' >"$E2E_WORK/bad2.conf"
expect_exit 78 "-F on a bare phyint" "$MFCD" -F "$E2E_WORK/bad.conf"
expect_exit 78 "-F on a route without OIFs and a unicast group" "$MFCD" -F "$E2E_WORK/bad2.conf"
expect_exit 78 "-F on a missing file" "$MFCD" -F "$E2E_WORK/missing.conf"
expect_exit 78 "start with a bad config" mfcd_once -f "$E2E_WORK/bad.conf"
expect_exit 78 "background start with a bad config" \
  ip netns exec "$NS" "$MFCD" -f "$E2E_WORK/bad2.conf" -u "$SOCK" -P "$PIDFILE" -l none
expect_no_mroute_state
[ ! -e "$PIDFILE" ] || fail "a refused start left a PID file"
