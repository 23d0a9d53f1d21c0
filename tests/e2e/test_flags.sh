#!/bin/bash
# Every smcrouted flag of compat.md, each with the meaning SMCRoute gives it,
# checked on the real binary: -c -d -e -f -F -h -i/-I -l -m -n -N -p -P -s
# -t -u -v, the test-only -D, a long option, and the smcrouted/smcroutectl
# names with SMCRoute's default paths.
. "$(dirname "$0")/lib.sh"
topo
NS=$(ns_name router)
SMCROUTED=$MFCD_BUILD_DIR/smcrouted
SMCROUTECTL=$MFCD_BUILD_DIR/smcroutectl

ROUTE4="mroute from r-in source $SENDER4 group 225.1.2.3 to r-out1"
BASE_CONF="phyint r-in enable
phyint r-out1 enable
$ROUTE4"

# out_has TEXT-VAR PATTERN WHAT: grep -E on a captured output.
out_has() { grep -qE -- "$2" <<<"$1" || fail "$3: no match for '$2' in: $1"; }
out_lacks() { ! grep -qE -- "$2" <<<"$1" || fail "$3: unexpected match for '$2' in: $1"; }

# restart_log: a fresh daemon log, so checks see only this run's lines.
restart_log() { : >"$MFCD_LOG"; }

# --- -h, -v, and the program names -----------------------------------------
say "-h / -v"
help=$("$MFCD" -h)
out_has "$help" '^Usage: mfcd ' "mfcd -h"
out_has "$help" 'default /etc/mfcd\.conf' "mfcd -h"
out_has "$help" 'default /run/mfcd\.sock' "mfcd -h"
out_has "$help" 'default /run/mfcd\.pid' "mfcd -h"
help=$("$MFCD" --help)
out_has "$help" '^Usage: mfcd ' "mfcd --help"
help=$("$SMCROUTED" -h)
out_has "$help" '^Usage: smcrouted ' "smcrouted -h"
out_has "$help" 'default /etc/smcroute\.conf' "smcrouted -h"
out_has "$help" 'default /run/smcroute\.sock' "smcrouted -h"
out_has "$help" 'default /run/smcroute\.pid' "smcrouted -h"
# -i and its old alias -I rename everything.
help=$("$MFCD" -i r7 -h)
out_has "$help" 'default /etc/r7\.conf' "mfcd -i r7 -h"
out_has "$help" 'default /run/r7\.sock' "mfcd -i r7 -h"
help=$("$SMCROUTED" -I r8 -h)
out_has "$help" 'default /run/r8\.pid' "smcrouted -I r8 -h"
version=$("$MFCD" -v)
out_has "$version" '^mfcd \(mfcd\) [0-9]+\.[0-9]+' "mfcd -v"
version=$("$SMCROUTED" -v)
out_has "$version" '^smcrouted \(mfcd\) [0-9]+\.[0-9]+' "smcrouted -v"

# --- -f, -u, -P, -n: the harness's own start uses them all ------------------
say "-f -u -P -n"
mfcd_start <<<"$BASE_CONF"
expect_mroute 4 "$SENDER4" 225.1.2.3 r-in r-out1
[ -S "$SOCK" ] || fail "-u: no socket at $SOCK"
mfcctl show >/dev/null
[ "$(ps -o stat= -p "$MFCD_PID" | cut -c1)" != Z ] || fail "-n: daemon is gone"
mfcd_stop
[ ! -e "$PIDFILE" ] || fail "-P: PID file $PIDFILE not removed at exit"
[ ! -e "$SOCK" ] || fail "-u: socket $SOCK not removed at exit"
# -f naming a missing file is a configuration error.
rc=0
nsx router "$MFCD" -n -f "$E2E_WORK/missing.conf" -u "$SOCK" -P "$PIDFILE" 2>/dev/null || rc=$?
[ "$rc" -eq 78 ] || fail "-f with a missing file: exit $rc, expected 78"

# --- without -n: into the background, exit status once ready ---------------
say "background start (no -n)"
rm -f "$PIDFILE"
restart_log
nsx router "$MFCD" -f "$CONF" -u "$SOCK" -P "$PIDFILE" -l info 2>>"$MFCD_LOG" ||
  fail "background start failed with $?"
