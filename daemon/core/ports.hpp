// The one door to the kernel's multicast forwarding state, as the core sees
// it. The planner decides what changes; a KernelPort only knows how. One call
// is one syscall: no retries, no policy, no logging. kernel/ implements it
// with mroute sockets; tests/unit/fake_kernel.hpp records calls instead.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "core/addr.hpp"
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

class KernelPort {
 public:
  virtual ~KernelPort() = default;
  virtual Result<void> add_vif(const VifConf& vif) = 0;
  virtual Result<void> del_vif(Family family, VifIndex vif) = 0;
  // ADD on an existing (S,G) updates it in place (OIFs and even the inbound
  // VIF), so a change is one call and the flow never sees a gap.
  virtual Result<void> add_mfc(const MfcConf& mfc) = 0;
  virtual Result<void> del_mfc(const SgKey& key) = 0;
};

}  // namespace mfcd::core
