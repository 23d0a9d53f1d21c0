#!/bin/bash
# No lock-out on the control socket. 64 idle connections of one user, each
# sending a blank line now and then, do not keep root (or anyone) out; a
# 65th from that user is refused with the reason; blank lines do not count
# as requests, so the idle ones are closed after the idle timeout. And the
# daemon holds 1,024 connections at once (its open file limit raised at
# start), with root still getting in past them and other users refused.
. "$(dirname "$0")/lib.sh"
id nobody >/dev/null 2>&1 || skip "no user nobody"
command -v setpriv >/dev/null || skip "needs setpriv"

e2e_add_ns router
nsx router test -e /proc/net/ip_mr_vif || skip "kernel without IPv4 multicast routing"

# The idle timeout, shortened so that the test does not wait 60 s for it.
IDLE_MS=4000
export MFCD_RPC_IDLE_TIMEOUT_MS=$IDLE_MS
mfcd_start </dev/null
# nobody may connect: through the directory, and in the socket's group.
chmod 755 "$E2E_WORK"
nobody_group=$(id -gn nobody)
chgrp "$nobody_group" "$SOCK"
# Where the clients (nobody) say they are ready.
READY=$E2E_WORK/ready
mkdir "$READY"
chown nobody "$READY"

CLIENT=$E2E_WORK/clients.py
cat >"$CLIENT" <<'PY'
# clients.py SOCK MODE SLOWDOWN READY_FILE [COUNT]
import json, os, resource, socket, sys, time

path, mode, slow, ready = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
VERSION = b'{"jsonrpc":"2.0","id":1,"method":"daemon.version"}\n'

def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)

def connect():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10 * slow)
    s.connect(path)
    return s

def line(s):
    data = b""
    while not data.endswith(b"\n"):
        chunk = s.recv(65536)
        if not chunk:
            return None
        data += chunk
    return json.loads(data)

def admitted(s):
    s.sendall(VERSION)
    reply = line(s)
    return reply is not None and "result" in reply

def done():
    with open(ready, "w") as f:
        f.write("ready\n")

if mode == "idle":
    # 64 connections, each admitted (a request answered), then idle but
    # for a blank line every half second.
    conns = [connect() for _ in range(64)]
    for i, s in enumerate(conns):
        if not admitted(s):
            fail(f"idle connection {i} was not admitted")
    started = time.monotonic()
    extra = connect()
    reply = line(extra)
    if not reply or "too many connections from uid" not in reply["error"]["message"]:
        fail(f"a 65th connection of the same user got {reply}")
    done()
    for s in conns:
        s.setblocking(False)
    open_ = set(range(64))
    deadline = started + 30 * slow
    while open_ and time.monotonic() < deadline:
        for i in list(open_):
            try:
                if conns[i].recv(1) == b"":
                    open_.discard(i)
                    continue
            except BlockingIOError:
                pass
            except OSError:
                open_.discard(i)
                continue
            try:
                conns[i].send(b"\n")
            except OSError:
                open_.discard(i)
        time.sleep(0.5)
    if open_:
        fail(f"{len(open_)} idle connections still open")
    print(f"64 idle connections closed {time.monotonic() - started:.1f} s after their last request")
elif mode == "many":
    count = int(sys.argv[5])
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    conns = []
    for i in range(count):
        s = connect()
        if not admitted(s):
            fail(f"connection {i + 1} of {count} was not admitted")
        conns.append(s)
    print(f"{count} connections open")
    done()
    time.sleep(3600)
PY

# 64 idle connections of nobody.
setpriv --reuid nobody --regid "$nobody_group" --clear-groups \
  "$PYTHON" "$CLIENT" "$SOCK" idle "$E2E_SLOWDOWN" "$READY/idle" >"$E2E_WORK/idle.out" 2>&1 &
idle_pid=$!
E2E_PIDS+=("$idle_pid")
wait_for 30 "64 idle connections" test -e "$READY/idle"
# Root is not locked out, nor another user.
rpc_ok daemon.version >/dev/null
e2e_gone "$idle_pid" || wait_for 10 "the daemon to close the idle connections" e2e_gone "$idle_pid"
wait "$idle_pid" || fail "idle clients: $(cat "$E2E_WORK/idle.out")"
cat "$E2E_WORK/idle.out"
grep -q "refusing a client .* too many connections from uid $(id -u nobody) (limit 64)" "$MFCD_LOG" ||
  fail "no log line for the refused 65th connection"
grep -q "closing idle client .* no request for $IDLE_MS ms" "$MFCD_LOG" ||
  fail "no log line for the idle connections"

# 1,024 connections at once (root's), then root still gets in, and anyone
# else is refused. The idle timeout is long enough for the whole run: the
# connections are opened at the pace the test bed allows, so they are
# restarted with a new daemon.
mfcd_stop
export MFCD_RPC_IDLE_TIMEOUT_MS=$((600000 * E2E_SLOWDOWN))
mfcd_start </dev/null
chgrp "$nobody_group" "$SOCK"
"$PYTHON" "$CLIENT" "$SOCK" many "$E2E_SLOWDOWN" "$READY/many" 1024 >"$E2E_WORK/many.out" 2>&1 &
many_pid=$!
E2E_PIDS+=("$many_pid")
wait_for 120 "1024 connections" test -e "$READY/many"
rpc_ok daemon.version >/dev/null
# The refusal comes on connect, before any request: the client only reads
# (a request written after the daemon has closed would fail with EPIPE).
reply=$(setpriv --reuid nobody --regid "$nobody_group" --clear-groups \
  socat -u -T "$((5 * E2E_SLOWDOWN))" "UNIX-CONNECT:$SOCK" -)
[[ $reply == *'too many clients connected'* ]] || fail "nobody past 1024 connections got: $reply"
kill "$many_pid"
mfcd_stop
