// Multicast Router Discovery (RFC 4286) on the daemon's loop: announces mfcd
// as a multicast router to IGMP/MLD snooping switches on every interface
// whose phyint says `mrdisc`, in both families the interface has addresses
// for, answers Solicitations, and says goodbye with a Termination.
//
// Owns, only while at least one interface announces, one raw socket per
// family with a uv_poll_t on it, and one uv_timer_t per announcing interface.
// With no interface on there is no socket, no timer and no wake-up at all.
// Every handle is freed in its close callback; nothing here blocks.
#pragma once

#include <uv.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "core/links.hpp"
#include "core/mrdisc.hpp"

namespace mfcd {

struct MrdiscInterfaceState {
  bool enabled = false;      // the config asks for mrdisc on this interface
  bool v4 = false;           // an IPv4 Advertisement went out since it started announcing
  bool v6 = false;           // an IPv6 one did
  uint64_t next_due_ms = 0;  // ms from now to the next unsolicited Advertisement
  bool announcing = false;   // the link is up and the timer runs (next_due_ms is valid)
};

class MrdiscAnnouncer {
 public:
  // `loop` must outlive this object, or stop() must have been called while
  // it still runs. interval_sec is -m (4..180).
  MrdiscAnnouncer(uv_loop_t* loop, unsigned interval_sec);
  ~MrdiscAnnouncer();
  MrdiscAnnouncer(const MrdiscAnnouncer&) = delete;
  MrdiscAnnouncer& operator=(const MrdiscAnnouncer&) = delete;

  // The interfaces that should announce (the router decides them from the
  // phyint lines, router/reload.hpp's mrdisc_interfaces) and every link
  // present. Starts announcing on new interfaces and on links that came up
  // (initial burst), sends a Termination where mrdisc was switched off,
  // stops quietly on links that went down or away (nothing can be sent
  // there any more). Idempotent: the same inputs again change nothing.
  void update(const std::set<std::string>& announce, const core::Links& links);
  // Termination on every announcing interface, then closes every handle.
  // Later update() calls do nothing.
  void stop();
  // nullopt when mrdisc is not configured for that interface.
  std::optional<MrdiscInterfaceState> state(const std::string& ifname) const;

 private:
  struct Iface;
  struct Poll;

  void activate(Iface& iface);
  void arm(Iface& iface, uint64_t due_ms);
  void deactivate(Iface& iface, bool terminate);
  bool ensure_sockets();
  void close_sockets();
  bool send(Iface& iface, core::Family family, core::mrdisc::MessageType type);
  void on_timer(Iface& iface);
  void on_readable(core::Family family);
  void on_solicitation(core::Family family, int ifindex);

  uv_loop_t* loop_;
  unsigned interval_;
  std::map<std::string, std::unique_ptr<Iface>> ifaces_;
  std::unique_ptr<Poll> poll_[2];
  bool v6_unavailable_ = false;  // logged once
  bool stopped_ = false;
  std::mt19937_64 rng_;
  core::mrdisc::Random random_;
};

}  // namespace mfcd