# The parent returns only once the child is ready: PID file and routes are there.
[ -s "$PIDFILE" ] || fail "background start returned before the PID file was written"
expect_mroute 4 "$SENDER4" 225.1.2.3 r-in r-out1
bgpid=$(cat "$PIDFILE")
E2E_PIDS+=("$bgpid")
[ "$(ps -o sid= -p "$bgpid" | tr -d ' ')" = "$bgpid" ] || fail "background daemon is not a session leader"
[ -z "$(ls -l "/proc/$bgpid/fd/2" | grep -v /dev/null || true)" ] || fail "background daemon kept stderr"
kill -TERM "$bgpid"
e2e_wait_gone "$bgpid" 10 || fail "background daemon did not stop"
[ ! -e "$PIDFILE" ] || fail "background daemon left its PID file"
# A background start that fails reports the child's exit status.
rc=0
printf 'phyint\n' >"$E2E_WORK/bad.conf"
nsx router "$MFCD" -f "$E2E_WORK/bad.conf" -u "$SOCK" -P "$PIDFILE" -l none || rc=$?
[ "$rc" -eq 78 ] || fail "background start with a bad config: exit $rc, expected 78"

# --- -F: check only -------------------------------------------------------
say "-F"
printf '%s\n' "$BASE_CONF" >"$E2E_WORK/good.conf"
"$MFCD" -F "$E2E_WORK/good.conf" 2>/dev/null || fail "-F on a good config failed with $?"
rc=0
out=$("$MFCD" -F "$E2E_WORK/bad.conf" 2>&1) || rc=$?
[ "$rc" -eq 78 ] || fail "-F on a bad config: exit $rc, expected 78"
out_has "$out" 'bad\.conf:1' "-F on a bad config names the line"
# Routes may name interfaces that have no phyint line and do not exist here.
printf 'mroute from wan0 group 239.1.1.1 to lan0 lan1\nmgroup from wan0 group 239.2.2.2\n' \
  >"$E2E_WORK/nophyint.conf"
out=$("$MFCD" -F "$E2E_WORK/nophyint.conf" 2>&1) || fail "-F demands phyint lines: $out"
out_has "$out" 'warning: interface wan0 does not exist' "-F warns about missing interfaces"
# Bundled with other flags, as scripts write it.
"$MFCD" -nF "$E2E_WORK/good.conf" 2>/dev/null || fail "-nF failed"

# --- -d: start-up delay; the PID file comes only with the config applied ---
say "-d"
rm -f "$PIDFILE"
start=$(date +%s%N)
# Not through nsx: $! must be the daemon itself, not a subshell.
ip netns exec "$NS" "$MFCD" -n -d 2 -f "$CONF" -u "$SOCK" -P "$PIDFILE" -l none >>"$MFCD_LOG" 2>&1 &
MFCD_PID=$!
wait_for 15 "PID file after -d 2" test -s "$PIDFILE"
# The route must be in the kernel the moment the PID file exists.
expect_mroute 4 "$SENDER4" 225.1.2.3 r-in r-out1
elapsed=$((($(date +%s%N) - start) / 1000000))
[ "$elapsed" -ge 2000 ] || fail "-d 2: ready after ${elapsed} ms"
mfcd_stop

# --- -e: script after (re)load ----------------------------------------------
say "-e"
chmod 755 "$E2E_WORK"
cat >"$E2E_WORK/hook.sh" <<EOF
#!/bin/sh
echo "\$1" >>"$E2E_WORK/hook.out"
EOF
chmod 755 "$E2E_WORK/hook.sh"
mfcd_start -e "$E2E_WORK/hook.sh" <<<"$BASE_CONF"
wait_for 5 "-e script run after start" grep -qx reload "$E2E_WORK/hook.out"
mfcd_reload
wait_for 5 "-e script run after SIGHUP" sh -c "[ \$(grep -cx reload $E2E_WORK/hook.out) -eq 2 ]"
mfcd_stop

