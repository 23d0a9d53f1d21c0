// kernel_check: the kernel layer against the real kernel, as root, inside a
// network namespace that tests/e2e/test_kernel_layer.sh built for it.
//
// The unit tests fake the kernel; this program is where the fake's promises
// are checked. It drives daemon/kernel/ directly (no daemon) and judges every
// step by the kernel's own view, /proc/net/ip_mr_* and /proc/net/ip6_mr_*,
// compared exactly: the rows it made and nothing else. Traffic for the
// counter and upcall checks is sent from the sender namespace (--sender-netns)
// over a veth into the router's a1: a socket opened after setns() stays in
// that namespace, so one process can send there and route here.
//
// Expected topology (router namespace = the one we run in):
//   a1 (192.0.2.1, 2001:db8:1::1) <-> b1 in the sender namespace
//                                     (192.0.2.2, 2001:db8:1::2)
//   a2 <-> b2, both up in the router namespace (stand-ins for dummies)
//
// Exit 0 pass, 1 fail (with the reason on stderr), 77 skip (reason on stdout).

#include <arpa/inet.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "kernel/mroute.hpp"
#include "kernel/netlink.hpp"

namespace {

using mfcd::core::Addr;
using mfcd::core::Family;
using mfcd::core::MfcConf;
using mfcd::core::SgKey;
using mfcd::core::VifConf;
using mfcd::kernel::Mroute;
using mfcd::kernel::OpenFailure;

[[noreturn]] void fail(const std::string& why) {
  std::fprintf(stderr, "FAIL: %s\n", why.c_str());
  std::exit(1);
}

[[noreturn]] void skip(const std::string& why) {
  std::printf("SKIP: %s\n", why.c_str());
  std::exit(77);
}

void step(const std::string& what) {
  std::printf("ok: %s\n", what.c_str());
}

void expect(bool cond, const std::string& why) {
  if (!cond) fail(why);
}

template <typename R>
void expect_ok(const R& r, const std::string& what) {
  if (!r) fail(what + ": " + r.error().message);
}

// Poll a condition with a deadline instead of sleeping a fixed time.
bool wait_until(const std::function<bool()>& cond, int ms = 3000) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (std::chrono::steady_clock::now() < end) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return cond();
}

Addr addr(const char* text) {
  Addr a;
  if (inet_pton(AF_INET, text, a.bytes.data()) == 1) {
    a.family = Family::v4;
  } else if (inet_pton(AF_INET6, text, a.bytes.data()) == 1) {
    a.family = Family::v6;
  } else {
    fail(std::string("bad address in test: ") + text);
  }
  return a;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::vector<std::string>> proc_rows(const std::string& path) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream in(read_file(path));
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::vector<std::string> tokens;
    for (std::string t; ls >> t;)
      tokens.push_back(t);
    if (!tokens.empty()) rows.push_back(tokens);
  }
  return rows;
}

// VIF tables as "index name" lines.
std::vector<std::string> vif_table(Family f) {
  std::vector<std::string> out;
  for (const auto& r :
       proc_rows(f == Family::v4 ? "/proc/net/ip_mr_vif" : "/proc/net/ip6_mr_vif")) {
    if (r.size() >= 2) out.push_back(r[0] + " " + r[1]);
  }
  return out;
}

// The kernel prints an IPv4 MFC address as the raw __be32 in %08X and an IPv6
// one as %pI6 (eight groups of four hex digits); spell ours the same way.
std::string proc_addr(const Addr& a) {
  char buf[64];
  if (a.family == Family::v4) {
    uint32_t raw;
    std::memcpy(&raw, a.bytes.data(), 4);
    std::snprintf(buf, sizeof buf, "%08X", raw);
    return buf;
  }
  std::string s;
  for (int i = 0; i < 16; i += 2) {
    std::snprintf(buf, sizeof buf, "%s%02x%02x", i ? ":" : "", a.bytes[static_cast<size_t>(i)],
                  a.bytes[static_cast<size_t>(i + 1)]);
    s += buf;
  }
  return s;
}

// MFC rows as "group origin iif oif:ttl..." (counters left out).
std::vector<std::string> mfc_table(Family f) {
  std::vector<std::string> out;
  for (const auto& r :
       proc_rows(f == Family::v4 ? "/proc/net/ip_mr_cache" : "/proc/net/ip6_mr_cache")) {
    if (r.size() < 6) continue;
    std::string row = r[0] + " " + r[1] + " " + r[2];
    for (size_t i = 6; i < r.size(); ++i)
      row += " " + r[i];
    out.push_back(row);
  }
  return out;
}

