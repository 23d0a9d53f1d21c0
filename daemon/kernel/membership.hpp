// Group memberships in the kernel: a pool of UDP sockets that hold mfcd's
// joins, through the protocol-independent API (MCAST_JOIN_GROUP,
// MCAST_JOIN_SOURCE_GROUP and their leave counterparts, struct group_req /
// group_source_req), the same for IPv4 and IPv6.
//
// Linux bounds what one socket may hold: net.ipv4.igmp_max_memberships
// (default 20) groups per IPv4 socket, net.ipv4.igmp_max_msf (10) and
// net.ipv6.mld_max_msf (64) sources per group filter. The pool spreads joins
// over as many sockets as it needs, opening one when the others are full and
// closing one when it holds nothing, so the 21st group is no different from
// the first. A socket never holds the same group on the same interface both
// as ASM and as SSM: the kernel refuses to mix filter modes in one entry.
//
// One join or leave is one setsockopt (two if a full socket must be passed
// over); no logging. Failures come back as core::Error with Errc::kernel,
// the errno and the operation, e.g.
// "MCAST_JOIN_GROUP a1 (*, 225.1.1.1): No such device".
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/joins.hpp"
#include "core/ports.hpp"
#include "core/result.hpp"

namespace mfcd::kernel {

struct MembershipLimits {
  size_t v4_groups = 20;   // net.ipv4.igmp_max_memberships
  size_t v4_sources = 10;  // net.ipv4.igmp_max_msf
  // IPv6 has no group count sysctl; the socket's option memory
  // (net.core.optmem_max) is the real bound. Use the IPv4 value so both
  // families behave alike; a socket that runs out earlier is passed over.
  size_t v6_groups = 20;
  size_t v6_sources = 64;  // net.ipv6.mld_max_msf

  // Reads the sysctls under `root` (normally /proc/sys, which shows the
  // values of the caller's network namespace); defaults where unreadable.
  static MembershipLimits read(const std::string& root = "/proc/sys");
};

using core::HeldMembership;

class MembershipSockets final : public core::MembershipPort {
 public:
  explicit MembershipSockets(MembershipLimits limits = {});
  ~MembershipSockets() override;  // closes every socket: the kernel drops their joins
  MembershipSockets(const MembershipSockets&) = delete;
  MembershipSockets& operator=(const MembershipSockets&) = delete;

  // Join on a socket with room (opening one if none has). Joining what is
  // already held succeeds without a syscall.
  core::Result<void> join(const core::Membership& m) override;
  // Leave and release the slot. What is not held is not_found; the slot is
  // released even when the kernel already forgot the membership (its
  // interface vanished) and says so.
  core::Result<void> leave(const core::Membership& m) override;

  bool holds(const core::Membership& m) const { return where_.count(m) != 0; }
  size_t size() const { return where_.size(); }
  size_t socket_count() const { return sockets_.size(); }
  // Everything held, by socket, then as Membership orders.
  std::vector<HeldMembership> held() const override;
  const MembershipLimits& limits() const { return limits_; }

  // Leaves nothing explicitly: closing the sockets drops every membership.
  void release_all() override;

 private:
  struct Entry {  // one (interface, group) on one socket
    bool ssm = false;
    std::set<core::Addr> sources;
    bool sources_full = false;  // the kernel said no more sources
  };
  struct Socket {
    size_t id = 0;
    core::Family family = core::Family::v4;
    int fd = -1;
    std::map<std::pair<int, core::Addr>, Entry> entries;
    bool groups_full = false;  // the kernel said no more groups
  };

  Socket* find_room(const core::Membership& m);
  core::Result<Socket*> open_socket(core::Family family);
  void close_socket(Socket* s);
  core::Result<void> do_join(Socket& s, const core::Membership& m);

  MembershipLimits limits_;
  std::vector<std::unique_ptr<Socket>> sockets_;
  std::map<core::Membership, Socket*> where_;
  size_t next_id_ = 0;
};

}  // namespace mfcd::kernel
