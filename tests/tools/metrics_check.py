#!/usr/bin/python3
"""mfcd's metrics against a real parser and the kernel's own tables.

  metrics_check.py check METRICS PROC_DIR [--route FAM SOURCE GROUP COUNT SIZE]...
      METRICS is the text (mfcctl metrics, GET /metrics); PROC_DIR holds
      copies of the router's /proc/net/ip{,6}_mr_{cache,vif}. The text must
      parse with prometheus_client; every mfcd_route_* sample must equal
      the kernel's cache entry of its (S,G) and every mfcd_vif_* sample the
      kernel's VIF of its index; each --route must be there with COUNT
      packets of SIZE bytes. Prints one line per checked route.
  metrics_check.py http HOST PORT REQUEST-TEXT
      Sends REQUEST-TEXT (\\r and \\n escapes allowed) as it is and prints
      the status code, then the body.
  metrics_check.py limits HOST PORT MAX IDLE-SECONDS
      Holds MAX silent connections, checks that one more is closed at once
      (no answer), then that the silent ones are closed after about
      IDLE-SECONDS and a new one is served again.
"""
import ipaddress
import os
import socket
import struct
import sys
import time

from prometheus_client.parser import text_string_to_metric_families

REQUIRED = [
    "mfcd_route_packets", "mfcd_route_bytes", "mfcd_route_wrong_interface_packets",
    "mfcd_vif_received_packets", "mfcd_vif_received_bytes", "mfcd_vif_sent_packets",
    "mfcd_vif_sent_bytes", "mfcd_upcalls", "mfcd_upcall_events", "mfcd_upcalls_lost",
    "mfcd_routes", "mfcd_pending_items", "mfcd_vifs_used", "mfcd_vifs_free", "mfcd_reloads",
    "mfcd_reload_last_duration_seconds", "mfcd_reload_last_success", "mfcd_rpc_requests",
    "mfcd_rpc_errors", "mfcd_clients", "mfcd_process_resident_memory_bytes",
    "mfcd_process_open_fds",
]


