// Raw sockets for Multicast Router Discovery (RFC 4286), one per family.
//
// One socket serves every interface of its family: the outgoing interface is
// chosen per message (IP_PKTINFO / IPV6_PKTINFO) and the receiving one is
// reported the same way, so enabling mrdisc on an interface costs a group
// join, not a socket. Every message leaves with TTL / hop limit 1 and the
// Router Alert option (IPv4: IP_OPTIONS; IPv6: a sticky Hop-by-Hop header set
// with IPV6_HOPOPTS), as RFC 4286 section 3.3 asks; loopback of our own
// messages is off. Received are only Solicitations: the IPv6 socket filters
// with ICMP6_FILTER, the IPv4 one sees every IGMP packet and the caller
// decodes (core/mrdisc.hpp). No logging; errors are core::Error with errno.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/addr.hpp"
#include "core/result.hpp"

namespace mfcd::kernel {

struct MrdiscDatagram {
  int ifindex = 0;
  core::Addr source;
  core::Addr dest;
  // IPv4: the whole packet from the IP header on (core::mrdisc::parse_ipv4);
  // IPv6: the ICMPv6 message only.
  std::vector<uint8_t> data;
};

class MrdiscSocket {
 public:
  // Opens and configures the family's raw socket (non-blocking, close-on-exec).
  static core::Result<std::unique_ptr<MrdiscSocket>> open(core::Family family);
  MrdiscSocket(const MrdiscSocket&) = delete;
  MrdiscSocket& operator=(const MrdiscSocket&) = delete;
  ~MrdiscSocket();

  int fd() const { return fd_; }
  core::Family family() const { return family_; }

  // Joins / leaves all-routers (224.0.0.2, ff02::2) on the interface, where
  // Solicitations are sent.
  core::Result<void> join(int ifindex);
  core::Result<void> leave(int ifindex);

  // Sends one encoded message to all-snoopers (224.0.0.106, ff02::6a) out of
  // `ifindex`. IPv6 sends from `source` (the interface's link-local address);
  // IPv4 lets the kernel pick the interface's primary address and ignores it.
  core::Result<void> send(int ifindex, const core::Addr& source, std::span<const uint8_t> message);

  // Reads what is queued without blocking, at most `budget` datagrams; *more
  // is true when the budget ran out before the queue did.
  std::vector<MrdiscDatagram> read(size_t budget, bool* more);

 private:
  MrdiscSocket(int fd, core::Family family) : fd_(fd), family_(family) {}
  int fd_ = -1;
  core::Family family_;
};

// The address messages of `family` leave `ifname` from: IPv4, the first IPv4
// address; IPv6, the first link-local one. nullopt when there is none, and
// then RFC 4286 has nothing to announce on that family.
std::optional<core::Addr> mrdisc_source(core::Family family, const std::string& ifname);

}  // namespace mfcd::kernel
