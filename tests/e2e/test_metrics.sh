#!/bin/bash
# Metrics: a flow of known packets through static routes shows in
# `mfcctl metrics` and in GET /metrics exactly as the kernel counts it in
# /proc/net/ip{,6}_mr_cache and ip{,6}_mr_vif, and both texts parse with
# prometheus_client. The HTTP listener is off unless asked for; it answers
# 404 off /metrics, 405 to another method and 400 to garbage; a bad
# metrics-listen line is refused at its position. A reload moves the
# listener, keeps it where the new address cannot be had, and stops it
# when the line goes.
. "$(dirname "$0")/lib.sh"
topo

CHECK=$MFCD_SOURCE_DIR/tests/tools/metrics_check.py
PORT=9468
# An IPv4 datagram of mctool's is 20 + 8 + 64 bytes, an IPv6 one 40 + 8 + 64.
SIZE4=92
SIZE6=112

# A bad address is refused with file:line:column, by -F and at start.
bad=$E2E_WORK/bad.conf
printf 'phyint r-in enable\nmetrics-listen 127.0.0.1:99999\n' >"$bad"
rc=0
out=$(nsx router timeout 60 "$MFCD" -F "$bad" 2>&1) || rc=$?
[ "$rc" -eq 78 ] || fail "mfcd -F with a bad metrics-listen: expected exit 78, got $rc: $out"
grep -q "^$bad:2:16: error: invalid listen address '127.0.0.1:99999'" <<<"$out" ||
  fail "mfcd -F: expected '$bad:2:16: error: invalid listen address ...', got: $out"
rc=0
out=$(nsx router timeout 60 "$MFCD" -n -f "$bad" -u "$E2E_WORK/bad.sock" -P "$E2E_WORK/bad.pid" 2>&1) ||
  rc=$?
[ "$rc" -eq 78 ] || fail "mfcd started with a bad metrics-listen (exit $rc): $out"
grep -q "$bad:2:16: error: " <<<"$out" || fail "mfcd's refusal does not give the position: $out"

routes() {
  cat <<CONF
phyint r-in enable
phyint r-out1 enable
phyint r-out2 enable
mroute from r-in source $SENDER4 group 225.1.2.3 to r-out1 r-out2
mroute from r-in source $SENDER6 group ff0e::1:3 to r-out1
CONF
}

# snapshot NAME: the metrics from mfcctl, with the kernel's tables just
# after, into $E2E_WORK/NAME.{prom,proc/}.
proc_copy() {
  mkdir -p "$1"
  local f
  for f in ip_mr_cache ip6_mr_cache ip_mr_vif ip6_mr_vif; do
    nsx router cat "/proc/net/$f" >"$1/$f"
  done
}

# compare TEXT-FILE PROC-DIR COUNT: the text against the kernel's tables.
compare() {
  "$PYTHON" "$CHECK" check "$1" "$2" \
    --route 4 "$SENDER4" 225.1.2.3 "$3" "$SIZE4" --route 6 "$SENDER6" ff0e::1:3 "$3" "$SIZE6"
}

# --- without metrics-listen: mfcctl metrics, no listener --------------------
# Not `routes | mfcd_start`: a pipeline would start it in a subshell.
mfcd_start < <(routes)
flow 225.1.2.3 25 25 25
flow ff0e::1:3 25 25 0

mfcctl metrics >"$E2E_WORK/ctl.prom" || fail "mfcctl metrics failed"
proc_copy "$E2E_WORK/ctl.proc"
compare "$E2E_WORK/ctl.prom" "$E2E_WORK/ctl.proc" 25 ||
  fail "mfcctl metrics does not match the kernel: $(cat "$E2E_WORK/ctl.prom")"
grep -q '^mfcd_routes{family="ipv4",table="0",state="installed"} 1$' "$E2E_WORK/ctl.prom" ||
  fail "mfcd_routes: expected one installed IPv4 route"
grep -q '^mfcd_rpc_requests_total{method="metrics.get"} 0$' "$E2E_WORK/ctl.prom" ||
  fail "a call is counted after its answer: the first metrics.get should read 0"
if grep -q 'listener="http"' "$E2E_WORK/ctl.prom"; then fail "an HTTP listener without metrics-listen"; fi
# Nothing listens on TCP in the router's namespace.
listening=$(nsx router ss -Htln)
[ -z "$listening" ] || fail "a TCP listener without metrics-listen: $listening"
rpc_ok metrics.get >/dev/null
mfcctl metrics | grep -q '^mfcd_rpc_requests_total{method="metrics.get"} 2$' ||
  fail "metrics.get requests not counted"

# Reloads: none yet, then one applied (SIGHUP), then one refused.
# metric NAME: its one sample's value.
metric() { mfcctl metrics | awk -v n="$1" '$1 == n {print $2}'; }
[ -z "$(metric mfcd_reload_last_success)" ] || fail "a reload result before any reload"
mfcd_reload
[ "$(metric 'mfcd_reloads_total{result="ok"}')" = 1 ] || fail "SIGHUP reload not counted"
[ "$(metric mfcd_reload_last_success)" = 1 ] || fail "the last reload was applied"
awk -v d="$(metric mfcd_reload_last_duration_seconds)" 'BEGIN { exit !(d > 0 && d < 60) }' ||
  fail "reload duration: $(metric mfcd_reload_last_duration_seconds)"
cp "$CONF" "$E2E_WORK/good.conf"
echo "metrics-listen nowhere" >>"$CONF"
if mfcctl reload 2>/dev/null; then fail "a reload with a bad metrics-listen line went through"; fi
[ "$(metric 'mfcd_reloads_total{result="error"}')" = 1 ] || fail "refused reload not counted"
[ "$(metric mfcd_reload_last_success)" = 0 ] || fail "the last reload was refused"
[ "$(metric 'mfcd_rpc_errors_total{method="config.reload"}')" = 1 ] || fail "config.reload error not counted"
cp "$E2E_WORK/good.conf" "$CONF"
mfcd_stop

