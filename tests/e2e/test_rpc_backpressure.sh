#!/bin/bash
# A client that pipelines route.list (10,000 routes, detail) and never reads
# its replies must not hold up anyone else: once its queued replies pass the
# cap the daemon stops reading its requests, a fresh client is answered
# within 50 ms (times E2E_SLOWDOWN) all along, the daemon's memory stays
# bounded, the non-reader is disconnected after the write timeout, and the
# daemon's RSS comes back once it is gone.
. "$(dirname "$0")/lib.sh"

e2e_add_ns router
nsx router test -e /proc/net/ip_mr_vif || skip "kernel without IPv4 multicast routing"

# 10,000 routes whose interfaces do not exist: all pending, all listed,
# and no kernel work to set them up.
awk 'BEGIN {
  for (i = 0; i < 10000; i++)
    printf "mroute from r-gone source 192.0.2.9 group 225.%d.%d.%d to r-gone2\n",
      int(i / 65536) + 1, int(i / 256) % 256, i % 256
}' >"$E2E_WORK/routes.conf"

# The write timeout, shortened so that the test does not wait 10 s for it.
export MFCD_RPC_WRITE_TIMEOUT_MS=3000
mfcd_start <"$E2E_WORK/routes.conf"

"$PYTHON" - "$SOCK" "$MFCD_PID" "$E2E_SLOWDOWN" "$MFCD_SANITIZED" <<'PY'
import json, os, select, socket, sys, time

path, pid, slow = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
# An AddressSanitizer build's allocator keeps freed memory (lib.sh): RSS
# is reported there, and checked on the plain build.
check_rss = sys.argv[4] != "1"
LIST = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "route.list",
                   "params": {"detail": True}}).encode() + b"\n"
VERSION = b'{"jsonrpc":"2.0","id":2,"method":"daemon.version"}\n'

def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)

def rss_kb():
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])

def call(request, timeout, what):
    """One fresh connection, one request; returns (seconds, reply)."""
    start = time.monotonic()
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(path)
    s.sendall(request)
    reply = b""
    while not reply.endswith(b"\n"):
        try:
            chunk = s.recv(1 << 20)
        except socket.timeout:
            fail(f"{what}: no reply within {timeout:.1f} s")
        if not chunk:
            fail(f"{what}: connection closed after {len(reply)} bytes of the reply")
        reply += chunk
    s.close()
    return time.monotonic() - start, json.loads(reply)

# Warm up: the daemon's memory once it has built a big reply.
list_time, reply = call(LIST, 60 * slow, "route.list before the flood")
n = len(reply["result"]["routes"]["ssm"])
if n != 10000:
    fail(f"route.list has {n} routes, expected 10000")
rss_before = rss_kb()
baseline = max(call(VERSION, 10 * slow, "daemon.version before the flood")[0] for _ in range(10))

# The flood: requests until the daemon has stopped reading them (the
# socket takes nothing for a while), never reading a reply.
flood = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
flood.connect(path)
flood.setblocking(False)
sent, pending, blocked_since = 0, LIST, None
deadline = time.monotonic() + 60 * slow
while time.monotonic() < deadline:
    try:
        pending = pending[flood.send(pending):]
        if not pending:
            sent, pending = sent + 1, LIST
        blocked_since = None
    except BlockingIOError:
        blocked_since = blocked_since or time.monotonic()
        if time.monotonic() - blocked_since > 0.5:
            break
        time.sleep(0.01)
flood_paused = time.monotonic()

# The daemon may still be building its first reply to the flood (one
# request's own time, which no scheduling can take back): once a fresh
# client is answered, it is done with it, and with the fix it serves the
# flood nothing more until it reads.
call(VERSION, 3 * list_time + 5 * slow, "daemon.version after the flood")

# Fresh clients while the flood waits: answered at once, every time.
limit = 0.05 * slow
worst = 0.0
for _ in range(20):
    seconds, reply = call(VERSION, 10 * slow, "daemon.version during the flood")
    if "result" not in reply:
        fail(f"daemon.version failed: {reply}")
    worst = max(worst, seconds)
seconds, reply = call(LIST, 60 * slow, "route.list during the flood")
if len(reply["result"]["routes"]["ssm"]) != 10000:
    fail("a well-behaved client's route.list was cut short")
rss_during = rss_kb()
print(f"route.list of 10000 routes: {list_time:.2f} s; sent {sent} requests; fresh client: {baseline * 1000:.1f} ms before the flood, "
      f"at most {worst * 1000:.1f} ms during it (limit {limit * 1000:.0f} ms); "
      f"RSS {rss_before} kB before, {rss_during} kB during")
if worst > limit:
    fail(f"a fresh client waited {worst * 1000:.1f} ms, limit {limit * 1000:.0f} ms")
if check_rss and rss_during > rss_before + 32 * 1024:
    fail(f"RSS grew from {rss_before} kB to {rss_during} kB under the flood")

# The daemon disconnects the non-reader after its write timeout.
poll = select.poll()
poll.register(flood, select.POLLHUP | select.POLLERR)
if not poll.poll((6 + 10 * slow) * 1000):
    fail("the non-reading client was not disconnected")
print(f"non-reader disconnected within {time.monotonic() - flood_paused:.1f} s of its last request")
flood.close()

# Its memory goes back.
if not check_rss:
    print(f"RSS {rss_kb()} kB after it left (not checked: AddressSanitizer build)")
    sys.exit(0)
deadline = time.monotonic() + 10 * slow
while rss_kb() > rss_before * 1.1 + 1024:
    if time.monotonic() > deadline:
        fail(f"RSS {rss_kb()} kB after the non-reader left, {rss_before} kB before")
    time.sleep(0.1)
print(f"RSS {rss_kb()} kB after it left")
PY

grep -q "read none of .* bytes of replies for 3000 ms, disconnecting" "$MFCD_LOG" ||
  fail "no log line about disconnecting the non-reader"
rpc_ok daemon.version >/dev/null
mfcd_stop
