#!/bin/bash
# Issue 14's load test: while a 1,000 datagrams/s flow crosses the router
# through a route nobody touches, tests/tools/rpc_load runs, in order,
# 1,000 well-behaved clients (connect, route.add, route.list, disconnect),
# 50 clients sending malformed input, 10 that pipeline listings and never
# read, 64 idle ones, then 100 more well-behaved clients with the last two
# groups still connected. Expected: every well-behaved client answered, every
# malformed one answered with an error or disconnected, no datagram of the
# flow lost, and the daemon's RSS back within 10% of where it started once
# the abusers are gone. The latencies (p50/p99) are printed for the notes.
#
# "Where it started" is the RSS after a warm-up round of every kind of
# client (a few of each): mfcd's own code pages are file-backed and count
# in RSS once first run, and the first malformed request or listing
# touches code that the idle daemon never ran (about 450 kB of text, and
# the heap's first growth). The warm-up leaves those out, so that what is
# compared is what the load itself left behind. RssAnon (heap and anonymous
# mappings alone) is printed too.
#
# It runs in the suite of the plain build tree only (tests/CMakeLists.txt):
# under AddressSanitizer latency and memory mean nothing, and the sanitizer
# tree runs e2e_rpc_backpressure and e2e_rpc_lockout on the same code.
. "$(dirname "$0")/../e2e/lib.sh"
topo
RPC_LOAD=$MFCD_BUILD_DIR/tests/rpc_load
[ -x "$RPC_LOAD" ] || fail "$RPC_LOAD is not built"

mfcd_start <<CONF
phyint r-in enable
phyint r-out1 enable
phyint r-out2 enable
mroute from r-in source $SENDER4 group 225.1.40.1 to r-out1
CONF
expect_mroute 4 "$SENDER4" 225.1.40.1 r-in r-out1

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$MFCD_PID/status"; }
anon_kb() { awk '/^RssAnon:/ {print $2}' "/proc/$MFCD_PID/status"; }

recv_start load recv1 225.1.40.1 --until-stopped
send_start 225.1.40.1 -r 1000
e2e_sleep 1
rss_idle=$(rss_kb)
# The warm-up round (see above).
"$RPC_LOAD" "$SOCK" r-in "$SENDER4" r-out2 --clients 20 --malformed 50 --nonreaders 2 \
  --idle 4 --probes 5 --timeout $((10 * E2E_SLOWDOWN)) >/dev/null ||
  fail "the warm-up round was not answered as it should be"
e2e_sleep 1  # the warm-up closed its connections; the daemon frees them at once
rss_before=$(rss_kb)
anon_before=$(anon_kb)

out=$("$RPC_LOAD" "$SOCK" r-in "$SENDER4" r-out2 --clients 1000 --malformed 50 --nonreaders 10 \
  --idle 64 --probes 100 --timeout $((10 * E2E_SLOWDOWN))) || rc=$?
say "rpc_load: $out"
[ "${rc:-0}" -eq 0 ] || fail "not every client was answered as it should be: $out"
# A fresh client is answered within 50 ms (times E2E_SLOWDOWN) while the
# abusers are connected.
limit=$((50 * E2E_SLOWDOWN))
jq -e --argjson limit "$limit" '.during_abuse.p99_ms <= $limit' <<<"$out" >/dev/null ||
  fail "p99 latency during the abuse is over $limit ms: $out"

send_stop "$SEND_PID"
recv_stop load 1
received=$(awk '$1 == "received" {print $2}' "$E2E_WORK/recv.load.out")
first=$(awk '$1 == "first_seq" {print $2}' "$E2E_WORK/recv.load.out")
last=$(awk '$1 == "last_seq" {print $2}' "$E2E_WORK/recv.load.out")
[ "$first" = 0 ] || fail "the flow's first datagrams were lost (first seq $first)"
[ "$received" -eq $((last + 1)) ] ||
  fail "the flow lost datagrams under load: $received received, sequence 0..$last"
grep -q '^lost 0$' "$E2E_WORK/recv.load.out" || fail "the flow lost datagrams under load"
say "flow: $received of $received datagrams through the load, 0 lost"

# The abusers are gone; whatever the daemon held for them must be too.
settled() { [ "$(rss_kb)" -le $((rss_before * 110 / 100)) ]; }
# On failure, where the memory is: every mapping holding over 200 kB.
big_mappings() {
  awk '/^[0-9a-f]+-[0-9a-f]+ / {name = $6 ? $6 : "[anon]"} /^Rss:/ && $2 > 200 {printf "%s %s kB; ", name, $2}' \
    "/proc/$MFCD_PID/smaps"
}
# (wait_for would word its failure with the figures of its start.)
deadline=$((SECONDS + 10 * E2E_SLOWDOWN))
until settled; do
  [ "$SECONDS" -lt "$deadline" ] || fail "RSS not back within 10% of ${rss_before} kB after" \
    "$((10 * E2E_SLOWDOWN))s: now $(rss_kb) kB, RssAnon $(anon_kb) kB; $(big_mappings)"
  e2e_sleep 0.05
done
say "RSS: ${rss_idle} kB idle, ${rss_before} kB after the warm-up, $(rss_kb) kB after the load; RssAnon ${anon_before} -> $(anon_kb) kB"
rpc_ok daemon.status >/dev/null
say "ok"
