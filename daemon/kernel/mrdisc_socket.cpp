// The socket side of Multicast Router Discovery. Everything about the IP
// layer that RFC 4286 prescribes is set once on the socket, so a send is one
// sendmsg() with the interface in a PKTINFO control message: TTL / hop limit
// through the multicast TTL options (all our destinations are multicast),
// Router Alert as a socket-wide IP option / sticky Hop-by-Hop header. The
// IPv6 Router Alert value is 0 ("contains an MLD message"), the one snooping
// switches already look for: MRD messages are ICMPv6 like MLD and RFC 4286
// assigns no value of its own.
#include "kernel/mrdisc_socket.hpp"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/mrdisc.hpp"

namespace mfcd::kernel {

namespace {

using core::Errc;
using core::Family;

core::Error os_error(const std::string& what, int err = errno) {
  return core::make_error(Errc::kernel, what + ": " + std::strerror(err), err);
}

core::Addr from_in(const in_addr& a) {
  core::Addr out;
  out.family = Family::v4;
  std::memcpy(out.bytes.data(), &a, 4);
  return out;
}

core::Addr from_in6(const in6_addr& a) {
  core::Addr out;
  out.family = Family::v6;
  std::memcpy(out.bytes.data(), &a, 16);
  return out;
}

in_addr to_in(const core::Addr& a) {
  in_addr out{};
  std::memcpy(&out, a.bytes.data(), 4);
  return out;
}

in6_addr to_in6(const core::Addr& a) {
  in6_addr out{};
  std::memcpy(&out, a.bytes.data(), 16);
  return out;
}

template <typename T>
core::Result<void> set_option(int fd, int level, int name, const T& value, const char* what) {
  if (::setsockopt(fd, level, name, &value, sizeof(value)) != 0) return os_error(what);
  return {};
}

core::Result<void> configure_v4(int fd) {
  // Router Alert (RFC 2113): type 148, length 4, value 0 "examine packet".
  const uint8_t router_alert[4] = {IPOPT_RA, 4, 0, 0};
  if (::setsockopt(fd, IPPROTO_IP, IP_OPTIONS, router_alert, sizeof(router_alert)) != 0)
    return os_error("IP_OPTIONS (Router Alert)");
  if (auto r = set_option(fd, IPPROTO_IP, IP_MULTICAST_TTL, 1, "IP_MULTICAST_TTL"); !r) return r;
  if (auto r = set_option(fd, IPPROTO_IP, IP_MULTICAST_LOOP, 0, "IP_MULTICAST_LOOP"); !r) return r;
  return set_option(fd, IPPROTO_IP, IP_PKTINFO, 1, "IP_PKTINFO");
}

core::Result<void> configure_v6(int fd) {
  icmp6_filter filter{};
  ICMP6_FILTER_SETBLOCKALL(&filter);
  ICMP6_FILTER_SETPASS(core::mrdisc::kIcmp6Solicitation, &filter);
  if (auto r = set_option(fd, IPPROTO_ICMPV6, ICMP6_FILTER, filter, "ICMP6_FILTER"); !r) return r;
  // Hop-by-Hop header: next header (kernel fills it), length 0 (8 bytes),
  // Router Alert option (type 5, length 2, value 0), PadN of 0 bytes.
  const uint8_t hbh[8] = {0, 0, 5, 2, 0, 0, 1, 0};
  if (::setsockopt(fd, IPPROTO_IPV6, IPV6_HOPOPTS, hbh, sizeof(hbh)) != 0)
    return os_error("IPV6_HOPOPTS (Router Alert)");
  if (auto r = set_option(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, 1, "IPV6_MULTICAST_HOPS"); !r)
    return r;
  if (auto r = set_option(fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, 0u, "IPV6_MULTICAST_LOOP"); !r)
    return r;
  return set_option(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1, "IPV6_RECVPKTINFO");
}

}  // namespace

core::Result<std::unique_ptr<MrdiscSocket>> MrdiscSocket::open(Family family) {
  bool v4 = family == Family::v4;
  int fd = ::socket(v4 ? AF_INET : AF_INET6, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
                    v4 ? int{IPPROTO_IGMP} : int{IPPROTO_ICMPV6});
  if (fd < 0) return os_error(v4 ? "socket(IGMP)" : "socket(ICMPv6)");
  auto configured = v4 ? configure_v4(fd) : configure_v6(fd);
  if (!configured) {
    ::close(fd);
    return configured.error();
  }
  return std::unique_ptr<MrdiscSocket>(new MrdiscSocket(fd, family));
}

MrdiscSocket::~MrdiscSocket() {
  if (fd_ >= 0) ::close(fd_);
}

namespace {

core::Result<void> membership(int fd, Family family, int ifindex, bool join) {
  auto group = core::mrdisc::all_routers(family);
  std::string what = std::string(join ? "join " : "leave ") + group.str() + " on ifindex " +
                     std::to_string(ifindex);
  if (family == Family::v4) {
    ip_mreqn mreq{};
    mreq.imr_multiaddr = to_in(group);
    mreq.imr_ifindex = ifindex;
    if (::setsockopt(fd, IPPROTO_IP, join ? IP_ADD_MEMBERSHIP : IP_DROP_MEMBERSHIP, &mreq,
                     sizeof(mreq)) != 0)
      return os_error(what);
  } else {
    ipv6_mreq mreq{};
    mreq.ipv6mr_multiaddr = to_in6(group);
    mreq.ipv6mr_interface = static_cast<unsigned>(ifindex);
    if (::setsockopt(fd, IPPROTO_IPV6, join ? IPV6_ADD_MEMBERSHIP : IPV6_DROP_MEMBERSHIP, &mreq,
                     sizeof(mreq)) != 0)
      return os_error(what);
  }
  return {};
}

}  // namespace

core::Result<void> MrdiscSocket::join(int ifindex) {
  return membership(fd_, family_, ifindex, true);
}

core::Result<void> MrdiscSocket::leave(int ifindex) {
  return membership(fd_, family_, ifindex, false);
}

core::Result<void> MrdiscSocket::send(int ifindex, const core::Addr& source,
                                      std::span<const uint8_t> message) {
  auto dest = core::mrdisc::all_snoopers(family_);
  iovec iov{const_cast<uint8_t*>(message.data()), message.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(in6_pktinfo))] = {};
  msg.msg_control = control;

