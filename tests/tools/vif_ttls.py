#!/usr/bin/env python3
"""What a VIF's deletion does to the entries that forward to it, on the
running kernel: run as root inside a fresh network namespace (the e2e test
test_kernel_vif_ttls.sh does). For IPv4 and IPv6 in turn: one entry
forwarding to VIFs 1 and 2; VIF 2 deleted (MRT_DEL_VIF), then VIF 1's
device deleted; each VIF then added again, at the same index, on another
device. Prints one line per step with the OIFs /proc shows, and exits 1
unless the kernel behaves as docs/kernel.md says: the OIF disappears from
view but its TTL stays in the entry, so a VIF given that index again, on
any device, forwards the entry's traffic at once."""
import socket
import struct
import subprocess
import sys


def sh(cmd):
    subprocess.run(cmd, shell=True, check=True)


def veths(names):
    for n in names:
        sh(f"ip link add {n} type veth peer name {n}p && ip link set {n} up && ip link set {n}p up")
    return {n: socket.if_nametoindex(n) for n in names}


def oifs(proc):
    """The OIF column of the only entry in /proc/net/ip*_mr_cache."""
    lines = open(proc).read().splitlines()[1:]
    return " ".join(lines[0].split()[6:]) if lines else "no entry"


class V4:
    name, proc, prefix = "IPv4", "/proc/net/ip_mr_cache", "4"

    def __init__(self):
        self.s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_IGMP)
        self.s.setsockopt(socket.IPPROTO_IP, 200, struct.pack("=i", 1))  # MRT_INIT

    def add_vif(self, i, ifindex):  # MRT_ADD_VIF, struct vifctl with VIFF_USE_IFINDEX
        self.s.setsockopt(socket.IPPROTO_IP, 202, struct.pack("=HBBIiI", i, 8, 1, 0, ifindex, 0))

    def del_vif(self, i):  # MRT_DEL_VIF
        self.s.setsockopt(socket.IPPROTO_IP, 203, struct.pack("=HBBIiI", i, 8, 1, 0, 0, 0))

    def add_mfc(self, out):  # MRT_ADD_MFC, struct mfcctl (60 bytes)
        ttls = bytes(1 if v in out else 0 for v in range(32))
        self.s.setsockopt(socket.IPPROTO_IP, 204, struct.pack(
            "=4s4sH32s2xIIIi", socket.inet_aton("192.0.2.1"), socket.inet_aton("225.1.1.1"),
            0, ttls, 0, 0, 0, 0))


class V6:
    name, proc, prefix = "IPv6", "/proc/net/ip6_mr_cache", "6"

    def __init__(self):
        self.s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
        self.s.setsockopt(socket.IPPROTO_IPV6, 200, struct.pack("=i", 1))  # MRT6_INIT

    def add_vif(self, i, ifindex):  # MRT6_ADD_MIF, struct mif6ctl
        self.s.setsockopt(socket.IPPROTO_IPV6, 202, struct.pack("=HBBHxxI", i, 0, 1, ifindex, 0))

    def del_vif(self, i):  # MRT6_DEL_MIF
        self.s.setsockopt(socket.IPPROTO_IPV6, 203, struct.pack("=H", i))

    def add_mfc(self, out):  # MRT6_ADD_MFC, struct mf6cctl
        def sin6(a):
            return struct.pack("=HHI16sI", socket.AF_INET6, 0, 0,
                               socket.inet_pton(socket.AF_INET6, a), 0)
        bits = sum(1 << v for v in out).to_bytes(32, "little")
        self.s.setsockopt(socket.IPPROTO_IPV6, 204,
                          sin6("2001:db8::1") + sin6("ff0e::1") + struct.pack("=H2x", 0) + bits)


def main():
    failed = 0
    for fam in (V4, V6):
        p = fam.prefix
        idx = veths([f"x{p}0", f"x{p}1", f"x{p}2", f"x{p}3", f"x{p}4"])
        m = fam()
        for i in range(3):
            m.add_vif(i, idx[f"x{p}{i}"])
        steps = [
            ("an entry forwarding to VIFs 1 and 2", lambda: m.add_mfc({1, 2}), "1:1 2:1"),
            ("VIF 2 deleted", lambda: m.del_vif(2), "1:1"),
            ("VIF 2 added again, on another device", lambda: m.add_vif(2, idx[f"x{p}3"]), "1:1 2:1"),
            ("VIF 1's device deleted", lambda: sh(f"ip link del x{p}1"), "2:1"),
            ("VIF 1 added again, on another device", lambda: m.add_vif(1, idx[f"x{p}4"]), "1:1 2:1"),
        ]
        for what, step, want in steps:
            step()
            got = oifs(fam.proc)
            verdict = "ok" if got == want else f"FAILED, expected {want}"
            failed += got != want
            print(f"{fam.name}: {what}: OIFs {got}: {verdict}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