# --- -i: identity names PID file, socket, config and log ident ---------------
say "-i / -I"
ident=mfcd-flags-$$
[ ! -e "/run/$ident.pid" ] && [ ! -e "/run/$ident.sock" ] || fail "/run/$ident.* already exists"
restart_log
ip netns exec "$NS" "$MFCD" -n -i "$ident" -l info >>"$MFCD_LOG" 2>&1 &
MFCD_PID=$!
wait_for 15 "/run/$ident.pid" test -s "/run/$ident.pid"
[ "$(cat "/run/$ident.pid")" = "$MFCD_PID" ] || fail "-i: /run/$ident.pid holds the wrong PID"
[ -S "/run/$ident.sock" ] || fail "-i: no socket /run/$ident.sock"
nsx router "$MFCCTL" -i "$ident" -j show >/dev/null || fail "mfcctl -i $ident cannot reach it"
log=$(cat "$MFCD_LOG")
out_has "$log" "$ident\[$MFCD_PID\]" "-i: log ident"
out_has "$log" "config /etc/$ident\.conf" "-i: config path"
mfcd_stop
[ ! -e "/run/$ident.pid" ] && [ ! -e "/run/$ident.sock" ] || fail "-i: /run/$ident.* left behind"
# -I is the same flag.
restart_log
mfcd_start -I "$ident-old" -l info <<<"$BASE_CONF"
out_has "$(cat "$MFCD_LOG")" "$ident-old\[$MFCD_PID\]" "-I: log ident"
mfcd_stop

# --- -l: levels -------------------------------------------------------------
say "-l"
for level in none err notice info debug; do
  restart_log
  mfcd_start -l "$level" <<<"$BASE_CONF"
  if [ "$level" = debug ]; then
    # Traffic without a route reaches the daemon as an upcall.
    send 225.9.9.9 3
    wait_for 5 "an upcall logged at -l debug" grep -q 'upcall' "$MFCD_LOG"
  fi
  mfcd_stop
  log=$(cat "$MFCD_LOG")
  case $level in
    none) [ -z "$log" ] || fail "-l none logged: $log" ;;
    err) out_lacks "$log" 'ready' "-l err" ;;
    notice)
      # Each line tagged with the syslog name of its level: events are notice.
      out_has "$log" ': notice: .*ready' "-l notice"
      out_lacks "$log" 'kernel:' "-l notice"
      out_lacks "$log" ': (info|debug): ' "-l notice"
      ;;
    info)
      out_has "$log" ': info: kernel: ' "-l info"
      out_has "$log" ': notice: .*ready' "-l info"
      out_lacks "$log" 'upcall' "-l info"
      out_lacks "$log" ': debug: ' "-l info"
      ;;
    debug) out_has "$log" ': debug: .*upcall' "-l debug" ;;
  esac
done
rc=0
"$MFCD" -l loud 2>/dev/null || rc=$?
[ "$rc" -eq 64 ] || fail "-l loud: exit $rc, expected 64"

# --- -c, -m: values reach the daemon; bad ones are usage errors --------------
say "-c / -m"
restart_log
mfcd_start -l info -c 7 -m 30 <<<"$BASE_CONF"
out_has "$(cat "$MFCD_LOG")" 'cache timeout 7s, mrdisc interval 30s' "-c 7 -m 30"
mfcd_stop
for bad in "-c x" "-m 2" "-m 181"; do
  rc=0
  # shellcheck disable=SC2086 # split on purpose
  "$MFCD" $bad -F "$E2E_WORK/good.conf" 2>/dev/null || rc=$?
  [ "$rc" -eq 64 ] || fail "$bad: exit $rc, expected 64"
done

# --- -N: accepted and ignored -------------------------------------------------
say "-N"
mfcd_start -N <<<"$BASE_CONF"
expect_mroute 4 "$SENDER4" 225.1.2.3 r-in r-out1
mfcd_stop

# --- -p: a user that does not exist is a usage error (test_privdrop does the rest)
say "-p"
rc=0
"$MFCD" -n -p no-such-user-$$ -f "$CONF" -u "$SOCK" -P "$PIDFILE" 2>/dev/null || rc=$?
[ "$rc" -eq 64 ] || fail "-p no-such-user: exit $rc, expected 64"

# --- -t: another multicast routing table -----------------------------------
say "-t"
mfcd_start -t 123 <<<"$BASE_CONF"
nsx router ip mroute show table 123 | grep -q "($SENDER4,225.1.2.3)" ||
  fail "-t 123: route not in table 123: $(nsx router ip mroute show table 123)"
