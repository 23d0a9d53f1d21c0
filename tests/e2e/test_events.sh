#!/bin/bash
# events.subscribe as an orchestration script uses it: a raw JSON-RPC
# subscriber (socat, no mfcctl) and `mfcctl monitor` watch while the
# script adds a route whose OIF does not exist, creates that interface,
# sends a new flow that a (*,G) rule covers, reloads twice (the second file
# broken) and deletes the interface. The raw subscriber must receive
# exactly the expected notifications, in order, numbered 1, 2, 3, ...;
# mfcctl monitor prints the same events as text. A reload of 4,000 routes
# comes to a subscriber as two `bulk` events, and its subscription goes on.
# Then a subscriber that never reads faces reloads of 900 routes each (told
# one by one): it gets one `overflow` notification and is disconnected, and
# the daemon's memory stays bounded.
#
#   sender eth0 --- r-in   router   r-out1 --- eth0 recv1
#                                   r-out2 --- eth0 recv2   (created later)
. "$(dirname "$0")/lib.sh"

topo --late-r-out2

BASE_CONF="phyint r-in enable
phyint r-out1 enable
mroute from r-in group 225.1.7.0/24 to r-out1"
# A subscriber that reads nothing is dropped by one of two limits: 1 MiB
# unread (overflow, which the end of this test is about) or no progress
# for the write timeout (10 s). Its reloads, one after the other, may take
# longer than that on a slow machine: the write timeout is out of the way.
MFCD_RPC_WRITE_TIMEOUT_MS=600000 mfcd_start <<<"$BASE_CONF"

# raw_subscriber NAME KINDS: a script's subscriber to KINDS (a JSON list):
# one line of JSON-RPC, then whatever comes, into $E2E_WORK/NAME.raw; its
# PID in SUBSCRIBER_PID. socat waits for the daemon until the test kills
# it. Its input is a FIFO this shell holds open, so that no helper process
# outlives the test to keep socat's input open.
raw_subscriber() {
  local fifo=$E2E_WORK/$1.in fd
  mkfifo "$fifo"
  socat -t 100000 - "UNIX-CONNECT:$SOCK" <"$fifo" >"$E2E_WORK/$1.raw" 2>&1 &
  SUBSCRIBER_PID=$!
  E2E_PIDS+=("$SUBSCRIBER_PID")
  exec {fd}>"$fifo"
  printf '{"jsonrpc":"2.0","id":1,"method":"events.subscribe","params":{"kinds":%s}}\n' "$2" >&"$fd"
}

KINDS='["route","flow","filter","vif","reload","interface.added","interface.removed"]'
RAW=$E2E_WORK/events.raw
raw_subscriber events "$KINDS"
RAW_PID=$SUBSCRIBER_PID
TEXT=$E2E_WORK/events.txt
"$MFCCTL" -u "$SOCK" monitor route flow filter vif reload interface.added interface.removed \
  >"$TEXT" 2>"$E2E_WORK/monitor.err" &
MONITOR_PID=$!
E2E_PIDS+=($MONITOR_PID)
# subscribers N: the daemon has logged N subscriptions.
subscribers() { [ "$(grep -c 'events: pid [0-9]* subscribed' "$MFCD_LOG")" -ge "$1" ]; }
wait_for 10 "the raw subscription's reply" test -s "$RAW"
head -n 1 "$RAW" | jq -e '.id == 1 and .result.subscribed == true' >/dev/null ||
  fail "events.subscribe answered: $(head -n 1 "$RAW")"
wait_for 10 "mfcctl monitor to subscribe" subscribers 2

# wait_events N: until the raw subscriber has N notifications.
events_at_least() { [ "$(tail -n +2 "$RAW" | grep -c '"method":"event"')" -ge "$1" ]; }
wait_events() { wait_for 10 "$1 notifications" events_at_least "$1"; }

say "a route whose OIF does not exist yet"
mfcctl add r-in "$SENDER4" 225.1.8.1 r-out2 2>/dev/null
wait_events 2

say "the missing interface appears"
wire_r_out2
wait_events 5

say "a new flow that the (*,G) rule covers"
send 225.1.7.5 3
wait_events 6

