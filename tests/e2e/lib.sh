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
# E2E_KEEP=1 keeps the work directory (config, daemon log, receiver output).
#
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
[ -x "$PYTHON" ] && "$PYTHON" -c 'import jsonschema' 2>/dev/null ||
  skip "needs $PYTHON with the jsonschema module (python3-jsonschema)"
for bin in "$MFCD" "$MFCCTL" "$MCTOOL"; do
  [ -x "$bin" ] || fail "$bin is not built (MFCD_BUILD_DIR=$MFCD_BUILD_DIR)"
done
[ -r "$RPC_SCHEMA" ] || fail "$RPC_SCHEMA is missing"

E2E_WORK=$(mktemp -d "/tmp/mfcd-e2e-${E2E_ID}.XXXXXX")
SOCK=$E2E_WORK/mfcd.sock
PIDFILE=$E2E_WORK/mfcd.pid
CONF=$E2E_WORK/mfcd.conf
MFCD_LOG=$E2E_WORK/mfcd.log

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

# wait_for SECONDS DESCRIPTION COMMAND...: polls COMMAND until it succeeds;
# fails the test with DESCRIPTION when SECONDS pass first.
wait_for() {
  local seconds=$1 what=$2
  shift 2
  local deadline=$((SECONDS + seconds))
  # In a subshell, so that a helper which fails the test (rpc_ok, ...)
  # only fails this attempt.
  until ("$@") >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$deadline" ] || fail "timed out after ${seconds}s waiting for $what"
    sleep 0.05
  done
}

# A process that exited but was not reaped yet is a zombie: kill -0 still
# finds it, so look at its state instead.
e2e_gone() {
  local state
  state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 0
  [ -z "$state" ] || [ "$state" = Z ]
}

# e2e_wait_gone PID SECONDS: true once PID has exited.
e2e_wait_gone() {
  local deadline=$((SECONDS + $2))
  until e2e_gone "$1"; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.05
  done
}

# --- namespaces and topology ----------------------------------------------

# ns_name ROLE: the real namespace name of a role (sender, router, ...).
ns_name() { printf 'mfcd-%s-%s' "$E2E_ID" "$1"; }

# nsx ROLE COMMAND...: runs COMMAND inside ROLE's namespace.
nsx() {
  local role=$1
  shift
  ip netns exec "$(ns_name "$role")" "$@"
}

e2e_add_ns() {
  local ns
  ns=$(ns_name "$1")
  ip netns add "$ns"
  E2E_NAMESPACES+=("$ns")
  ip -n "$ns" link set lo up
  # Set before any link exists, so every interface inherits it: addresses
  # are usable at once (no DAD) and multicast from any source is accepted.
  nsx "$1" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
    net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
}

# e2e_link_ready ROLE IFNAME: carrier up and IPv6's multicast route in
# place; both come asynchronously after "link set up".
e2e_link_ready() {
  nsx "$1" ip link show dev "$2" | grep -q 'state UP' &&
    nsx "$1" ip -6 route show table local type multicast dev "$2" | grep -q 'ff00::/8'
}

# e2e_wire ROUTER_IF ROLE NET4 NET6: a veth from the router to ROLE's eth0.
# The router is .1 / ::1 on the link, the other end .2 / ::2.
e2e_wire() {
  local rif=$1 role=$2 net4=$3 net6=$4
  local router peer
  router=$(ns_name router)
  peer=$(ns_name "$role")
  ip -n "$router" link add "$rif" type veth peer name eth0 netns "$peer"
  ip -n "$router" addr add "${net4}.1/24" dev "$rif"
  ip -n "$router" addr add "${net6}::1/64" dev "$rif" nodad
  ip -n "$peer" addr add "${net4}.2/24" dev eth0
  ip -n "$peer" addr add "${net6}::2/64" dev eth0 nodad
  nsx router sysctl -qw "net.ipv4.conf.${rif}.rp_filter=0"
  nsx "$role" sysctl -qw net.ipv4.conf.eth0.rp_filter=0
  ip -n "$router" link set "$rif" up
  ip -n "$peer" link set eth0 up
  ip -n "$peer" route add default via "${net4}.1"
  ip -n "$peer" -6 route add default via "${net6}::1"
  # Multicast leaves through eth0 even without an explicit interface.
  ip -n "$peer" route add 224.0.0.0/4 dev eth0
  ip -n "$peer" -6 route add ff00::/8 dev eth0
}

