// Everything mfcd does because the kernel's forwarding path asked: NOCACHE
// upcalls become (S,G) entries from the matching rule (or stop filters),
// WRONGVIF upcalls move a flow to the side it now arrives on, idle dynamic
// entries expire, and cache.flush drops them all. The learned entries live
// in the Model (m.dynamic, m.feeds), so every full sync puts them into the
// desired state like any other entry; every kernel change here is a plan
// for the Writer.
//
// Upcalls turn traffic into state, so they are where an outside party (any
// sender on a covered network) decides how much work the daemon does.
// Hence: a batch of upcalls costs one rule lookup each and one plan for the
// whole batch, never a full sync; a WRONGVIF is rate-limited by the kernel
// (one per (S,G) per 3 s) and only starts a watch; the periodic work (feed
// watches, idle expiry) runs in slices of a bounded number of entries.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/dynamic.hpp"
#include "core/ports.hpp"
#include "core/upcall.hpp"
#include "router/model.hpp"
#include "router/sync.hpp"
#include "router/writer.hpp"

namespace mfcd::router {

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

// Entries looked at per tick, so that a table of 100,000 learned entries
// never holds the loop for a whole scan.
inline constexpr size_t kTickBudget = 512;

class Upcalls {
 public:
  // cache_timeout in seconds; 0 turns expiry off.
  Upcalls(Writer& writer, const core::Clock& clock, unsigned cache_timeout);

  // Acts on one batch read from a mroute socket. Returns the (S,G)s whose
  // entries a rule installed or moved (the -e script hears of each).
  std::vector<core::SgKey> handle(Model& m, RuleCache& rules,
                                  std::span<const core::Upcall> upcalls);

  struct TickResult {
    std::vector<core::SgKey> installed;  // moved to a rule's new side
    bool resync = false;                 // a static feed switched: sync everything
  };
  // The periodic work due now, at most kTickBudget entries of it.
  TickResult tick(Model& m, RuleCache& rules);
  // When tick() has work next (clock milliseconds), or nullopt.
  std::optional<uint64_t> next_tick_ms(const Model& m) const;

  // Removes every dynamic entry from the kernel now; returns how many.
  size_t flush(Model& m);

  const UpcallStats& stats() const { return stats_; }
  uint64_t lost() const;
  // Everything forgotten (teardown).
  void clear();

 private:
  struct Watch {
    core::FeedWatch feed;
    std::string iif;  // where the flow arrives now
    core::VifIndex vif = 0;
    bool dynamic = false;
  };
  struct Install {
    core::SgKey key;
    core::VifIndex vif = 0;
    std::string iif;
    const core::Rule* rule = nullptr;
    bool moved = false;  // a move, not a new flow
  };

  void refresh_vifs();
  core::Op install_op(const Install& in) const;
  // Writes the installs as one plan and records what went in.
  std::vector<core::SgKey> write_installs(Model& m, const std::vector<Install>& installs);
  void on_nocache(Model& m, const core::RuleIndex& rules, const core::Upcall& u,
                  const std::string& iif, std::vector<Install>& out);
  void on_wrongvif(Model& m, const core::RuleIndex& rules, const core::Upcall& u,
                   const std::string& iif, std::vector<Install>& out);
  void watch(const core::SgKey& key, Watch w);
  void remove(Model& m, const std::vector<core::SgKey>& keys);
  void log_ignored(const std::string& line);

  Writer& writer_;
  const core::Clock& clock_;
  uint64_t timeout_ms_;

  struct VifName {
    std::string name;
    core::VifIndex vif = 0;
    int ttl = 1;
  };
  std::vector<VifName> vifs_[2];  // installed VIFs, in VIF order
  std::shared_ptr<const core::VifNames> names_[2];
  std::unordered_map<core::SgKey, Watch, core::SgKeyHash> watches_;
  UpcallStats stats_;

  // Idle expiry walks the learned entries in rounds, a slice per tick.
  std::vector<core::SgKey> scan_;
  size_t scan_pos_ = 0;
  uint64_t next_scan_ms_ = 0;
  uint64_t last_log_ms_ = 0;
  uint64_t suppressed_logs_ = 0;
};

}  // namespace mfcd::router