def fail(msg):
    print("metrics_check: FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def v4(hexword):
    # The kernel prints the big-endian address as a host-order integer.
    return socket.inet_ntoa(struct.pack("=I", int(hexword, 16)))


def read_rows(path):
    with open(path) as f:
        return [line.split() for line in f.read().splitlines()[1:] if line.strip()]


def kernel_cache(proc):
    """(family, source, group) -> (packets, bytes, wrong) of resolved entries."""
    out = {}
    for fam, name in (("ipv4", "ip_mr_cache"), ("ipv6", "ip6_mr_cache")):
        for row in read_rows(os.path.join(proc, name)):
            group, origin, iif = row[0], row[1], int(row[2])
            if iif < 0:
                continue  # unresolved: the kernel's, not mfcd's
            if fam == "ipv4":
                group, origin = v4(group), v4(origin)
            else:
                group = str(ipaddress.ip_address(group))
                origin = str(ipaddress.ip_address(origin))
            out[(fam, origin, group)] = tuple(int(x) for x in row[3:6])
    return out


def kernel_vifs(proc):
    """(family, index) -> (name, bytes_in, pkts_in, bytes_out, pkts_out)."""
    out = {}
    for fam, name in (("ipv4", "ip_mr_vif"), ("ipv6", "ip6_mr_vif")):
        for row in read_rows(os.path.join(proc, name)):
            out[(fam, int(row[0]))] = (row[1],) + tuple(int(x) for x in row[2:6])
    return out


def parse(text):
    try:
        families = list(text_string_to_metric_families(text))
    except Exception as e:  # the parser's own complaint is the message
        fail("prometheus_client cannot parse the text: %r" % e)
    by_name = {}
    for fam in families:
        if not fam.name.startswith("mfcd_"):
            fail("metric %s lacks the mfcd_ prefix" % fam.name)
        if fam.type not in ("counter", "gauge") or not fam.documentation:
            fail("metric %s: type %s, help %r" % (fam.name, fam.type, fam.documentation))
        if fam.name in by_name:
            fail("metric %s appears twice" % fam.name)
        by_name[fam.name] = fam
    missing = [n for n in REQUIRED if n not in by_name]
    if missing:
        fail("families missing: %s" % missing)
    return by_name


def samples(fams, family, sample_name):
    return [s for s in fams[family].samples if s.name == sample_name]


def check_routes(fams, cache):
    got = {}
    for field, i in (("packets", 0), ("bytes", 1), ("wrong_interface_packets", 2)):
        for s in samples(fams, "mfcd_route_" + field, "mfcd_route_%s_total" % field):
            key = (s.labels["family"], s.labels["source"], s.labels["group"])
            if key not in cache:
                fail("%s names %s, which the kernel does not hold" % (s.name, key))
            if int(s.value) != cache[key][i]:
                fail("%s%s = %d, the kernel says %d" % (s.name, key, s.value, cache[key][i]))
            got.setdefault(key, [None, None, None])[i] = int(s.value)
    return got


def check_vifs(fams, vifs):
    fields = (("received_bytes", 1), ("received_packets", 2), ("sent_bytes", 3), ("sent_packets", 4))
    n = 0
    for field, i in fields:
        for s in samples(fams, "mfcd_vif_" + field, "mfcd_vif_%s_total" % field):
            key = (s.labels["family"], int(s.labels["vif"]))
            if key not in vifs or vifs[key][0] != s.labels["interface"]:
                fail("%s names VIF %s (%s), the kernel has %s" %
                     (s.name, key, s.labels["interface"], vifs.get(key)))
            if int(s.value) != vifs[key][i]:
                fail("%s%s = %d, /proc says %d" % (s.name, key, s.value, vifs[key][i]))
            n += 1
    if n != 4 * len(vifs):
        fail("%d VIF samples for %d kernel VIFs" % (n, len(vifs)))


def check(argv):
    text = open(argv[0]).read()
    proc = argv[1]
    fams = parse(text)
    got = check_routes(fams, kernel_cache(proc))
    check_vifs(fams, kernel_vifs(proc))
    rest = argv[2:]
    while rest:
        if rest[0] != "--route" or len(rest) < 6:
            fail("usage: --route FAM SOURCE GROUP COUNT SIZE")
        fam, source, group, count, size = rest[1], rest[2], rest[3], int(rest[4]), int(rest[5])
        rest = rest[6:]
        key = ("ipv" + fam, source, group)
        if key not in got:
            fail("no route samples for %s" % (key,))
        packets, nbytes, wrong = got[key]
        if packets != count or nbytes != count * size or wrong != 0:
            fail("%s: %s packets, %s bytes, %s wrong; expected %d packets of %d bytes" %
                 (key, packets, nbytes, wrong, count, size))
        print("route %s %s: %d packets, %d bytes, as the kernel says" % (source, group, packets, nbytes))


def http(argv):
    host, port, request = argv[0], int(argv[1]), argv[2]
    request = request.replace("\\r", "\r").replace("\\n", "\n").encode()
    with socket.create_connection((host, port), timeout=60) as s:
        s.sendall(request)
        s.shutdown(socket.SHUT_WR)
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status = head.split(b"\r\n")[0].split(b" ")
    print(status[1].decode() if len(status) > 1 else "none")
    sys.stdout.write(body.decode())


def closed_within(sock, seconds):
    """True when the peer closes `sock` within `seconds` without a byte."""
    sock.settimeout(seconds)
    try:
        return sock.recv(1) == b""
    except socket.timeout:
        return False
    except ConnectionResetError:
        return True


def limits(argv):
    host, port, most, idle = argv[0], int(argv[1]), int(argv[2]), float(argv[3])
    held = [socket.create_connection((host, port), timeout=60) for _ in range(most)]
    # The daemon accepts in arrival order: the first MAX take the slots.
    extra = socket.create_connection((host, port), timeout=60)
    if not closed_within(extra, idle / 2):
        fail("connection %d of %d was not closed at once" % (most + 1, most))
    start = time.monotonic()
    for s in held:
        if not closed_within(s, idle * 3):
            fail("a silent connection stayed open %.1f s, idle timeout %.1f s" % (idle * 3, idle))
    waited = time.monotonic() - start
    print("extra connection refused; silent ones closed %.1f s later" % waited)
    http([host, str(port), "GET /metrics HTTP/1.0\\r\\n\\r\\n"])


def main():
    commands = {"check": check, "http": http, "limits": limits}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    commands[sys.argv[1]](sys.argv[2:])


main()
