// Everything mfcd does because the kernel's forwarding path asked: NOCACHE
// upcalls become (S,G) entries from the matching rule (or stop filters),
// WRONGVIF upcalls move a flow to the side it now arrives on, idle dynamic
// entries expire, and cache.flush drops them all. The Service owns one
// Upcalls and calls prepare() from every full sync, so dynamic entries and
// the active redundant feeds are part of the desired state like any other.
//
// The NOCACHE path is incremental on purpose: one rule lookup, one
// MRT_ADD_MFC built from the VIFs already installed, one record in
// Installed, no full sync. That is what keeps a burst of 10,000 new flows
// from overflowing the mroute socket.
#pragma once

#include <uv.h>

#include <cstdint>
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/dynamic.hpp"
#include "core/intent.hpp"
#include "core/plan.hpp"
#include "core/rules.hpp"
#include "kernel/mroute.hpp"

namespace mfcd {

struct UpcallStats {
  uint64_t nocache = 0;       // NOCACHE / MRT6MSG_NOCACHE received
  uint64_t wrongvif = 0;      // WRONGVIF / WRONGMIF received
  uint64_t ignored = 0;       // upcalls that changed nothing (no VIF, no covering rule, ...)
  uint64_t installed = 0;     // dynamic entries installed from a rule
  uint64_t stop_filters = 0;  // dynamic stop filters installed (no rule matched)
  uint64_t failed = 0;        // the kernel refused the entry
  uint64_t moved = 0;         // flows moved to another inbound interface
  uint64_t expired = 0;       // dynamic entries removed by the cache timeout
  uint64_t flushed = 0;       // dynamic entries removed by cache.flush
};

class Upcalls {
 public:
  struct Hooks {
    std::function<void()> resync;                       // a full sync, now
    std::function<void(const core::SgKey&)> installed;  // a rule's entry is in
  };

  // cache_timeout in seconds; 0 turns expiry off.
  Upcalls(uv_loop_t* loop, kernel::Mroute& mroute, core::Installed& installed,
          const core::Intent& intent, unsigned cache_timeout, Hooks hooks);
  ~Upcalls();
  Upcalls(const Upcalls&) = delete;
  Upcalls& operator=(const Upcalls&) = delete;

  // Acts on one batch read from a mroute socket.
  void handle(const std::vector<kernel::Upcall>& upcalls);

  // Called with every desired state before it is planned: adds the dynamic
  // entries (OIFs from the current rules) and the redundant feed overrides.
  void prepare(core::Desired& desired);

  // Removes every dynamic entry from the kernel now; returns how many.
  size_t flush();

  // Stops the timer (before the loop closes).
  void close();

  const UpcallStats& stats() const { return stats_; }
  const core::DynamicMap& dynamic() const { return table_; }
  const core::ActiveFeeds& active_feeds() const { return feeds_; }
  // Upcalls the kernel dropped because the socket queue was full.
  uint64_t lost() const;

 private:
  struct VifName {
    std::string name;
    core::VifIndex vif = 0;
    int ttl = 1;
  };
  struct Watch {
    core::FeedWatch feed;
    std::string iif;  // where the flow arrives now
    core::VifIndex vif = 0;
    bool dynamic = false;
  };

  void refresh_rules();
  void refresh_vifs();
  void on_nocache(const kernel::Upcall& u, const std::string& iif);
  void on_wrongvif(const kernel::Upcall& u, const std::string& iif);
  bool install(const core::SgKey& key, core::VifIndex vif, const std::string& iif,
               const core::Rule* rule);
  void watch(const core::SgKey& key, Watch w);
  void arm();
  void tick();
  void drop(const core::SgKey& key);
  void log_ignored(const std::string& line);
  uint64_t now_ms() const;

  uv_loop_t* loop_;
  kernel::Mroute& mroute_;
  core::Installed& installed_;
  const core::Intent& intent_;
  uint64_t timeout_ms_;
  Hooks hooks_;

  core::RuleIndex rules_;
  uint64_t rules_generation_ = UINT64_MAX;
  std::vector<VifName> vifs_[2];  // installed VIFs, in VIF order
  core::DynamicMap table_;
  core::ActiveFeeds feeds_;
  std::unordered_map<core::SgKey, Watch, core::SgKeyHash> watches_;
  UpcallStats stats_;

  uv_timer_t* timer_ = nullptr;
  bool armed_ = false;
  uint64_t last_scan_ms_ = 0;
  uint64_t last_log_ms_ = 0;
  uint64_t suppressed_logs_ = 0;
};

}  // namespace mfcd