# --- with metrics-listen (a port alone: loopback) ----------------------------
# A short idle timeout (the control socket's test override applies to the
# listener too), for the limits below.
IDLE_MS=4000
MFCD_RPC_IDLE_TIMEOUT_MS=$IDLE_MS mfcd_start < <(
  routes
  echo "metrics-listen $PORT"
)
listening=$(nsx router ss -Htln)
grep -q "127.0.0.1:$PORT " <<<"$listening" || fail "expected a listener on 127.0.0.1:$PORT: $listening"
[ "$(wc -l <<<"$listening")" -eq 1 ] || fail "more listeners than one: $listening"
flow 225.1.2.3 30 30 30
flow ff0e::1:3 30 30 0

http() { nsx router "$PYTHON" "$CHECK" http 127.0.0.1 "$PORT" "$1"; }
# http_status REQUEST: only the status code (not `http | head -n 1`: head
# leaving early would break the pipe under the writer, and pipefail fail).
http_status() {
  local out
  out=$(http "$1")
  printf '%s\n' "${out%%$'\n'*}"
}
http 'GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n' >"$E2E_WORK/http.out"
proc_copy "$E2E_WORK/http.proc"
[ "$(head -n 1 "$E2E_WORK/http.out")" = 200 ] || fail "GET /metrics: $(head -n 3 "$E2E_WORK/http.out")"
tail -n +2 "$E2E_WORK/http.out" >"$E2E_WORK/http.prom"
compare "$E2E_WORK/http.prom" "$E2E_WORK/http.proc" 30 ||
  fail "GET /metrics does not match the kernel: $(cat "$E2E_WORK/http.prom")"
grep -q '^mfcd_clients{listener="http"} 1$' "$E2E_WORK/http.prom" ||
  fail "the HTTP client itself should be counted"
# mfcctl metrics says the same of the routes.
mfcctl metrics >"$E2E_WORK/ctl2.prom"
compare "$E2E_WORK/ctl2.prom" "$E2E_WORK/http.proc" 30 || fail "mfcctl metrics differs from the kernel"

status=$(http_status 'GET /metrics HTTP/1.0\r\n\r\n')
[ "$status" = 200 ] || fail "HTTP/1.0 GET /metrics: $status"
status=$(http_status 'GET /other HTTP/1.1\r\n\r\n')
[ "$status" = 404 ] || fail "GET /other: expected 404, got $status"
status=$(http_status 'POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n')
[ "$status" = 405 ] || fail "POST /metrics: expected 405, got $status"
status=$(http_status 'garbage\r\n\r\n')
[ "$status" = 400 ] || fail "garbage: expected 400, got $status"
# 64 silent clients take every slot: one more is closed at once, and the
# silent ones go after the idle timeout; then GET /metrics works again.
out=$(nsx router "$PYTHON" "$CHECK" limits 127.0.0.1 "$PORT" 64 "$((IDLE_MS / 1000))") ||
  fail "listener limits: $out"
[ "$(sed -n 2p <<<"$out")" = 200 ] || fail "GET /metrics after the limits test: $out"
say "$(head -n 1 <<<"$out")"
# The daemon still answers after all of them.
rpc_ok daemon.version >/dev/null

say "a reload moves the listener; one it cannot take leaves the old; no line stops it"
# listeners: the router's TCP listeners, "ADDR:PORT" a line.
listeners() { nsx router ss -Htln | awk '{print $4}' | sort; }
reload_with_listen() { # reload_with_listen [LINE]: routes, then LINE
  {
    routes
    [ $# -eq 0 ] || echo "$1"
  } >"$CONF"
  mfcctl reload >/dev/null || fail "mfcctl reload ($*) failed"
}
OLD_PORT=$PORT
PORT=$((OLD_PORT + 1))
reload_with_listen "metrics-listen 127.0.0.1:$PORT"
[ "$(listeners)" = "127.0.0.1:$PORT" ] || fail "after moving to $PORT, listening on: $(listeners)"
[ "$(http_status 'GET /metrics HTTP/1.0\r\n\r\n')" = 200 ] || fail "GET /metrics on the new port"
# The same port on all addresses clashes with the old one: taken in turn.
reload_with_listen "metrics-listen 0.0.0.0:$PORT"
[ "$(listeners)" = "0.0.0.0:$PORT" ] || fail "after moving to 0.0.0.0:$PORT: $(listeners)"
# A port another program holds: the reload goes through, the old stays.
HELD=$((OLD_PORT + 2))
# Not through nsx: $! must be the holder itself, for the cleanup.
ip netns exec "$(ns_name router)" "$PYTHON" -c 'import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen()
time.sleep(600)' "$HELD" &
E2E_PIDS+=($!)
held() { listeners | grep -qx "127.0.0.1:$HELD"; }
wait_for 10 "the other program to hold port $HELD" held
reload_with_listen "metrics-listen 127.0.0.1:$HELD"
grep -q "metrics-listen 127.0.0.1:$HELD: cannot listen .*; metrics stay at 0.0.0.0:$PORT" "$MFCD_LOG" ||
  fail "no error logged for the held port"
[ "$(http_status 'GET /metrics HTTP/1.0\r\n\r\n')" = 200 ] || fail "GET /metrics after the failed move"
# Without the line: no listener.
reload_with_listen
[ "$(listeners)" = "127.0.0.1:$HELD" ] || fail "without metrics-listen, still listening on: $(listeners)"
mfcd_stop
expect_no_mroute_state
