#!/usr/bin/env python3
"""Writes the fuzz targets' seed corpora (tests/fuzz/corpus/TARGET/seed-*).

Run from anywhere; it rewrites only the seed-* files, so the crash-*
regression inputs kept beside them stay. The seeds are small, valid
examples of each input, from which libFuzzer's mutations start.
"""
import ipaddress
import pathlib
import struct

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent


def write(target, name, data):
    d = HERE / "corpus" / target
    d.mkdir(parents=True, exist_ok=True)
    (d / f"seed-{name}").write_bytes(data if isinstance(data, bytes) else data.encode())


def config_seeds():
    for path in sorted((ROOT / "conf" / "examples").glob("*.conf")):
        write("config", path.stem, path.read_bytes())
    write("config", "shipped", (ROOT / "conf" / "mfcd.conf").read_bytes())
    # A main file and two included ones (NUL separates the files).
    main = b"phyint a1 enable\ninclude /etc/mfcd.d/*.conf\nmroute from a1 group 225.1.1.1 to a2\n"
    inc1 = b"phyint a2 enable ttl-threshold 4\nmgroup from a2 source 192.0.2.1 group 232.1.1.1\n"
    inc2 = b"mroute from a2 source 2001:db8::1 group ff0e::1 to a1 a3\ninclude /etc/mfcd.d/1.conf\n"
    write("config", "includes", main + b"\0" + inc1 + b"\0" + inc2)
    write("config", "lenient", b"phyint a1 enable mrdisc bogus\nmroute from a1 source 10.0.0.1/24 "
          b"group 225.1.2.40/24 to a2 a2 extra\nmgroup from a9 group 225.3.3.3\n")


def rpc(lines, root=True, chunk=7):
    head = bytes([1 if root else 0, chunk])
    return head + "".join(line + "\n" for line in lines).encode()


def rpc_seeds():
    add = '{"jsonrpc":"2.0","id":%d,"method":"route.add","params":{"iif":"a1","source":"192.0.2.7","group":"225.1.1.7","oifs":["a2","a3"],"owner":"o"}}'
    write("rpc", "routes", rpc([
        add % 1,
        '{"jsonrpc":"2.0","id":2,"method":"route.set","params":{"iif":"a2","group":"ff0e::7","oifs":["a1"]}}',
        '{"jsonrpc":"2.0","id":3,"method":"route.remove","params":{"iif":"a1","source":"192.0.2.7","group":"225.1.1.7","oifs":["a2"],"owner":"o"}}',
        '{"jsonrpc":"2.0","id":4,"method":"route.list","params":{"detail":true}}',
        '{"jsonrpc":"2.0","id":5,"method":"pending.list"}',
    ]))
    write("rpc", "groups", rpc([
        '{"jsonrpc":"2.0","id":1,"method":"group.join","params":{"iif":"a3","group":"225.5.5.6"}}',
        '{"jsonrpc":"2.0","id":2,"method":"group.join","params":{"iif":"a1","source":"192.0.2.1","group":"232.1.1.0/30"}}',
        '{"jsonrpc":"2.0","id":3,"method":"group.leave","params":{"iif":"a3","group":"225.5.5.5"}}',
        '{"jsonrpc":"2.0","id":4,"method":"group.list"}',
    ]))
    write("rpc", "batch", rpc([
        "[" + ",".join(add % i for i in range(1, 4)) + ',{"jsonrpc":"2.0","method":"cache.flush"}]',
        '{"jsonrpc":"2.0","id":9,"method":"daemon.status"}',
        '{"jsonrpc":"2.0","id":10,"method":"interface.list"}',
        '{"jsonrpc":"2.0","id":11,"method":"rpc.discover"}',
        '{"jsonrpc":"2.0","id":12,"method":"config.check","params":{"file":"/etc/x.conf"}}',
    ], chunk=64))
    write("rpc", "user", rpc([add % 1, '{"jsonrpc":"2.0","id":2,"method":"daemon.version"}'], root=False))
    write("rpc", "broken", rpc(['{"jsonrpc":"2.0","id":1,"method":"route.add","params":{"iif":', "[]", "{}",
                                '{"jsonrpc":"1.0","id":[1],"method":7}']))


def igmpmsg(msgtype, vif, src, dst):
    # struct igmpmsg: unused1, unused2, im_msgtype, im_mbz, im_vif, im_vif_hi, im_src, im_dst
    return struct.pack("=IIBBBB4s4s", 0, 0, msgtype, 0, vif & 0xFF, vif >> 8,
                       ipaddress.IPv4Address(src).packed, ipaddress.IPv4Address(dst).packed)


def mrt6msg(msgtype, mif, src, dst):
    # struct mrt6msg: im6_mbz, im6_msgtype, im6_mif, im6_pad, im6_src, im6_dst
    return struct.pack("=BBHI16s16s", 0, msgtype, mif, 0, ipaddress.IPv6Address(src).packed,
                       ipaddress.IPv6Address(dst).packed)


def upcall_seeds():
    write("upcall", "v4-nocache", b"\0" + igmpmsg(1, 0, "192.0.2.5", "225.2.3.4"))
    write("upcall", "v4-wrongvif", b"\0" + igmpmsg(2, 1, "192.0.2.1", "225.1.1.1"))
    write("upcall", "v4-wholepkt", b"\0" + igmpmsg(3, 2, "192.0.2.1", "225.9.9.9"))
    write("upcall", "v6-nocache", b"\1" + mrt6msg(1, 1, "2001:db8::5", "ff0e::5"))
    write("upcall", "v6-wrongmif", b"\1" + mrt6msg(2, 0, "2001:db8::1", "ff0e::1"))


def nlattr(kind, payload):
    length = 4 + len(payload)
    return struct.pack("=HH", length, kind) + payload + b"\0" * ((4 - length % 4) % 4)


def link_msg(msg_type, index, name, flags):
    RTM_NEWLINK, IFLA_IFNAME, IFLA_MTU = 16, 3, 4
    body = struct.pack("=BxHiII", 0, 1, index, flags, 0xFFFFFFFF)  # struct ifinfomsg
    body += nlattr(IFLA_IFNAME, name.encode() + b"\0") + nlattr(IFLA_MTU, struct.pack("=I", 1500))
    return struct.pack("=IHHII", 16 + len(body), msg_type, 0, 0, 0) + body


def netlink_seeds():
    NEW, DEL = 16, 17
    UP, MULTICAST = 0x1, 0x1000
    write("netlink", "new", link_msg(NEW, 6, "a5", UP | MULTICAST))
    write("netlink", "down", link_msg(NEW, 2, "a1", MULTICAST))
    write("netlink", "del", link_msg(DEL, 3, "a2", UP | MULTICAST))
    write("netlink", "recreated", link_msg(DEL, 4, "a3", UP | MULTICAST) + link_msg(NEW, 9, "a3", UP | MULTICAST))
    write("netlink", "late", link_msg(NEW, 5, "a4", UP | MULTICAST) + link_msg(NEW, 7, "b1", UP | MULTICAST))


if __name__ == "__main__":
    config_seeds()
    rpc_seeds()
    upcall_seeds()
    netlink_seeds()