! nsx router ip mroute show table default | grep -q "225.1.2.3" ||
  fail "-t 123: route leaked into the default table"
mfcctl -j show | jq -e '.routes.ssm | length == 1' >/dev/null || fail "-t 123: client view"
mfcd_stop
# The long spelling.
mfcd_start --table=124 <<<"$BASE_CONF"
nsx router ip mroute show table 124 | grep -q "($SENDER4,225.1.2.3)" || fail "--table=124"
mfcd_stop

# --- -s: syslog, also in the foreground ----------------------------------------
# A private mount namespace with its own /dev, where a socat stands in for
# the syslog daemon on /dev/log; nothing of the host's /dev is touched.
say "-s"
if command -v unshare >/dev/null; then
  cat >"$E2E_WORK/syslog.sh" <<EOF
set -e
mount -t tmpfs none /dev
touch /dev/null && mount --bind "$E2E_WORK/devnull" /dev/null 2>/dev/null || true
socat -u UNIX-RECV:/dev/log OPEN:"$E2E_WORK/syslog.out",creat,append &
while [ ! -S /dev/log ]; do sleep 0.05; done
"$MFCD" -n -s -i syslogtest -f "$CONF" -u "$SOCK" -P "$PIDFILE" -D 1 2>"$E2E_WORK/syslog.stderr"
# socat writes what it received on its own time: wait for it (20 s at most).
for _ in \$(seq 400); do
  grep -q ready "$E2E_WORK/syslog.out" 2>/dev/null && break
  sleep 0.05
done
kill %1
EOF
  : >"$E2E_WORK/devnull"
  nsx router unshare -m --propagation private bash "$E2E_WORK/syslog.sh" ||
    fail "-s run failed: $(cat "$E2E_WORK/syslog.stderr")"
  syslog=$(cat "$E2E_WORK/syslog.out")
  # <29> is facility daemon (3 * 8) with severity notice (5): "ready" is
  # an event, logged at the default -l notice with that priority.
  out_has "$syslog" '<29>.*syslogtest\[[0-9]+\]: .*ready' "-s: syslog message"
  out_lacks "$syslog" '<30>' "-s: a line with priority info at -l notice"
  [ ! -s "$E2E_WORK/syslog.stderr" ] || fail "-s: also wrote to stderr: $(cat "$E2E_WORK/syslog.stderr")"
else
  say "no unshare: -s not checked"
fi

# --- -D: exit cleanly after SEC ----------------------------------------------
say "-D"
mfcd_start -D 1 <<<"$BASE_CONF"
mfcd_wait_exit 10
expect_no_mroute_state

# --- the SMCRoute names: SMCRoute's default config and socket ----------------
say "smcrouted / smcroutectl defaults"
if [ -e /etc/smcroute.conf ]; then
  say "/etc/smcroute.conf exists on this host: default-config run skipped"
else
  rm -f "$PIDFILE"
  restart_log
  ip netns exec "$NS" "$SMCROUTED" -n -l info -u "$SOCK" -P "$PIDFILE" >>"$MFCD_LOG" 2>&1 &
  MFCD_PID=$!
  wait_for 15 "smcrouted ready" test -s "$PIDFILE"
  log=$(cat "$MFCD_LOG")
  out_has "$log" 'identity smcroute: config /etc/smcroute\.conf' "smcrouted default config"
  out_has "$log" "smcroute\[$MFCD_PID\]" "smcrouted log ident"
  nsx router "$SMCROUTECTL" -u "$SOCK" -j show >/dev/null || fail "smcroutectl -u"
  mfcd_stop
fi
if [ ! -e /run/smcroute.sock ]; then
  out=$(nsx router "$SMCROUTECTL" show 2>&1) && fail "smcroutectl reached a daemon at /run/smcroute.sock?"
  out_has "$out" '/run/smcroute\.sock' "smcroutectl default socket"
  out=$(nsx router "$MFCCTL" show 2>&1) && fail "mfcctl reached a daemon at /run/mfcd.sock?"
  out_has "$out" '/run/mfcd\.sock' "mfcctl default socket"
fi
