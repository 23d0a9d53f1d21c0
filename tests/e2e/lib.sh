# shellcheck shell=bash
# Shared harness for mfcd's end-to-end tests; each test_*.sh sources it.
#
# A test builds a small network of namespaces (topo), starts the real mfcd in
# the router namespace (mfcd_start), drives it (mfcctl, rpc, signals), sends
# real multicast with mctool and counts what arrives where (flow,
# expect_count), and reads the kernel's own tables (expect_mroutes,
# expect_no_mroute_state). Everything a test creates carries the test's name
# and PID, so tests run in parallel; a trap removes all of it on any exit,
# also on failure or Ctrl-C, and prints the daemon's log when a test fails.
# Nothing waits by sleeping: wait_for polls a condition with a deadline.
#
# Deadlines are written as a quick host needs them and multiplied by
# E2E_SLOWDOWN (default 20), so that they hold as well on a CPU 20 times
# slower, such as the test bed's emulated one (tests/vm). A deadline bounds
# only how long a broken test takes to fail: a working one goes on the moment
# its condition holds, so no test depends on how fast the machine is.
#
# E2E_KEEP=1 keeps the work directory (config, daemon log, receiver output).
#
# The system's tools first (python3 with jsonschema is /usr/bin's); the
# test bed's modprobe before them. A short PATH also spares the test bed
# failed look-ups over 9p for every program started.
PATH=${MFCD_IN_VM:+/run/mfcd-vm/bin:}/usr/sbin:/usr/bin:/sbin:/bin:$PATH

# Exit codes follow ctest's convention here: 0 pass, 77 skip, anything else
# fail.
#
#                    +---------------- router ----------------+
#   sender eth0 --- r-in                               r-out1 --- eth0 recv1
#   192.0.2.2       192.0.2.1               198.51.100.1          198.51.100.2
#   2001:db8:1::2   2001:db8:1::1           2001:db8:2::1         2001:db8:2::2
#                                            r-out2 --- eth0 recv2
#                                            203.0.113.1          203.0.113.2
#                                            2001:db8:3::1        2001:db8:3::2

set -eEu -o pipefail
shopt -s inherit_errexit

