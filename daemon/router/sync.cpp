// See sync.hpp. The order of the full path matters: the dynamic entries and
// feed overrides go into the desired state before it is planned, so that a
// full pass never deletes a learned entry that still has a rule, and a
// switched feed stays switched.
#include "router/sync.hpp"

#include <utility>

namespace mfcd::router {

const core::RuleIndex& RuleCache::get(const core::Intent& intent) {
  if (of_ != &intent || generation_ != intent.generation()) {
    index_ = core::RuleIndex(intent);
    of_ = &intent;
    generation_ = intent.generation();
  }
  return index_;
}

RoutePlan plan_routes(Model& m, const core::Installed& installed,
                      const core::Intent::Changes& changes, bool whole, RuleCache& rules) {
  RoutePlan out;
  if (!whole && !changes.all && m.feeds.empty()) {
    if (changes.list.empty()) return out;  // nothing changed
    core::Desired slice;
    if (auto sgs = core::update_desired(m.desired, m.intent, m.links, changes, slice)) {
      if (auto plan = core::make_plan_for(installed, slice, *sgs)) {
        out.plan = std::move(*plan);
        out.warnings = std::move(slice.warnings);
        return out;
      }
      // update_desired already changed some statuses; the full pass below
      // replaces m.desired as a whole.
    }
  }
  out.whole = true;
  core::Desired desired = core::compute_desired(m.intent, m.links);
  core::apply_active_feeds(desired, m.intent, m.feeds);
  // The index is built only when there is something to merge: a start-up
  // or a route.add on a big static table does not pay for it.
  if (!m.dynamic.empty()) core::merge_dynamic(desired, m.dynamic, rules.get(m.intent));
  out.plan = core::make_plan(installed, desired);
  out.warnings = desired.warnings;
  // The plan holds its own copy of every entry it writes and nothing reads
  // the desired entries after planning: freeing them now lets the writer
  // reuse that memory for Installed (a lower peak, fewer fresh pages at
  // start-up).
  decltype(desired.mfc)().swap(desired.mfc);
  m.desired = std::move(desired);
  return out;
}

void mark_refused(Model& m, const core::Installed& installed,
                  const std::vector<core::Failure>& failures) {
  for (const auto& f : failures) {
    if (!f.route) continue;
    auto it = m.desired.status.find(*f.route);
    if (it == m.desired.status.end() || it->second.state != core::RouteState::installed) continue;
    if (f.route->source) {
      auto have = installed.mfc.find(core::SgKey{f.route->source->addr, f.route->group.addr});
      if (have != installed.mfc.end() && have->second.route == *f.route) continue;
    }
    it->second.state = core::RouteState::pending;
    it->second.reason = f.error.message;
  }
}

}  // namespace mfcd::router
