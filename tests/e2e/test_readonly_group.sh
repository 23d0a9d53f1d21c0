#!/bin/bash
# Read-only access (issue 17): the control socket belongs to root and a
# socket group (mode 0660); that group's members may connect and call every
# read method, write methods need root or the admin group (primary or
# supplementary), and a refusal names the group. Users outside both groups
# cannot connect. A reload moves both groups; unknown groups stop the start.
#
# Clients run under setpriv with numeric uids and gids, which need no passwd
# entries. The daemon resolves group names, so they must be in /etc/group:
# the test bed's /etc is the host's own (9p), so the test never writes it.
# It runs in a mount namespace of its own instead and bind-mounts a copy of
# /etc/group with its two groups over the file there; the namespace, and
# with it the mount, ends with the test.
if [ "$(id -u)" -eq 0 ] && [ -z "${E2E_OWN_MOUNTS:-}" ]; then
  exec unshare --mount --propagation private env E2E_OWN_MOUNTS=1 bash "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"
command -v setpriv >/dev/null || skip "needs setpriv (util-linux)"

# Unused ids, unique per test run.
base=$((70000 + ($$ % 5000) * 10))
READ_NAME=mfcr$$ READ_GID=$((base + 1))
ADMIN_NAME=mfca$$ ADMIN_GID=$((base + 2))
READ2_NAME=mfcs$$ READ2_GID=$((base + 3))
ADMIN2_GID=$((base + 4))
READER=$((base + 5)) ADMIN=$((base + 6)) OTHER=$((base + 7))

cp /etc/group "$E2E_WORK/group"
printf '%s:x:%s:\n' "$READ_NAME" "$READ_GID" "$ADMIN_NAME" "$ADMIN_GID" "$READ2_NAME" "$READ2_GID" \
  >>"$E2E_WORK/group"
chmod 644 "$E2E_WORK/group"
mount --bind "$E2E_WORK/group" /etc/group
[ "$(getent group "$READ_NAME" | cut -d: -f3)" = "$READ_GID" ] || fail "the test's groups are not visible"

# Other users must reach the socket and the client.
chmod 755 "$E2E_WORK" "$E2E_WORK/bin"
install -m 755 "$MFCCTL" "$E2E_WORK/bin/mfcctl"
CLIENT=$E2E_WORK/bin/mfcctl

# as UID GID GROUPS COMMAND...: COMMAND as that user (GROUPS: comma list,
# "-" for none).
as() {
  local uid=$1 gid=$2 groups=$3
  shift 3
  local g=(--groups="$groups")
  [ "$groups" != - ] || g=(--clear-groups)
  setpriv --reuid="$uid" --regid="$gid" "${g[@]}" -- "$@"
}
reader() { as "$READER" "$READER" "$READ_GID" "$@"; }
admin() { as "$ADMIN" "$ADMIN" "$READ_GID,$ADMIN_GID" "$@"; }
ctl() { "$CLIENT" -u "$SOCK" "$@"; }
# no_connection UID GID GROUPS WHY: that user's mfcctl show is refused by
# the socket's mode (EACCES), not by anything else.
no_connection() {
  local rc=0 err
  err=$(as "$1" "$2" "$3" "$CLIENT" -u "$SOCK" show 2>&1 >/dev/null) || rc=$?
  [ "$rc" -eq 69 ] || fail "$4: mfcctl show exited $rc: $err"
  grep -qF "$SOCK: Permission denied (the socket admits root and the members of its group" <<<"$err" ||
    fail "$4: not refused by the socket's mode: $err"
}
# rpc_as USER-FUNCTION METHOD [PARAMS]: one request over socat as that user.
rpc_as() {
  local who=$1 method=$2 params=${3:-'{}'} reply
  reply=$(printf '{"jsonrpc":"2.0","id":1,"method":"%s","params":%s}\n' "$method" "$params" |
    "$who" socat -t "$((5 * E2E_SLOWDOWN))" - "UNIX-CONNECT:$SOCK") || fail "rpc $method as $who: no connection"
  rpc_validate "$method" <<<"$reply"
  printf '%s\n' "$reply"
}

topo
mfcd_start --admin-group "$ADMIN_NAME" <<CONF
socket-group $READ_NAME
phyint r-in enable
phyint r-out1 enable
phyint r-out2 enable
mroute from r-in source $SENDER4 group 225.7.1.1 to r-out1
mgroup from r-in group 225.7.9.9
CONF
chmod 644 "$CONF"
grep -q "control socket group $READ_NAME (gid $READ_GID)" "$MFCD_LOG" || fail "no log line for the socket group"
grep -q "admin group $ADMIN_NAME (gid $ADMIN_GID)" "$MFCD_LOG" || fail "no log line for the admin group"