E2E_NAME=$(basename "$0" .sh)
E2E_NAME=${E2E_NAME#test_}
E2E_ID="${E2E_NAME}-$$"
MFCD_SOURCE_DIR=${MFCD_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
MFCD_BUILD_DIR=${MFCD_BUILD_DIR:-$MFCD_SOURCE_DIR/build}
MFCD=$MFCD_BUILD_DIR/mfcd
MFCCTL=$MFCD_BUILD_DIR/mfcctl
MCTOOL=$MFCD_BUILD_DIR/tests/mctool
# 1 when the daemon is built with AddressSanitizer. Its allocator keeps
# freed memory in a quarantine (256 MB by default) and rarely gives pages
# back, so RSS says nothing about mfcd's own memory there: tests check
# memory bounds on the plain build and only report RSS on this one.
MFCD_SANITIZED=0
grep -qs '^MFCD_SANITIZE:BOOL=ON' "$MFCD_BUILD_DIR/CMakeCache.txt" && MFCD_SANITIZED=1
SCHEMA=$MFCD_SOURCE_DIR/schema/mfcd.openrpc.json
RPC_SCHEMA=$MFCD_SOURCE_DIR/tests/tools/rpc_schema.py
# The system interpreter has python3-jsonschema from install-deps; a python3
# earlier in PATH (pyenv, venv) may not.
PYTHON=/usr/bin/python3

# The addresses of the topology, for tests to use.
# shellcheck disable=SC2034
SENDER4=192.0.2.2
# shellcheck disable=SC2034
SENDER6=2001:db8:1::2

E2E_SLOWDOWN=${E2E_SLOWDOWN:-20}
[[ $E2E_SLOWDOWN =~ ^[1-9][0-9]*$ ]] || {
  echo "FAIL: E2E_SLOWDOWN must be a positive integer, not '$E2E_SLOWDOWN'" >&2
  exit 1
}

E2E_NAMESPACES=()
E2E_PIDS=()
MFCD_PID=
declare -A E2E_RECV_PID=()

say() { printf '%s: %s\n' "$E2E_NAME" "$*"; }

skip() {
  echo "SKIP: $*"
  exit 77
}

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# --- preconditions ---------------------------------------------------------

[ "$(id -u)" -eq 0 ] || skip "needs root (network namespaces, multicast routing)"
for tool in ip socat jq timeout; do
  command -v "$tool" >/dev/null || skip "needs $tool (scripts/install-deps installs it)"
done
# The schema check (e2e_check_replies) needs python3-jsonschema; it says
# so itself if the module is missing (an import costs 1.6 s on the test bed).
[ -x "$PYTHON" ] || fail "needs $PYTHON (scripts/install-deps installs python3-jsonschema)"
for bin in "$MFCD" "$MFCCTL" "$MCTOOL"; do
  [ -x "$bin" ] || fail "$bin is not built (MFCD_BUILD_DIR=$MFCD_BUILD_DIR)"
done
[ -r "$RPC_SCHEMA" ] || fail "$RPC_SCHEMA is missing"

E2E_WORK=$(mktemp -d "/tmp/mfcd-e2e-${E2E_ID}.XXXXXX")
SOCK=$E2E_WORK/mfcd.sock
PIDFILE=$E2E_WORK/mfcd.pid
CONF=$E2E_WORK/mfcd.conf
MFCD_LOG=$E2E_WORK/mfcd.log
E2E_REPLIES=$E2E_WORK/replies.log
# mfcd keeps the routes and joins added over the API in a state file,
# /var/lib/mfcd/NAME.state unless -S says otherwise. A test's daemon keeps
# them in the test's own directory, so that tests running at once never
# restore each other's routes, nor leave a file behind (a later -S on the
# command line wins).
STATE_FILE=$E2E_WORK/mfcd.state
MFCD_BINARY=$MFCD
MFCD=$E2E_WORK/bin/mfcd
mkdir -p "$E2E_WORK/bin"
printf '#!/bin/sh\nexec "%s" -S "%s" "$@"\n' "$MFCD_BINARY" "$STATE_FILE" >"$MFCD"
chmod 755 "$MFCD"

# --- cleanup ---------------------------------------------------------------

e2e_dump_logs() {
  if [ -s "$MFCD_LOG" ]; then
    echo "---- mfcd log ($MFCD_LOG) ----" >&2
    tail -n 200 "$MFCD_LOG" >&2
    echo "---- end of mfcd log ----" >&2
  fi
  local f
  for f in "$E2E_WORK"/recv.*.out; do
    [ -e "$f" ] || continue
    echo "---- $(basename "$f") ----" >&2
    cat "$f" >&2
  done
}

e2e_cleanup() {
  local rc=$?
  trap - EXIT ERR INT TERM
  set +eE
  if [ "$rc" -eq 0 ] && ! e2e_check_replies; then
    echo "FAIL: replies that do not match the schema (above)" >&2
    rc=1
  fi
  if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ]; then
    e2e_dump_logs
  fi
  local pid pids=("${E2E_PIDS[@]}" "${E2E_RECV_PID[@]}" ${MFCD_PID:+"$MFCD_PID"})
  for pid in "${pids[@]}"; do
    kill -TERM "$pid" 2>/dev/null
  done
  for pid in "${pids[@]}"; do
    e2e_wait_gone "$pid" 5 || kill -KILL "$pid" 2>/dev/null
  done
  wait 2>/dev/null
  local ns
  for ns in "${E2E_NAMESPACES[@]}"; do
    ip netns del "$ns" 2>/dev/null
  done
  [ -n "${E2E_KEEP:-}" ] || rm -rf "$E2E_WORK"
  if [ "$rc" -eq 0 ]; then
    echo "${E2E_DONE_MESSAGE:-PASS: $E2E_NAME}"
  fi
  exit "$rc"
}

trap e2e_cleanup EXIT
trap 'echo "FAIL: line $LINENO: $BASH_COMMAND (status $?)" >&2' ERR
trap 'exit 130' INT
trap 'exit 143' TERM

# --- waiting ---------------------------------------------------------------

# e2e_sleep SECONDS: sleeps without starting a process (read times out on
# a pipe nobody writes to); a sleep(1) costs tens of milliseconds of CPU on
# the test bed, and polls call this many times.
exec {E2E_SLEEP_FD}<> <(:)
e2e_sleep() {
  read -r -t "$1" -u "$E2E_SLEEP_FD" || true
}

# wait_for SECONDS DESCRIPTION COMMAND...: polls COMMAND until it succeeds;
# fails the test with DESCRIPTION when SECONDS (times E2E_SLOWDOWN) pass
# first.
wait_for() {
  local seconds=$(($1 * E2E_SLOWDOWN)) what=$2
  shift 2
  local deadline=$((SECONDS + seconds))
  # In a subshell, so that a helper which fails the test (rpc_ok, ...)
  # only fails this attempt.
  until ("$@") >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$deadline" ] || fail "timed out after ${seconds}s waiting for $what"
    e2e_sleep 0.05
  done
}

# A process that exited but was not reaped yet is a zombie: kill -0 still
# finds it, so look at its state instead.
# Read by the shell itself: this runs in every poll.
e2e_gone() {
  local stat state
  { read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 0
  state=${stat##*) }
  state=${state%% *}
  [ -z "$state" ] || [ "$state" = Z ]
}

# e2e_wait_gone PID SECONDS: true once PID has exited (SECONDS times
# E2E_SLOWDOWN).
e2e_wait_gone() {
  local deadline=$((SECONDS + $2 * E2E_SLOWDOWN))
  until e2e_gone "$1"; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    e2e_sleep 0.05
  done
}

# --- namespaces and topology ----------------------------------------------

# ns_name ROLE: the real namespace name of a role (sender, router, ...).
ns_name() { printf 'mfcd-%s-%s' "$E2E_ID" "$1"; }

# nsx ROLE COMMAND...: runs COMMAND inside ROLE's namespace.
#
# Three commands take a shorter way, since each process start costs tens of
# milliseconds on the test bed's emulated CPU and these run in every poll:
# "ip" gets -n (ip enters the namespace itself: one process, not two), and
# "cat" or "test -e" of files under /proc/net read the namespace's holder
# process's /proc/PID/net, which is that namespace's view, from the shell.
declare -A E2E_HOLDER=()
nsx() {
  local role=$1
  shift
  local holder=${E2E_HOLDER[$role]:-}
  case $1 in
    ip)
      shift
      ip -n "mfcd-$E2E_ID-$role" "$@"
      return
      ;;
    cat)
      if [ -n "$holder" ] && [ $# -ge 2 ] && e2e_all_proc_net "${@:2}"; then
        shift
        local file lines
        for file in "$@"; do
          mapfile -t lines <"/proc/$holder/net/${file#/proc/net/}" || return 1
          [ "${#lines[@]}" -eq 0 ] || printf '%s\n' "${lines[@]}"
        done
        return
      fi
      ;;
    test)
      if [ -n "$holder" ] && [ $# -eq 3 ] && [ "$2" = -e ] && e2e_all_proc_net "$3"; then
        [ -e "/proc/$holder/net/${3#/proc/net/}" ]
        return
      fi
      ;;
  esac
  ip netns exec "mfcd-$E2E_ID-$role" "$@"
}

e2e_all_proc_net() {
  local f
  for f in "$@"; do
    [[ $f == /proc/net/* ]] || return 1
  done
}

e2e_add_ns() {
  local ns
  ns=$(ns_name "$1")
  ip netns add "$ns"
  E2E_NAMESPACES+=("$ns")
  ip -n "$ns" link set lo up
  # A process that stays in the namespace for the test's lifetime: its
  # /proc/PID/net is the namespace's /proc/net (see nsx).
  ip netns exec "$ns" sleep infinity </dev/null >/dev/null 2>&1 &
  E2E_HOLDER[$1]=$!
  E2E_PIDS+=("$!")
  # Set before any link exists, so every interface inherits it: addresses
  # are usable at once (no DAD) and multicast from any source is accepted.
  nsx "$1" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
    net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
}

# e2e_link_ready ROLE IFNAME...: carrier up and IPv6's multicast route in
# place on every IFNAME; both come asynchronously after "link set up".
# Two processes for all of them: every process start costs tens of
# milliseconds on the test bed's emulated CPU.
e2e_link_ready() {
  local ns ifname links routes
  ns=$(ns_name "$1")
  shift
  links=$(ip -n "$ns" -br link show up)
  routes=$(ip -n "$ns" -6 route show table local type multicast)
  for ifname in "$@"; do
    grep -Eq "^${ifname}(@[^ ]*)? +UP " <<<"$links" || return 1
    grep -Eq "^multicast ff00::/8 dev ${ifname} " <<<"$routes" || return 1
  done
}

# e2e_wire ROUTER_IF ROLE NET4 NET6: a veth from the router to ROLE's eth0.
# The router is .1 / ::1 on the link, the other end .2 / ::2. Both ends
# inherit rp_filter 0 and no DAD from their namespace (e2e_add_ns); each
# end is set up by one "ip -batch".
e2e_wire() {
  local rif=$1 role=$2 net4=$3 net6=$4
  local router peer
  router=$(ns_name router)
  peer=$(ns_name "$role")
  ip -n "$router" -batch - <<EOF
link add $rif type veth peer name eth0 netns $peer
addr add ${net4}.1/24 dev $rif
addr add ${net6}::1/64 dev $rif nodad
link set $rif up
EOF
  # Multicast leaves through eth0 even without an explicit interface.
  ip -n "$peer" -batch - <<EOF
addr add ${net4}.2/24 dev eth0
addr add ${net6}::2/64 dev eth0 nodad
link set eth0 up
route add default via ${net4}.1
route add default via ${net6}::1
route add 224.0.0.0/4 dev eth0
route add ff00::/8 dev eth0
EOF
}

# topo [--late-r-out2]: sender, router, recv1, recv2 as drawn at the top of
# this file. With --late-r-out2 the recv2 namespace is made but r-out2 is
# not: a test of interfaces that come late creates it with wire_r_out2.
topo() {
  local role late=0
  [ "${1:-}" = --late-r-out2 ] && late=1
  for role in sender router recv1 recv2; do
    e2e_add_ns "$role"
  done
  # The kernel of this namespace must do multicast routing at all.
  nsx router test -e /proc/net/ip_mr_vif || skip "kernel without IPv4 multicast routing"
  nsx router test -e /proc/net/ip6_mr_vif || skip "kernel without IPv6 multicast routing"
  nsx router sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
  e2e_wire r-in sender 192.0.2 2001:db8:1
  e2e_wire r-out1 recv1 198.51.100 2001:db8:2
  wait_for 20 "router links up" e2e_link_ready router r-in r-out1
  for role in sender recv1; do
    wait_for 20 "$role link eth0 up" e2e_link_ready "$role" eth0
  done
  [ "$late" = 1 ] || wire_r_out2
}

# wire_r_out2: r-out2 <-> recv2 eth0, as topo makes it; again after a test
# deleted it (it then gets a new ifindex).
wire_r_out2() {
  e2e_wire r-out2 recv2 203.0.113 2001:db8:3
  wait_for 20 "router link r-out2 up" e2e_link_ready router r-out2
  wait_for 20 "recv2 link eth0 up" e2e_link_ready recv2 eth0
}

# --- the daemon ------------------------------------------------------------

# mfcd_start [MFCD-ARGS...] <<EOF CONFIG EOF: starts mfcd in the router with
# that config and returns once it is ready (PID file written). Fails with
# the daemon's log if it exits first.
mfcd_start() {
  cat >"$CONF"
  rm -f "$PIDFILE"
  # Not through nsx: a function would run in a subshell, and $! must be
  # the daemon itself.
  ip netns exec "$(ns_name router)" "$MFCD" -n -f "$CONF" -u "$SOCK" -P "$PIDFILE" -l debug "$@" >>"$MFCD_LOG" 2>&1 &
  MFCD_PID=$!
  local deadline=$((SECONDS + 15 * E2E_SLOWDOWN))
  until [ -s "$PIDFILE" ]; do
    if e2e_gone "$MFCD_PID"; then
      local rc=0
      wait "$MFCD_PID" || rc=$?
      MFCD_PID=
      fail "mfcd exited with status $rc before it was ready"
    fi
    [ "$SECONDS" -lt "$deadline" ] || fail "mfcd wrote no PID file within $((15 * E2E_SLOWDOWN))s"
    e2e_sleep 0.05
  done
  [ "$(cat "$PIDFILE")" = "$MFCD_PID" ] ||
    fail "PID file holds $(cat "$PIDFILE"), mfcd runs as $MFCD_PID"
}

# mfcd_wait_exit [SECONDS]: waits for the running mfcd to exit and fails
# unless it exits with status 0.
mfcd_wait_exit() {
  local seconds=${1:-10}
  [ -n "$MFCD_PID" ] || fail "mfcd is not running"
  e2e_wait_gone "$MFCD_PID" "$seconds" || fail "mfcd did not exit within ${seconds}s"
  local rc=0
  wait "$MFCD_PID" || rc=$?
  MFCD_PID=
  [ "$rc" -eq 0 ] || fail "mfcd exited with status $rc"
}

# mfcd_stop [SIGNAL]: stops mfcd (SIGTERM by default) and checks its exit.
mfcd_stop() {
  [ -n "$MFCD_PID" ] || fail "mfcd is not running"
  kill "-${1:-TERM}" "$MFCD_PID"
  mfcd_wait_exit 10
}

# mfcd_reload: SIGHUP, then waits until the daemon answers again.
mfcd_reload() {
  kill -HUP "$MFCD_PID"
  wait_for 10 "mfcd to answer after SIGHUP" rpc_ok daemon.version
}

# mfcctl ARGS...: the client against this test's daemon.
# The control socket is a path in the file system, not bound to a network
# namespace, so the client needs no "ip netns exec" (each costs two process
# starts on the test bed).
mfcctl() { "$MFCCTL" -u "$SOCK" "$@"; }

# --- JSON-RPC --------------------------------------------------------------

# rpc_validate METHOD < REPLY: records one reply (each line of it) for the
# check against the OpenRPC schema that e2e_check_replies runs over all of
# a test's replies when it ends: one Python start-up per test instead of
# one per call (1.6 s a call on the test bed's emulated CPU). An invalid
# reply still fails the test, only later.
rpc_validate() {
  local line
  while IFS= read -r line || [ -n "$line" ]; do
    printf '%s\t%s\n' "$1" "$line" >>"$E2E_REPLIES"
  done
}

# e2e_check_replies: every recorded reply matches the schema. Under ctest
# (MFCD_E2E_REPLY_SPOOL set: tests/CMakeLists.txt) the log goes to that
# directory instead, and e2e_replies_schema checks every test's in one run:
# python and jsonschema take 5 s to start in the test bed, per test.
e2e_check_replies() {
  [ -s "$E2E_REPLIES" ] || return 0
  if [ -n "${MFCD_E2E_REPLY_SPOOL:-}" ]; then
    mkdir -p "$MFCD_E2E_REPLY_SPOOL" && cp "$E2E_REPLIES" "$MFCD_E2E_REPLY_SPOOL/$E2E_NAME.log"
    return
  fi
  "$PYTHON" -W ignore "$RPC_SCHEMA" validate-log "$SCHEMA" "$E2E_REPLIES"
}

# rpc_send LINE...: sends raw lines on one connection and prints every
# reply line, unvalidated. For tests of malformed input.
rpc_send() {
  printf '%s\n' "$@" | socat -t "$((5 * E2E_SLOWDOWN))" -T "$((10 * E2E_SLOWDOWN))" - "UNIX-CONNECT:$SOCK"
}

# rpc METHOD [PARAMS-JSON]: one request; prints the reply (result or
# error) and records it for the schema check. Built with printf rather than
# jq: each jq start costs about 0.3 s on the test bed's emulated CPU.
rpc() {
  local method=$1 params=${2:-'{}'}
  local reply
  reply=$(rpc_send "$(printf '{"jsonrpc":"2.0","id":1,"method":"%s","params":%s}' "$method" "$params")") ||
    fail "rpc $method: no connection to $SOCK"
  [ -n "$reply" ] || fail "rpc $method: no reply"
  rpc_validate "$method" <<<"$reply"
  printf '%s\n' "$reply"
}

# rpc_ok METHOD [PARAMS-JSON]: like rpc, but the call must succeed; prints
# the result only.
# mfcd writes a success as {"jsonrpc":"2.0","id":ID,"result":RESULT}
# (rpc/envelope.cpp), so the result is cut out by the shell; anything else
# goes through jq (each jq start costs about 0.25 s on the test bed).
rpc_ok() {
  local reply result
  reply=$(rpc "$@") || exit 1
  local head='{"jsonrpc":"2.0","id":1,"result":'
  if [[ $reply == "$head"*'}' ]]; then
    result=${reply#"$head"}
    printf '%s\n' "${result%\}}"
    return
  fi
  result=$(jq -ec 'select(has("result")) | .result' <<<"$reply") || fail "rpc $1 ${2:-} failed: $reply"
  printf '%s\n' "$result"
}

# rpc_pages METHOD LIMIT: walks METHOD's listing in pages of LIMIT items
# (limit, then each next as the cursor) and prints each page's result, one
# a line; every call must succeed, and the walk must end within 1,000 pages.
rpc_pages() {
  local cursor=null page n=0
  while :; do
    page=$(rpc_ok "$1" "$(jq -cn --argjson l "$2" --argjson c "$cursor" \
      '{limit: $l} + (if $c == null then {} else {cursor: $c} end)')") || exit 1
    printf '%s\n' "$page"
    cursor=$(jq -c '.next' <<<"$page")
    [ "$cursor" != null ] || return 0
    n=$((n + 1))
    [ "$n" -lt 1000 ] || fail "$1: its pages do not end"
  done
}

# rpc_error METHOD PARAMS-JSON CODE: the call must fail with CODE.
rpc_error() {
  local reply code
  reply=$(rpc "$1" "$2") || exit 1
  code=$(jq -r '.error.code // "none"' <<<"$reply")
  [ "$code" = "$3" ] || fail "rpc $1 $2: expected error $3, got: $reply"
}

# --- traffic ---------------------------------------------------------------

# recv_start HANDLE ROLE GROUP [--until-stopped] [MCTOOL-RECV-ARGS...]: a
# receiver on ROLE's eth0, ready (joined) when this returns. A receiver
# given -c N stops once it has N datagrams; its -w SECONDS is a deadline
# like the others and is multiplied by E2E_SLOWDOWN. One that must hear
# nothing is started --until-stopped and stopped by recv_stop once the
# sender is done, so its window never closes before the traffic came.
recv_start() {
  local handle=$1 role=$2 group=$3
  shift 3
  local args=()
  if [ "${1:-}" = --until-stopped ]; then
    shift
    args=(-w 3600)
  fi
  while [ $# -gt 0 ]; do
    if [ "$1" = -w ] && [ $# -ge 2 ] && [[ $2 =~ ^[0-9]+$ ]]; then
      args+=(-w "$(($2 * E2E_SLOWDOWN))")
      shift 2
    else
      args+=("$1")
      shift
    fi
  done
  local ready=$E2E_WORK/recv.$handle.ready
  rm -f "$ready"
  ip netns exec "$(ns_name "$role")" "$MCTOOL" recv -g "$group" -i eth0 --ready "$ready" "${args[@]}" \
    >"$E2E_WORK/recv.$handle.out" 2>&1 &
  local pid=$!
  E2E_RECV_PID[$handle]=$pid
  local deadline=$((SECONDS + 10 * E2E_SLOWDOWN))
  until [ -e "$ready" ]; do
    if e2e_gone "$pid"; then
      cat "$E2E_WORK/recv.$handle.out" >&2
      fail "receiver $handle on $role exited before it was ready"
    fi
    [ "$SECONDS" -lt "$deadline" ] || fail "receiver $handle on $role not ready within $((10 * E2E_SLOWDOWN))s"
    e2e_sleep 0.02
  done
}

# recv_stop HANDLE [SETTLE]: stops a receiver started --until-stopped,
# SETTLE seconds (default 0) after the caller's sender finished. The
# receiver still counts what was queued for it when it stopped. The kernel
# forwards a datagram to every OIF in one pass as it arrives, so once a
# receiver on another OIF has its datagrams there is nothing left to wait
# for; with no such receiver, a second's settle covers a forwarding path
# that is running late.
recv_stop() {
  local pid=${E2E_RECV_PID[$1]:-}
  [ -n "$pid" ] || fail "no receiver $1"
  [ "${2:-0}" = 0 ] || e2e_sleep "$2"
  kill -TERM "$pid" 2>/dev/null || true
}

# recv_count HANDLE: waits for the receiver to finish and sets RECV_COUNT
# to how many datagrams it counted. (Not a $(...) function: only this shell
# can wait for its own children.)
recv_count() {
  local pid=${E2E_RECV_PID[$1]:-}
  [ -n "$pid" ] || fail "no receiver $1"
  e2e_wait_gone "$pid" 60 || fail "receiver $1 did not finish"
  wait "$pid" || fail "receiver $1 failed: $(cat "$E2E_WORK/recv.$1.out")"
  unset "E2E_RECV_PID[$1]"
  RECV_COUNT=$(awk '$1 == "received" {print $2}' "$E2E_WORK/recv.$1.out")
}

# expect_count HANDLE N [WHAT]: the receiver got exactly N datagrams.
expect_count() {
  recv_count "$1"
  [ "$RECV_COUNT" = "$2" ] || fail "${3:-receiver $1}: expected $2 datagrams, got ${RECV_COUNT:-none}"
}

# send GROUP COUNT [MCTOOL-SEND-ARGS...]: sends from the sender's eth0
# (TTL 16 and 1000/s unless overridden).
# The default pace, 10 ms apart, matters for flows that a (*,G) rule
# installs on demand: the kernel queues only the first 4 packets of an
# unresolved (S,G), so at 1 ms apart a slow install (an ASan build on a busy
# machine) lost the 5th packet. A later -r in the arguments wins.
send() {
  local group=$1 count=$2
  shift 2
  nsx sender "$MCTOOL" send -g "$group" -i eth0 -c "$count" -t 16 -r 100 "$@" >/dev/null
}

# send_start GROUP [MCTOOL-SEND-ARGS...]: like send, but in the background
# and until send_stop (or the end of the test): traffic that must outlast
# checks of unknown duration. Sets SEND_PID.
send_start() {
  local group=$1
  shift
  # ip netns exec execs mctool itself, so $! is the sender.
  ip netns exec "mfcd-$E2E_ID-sender" "$MCTOOL" send -g "$group" -i eth0 -c 10000000 -t 16 -r 100 "$@" \
    >/dev/null &
  SEND_PID=$!
  E2E_PIDS+=("$SEND_PID")
}

# send_stop PID: stops a sender from send_start and waits until it is gone.
send_stop() {
  kill -TERM "$1" 2>/dev/null || true
  e2e_wait_gone "$1" 5 || fail "sender $1 did not stop"
  wait "$1" 2>/dev/null || true
}

# flow_source GROUP [MCTOOL-SEND-ARGS...]: the source address a send with
# these arguments uses (its -s, else the sender's address of the family).
flow_source() {
  local group=$1 source=$SENDER4
  shift
  [[ $group != *:* ]] || source=$SENDER6
  while [ $# -gt 0 ]; do
    if [ "$1" = -s ] && [ $# -ge 2 ]; then
      source=$2
      shift
    fi
    shift
  done
  printf '%s\n' "$source"
}

# e2e_resolved 4|6 S G: the kernel holds a resolved entry for (S,G).
e2e_resolved() {
  # Not `mroutes | grep -q`: grep leaving at the first match kills the
  # writer of a big table with SIGPIPE, and pipefail makes that a miss.
  grep -q -F "($2,$3) " <<<"$(mroutes "$1")"
}

# flow GROUP COUNT EXPECT_RECV1 EXPECT_RECV2 [MCTOOL-SEND-ARGS...]: sends
# COUNT datagrams to GROUP and checks how many each receiver got. A
# receiver expecting some stops as soon as it has them; one expecting none
# listens until the sender is done and the other receiver has its share
# (or, when both expect none, a second more).
#
# Until mfcd installs a flow that a (*,G) rule covers, the kernel keeps
# only its first 4 datagrams (and replays them on install); any more are
# lost, however fast mfcd is, if they come sooner. So a flow that expects
# more than 4 datagrams and has no kernel entry yet is first started with
# one datagram that nobody counts, and sent once the entry is in. A flow of
# at most 4 tests the first packets themselves.
flow() {
  local group=$1 count=$2 want1=$3 want2=$4
  shift 4
  local what="($group, $count sent${*:+ with $*})"
  local want role settle=1
  if [ "$want1" -gt 4 ] || [ "$want2" -gt 4 ]; then
    local fam=4 source
    [[ $group != *:* ]] || fam=6
    source=$(flow_source "$group" "$@")
    if ! e2e_resolved "$fam" "$source" "$group"; then
      send "$group" 1 "$@"
      wait_for 5 "the kernel to resolve ($source, $group)" e2e_resolved "$fam" "$source" "$group"
    fi
  fi
  for role in recv1 recv2; do
    want=$want1
    [ "$role" = recv1 ] || want=$want2
    if [ "$want" -gt 0 ]; then
      recv_start "$role" "$role" "$group" -c "$want" -w 5
      settle=0
    else
      recv_start "$role" "$role" "$group" --until-stopped -c "$count"
    fi
  done
  send "$group" "$count" "$@"
  [ "$want1" -eq 0 ] || expect_count recv1 "$want1" "recv1 $what"
  [ "$want2" -eq 0 ] || expect_count recv2 "$want2" "recv2 $what"
  if [ "$want1" -eq 0 ]; then
    recv_stop recv1 "$settle"
    expect_count recv1 0 "recv1 $what"
  fi
  if [ "$want2" -eq 0 ]; then
    recv_stop recv2 "$settle"
    expect_count recv2 0 "recv2 $what"
  fi
}

# --- the kernel's view -----------------------------------------------------

# mroutes 4|6: the router's resolved kernel MFC, one line per entry, as
# "(S,G) IIF OIF[:TTL]..." with OIFs sorted and lines sorted. A TTL shows
# only when it is above 1 (ip mroute's own rule). Unresolved entries (the
# kernel's own, for traffic without a route, gone after about 10 s) are
# left out: they are not mfcd's state.
mroutes() {
  nsx router ip "-$1" mroute show |
    sed -E 's/\(ttl ([0-9]+)\)/:\1/g' |
    awk '{
      iif = ""; n = 0; mode = 0
      for (i = 2; i <= NF; i++) {
        if ($i == "Iif:") { iif = $(i + 1); i++; mode = 0 }
        else if ($i == "Oifs:") mode = 1
        else if ($i == "State:" || $i == "Table:") { i++; mode = 0 }
        else if (mode) oif[++n] = $i
      }
      if (iif == "unresolved") next
      # insertion sort: ip mroute lists OIFs in VIF order
      for (a = 2; a <= n; a++) for (b = a; b > 1 && oif[b-1] > oif[b]; b--) {
        t = oif[b]; oif[b] = oif[b-1]; oif[b-1] = t }
      line = $1 " " iif
      for (a = 1; a <= n; a++) line = line " " oif[a]
      print line
    }' | sort
}

# mr_cache_entries 4|6: how many resolved entries /proc/net/ip{,6}_mr_cache
# holds (an unresolved one has inbound VIF -1).
mr_cache_entries() {
  local file=/proc/net/ip_mr_cache
  [ "$1" = 4 ] || file=/proc/net/ip6_mr_cache
  nsx router cat "$file" | awk 'NR > 1 && $3 != "-1"' | wc -l
}

e2e_show_mroutes() {
  echo "ip -$1 mroute:" >&2
  nsx router ip "-$1" mroute show >&2
}

# expect_mroutes 4|6 <<EOF LINES EOF: the kernel holds exactly these
# resolved entries, in mroutes' format, and nothing else; checked both in
# ip mroute and in /proc.
expect_mroutes() {
  local want got
  want=$(sed -E 's/^[[:space:]]+//; s/[[:space:]]+$//; /^$/d' | sort)
  got=$(mroutes "$1")
  if [ "$got" != "$want" ]; then
    echo "kernel IPv$1 MFC differs; expected:" >&2
    printf '%s\n' "${want:-(nothing)}" >&2
    echo "got:" >&2
    printf '%s\n' "${got:-(nothing)}" >&2
    e2e_show_mroutes "$1"
    fail "IPv$1 MFC mismatch"
  fi
  local n_want n_proc
  n_want=$(printf '%s' "$want" | grep -c . || true)
  n_proc=$(mr_cache_entries "$1")
  [ "$n_proc" -eq "$n_want" ] ||
    fail "/proc/net/ip$([ "$1" = 4 ] || echo 6)_mr_cache holds $n_proc entries, expected $n_want"
}

# expect_mroute 4|6 S G [IIF OIF...]: the kernel entry of this one (S,G) is
# exactly "IIF OIF..." (as in mroutes). Without IIF: nothing forwards it,
# that is no entry or one without OIFs (a stop filter), whatever else the
# kernel holds.
expect_mroute() {
  [[ $2$3 != *[\(\),\ ]* ]] || fail "expect_mroute $*: takes S G IIF OIF..., not (S,G)"
  local fam=$1 sg="($2,$3)"
  shift 3
  local got
  got=$(mroutes "$fam" | awk -v sg="$sg" '$1 == sg')
  if [ $# -eq 0 ]; then
    if [ -n "$got" ] && [ "$(awk '{print NF}' <<<"$got")" -gt 2 ]; then
      e2e_show_mroutes "$fam"
      fail "$sg should not be forwarded, the kernel has: $got"
    fi
  elif [ "$got" != "$sg $*" ]; then
    e2e_show_mroutes "$fam"
    fail "$sg: expected '$sg $*' in the kernel, got '${got:-nothing}'"
  fi
}

# expect_no_mroute_state: no MFC entry and no VIF/MIF left in either family.
expect_no_mroute_state() {
  local file
  for file in ip_mr_cache ip_mr_vif ip6_mr_cache ip6_mr_vif; do
    local n
    n=$(nsx router cat "/proc/net/$file" | awk 'NR > 1' | wc -l)
    if [ "$n" -ne 0 ]; then
      nsx router cat "/proc/net/$file" >&2
      fail "/proc/net/$file still holds $n entries"
    fi
  done
}

# mr_tables: the router's MFC and VIF tables of both families as read from
# /proc, without packet and byte counters, so that two snapshots differ only
# when an entry's source, group, iif or oifs, or a VIF, changed.
mr_tables() {
  local f
  for f in ip_mr_cache ip6_mr_cache; do
    echo "== $f"
    # Group Origin Iif Pkts Bytes Wrong Oifs...: drop Pkts, Bytes, Wrong.
    nsx router cat "/proc/net/$f" | awk 'NR > 1 { $4 = $5 = $6 = ""; print }' | sort
  done
  echo "== ip_mr_vif"
  # Index Interface BytesIn PktsIn BytesOut PktsOut Flags Local Remote
  nsx router cat /proc/net/ip_mr_vif | awk 'NR > 1 { print $1, $2, $7, $8, $9 }'
  echo "== ip6_mr_vif"
  # Index Interface BytesIn PktsIn BytesOut PktsOut Flags
  nsx router cat /proc/net/ip6_mr_vif | awk 'NR > 1 { print $1, $2, $7 }'
}