# topo: sender, router, recv1, recv2 as drawn at the top of this file.
topo() {
  local role
  for role in sender router recv1 recv2; do
    e2e_add_ns "$role"
  done
  # The kernel of this namespace must do multicast routing at all.
  nsx router test -e /proc/net/ip_mr_vif || skip "kernel without IPv4 multicast routing"
  nsx router test -e /proc/net/ip6_mr_vif || skip "kernel without IPv6 multicast routing"
  nsx router sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
  e2e_wire r-in sender 192.0.2 2001:db8:1
  e2e_wire r-out1 recv1 198.51.100 2001:db8:2
  e2e_wire r-out2 recv2 203.0.113 2001:db8:3
  local rif
  for rif in r-in r-out1 r-out2; do
    wait_for 10 "router link $rif up" e2e_link_ready router "$rif"
  done
  for role in sender recv1 recv2; do
    wait_for 10 "$role link eth0 up" e2e_link_ready "$role" eth0
  done
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
  local deadline=$((SECONDS + 15))
  until [ -s "$PIDFILE" ]; do
    if e2e_gone "$MFCD_PID"; then
      local rc=0
      wait "$MFCD_PID" || rc=$?
      MFCD_PID=
      fail "mfcd exited with status $rc before it was ready"
    fi
    [ "$SECONDS" -lt "$deadline" ] || fail "mfcd wrote no PID file within 15s"
    sleep 0.05
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
mfcctl() { nsx router "$MFCCTL" -u "$SOCK" "$@"; }

# --- JSON-RPC --------------------------------------------------------------

# rpc_validate METHOD < REPLY: checks one reply against the OpenRPC schema.
rpc_validate() {
  local reply
  reply=$(cat)
  local out
  if ! out=$("$PYTHON" "$RPC_SCHEMA" validate "$SCHEMA" "$1" <<<"$reply" 2>&1); then
    echo "reply to $1 does not match the schema: $out" >&2
    echo "reply: $reply" >&2
    return 1
  fi
}

# rpc_send LINE...: sends raw lines on one connection and prints every
# reply line, unvalidated. For tests of malformed input.
rpc_send() {
  printf '%s\n' "$@" | nsx router socat -t 5 -T 10 - "UNIX-CONNECT:$SOCK"
}

# rpc METHOD [PARAMS-JSON]: one request; prints the reply (result or
# error), after validating it against the schema.
rpc() {
  local method=$1 params=${2:-'{}'}
  local request reply
  request=$(jq -cn --arg m "$method" --argjson p "$params" \
    '{jsonrpc: "2.0", id: 1, method: $m, params: $p}')
  reply=$(rpc_send "$request") || fail "rpc $method: no connection to $SOCK"
  [ -n "$reply" ] || fail "rpc $method: no reply"
  rpc_validate "$method" <<<"$reply" || fail "rpc $method: invalid reply"
  printf '%s\n' "$reply"
}

# rpc_ok METHOD [PARAMS-JSON]: like rpc, but the call must succeed; prints
# the result only.
rpc_ok() {
  local reply
  reply=$(rpc "$@") || exit 1
  jq -e 'has("result")' >/dev/null <<<"$reply" || fail "rpc $1 ${2:-} failed: $reply"
  jq -c '.result' <<<"$reply"
}

# rpc_error METHOD PARAMS-JSON CODE: the call must fail with CODE.
rpc_error() {
  local reply code
  reply=$(rpc "$1" "$2") || exit 1
  code=$(jq -r '.error.code // "none"' <<<"$reply")
  [ "$code" = "$3" ] || fail "rpc $1 $2: expected error $3, got: $reply"
}

# --- traffic ---------------------------------------------------------------

# recv_start HANDLE ROLE GROUP [MCTOOL-RECV-ARGS...]: a receiver on ROLE's
# eth0, ready (joined) when this returns.
recv_start() {
  local handle=$1 role=$2 group=$3
  shift 3
  local ready=$E2E_WORK/recv.$handle.ready
  rm -f "$ready"
  ip netns exec "$(ns_name "$role")" "$MCTOOL" recv -g "$group" -i eth0 --ready "$ready" "$@" \
    >"$E2E_WORK/recv.$handle.out" 2>&1 &
  local pid=$!
  E2E_RECV_PID[$handle]=$pid
  local deadline=$((SECONDS + 10))
  until [ -e "$ready" ]; do
    if e2e_gone "$pid"; then
      cat "$E2E_WORK/recv.$handle.out" >&2
      fail "receiver $handle on $role exited before it was ready"
    fi
    [ "$SECONDS" -lt "$deadline" ] || fail "receiver $handle on $role not ready within 10s"
    sleep 0.02
  done
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

# flow GROUP COUNT EXPECT_RECV1 EXPECT_RECV2 [MCTOOL-SEND-ARGS...]: sends
# COUNT datagrams to GROUP and checks how many each receiver got. A
# receiver expecting some stops as soon as it has them; one expecting none
# listens for one second (forwarding takes well under a millisecond).
flow() {
  local group=$1 count=$2 want1=$3 want2=$4
  shift 4
  local want role handle
  for role in recv1 recv2; do
    want=$want1
    [ "$role" = recv1 ] || want=$want2
    handle=$role
    if [ "$want" -gt 0 ]; then
      recv_start "$handle" "$role" "$group" -c "$want" -w 5
    else
      recv_start "$handle" "$role" "$group" -c "$count" -w 1
    fi
  done
  send "$group" "$count" "$@"
  expect_count recv1 "$want1" "recv1 ($group, $count sent${*:+ with $*})"
  expect_count recv2 "$want2" "recv2 ($group, $count sent${*:+ with $*})"
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