say "a reload that adds a route, then one of a broken file"
printf '%s\nmroute from r-in source %s group 225.1.9.1 to r-out1\n' "$BASE_CONF" "$SENDER4" >"$CONF"
mfcctl reload >/dev/null
wait_events 9
printf '%s\nmroute from r-in source %s group\n' "$BASE_CONF" "$SENDER4" >"$CONF"
mfcctl reload >/dev/null 2>&1 && fail "mfcctl reload of a broken file succeeded"
wait_events 10

say "the interface is deleted"
ip -n "$(ns_name router)" link del r-out2
wait_events 13

# What the script received, as "seq kind key-members" lines.
got=$(tail -n +2 "$RAW" | jq -r 'select(.method == "event") | .params |
  [(.seq | tostring), .kind,
   (.group // .interface // .file // ""),
   (if has("oifs") then "oifs=" + (.oifs | join(",")) else "" end),
   (if has("vif") then "vif=" + (.vif | tostring) else "" end),
   (if has("origin") then "origin=" + (.origin | join(",")) else "" end),
   (if has("rule") then "rule=" + .rule else "" end),
   (if has("missing_oifs") then "missing=" + (.missing_oifs | join(",")) else "" end),
   (if has("errors") then "errors=" + (.errors | length | tostring) else "" end),
   (if has("routes") then "added=" + (.routes.added | length | tostring) else "" end)]
  | map(select(. != "")) | join(" ")')
want="1 route.installed 225.1.8.1 oifs= origin=api
2 route.active missing=r-out2
3 interface.added r-out2
4 vif.added r-out2 vif=2
5 route.changed 225.1.8.1 oifs=r-out2 origin=api
6 flow.learned 225.1.7.5 oifs=r-out1 rule=r-in (*, 225.1.7.0/24)
7 route.installed 225.1.9.1 oifs=r-out1 origin=config
8 route.active
9 reload.applied $CONF added=1
10 reload.refused $CONF errors=1
11 interface.removed r-out2
12 vif.freed r-out2 vif=2
13 route.changed 225.1.8.1 oifs= origin=api"
if [ "$got" != "$want" ]; then
  diff <(echo "$want") <(echo "$got") >&2 || true
  fail "the notifications differ from the expected ones (diff above: - expected, + got)"
fi
# Every notification has the envelope of one, and the schema's Event.
tail -n +2 "$RAW" | jq -e -s 'all(.[]; .jsonrpc == "2.0" and .method == "event" and
  (has("id") | not) and (.params.time | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]{12}Z$")))' \
  >/dev/null || fail "a notification is not a JSON-RPC notification with a UTC time"
tail -n +2 "$RAW" | rpc_validate "event"
# route.active: the route key, the state.
tail -n +2 "$RAW" | jq -e -s --arg s "$SENDER4" '.[1].params.route == "r-in (\($s), 225.1.8.1)"
  and .[1].params.state == "installed"' >/dev/null ||
  fail "route.active does not name its route: $(sed -n 3p "$RAW")"

say "mfcctl monitor printed the same events as text"
text_lines_at_least() { [ "$(wc -l <"$TEXT")" -ge "$1" ]; }
wait_for 10 "13 lines from mfcctl monitor" text_lines_at_least 13
text_kinds=$(awk '{print $1, $3}' "$TEXT")
want_kinds=$(awk '{print $1, $2}' <<<"$want")
[ "$text_kinds" = "$want_kinds" ] || fail "mfcctl monitor printed: $(cat "$TEXT")"
grep -q "^6 [0-9T:.-]*Z flow.learned family=ipv4 source=$SENDER4 group=225.1.7.5 iif=r-in oifs=r-out1 rule=\"r-in (\*, 225.1.7.0/24)\"$" "$TEXT" ||
  fail "mfcctl monitor's flow.learned line: $(sed -n 6p "$TEXT")"

say "the forwarding the events spoke of is real"
expect_mroute 4 "$SENDER4" 225.1.7.5 r-in r-out1
kill "$MONITOR_PID" "$RAW_PID"

say "a reload of 4,000 routes comes as two bulk events; the subscription goes on"
routes() { # routes FIRST-OCTET COUNT: (S,G) routes r-in -> r-out1
  awk -v o="$1" -v n="$2" 'BEGIN { for (i = 0; i < n; i++)
    printf "mroute from r-in source 192.0.2.2 group 225.%d.%d.%d to r-out1\n", o, int(i / 256), i % 256 }'
}
BULK=$E2E_WORK/bulk.raw
raw_subscriber bulk '["route"]'
BULK_PID=$SUBSCRIBER_PID
wait_for 10 "the bulk subscriber to subscribe" subscribers 3
bulk_at_least() { [ "$(tail -n +2 "$BULK" | grep -c '"method":"event"')" -ge "$1" ]; }
{
  echo "$BASE_CONF"
  routes 20 4000
} >"$CONF"
mfcd_reload
wait_for 30 "2 notifications of the reload" bulk_at_least 2
mfcctl add r-in "$SENDER4" 225.1.8.9 r-out1 2>/dev/null
wait_for 10 "2 notifications of the route added after it" bulk_at_least 4
got=$(tail -n +2 "$BULK" | jq -r '.params | [(.seq | tostring), .kind, (.count // .group // "" | tostring),
  ((.kinds // []) | join(","))] | map(select(. != "")) | join(" ")')
want="1 bulk 4001 route.installed,route.removed
2 bulk 4000 route.active
3 route.installed 225.1.8.9
4 route.active"
if [ "$got" != "$want" ]; then
  diff <(echo "$want") <(echo "$got") >&2 || true
  fail "the bulk subscriber's notifications differ (diff above: - expected, + got)"
fi
tail -n +2 "$BULK" | rpc_validate "event"
kill "$BULK_PID"

say "a subscriber that never reads is dropped with overflow; memory stays bounded"
rss() { awk '/^VmRSS:/ {print $2}' "/proc/$MFCD_PID/status"; }
rss_before=$(rss)
"$PYTHON" - "$SOCK" "$E2E_WORK/slow.out" <<'PY' &
import os, socket, sys, time
path, out = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(path)
s.sendall(b'{"jsonrpc":"2.0","id":1,"method":"events.subscribe","params":{"kinds":["route"]}}\n')
open(out + ".ready", "w").close()
# Never read until the daemon has given up on us (the test says when).
while not os.path.exists(out + ".go"):
    time.sleep(0.1)
data = b""
s.settimeout(60)
while True:
    chunk = s.recv(1 << 20)
    if not chunk:
        break
    data += chunk
open(out, "wb").write(data)
PY
SLOW_PID=$!
E2E_PIDS+=($SLOW_PID)
wait_for 10 "the slow subscriber to connect" test -e "$E2E_WORK/slow.out.ready"
wait_for 10 "the slow subscriber to subscribe" subscribers 4
# Each reload adds 900 routes: 1,800 events told one by one (each kind
# within a change's 1,000), some 400 KB. The subscriber is dropped during
# the third or fourth, with its last 1 MiB still held for it. By SIGHUP:
# with AddressSanitizer and debug logging, these reloads take longer than
# mfcctl waits for a reply.
for last in 21 22 23 24 25; do
  {
    echo "$BASE_CONF"
    routes 20 4000
    for octet in $(seq 21 "$last"); do routes "$octet" 900; done
  } >"$CONF"
  mfcd_reload
done
rss_held=$(rss)
touch "$E2E_WORK/slow.out.go"
wait_for 30 "the daemon to drop the slow subscriber" grep -q "event subscriber .* fell [0-9]* bytes behind; disconnecting" "$MFCD_LOG"
wait "$SLOW_PID" || fail "the slow subscriber's reader failed"
rss_after=$(rss)
last=$(tail -n 1 "$E2E_WORK/slow.out")
jq -e '.method == "event" and .params.kind == "overflow" and (.params.seq | type == "number")' \
  <<<"$last" >/dev/null || fail "the slow subscriber's last line is not an overflow: $last"
say "overflow after $(($(wc -l <"$E2E_WORK/slow.out") - 2)) notifications; RSS ${rss_before} kB before the reload, ${rss_held} kB while held, ${rss_after} kB after"
# 9,000 route events are about 2 MB of notifications, 4 MB of memory with
# a write request and an allocation each. The daemon holds at most 1 MiB of
# them for the subscriber (1.4 to 2.7 MB of memory seen): what it gives back once
# the subscriber is gone (the reload's own growth stays) is no more.
if [ "$MFCD_SANITIZED" = 0 ] && [ "$rss_held" -gt $((rss_after + 4096)) ]; then
  fail "mfcd held $((rss_held - rss_after)) kB for a subscriber that never reads (limit 4 MB)"
fi
rpc_ok daemon.version >/dev/null
mfcd_stop