# --- the socket: root:READ 0660 ---------------------------------------------------------
[ "$(stat -c '%u:%g %a' "$SOCK")" = "0:$READ_GID 660" ] ||
  fail "socket is $(stat -c '%u:%g %a' "$SOCK"), expected 0:$READ_GID 660"

before=$(mroutes 4)
[ "$before" = "($SENDER4,225.7.1.1) r-in r-out1" ] || fail "unexpected start: $before"

# --- a reader shows everything -----------------------------------------------------------
out=$(reader "$CLIENT" -u "$SOCK" show) || fail "reader: mfcctl show failed"
grep -q 225.7.1.1 <<<"$out" || fail "reader: show lacks the route: $out"
out=$(reader "$CLIENT" -u "$SOCK" show interfaces) || fail "reader: show interfaces failed"
grep -q r-out1 <<<"$out" || fail "reader: show interfaces lacks r-out1: $out"
out=$(reader "$CLIENT" -u "$SOCK" show groups) || fail "reader: show groups failed"
grep -q 225.7.9.9 <<<"$out" || fail "reader: show groups lacks the join: $out"
reply=$(rpc_as reader route.list)
jq -e '.result.routes.ssm | length == 1' <<<"$reply" >/dev/null ||
  fail "reader: route.list did not answer the route: $reply"
reply=$(rpc_as reader daemon.status)
jq -e '.result | has("pid")' <<<"$reply" >/dev/null || fail "reader: daemon.status: $reply"

# --- and changes nothing: each refusal names the admin group ---------------------------
refused() {
  local what=$1 err rc=0
  shift
  err=$(reader "$CLIENT" -u "$SOCK" "$@" 2>&1 >/dev/null) || rc=$?
  [ "$rc" -eq 1 ] || fail "reader: mfcctl $* exited $rc"
  grep -qF "permission denied: $what changes the daemon; it needs root or membership of group \"$ADMIN_NAME\"" <<<"$err" ||
    fail "reader: mfcctl $* refused without naming the group: $err"
}
refused route.add add r-in "$SENDER4" 225.7.2.2 r-out2
refused route.remove remove r-in "$SENDER4" 225.7.1.1
refused config.reload reload
refused daemon.stop kill
reply=$(rpc_as reader route.add "{\"iif\":\"r-in\",\"group\":\"225.7.3.3\",\"oifs\":[\"r-out2\"]}")
jq -e --arg g "$ADMIN_NAME" --argjson gid "$ADMIN_GID" --argjson uid "$READER" '
  .error.code == -32005 and .error.data.uid == $uid and .error.data.method == "route.add"
  and .error.data.access == "write" and .error.data.needs.group == {name: $g, gid: $gid}' \
  <<<"$reply" >/dev/null || fail "reader: route.add over socat: $reply"
e2e_gone "$MFCD_PID" && fail "a reader stopped the daemon"
[ "$(mroutes 4)" = "$before" ] || fail "a reader changed the kernel table: $(mroutes 4)"
rpc_ok route.list | jq -e '.routes.ssm | length == 1' >/dev/null || fail "a reader changed the routes"

# --- an admin writes: by supplementary group, then by primary group ---------------------
admin "$CLIENT" -u "$SOCK" add r-in "$SENDER4" 225.7.2.2 r-out2 || fail "admin: add refused"
wait_for 10 "the admin's route in the kernel" expect_mroute 4 "$SENDER4" 225.7.2.2 r-in r-out2
as "$ADMIN" "$ADMIN_GID" "$READ_GID" "$CLIENT" -u "$SOCK" remove r-in "$SENDER4" 225.7.2.2 ||
  fail "admin by primary group: remove refused"
wait_for 10 "the route gone" expect_mroute 4 "$SENDER4" 225.7.2.2
[ "$(mroutes 4)" = "$before" ] || fail "kernel table after add and remove: $(mroutes 4)"

# --- outside both groups: no connection at all ------------------------------------------
no_connection "$OTHER" "$OTHER" - "a user in neither group"
no_connection "$OTHER" "$OTHER" "$ADMIN_GID" "an admin-group member outside the socket group"
err=$(as "$OTHER" "$OTHER" - socat -u /dev/null "UNIX-CONNECT:$SOCK" 2>&1) &&
  fail "a user in neither group connected with socat"