  sockaddr_in to4{};
  sockaddr_in6 to6{};
  if (family_ == Family::v4) {
    to4.sin_family = AF_INET;
    to4.sin_addr = to_in(dest);
    msg.msg_name = &to4;
    msg.msg_namelen = sizeof(to4);
    msg.msg_controllen = CMSG_SPACE(sizeof(in_pktinfo));
    auto* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = IPPROTO_IP;
    c->cmsg_type = IP_PKTINFO;
    c->cmsg_len = CMSG_LEN(sizeof(in_pktinfo));
    in_pktinfo info{};
    info.ipi_ifindex = ifindex;
    std::memcpy(CMSG_DATA(c), &info, sizeof(info));
  } else {
    to6.sin6_family = AF_INET6;
    to6.sin6_addr = to_in6(dest);
    to6.sin6_scope_id = static_cast<uint32_t>(ifindex);
    msg.msg_name = &to6;
    msg.msg_namelen = sizeof(to6);
    msg.msg_controllen = CMSG_SPACE(sizeof(in6_pktinfo));
    auto* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = IPPROTO_IPV6;
    c->cmsg_type = IPV6_PKTINFO;
    c->cmsg_len = CMSG_LEN(sizeof(in6_pktinfo));
    in6_pktinfo info{};
    info.ipi6_addr = to_in6(source);
    info.ipi6_ifindex = static_cast<unsigned>(ifindex);
    std::memcpy(CMSG_DATA(c), &info, sizeof(info));
  }
  ssize_t n = ::sendmsg(fd_, &msg, 0);
  if (n < 0) return os_error("send to " + dest.str() + " on ifindex " + std::to_string(ifindex));
  return {};
}

std::vector<MrdiscDatagram> MrdiscSocket::read(size_t budget, bool* more) {
  std::vector<MrdiscDatagram> out;
  *more = false;
  for (size_t i = 0; i < budget; ++i) {
    uint8_t buf[1500];
    iovec iov{buf, sizeof(buf)};
    sockaddr_storage from{};
    alignas(cmsghdr) char control[256];
    msghdr msg{};
    msg.msg_name = &from;
    msg.msg_namelen = sizeof(from);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    ssize_t n = ::recvmsg(fd_, &msg, MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      return out;  // EAGAIN: drained; anything else: try again at the next wake-up
    }
    MrdiscDatagram d;
    d.data.assign(buf, buf + n);
    for (auto* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
        in_pktinfo info{};
        std::memcpy(&info, CMSG_DATA(c), sizeof(info));
        d.ifindex = info.ipi_ifindex;
        d.dest = from_in(info.ipi_addr);
      } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
        in6_pktinfo info{};
        std::memcpy(&info, CMSG_DATA(c), sizeof(info));
        d.ifindex = static_cast<int>(info.ipi6_ifindex);
        d.dest = from_in6(info.ipi6_addr);
      }
    }
    if (from.ss_family == AF_INET)
      d.source = from_in(reinterpret_cast<const sockaddr_in*>(&from)->sin_addr);
    else if (from.ss_family == AF_INET6)
      d.source = from_in6(reinterpret_cast<const sockaddr_in6*>(&from)->sin6_addr);
    out.push_back(std::move(d));
  }
  *more = true;
  return out;
}

std::optional<core::Addr> mrdisc_source(Family family, const std::string& ifname) {
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return std::nullopt;
  std::optional<core::Addr> found;
  for (auto* ifa = list; ifa && !found; ifa = ifa->ifa_next) {
    if (!ifa->ifa_addr || ifname != ifa->ifa_name) continue;
    if (family == Family::v4 && ifa->ifa_addr->sa_family == AF_INET) {
      found = from_in(reinterpret_cast<const sockaddr_in*>(ifa->ifa_addr)->sin_addr);
    } else if (family == Family::v6 && ifa->ifa_addr->sa_family == AF_INET6) {
      const auto& a = reinterpret_cast<const sockaddr_in6*>(ifa->ifa_addr)->sin6_addr;
      if (IN6_IS_ADDR_LINKLOCAL(&a)) found = from_in6(a);
    }
  }
  ::freeifaddrs(list);
  return found;
}

}  // namespace mfcd::kernel
