// The membership pool: a join goes to the first socket of its family that
// can take it (same group already filtered there for an SSM source, else any
// socket below the group limit), else to a new socket. The limits come from
// the sysctls, but the kernel has the last word: ENOBUFS from a socket we
// thought had room marks it full and the join moves on, so a changed sysctl
// or IPv6's memory-based bound never turns into a failed join.
#include "kernel/membership.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

namespace mfcd::kernel {
namespace {

using core::Family;

sockaddr_storage sockaddr_of(const core::Addr& a) {
  sockaddr_storage ss{};
  if (a.family == Family::v4) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
    sin->sin_family = AF_INET;
    std::memcpy(&sin->sin_addr, a.bytes.data(), 4);
  } else {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
    sin6->sin6_family = AF_INET6;
    std::memcpy(&sin6->sin6_addr, a.bytes.data(), 16);
  }
  return ss;
}

int level_of(Family f) {
  return f == Family::v4 ? IPPROTO_IP : IPPROTO_IPV6;
}

core::Error sys_error(const char* op, const core::Membership& m, int err) {
  return core::make_error(core::Errc::kernel,
                          std::string(op) + " " + m.str() + ": " + std::strerror(err), err);
}

// One setsockopt of the four operations; errno on failure, 0 on success.
int membership_op(int fd, bool join, const core::Membership& m) {
  const auto f = static_cast<uint32_t>(m.ifindex);
  if (m.source) {
    group_source_req req{};
    req.gsr_interface = f;
    req.gsr_group = sockaddr_of(m.group);
    req.gsr_source = sockaddr_of(*m.source);
    const int opt = join ? MCAST_JOIN_SOURCE_GROUP : MCAST_LEAVE_SOURCE_GROUP;
    return ::setsockopt(fd, level_of(m.family()), opt, &req, sizeof req) == 0 ? 0 : errno;
  }
  group_req req{};
  req.gr_interface = f;
  req.gr_group = sockaddr_of(m.group);
  const int opt = join ? MCAST_JOIN_GROUP : MCAST_LEAVE_GROUP;
  return ::setsockopt(fd, level_of(m.family()), opt, &req, sizeof req) == 0 ? 0 : errno;
}

const char* op_name(bool join, const core::Membership& m) {
  if (m.source) return join ? "MCAST_JOIN_SOURCE_GROUP" : "MCAST_LEAVE_SOURCE_GROUP";
  return join ? "MCAST_JOIN_GROUP" : "MCAST_LEAVE_GROUP";
}

size_t read_sysctl(const std::string& path, size_t fallback) {
  std::ifstream in(path);
  long long value = 0;
  if (!(in >> value) || value <= 0) return fallback;
  return static_cast<size_t>(value);
}

}  // namespace

MembershipLimits MembershipLimits::read(const std::string& root) {
  MembershipLimits l;
  l.v4_groups = read_sysctl(root + "/net/ipv4/igmp_max_memberships", l.v4_groups);
  l.v4_sources = read_sysctl(root + "/net/ipv4/igmp_max_msf", l.v4_sources);
  l.v6_groups = l.v4_groups;
  l.v6_sources = read_sysctl(root + "/net/ipv6/mld_max_msf", l.v6_sources);
  return l;
}

MembershipSockets::MembershipSockets(MembershipLimits limits) : limits_(limits) {}

MembershipSockets::~MembershipSockets() {
  release_all();
}

void MembershipSockets::release_all() {
  for (auto& s : sockets_)
    if (s->fd >= 0) ::close(s->fd);
  sockets_.clear();
  where_.clear();
}

core::Result<MembershipSockets::Socket*> MembershipSockets::open_socket(Family family) {
  const int af = family == Family::v4 ? AF_INET : AF_INET6;
  const int fd = ::socket(af, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_UDP);
  if (fd < 0) {
    const int err = errno;
    return core::make_error(core::Errc::kernel,
                            std::string("cannot open a ") + (af == AF_INET ? "UDP" : "UDPv6") +
                                " socket for group memberships: " + std::strerror(err),
                            err);
  }
  auto s = std::make_unique<Socket>();
  s->id = next_id_++;
  s->family = family;
  s->fd = fd;
  sockets_.push_back(std::move(s));
  return sockets_.back().get();
}

