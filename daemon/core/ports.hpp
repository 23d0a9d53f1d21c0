// The doors between mfcd's decisions and the outside world, as the core and
// the router see them. The router decides what changes; a port only knows
// how. One call is one operation: no retries, no policy, no logging.
// kernel/ implements them with mroute and membership sockets;
// tests/unit/fakes.hpp records calls instead and injects failures.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/addr.hpp"
#include "core/joins.hpp"
#include "core/result.hpp"

namespace mfcd::core {

constexpr int kMaxVifs = 32;  // MAXVIFS / MAXMIFS in the kernel
using VifIndex = int;

struct VifConf {
  Family family = Family::v4;
  VifIndex vif = 0;
  int ifindex = 0;
  int ttl_threshold = 1;
  std::string ifname;  // for messages only
};

// One MFC entry. ttls[v] == 0: VIF v is not an outbound interface; n > 0:
// forward out of VIF v when the packet's TTL is greater than n.
// All zeros is a stop filter: the kernel drops the flow and asks no more.
struct MfcConf {
  SgKey key;
  VifIndex iif = 0;
  std::array<uint8_t, kMaxVifs> ttls{};
  bool operator==(const MfcConf&) const = default;
};

// An entry's counters, as the kernel keeps them (SIOCGETSGCNT). The kernel
// counts a packet that arrived on the wrong VIF in `packets` as well.
struct Counters {
  uint64_t packets = 0, bytes = 0, wrong_if = 0;
};

// A VIF's counters, as the kernel keeps them (SIOCGETVIFCNT): what arrived
// on it and what was forwarded out of it.
struct VifCounters {
  uint64_t packets_in = 0, packets_out = 0, bytes_in = 0, bytes_out = 0;
};

// The kernel's multicast forwarding state: VIFs and MFC entries.
class KernelPort {
 public:
  virtual ~KernelPort() = default;
  virtual Result<void> add_vif(const VifConf& vif) = 0;
  virtual Result<void> del_vif(Family family, VifIndex vif) = 0;
  // ADD on an existing (S,G) updates it in place (OIFs and even the inbound
  // VIF), so a change is one call and the flow never sees a gap.
  virtual Result<void> add_mfc(const MfcConf& mfc) = 0;
  virtual Result<void> del_mfc(const SgKey& key) = 0;
  // Drops every VIF and entry at once (closing the mroute sockets does
  // that, far faster than one delete per entry). Nothing can be written
  // afterwards.
  virtual void release_all() = 0;
  // Reads, not writes: not_found-like errors for a missing entry.
  virtual Result<Counters> counters(const SgKey& key) const = 0;
  // A VIF's counters; an error for a VIF the kernel does not have.
  virtual Result<VifCounters> vif_counters(Family family, VifIndex vif) const = 0;
  // Upcalls the kernel dropped because mfcd's queue was full, per family.
  virtual uint64_t upcalls_lost(Family family) const = 0;
};

// One kernel group membership held by mfcd, and the socket that holds it
// (a number, stable while that socket lives).
struct HeldMembership {
  size_t socket = 0;
  Membership membership;
};

// Group memberships (IGMP/MLD joins) in the kernel.
class MembershipPort {
 public:
  virtual ~MembershipPort() = default;
  // Joining what is held already succeeds and changes nothing.
  virtual Result<void> join(const Membership& m) = 0;
  // Leaving what is not held is not_found.
  virtual Result<void> leave(const Membership& m) = 0;
  // Drops every membership at once (closing their sockets).
  virtual void release_all() = 0;
  virtual std::vector<HeldMembership> held() const = 0;
};

// Reads of the system's own settings and tables: sysctls, sysfs attributes,
// /proc/net files (route.explain). nullopt: the file could not be read.
class SystemFiles {
 public:
  virtual ~SystemFiles() = default;
  virtual std::optional<std::string> read(const std::string& path) const = 0;
};

// Monotonic milliseconds, for idle times and feed switching.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual uint64_t now_ms() const = 0;
};

}  // namespace mfcd::core
