// Dynamic (S,G) entries: the kernel entries mfcd learned from upcalls rather
// than from a static route. Each remembers the inbound interface it was
// learned on and the rule that produced it, or none for a stop filter (no
// rule covered the packet, so the entry has no OIFs and the kernel drops the
// flow without asking again). The table is the truth about dynamic entries:
// every full sync puts them into the desired state with OIFs recomputed
// from the current rules, so a new rule converts matching stop filters at
// once and a removed rule takes its entries with it (the next packet of
// such a flow asks again and is matched afresh).
//
// Also here, pure and unit-tested: the idle decisions behind cache expiry
// and redundant feed switching, made from kernel counter samples. Time is
// milliseconds on any monotonic clock the caller chooses.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/desired.hpp"
#include "core/rules.hpp"

namespace mfcd::core {

struct DynamicEntry {
  std::string iif;
  std::optional<RouteKey> rule;  // nullopt: stop filter
  uint64_t packets = 0;          // last packet counter seen
  uint64_t moved_ms = 0;         // when that counter last moved (or learned)
};

using DynamicMap = std::unordered_map<SgKey, DynamicEntry, SgKeyHash>;

// Cache expiry, one counter sample at a time: true when the entry's packet
// counter has not moved for `timeout_ms`. A moving counter (or one that went
// backwards, i.e. the entry was re-created) restarts the idle time.
bool idle_after_sample(DynamicEntry& entry, uint64_t packets, uint64_t now_ms, uint64_t timeout_ms);

// Puts every dynamic entry into `desired` with OIFs from the rule that
// covers it now. Static entries win: a dynamic entry whose (S,G) has a
// static route is dropped from the table. Entries whose rule is gone, or
// whose inbound interface has no VIF any more, are dropped too. Entries
// that gain a rule (a stop filter converted) or change rule are updated in
// the table.
void merge_dynamic(Desired& desired, DynamicMap& table, const RuleIndex& rules);

// Redundant feeds: which of several static routes for one (S,G) is active,
// when the operator's first choice (the oldest route) was switched away from.
using ActiveFeeds = std::unordered_map<SgKey, RouteKey, SgKeyHash>;

// Applies the overrides to a desired state computed from `intent`: the
// chosen route's entry replaces the default one, which becomes standby.
// Overrides whose route is gone or not a standby of that (S,G) are dropped.
void apply_active_feeds(Desired& desired, const Intent& intent, ActiveFeeds& feeds);

// A feed switch waits for the installed feed to go quiet: the entry's count
// of packets that arrived on its inbound interface (packets - wrong_if) must
// not move for the quiet window after the other feed showed up.
inline constexpr uint64_t kFeedQuietMs = 2000;

struct FeedWatch {
  RouteKey target;        // the route to switch to
  uint64_t rx = 0;        // installed feed's packet count at the last sample
  uint64_t since_ms = 0;  // when rx last moved (or the watch began)
};

enum class FeedVerdict { wait, switch_now, keep };
// One sample of the installed feed: keep (it is alive: the watch ends),
// wait (quiet, but not long enough), or switch_now.
FeedVerdict feed_sample(FeedWatch& watch, uint64_t rx, uint64_t now_ms);

}  // namespace mfcd::core