void MembershipSockets::close_socket(Socket* s) {
  ::close(s->fd);
  std::erase_if(sockets_, [s](const std::unique_ptr<Socket>& p) { return p.get() == s; });
}

MembershipSockets::Socket* MembershipSockets::find_room(const core::Membership& m) {
  const bool v4 = m.family() == Family::v4;
  const size_t max_groups = v4 ? limits_.v4_groups : limits_.v6_groups;
  const size_t max_sources = v4 ? limits_.v4_sources : limits_.v6_sources;
  const std::pair<int, core::Addr> slot{m.ifindex, m.group};
  // An SSM source best joins a filter that already exists: it costs no group.
  if (m.source) {
    for (auto& s : sockets_) {
      if (s->family != m.family()) continue;
      auto e = s->entries.find(slot);
      if (e != s->entries.end() && e->second.ssm && !e->second.sources_full &&
          e->second.sources.size() < max_sources)
        return s.get();
    }
  }
  for (auto& s : sockets_) {
    if (s->family != m.family() || s->groups_full) continue;
    if (s->entries.size() >= max_groups || s->entries.count(slot)) continue;
    return s.get();
  }
  return nullptr;
}

core::Result<void> MembershipSockets::do_join(Socket& s, const core::Membership& m) {
  if (int err = membership_op(s.fd, true, m); err != 0) return sys_error(op_name(true, m), m, err);
  auto& e = s.entries[{m.ifindex, m.group}];
  e.ssm = m.source.has_value();
  if (m.source) e.sources.insert(*m.source);
  where_[m] = &s;
  return {};
}

core::Result<void> MembershipSockets::join(const core::Membership& m) {
  if (holds(m)) return {};
  // Each pass either joins, fails for good, or marks one socket (or one
  // filter) full, so this ends.
  for (;;) {
    Socket* s = find_room(m);
    const bool fresh = s == nullptr;
    if (fresh) {
      auto opened = open_socket(m.family());
      if (!opened) return opened.error();
      s = opened.value();
    }
    auto joined = do_join(*s, m);
    if (joined) return joined;
    const int err = joined.error().sys_errno;
    if (!fresh && (err == ENOBUFS || err == ENOMEM)) {
      auto e = s->entries.find({m.ifindex, m.group});
      if (m.source && e != s->entries.end())
        e->second.sources_full = true;
      else
        s->groups_full = true;
      continue;
    }
    if (fresh) close_socket(s);
    return joined.error();
  }
}

core::Result<void> MembershipSockets::leave(const core::Membership& m) {
  auto w = where_.find(m);
  if (w == where_.end())
    return core::make_error(core::Errc::not_found, "membership " + m.str() + " is not held");
  Socket* s = w->second;
  const int err = membership_op(s->fd, false, m);
  where_.erase(w);
  auto e = s->entries.find({m.ifindex, m.group});
  if (e != s->entries.end()) {
    if (m.source) e->second.sources.erase(*m.source);
    // The kernel drops the whole entry with its last source (or the ASM
    // join), so the socket has room for a group again.
    if (!m.source || e->second.sources.empty()) {
      s->entries.erase(e);
      s->groups_full = false;
    } else {
      e->second.sources_full = false;
    }
  }
  if (s->entries.empty()) close_socket(s);
  // ENODEV / EADDRNOTAVAIL: the interface went and the kernel dropped the
  // membership with it. What we wanted is true either way.
  if (err != 0 && err != ENODEV && err != EADDRNOTAVAIL)
    return sys_error(op_name(false, m), m, err);
  return {};
}

std::vector<HeldMembership> MembershipSockets::held() const {
  std::vector<HeldMembership> out;
  out.reserve(where_.size());
  for (const auto& [m, s] : where_)
    out.push_back({s->id, m});
  std::stable_sort(out.begin(), out.end(), [](const HeldMembership& a, const HeldMembership& b) {
    return a.socket < b.socket;
  });
  return out;
}

}  // namespace mfcd::kernel