grep -qF "Permission denied" <<<"$err" || fail "socat as other user: $err"

# --- a reload moves both groups -----------------------------------------------------------
sed -i "s/^socket-group .*/socket-group $READ2_NAME\nadmin-group $ADMIN2_GID/" "$CONF"
ctl reload >/dev/null || fail "root: reload failed"
[ "$(stat -c '%u:%g %a' "$SOCK")" = "0:$READ2_GID 660" ] ||
  fail "after reload the socket is $(stat -c '%u:%g %a' "$SOCK"), expected 0:$READ2_GID 660"
no_connection "$READER" "$READER" "$READ_GID" "the old socket group after the reload"
as "$READER" "$READER" "$READ2_GID" "$CLIENT" -u "$SOCK" show >/dev/null ||
  fail "the new socket group cannot connect"
# --admin-group on the command line wins over the config's admin-group.
no_connection "$ADMIN" "$ADMIN" "$READ_GID,$ADMIN_GID" "admin outside the new socket group"
as "$ADMIN" "$ADMIN" "$READ2_GID,$ADMIN_GID" "$CLIENT" -u "$SOCK" add r-in "$SENDER4" 225.7.4.4 r-out2 ||
  fail "the command line's admin group lost to the config's"
as "$ADMIN" "$ADMIN" "$READ2_GID,$ADMIN_GID" "$CLIENT" -u "$SOCK" remove r-in "$SENDER4" 225.7.4.4 ||
  fail "admin: remove after reload"
mfcd_stop
expect_no_mroute_state

# --- the config's admin group, by number, and a reload that changes it -------------------
: >"$MFCD_LOG"
mfcd_start <<CONF
socket-group $READ_GID
admin-group $ADMIN_GID
phyint r-in enable
phyint r-out2 enable
CONF
chmod 644 "$CONF"
[ "$(stat -c '%g' "$SOCK")" = "$READ_GID" ] || fail "numeric socket-group not applied"
admin "$CLIENT" -u "$SOCK" add r-in "$SENDER4" 225.7.5.5 r-out2 || fail "config admin-group: add refused"
sed -i "s/^admin-group .*/admin-group $ADMIN2_GID/" "$CONF"
ctl reload >/dev/null || fail "root: reload failed"
rc=0
err=$(admin "$CLIENT" -u "$SOCK" remove r-in "$SENDER4" 225.7.5.5 2>&1) || rc=$?
[ "$rc" -ne 0 ] || fail "the old admin group still writes after the reload"
grep -qF "membership of group \"$ADMIN2_GID\"" <<<"$err" || fail "refusal does not name the new group: $err"
as "$ADMIN" "$ADMIN" "$READ_GID,$ADMIN2_GID" "$CLIENT" -u "$SOCK" remove r-in "$SENDER4" 225.7.5.5 ||
  fail "the new admin group cannot write"
mfcd_stop
expect_no_mroute_state

# --- unknown groups: the daemon does not start --------------------------------------------
start_status() {
  local rc=0
  timeout "$((30 * E2E_SLOWDOWN))" ip netns exec "$(ns_name router)" "$MFCD" -n -f "$1" \
    -u "$E2E_WORK/bad.sock" -P "$E2E_WORK/bad.pid" "${@:2}" >"$E2E_WORK/bad.log" 2>&1 || rc=$?
  echo "$rc"
}
printf 'phyint r-in enable\nsocket-group  nosuch%s\n' "$$" >"$E2E_WORK/bad.conf"
[ "$(start_status "$E2E_WORK/bad.conf")" = 78 ] || fail "unknown socket-group: not exit 78: $(cat "$E2E_WORK/bad.log")"
grep -qF "$E2E_WORK/bad.conf:2:15: error: unknown group 'nosuch$$'" "$E2E_WORK/bad.log" ||
  fail "unknown socket-group: no file:line:column error: $(cat "$E2E_WORK/bad.log")"
printf 'phyint r-in enable\n' >"$E2E_WORK/good.conf"
[ "$(start_status "$E2E_WORK/good.conf" --admin-group "nosuch$$")" = 64 ] ||
  fail "unknown --admin-group: not exit 64: $(cat "$E2E_WORK/bad.log")"
grep -qF -- "--admin-group: unknown group 'nosuch$$'" "$E2E_WORK/bad.log" ||
  fail "unknown --admin-group: no error naming it: $(cat "$E2E_WORK/bad.log")"
[ ! -e "$E2E_WORK/bad.sock" ] || fail "a daemon that did not start left a socket"
expect_no_mroute_state
