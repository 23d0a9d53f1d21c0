// The kernel's multicast routing tables, IPv4 and IPv6, behind core::KernelPort.
//
// An Mroute owns one IPv4 mroute socket (raw IGMP) and one IPv6 mroute
// socket (raw ICMPv6), each only when the kernel has that family's multicast
// routing. Whoever holds those sockets owns
// the table: every VIF and MFC entry made through them lives exactly as long
// as the Mroute does, so there is nothing to flush on startup or exit.
//
// One call is one syscall: no retries, no policy, no logging. Failures come
// back as core::Error with Errc::kernel, the errno and a message naming the
// operation, e.g. "MRT_ADD_VIF a1 (ifindex 5): Address already in use".
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "core/addr.hpp"
#include "core/ports.hpp"
#include "core/result.hpp"
#include "core/upcall.hpp"

namespace mfcd::kernel {

// Why open() failed, in the shape the daemon needs to pick its exit code.
enum class OpenFailure {
  none,
  in_use,       // EADDRINUSE: another daemon holds the table (exit 69)
  unsupported,  // the kernel has no multicast routing (or no such table support) (exit 76)
  permission,   // EPERM/EACCES (exit 77)
  os,           // anything else (exit 71)
};

struct OpenError {
  OpenFailure kind = OpenFailure::none;
  std::string message;
};

// The step of opening one family's mroute socket that failed: the words
// for a missing kernel feature depend on it.
enum class OpenStep { socket, filter, table, init };

// How a failed step reads to a user, and what kind of failure it is. Pure,
// for unit tests. A missing feature names its kernel option, e.g. "this
// kernel has no IPv4 multicast routing (CONFIG_IP_MROUTE; MRT_INIT:
// Protocol not available)".
OpenError describe_open_failure(core::Family family, OpenStep step, const std::string& what,
                                int err, uint32_t table);

using core::Counters;
using core::Upcall;
using core::UpcallType;

class Mroute final : public core::KernelPort {
 public:
  // Opens the IPv4 mroute socket (MRT_TABLE, then MRT_INIT) and the IPv6 one
  // (MRT6_TABLE, then MRT6_INIT). Table 0 means the kernel's default table
  // (RT_TABLE_DEFAULT, 253): MRT_TABLE is then not set at all; any other id is
  // passed to MRT_TABLE.
  //
  // A family whose multicast routing this kernel lacks (built without
  // CONFIG_IP_MROUTE or CONFIG_IPV6_MROUTE, without multiple tables for a
  // table other than the default, or IPv6 disabled) is switched off, and
  // off_note() says why in words: a router with one family compiled out
  // still routes the other. open() fails with `unsupported` only when both
  // are missing, and with the other kinds when either family fails for any
  // other reason (another daemon holds its table: in_use).
  static std::variant<std::unique_ptr<Mroute>, OpenError> open(uint32_t table);

  Mroute(const Mroute&) = delete;
  Mroute& operator=(const Mroute&) = delete;
  // Closes both sockets; the kernel then drops every VIF and entry they made.
  ~Mroute() override;

  int fd(core::Family f) const;  // -1 if that family is off
  bool has(core::Family f) const { return fd(f) >= 0; }
  bool has_v6() const { return has(core::Family::v6); }
  // Why a family is off, e.g. "this kernel has no IPv6 multicast routing
  // (CONFIG_IPV6_MROUTE)"; empty when it is on.
  const std::string& off_note(core::Family f) const;
  uint32_t table() const { return table_; }

  // IPv4: MRT_ADD_VIF with VIFF_USE_IFINDEX. IPv6: MRT6_ADD_MIF (mif6ctl,
  // pifi = ifindex, no flags). Adding a VIF index or ifindex already in use
  // fails with EADDRINUSE.
  core::Result<void> add_vif(const core::VifConf& vif) override;
  core::Result<void> del_vif(core::Family family, core::VifIndex vif) override;
  // MRT_ADD_MFC / MRT6_ADD_MFC. Updates an existing (S,G) in place. For IPv6
  // the kernel has no per-OIF TTL: an OIF is on when ttls[mif] > 0 and the
  // threshold value itself only matters for IPv4.
  core::Result<void> add_mfc(const core::MfcConf& mfc) override;
  // A missing entry fails with ENOENT.
  core::Result<void> del_mfc(const core::SgKey& key) override;
  // SIOCGETSGCNT / SIOCGETSGCNT_IN6. A missing entry fails with EADDRNOTAVAIL.
  core::Result<Counters> counters(const core::SgKey& key) const override;
  // SIOCGETVIFCNT / SIOCGETMIFCNT_IN6. A VIF not in use fails with EADDRNOTAVAIL.
  core::Result<core::VifCounters> vif_counters(core::Family family,
                                               core::VifIndex vif) const override;
  // Closes both sockets: the kernel drops every VIF and entry they made.
  void release_all() override;

  // Reads what is queued on the family's socket without blocking and returns
  // the upcalls among it. At most `budget` messages are read per call so one
  // loop callback does bounded work; *more is set to true when the budget was
  // hit (call again later), false when the queue was drained. Real IGMP /
  // ICMPv6 packets count against the budget and are skipped.
  std::vector<Upcall> read_upcalls(core::Family f, size_t budget, bool* more);

  // Raises the receive buffer of both sockets so that upcall bursts fit:
  // SO_RCVBUFFORCE (needs CAP_NET_ADMIN, passes rmem_max), else SO_RCVBUF.
  void set_rcvbuf(int bytes);

  // Asks the kernel for WRONGVIF / WRONGMIF upcalls on every VIF: MRT_PIM
  // (which implies MRT_ASSERT), falling back to MRT_ASSERT alone. Without
  // PIM the kernel only reports a wrong VIF that is an OIF of the entry;
  // either way it reports an (S,G) at most once per 3 s. Returns false when
  // neither could be set for any family that is on.
  bool enable_wrongvif();

  // Messages the kernel dropped because the socket's receive queue was full
  // (SO_MEMINFO's drop count): lost upcalls.
  uint64_t upcalls_lost(core::Family f) const override;

 private:
  Mroute(int fd4, int fd6, uint32_t table, std::string off4, std::string off6);

  int fd4_ = -1;
  int fd6_ = -1;
  uint32_t table_ = 0;
  std::string off4_, off6_;
};

// Pure parsers of one message read from a mroute socket (see
// docs/kernel.md). They return nullopt for anything that is not
// an upcall mfcd acts on: real IGMP / ICMPv6 packets, short reads, unknown
// types. `data` for IPv4 starts at the IP header (raw sockets deliver it);
// for IPv6 it starts at the ICMPv6 payload.
std::optional<Upcall> parse_upcall_v4(const uint8_t* data, size_t len);
std::optional<Upcall> parse_upcall_v6(const uint8_t* data, size_t len);

}  // namespace mfcd::kernel