std::string mfc_row(const SgKey& key, int iif, const std::string& oifs) {
  std::string row = proc_addr(key.group) + " " + proc_addr(key.source) + " " + std::to_string(iif);
  if (!oifs.empty()) row += " " + oifs;
  return row;
}

void expect_table(const std::vector<std::string>& got, const std::vector<std::string>& want,
                  const std::string& what) {
  if (got == want) return;
  std::string msg = what + " differs\n want:";
  for (const auto& w : want)
    msg += "\n  " + w;
  msg += "\n got:";
  for (const auto& g : got)
    msg += "\n  " + g;
  fail(msg);
}

// Sends `count` UDP datagrams to `group` from the sender namespace out of its
// interface `ifname`, with TTL / hop limit 8.
void send_from(const std::string& netns, const std::string& ifname, const Addr& group, int count) {
  const int self = ::open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  const int other = ::open(("/run/netns/" + netns).c_str(), O_RDONLY | O_CLOEXEC);
  if (self < 0 || other < 0) fail("open netns " + netns + ": " + std::strerror(errno));
  if (::setns(other, CLONE_NEWNET) < 0) fail(std::string("setns: ") + std::strerror(errno));
  const bool v4 = group.family == Family::v4;
  const int s = ::socket(v4 ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  const unsigned ifindex = if_nametoindex(ifname.c_str());
  if (::setns(self, CLONE_NEWNET) < 0) fail(std::string("setns back: ") + std::strerror(errno));
  ::close(self);
  ::close(other);
  if (s < 0 || ifindex == 0) fail("sender socket or " + ifname + " in " + netns);
  const int hops = 8;
  const char payload[] = "mfcd kernel_check";
  for (int i = 0; i < count; ++i) {
    ssize_t sent = -1;
    if (v4) {
      ip_mreqn mreq{};
      mreq.imr_ifindex = static_cast<int>(ifindex);
      ::setsockopt(s, IPPROTO_IP, IP_MULTICAST_IF, &mreq, sizeof mreq);
      ::setsockopt(s, IPPROTO_IP, IP_MULTICAST_TTL, &hops, sizeof hops);
      sockaddr_in to{};
      to.sin_family = AF_INET;
      to.sin_port = htons(5000);
      std::memcpy(&to.sin_addr, group.bytes.data(), 4);
      sent = ::sendto(s, payload, sizeof payload, 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
    } else {
      const int idx = static_cast<int>(ifindex);
      ::setsockopt(s, IPPROTO_IPV6, IPV6_MULTICAST_IF, &idx, sizeof idx);
      ::setsockopt(s, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &hops, sizeof hops);
      sockaddr_in6 to{};
      to.sin6_family = AF_INET6;
      to.sin6_port = htons(5000);
      std::memcpy(&to.sin6_addr, group.bytes.data(), 16);
      sent = ::sendto(s, payload, sizeof payload, 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
    }
    if (sent < 0) fail(std::string("sendto: ") + std::strerror(errno));
  }
  ::close(s);
}

const mfcd::core::Link* find(const mfcd::core::Links& links, const std::string& name) {
  for (const auto& l : links) {
    if (l.name == name) return &l;
  }
  return nullptr;
}

struct Names {
  std::string fam;  // for messages
  std::string source, group, group2;
};

// Everything that is per family: VIFs, MFC add / in-place change / counters /
// upcalls / delete, VIF delete. Leaves the family's tables empty.
void check_family(Mroute& mr, Family f, const mfcd::core::Links& links,
                  const std::string& sender_ns, const Names& n) {
  const std::string fam = n.fam;
  const char* vifname = f == Family::v4 ? "VIF" : "MIF";
  const std::vector<std::string> names = {"a1", "a2", "b2"};
  for (int i = 0; i < 3; ++i) {
    const auto* link = find(links, names[static_cast<size_t>(i)]);
    VifConf vc;
    vc.family = f;
    vc.vif = i;
    vc.ifindex = link->ifindex;
    vc.ifname = link->name;
    vc.ttl_threshold = 1;
    expect_ok(mr.add_vif(vc), fam + " add " + vifname + " " + link->name);
  }
  expect_table(vif_table(f), {"0 a1", "1 a2", "2 b2"}, fam + " VIF table after add");
  step(fam + " " + vifname + "s a1=0 a2=1 b2=2 in /proc");

  {  // A VIF index in use is refused, with a message naming the interface.
    VifConf dup;
    dup.family = f;
    dup.vif = 0;
    dup.ifindex = find(links, "a2")->ifindex;
    dup.ifname = "a2";
    auto r = mr.add_vif(dup);
    expect(!r && r.error().sys_errno == EADDRINUSE,
           fam + " a second " + vifname + " 0 must fail with EADDRINUSE");
    expect(r.error().message.find("a2 (ifindex ") != std::string::npos,
           fam + " message should name the interface: " + r.error().message);
    step(fam + " duplicate " + vifname + " index: " + r.error().message);
  }

  MfcConf mfc;
  mfc.key = SgKey{addr(n.source.c_str()), addr(n.group.c_str())};
  mfc.iif = 0;
  mfc.ttls[1] = 1;
  expect_ok(mr.add_mfc(mfc), fam + " add MFC");
  expect_table(mfc_table(f), {mfc_row(mfc.key, 0, "1:1")}, fam + " MFC after add");
  step(fam + " MFC " + n.source + "," + n.group + " iif a1 oif a2");

  // Change the OIF set in place (one call, no delete): a2 + b2.
  mfc.ttls[2] = f == Family::v4 ? 3 : 1;
  expect_ok(mr.add_mfc(mfc), fam + " change MFC");
  expect_table(mfc_table(f), {mfc_row(mfc.key, 0, f == Family::v4 ? "1:1 2:3" : "1:1 2:1")},
               fam + " MFC after OIF change");
  // and drop a2 again
  mfc.ttls[1] = 0;
  expect_ok(mr.add_mfc(mfc), fam + " change MFC");
  expect_table(mfc_table(f), {mfc_row(mfc.key, 0, f == Family::v4 ? "2:3" : "2:1")},
               fam + " MFC after second OIF change");
  step(fam + " OIFs changed in place");

  auto c = mr.counters(mfc.key);
  expect_ok(c, fam + " counters");
  expect(c->packets == 0 && c->bytes == 0, fam + " counters should start at zero");

  // Each packet is counted twice: once arriving on a1 and forwarded out b2,
  // and once more when that copy comes back in on a2, its veth peer, where it
  // is on the wrong VIF. So wrong_if == 3 proves all 3 were forwarded.
  send_from(sender_ns, "b1", mfc.key.group, 3);
  bool counted = wait_until([&] {
    auto now = mr.counters(mfc.key);
    return now && now->packets == 6 && now->wrong_if == 3;
  });
  c = mr.counters(mfc.key);
  expect_ok(c, fam + " counters");
  expect(counted, fam + " counters: want 6 packets, 3 wrong_if; got " + std::to_string(c->packets) +
                      ", " + std::to_string(c->wrong_if));
  expect(c->bytes > 0, fam + " counters: no bytes");
  step(fam + " counters: " + std::to_string(c->packets) + " packets, " + std::to_string(c->bytes) +
       " bytes, " + std::to_string(c->wrong_if) +
       " wrong_if (forwarded copies looping back over a2/b2)");

  // A flow nobody configured: one NOCACHE upcall on VIF 0 (a1).
  const Addr group2 = addr(n.group2.c_str());
  send_from(sender_ns, "b1", group2, 2);
  std::vector<mfcd::kernel::Upcall> ups;
  wait_until([&] {
    pollfd p{mr.fd(f), POLLIN, 0};
    if (::poll(&p, 1, 0) > 0) {
      bool more = false;
      auto got = mr.read_upcalls(f, 64, &more);
      ups.insert(ups.end(), got.begin(), got.end());
    }
    return !ups.empty();
  });
  expect(ups.size() == 1, fam + " want 1 upcall, got " + std::to_string(ups.size()));
  const auto& up = ups.front();
  expect(up.family == f && up.type == mfcd::kernel::UpcallType::nocache && up.vif == 0 &&
             up.source == mfc.key.source && up.group == group2,
         fam + " upcall fields wrong (vif " + std::to_string(up.vif) + ")");
  step(fam + " NOCACHE upcall for " + n.group2 + " on vif 0");
  {  // the budget is honoured and an empty queue reads as nothing
    bool more = true;
    auto none = mr.read_upcalls(f, 8, &more);
    expect(none.empty() && !more, fam + " drained socket should read empty");
  }

  // Resolve it (the kernel keeps the unresolved entry with iif -1 until then),
  // then delete both entries.
  MfcConf mfc2;
  mfc2.key = SgKey{mfc.key.source, group2};
  mfc2.iif = 0;
  mfc2.ttls[1] = 1;
  expect_ok(mr.add_mfc(mfc2), fam + " add resolved MFC");
  expect_ok(mr.del_mfc(mfc2.key), fam + " del resolved MFC");
  expect_ok(mr.del_mfc(mfc.key), fam + " del MFC");
  expect_table(mfc_table(f), {}, fam + " MFC after delete");
  auto again = mr.del_mfc(mfc.key);
  expect(!again && again.error().sys_errno == ENOENT,
         fam + " deleting a missing MFC must fail with ENOENT");
  step(fam + " MFC deleted; again: " + again.error().message);
  auto gone = mr.counters(mfc.key);
  expect(!gone, fam + " counters of a deleted entry must fail");

  for (int i = 2; i >= 0; --i)
    expect_ok(mr.del_vif(f, i), fam + " del VIF");
  expect_table(vif_table(f), {}, fam + " VIF table after delete");
  auto r = mr.del_vif(f, 0);
  expect(!r, fam + " deleting a missing VIF must fail");
  step(fam + " " + vifname + "s deleted; again: " + r.error().message);
}

void check_link_monitor() {
  auto mon = mfcd::kernel::LinkMonitor::open();
  expect_ok(mon, "LinkMonitor::open");
  auto& m = **mon;
  std::vector<mfcd::kernel::LinkEvent> events;
  bool resync = false;
  auto read = [&] {
    pollfd p{m.fd(), POLLIN, 0};
    if (::poll(&p, 1, 0) > 0) {
      bool lost = false, more = false;
      auto got = m.read_events(1024, &lost, &more);
      resync = resync || lost;
      events.insert(events.end(), got.begin(), got.end());
    }
  };
  auto seen = [&](mfcd::kernel::LinkEvent::Kind kind, const std::string& name,
                  const std::function<bool(const mfcd::core::Link&)>& pred) {
    return wait_until([&] {
      read();
      for (const auto& e : events) {
        if (e.kind == kind && e.link.name == name && pred(e.link)) return true;
      }
      return false;
    });
  };
  using Kind = mfcd::kernel::LinkEvent::Kind;
  auto any = [](const mfcd::core::Link&) { return true; };

  expect(std::system("ip link add c1 type veth peer name d1") == 0, "ip link add c1");
  expect(seen(Kind::added_or_changed, "c1", any), "LinkMonitor did not report c1 added");
  step("LinkMonitor: c1 added");

  expect(std::system("ip link set c1 up") == 0, "ip link set c1 up");
  expect(seen(Kind::added_or_changed, "c1", [](const auto& l) { return l.up; }),
         "LinkMonitor did not report c1 up");
  step("LinkMonitor: c1 up");

  // A budget bounds one read: three events, a budget of one message.
  expect(std::system("ip link set c1 down && ip link set c1 up && ip link set c1 down") == 0,
         "ip link set c1 down/up/down");
  wait_until([&] {
    pollfd p{m.fd(), POLLIN, 0};
    return ::poll(&p, 1, 0) > 0;
  });
  bool lost = false, more = false;
  auto one = m.read_events(1, &lost, &more);
  expect(one.size() <= 1 && more, "LinkMonitor: a budget of 1 read more than one message");
  step("LinkMonitor: a read stops at its budget and says more is queued");

  expect(std::system("ip link del c1") == 0, "ip link del c1");
  expect(seen(Kind::removed, "c1", any), "LinkMonitor did not report c1 removed");
  expect(!resync, "LinkMonitor overran on a handful of events");
  step("LinkMonitor: c1 removed");

  auto links = mfcd::kernel::dump_links();
  expect_ok(links, "dump_links");
  expect(find(*links, "c1") == nullptr && find(*links, "d1") == nullptr, "c1/d1 still in dump");

  // A burst that overruns a tiny receive buffer must be reported as a resync.
  auto small = mfcd::kernel::LinkMonitor::open();
  expect_ok(small, "LinkMonitor::open (small)");
  (*small)->set_rcvbuf(1);  // the kernel rounds this up to its minimum
  expect(std::system("for i in $(seq 1 16); do ip link add x$i type veth peer name y$i || exit 1; "
                     "done; for i in $(seq 1 16); do ip link del x$i || exit 1; done") == 0,
         "veth burst");
  // A budget of one message: after the overrun the read goes on to the
  // end of the queue anyway, and hands back no event, all of them stale.
  lost = false;
  auto stale = (*small)->read_events(1, &lost, &more);
  expect(lost, "LinkMonitor: overrun not reported as resync");
  expect(stale.empty() && !more, "LinkMonitor: an overrun read left stale events to apply");
  bool lost_again = false;
  auto after = (*small)->read_events(1024, &lost_again, &more);
  expect(after.empty() && !lost_again, "LinkMonitor: messages still queued after an overrun read");
  step("LinkMonitor: overrun reported as resync, the stale queue read to its end");
}

}  // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  std::string sender_ns;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--sender-netns" && i + 1 < argc) {
      sender_ns = argv[++i];
    } else {
      std::fprintf(stderr, "usage: kernel_check --sender-netns NAME\n");
      return 2;
    }
  }
  if (sender_ns.empty()) {
    std::fprintf(stderr, "usage: kernel_check --sender-netns NAME\n");
    return 2;
  }
  if (::geteuid() != 0) skip("needs root");

  auto links = mfcd::kernel::dump_links();
  expect_ok(links, "dump_links");
  for (const char* name : {"a1", "a2", "b2"}) {
    const auto* l = find(*links, name);
    expect(l != nullptr, std::string("dump_links: no ") + name);
    expect(l->ifindex > 0 && l->up && l->multicast && !l->loopback,
           std::string("dump_links: wrong flags on ") + name);
  }
  const auto* lo = find(*links, "lo");
  expect(lo != nullptr && lo->loopback, "dump_links: lo not a loopback");
  step("dump_links: " + std::to_string(links->size()) + " links, a1/a2/b2 up+multicast");

  auto opened = Mroute::open(0);
  if (auto* e = std::get_if<mfcd::kernel::OpenError>(&opened)) {
    if (e->kind == OpenFailure::unsupported) skip(e->message);
    fail("Mroute::open(0): " + e->message);
  }
  auto mr = std::move(std::get<std::unique_ptr<Mroute>>(opened));
  expect(mr->fd(Family::v4) >= 0, "no IPv4 socket");
  step("Mroute::open(0)" +
       std::string(mr->has_v6() ? " with IPv6" : ", IPv6 off: " + mr->off_note(Family::v6)));
  mr->set_rcvbuf(1 << 20);

  {  // The table is held: a second daemon on it must get in_use.
    auto second = Mroute::open(0);
    auto* e = std::get_if<mfcd::kernel::OpenError>(&second);
    expect(e != nullptr && e->kind == OpenFailure::in_use,
           "second open of table 0 should fail with in_use");
    step("second open(0): " + e->message);
    // Another table is independent (when the kernel has multiple tables).
    auto other = Mroute::open(7);
    if (auto* oe = std::get_if<mfcd::kernel::OpenError>(&other)) {
      expect(oe->kind == OpenFailure::unsupported, "open(7) failed: " + oe->message);
      step("open(7): no multiple tables here: " + oe->message);
    } else {
      step("open(7) alongside open(0)");
    }
  }

  check_family(*mr, Family::v4, *links, sender_ns, {"IPv4", "192.0.2.2", "232.1.1.1", "232.1.1.2"});
  if (mr->has_v6()) {
    check_family(*mr, Family::v6, *links, sender_ns,
                 {"IPv6", "2001:db8:1::2", "ff0e::1:1", "ff0e::1:2"});
  } else {
    step("IPv6 skipped: " + mr->off_note(Family::v6));
  }

  {  // Closing the sockets removes everything made through them.
    VifConf vc;
    vc.vif = 0;
    vc.ifindex = find(*links, "a2")->ifindex;
    vc.ifname = "a2";
    expect_ok(mr->add_vif(vc), "add VIF before close");
    MfcConf mfc;
    mfc.key = SgKey{addr("192.0.2.2"), addr("232.1.1.9")};
    mfc.ttls[0] = 1;
    mfc.iif = 0;
    expect_ok(mr->add_mfc(mfc), "add MFC before close");
    if (mr->has_v6()) {
      vc.family = Family::v6;
      expect_ok(mr->add_vif(vc), "add MIF before close");
      mfc.key = SgKey{addr("2001:db8:1::2"), addr("ff0e::1:9")};
      expect_ok(mr->add_mfc(mfc), "add IPv6 MFC before close");
    }
    expect(!mfc_table(Family::v4).empty(), "MFC not installed before close");
    mr.reset();
    expect_table(vif_table(Family::v4), {}, "IPv4 VIFs after close");
    expect_table(mfc_table(Family::v4), {}, "IPv4 MFC after close");
    expect_table(vif_table(Family::v6), {}, "IPv6 MIFs after close");
    expect_table(mfc_table(Family::v6), {}, "IPv6 MFC after close");
    auto reopened = Mroute::open(0);
    expect(std::holds_alternative<std::unique_ptr<Mroute>>(reopened),
           "table 0 should be free again after close");
    step("close removed every VIF and entry; table free again");
  }

  check_link_monitor();
  std::printf("PASS\n");
  return 0;
}
