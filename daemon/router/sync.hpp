// Deciding and planning: from what changed in the intent (or the links) to
// the kernel operations that bring Installed to the new desired state. Pure
// apart from the Model it updates: nothing here writes to the kernel.
//
// Two paths give the same answer. The incremental one decides only the
// (S,G)s that changed routes touch (core::update_desired, make_plan_for),
// so that one API call, or a reload that edits a hundred lines of a
// 50,000-line file, costs what those routes cost. Whenever it could answer
// differently from a full computation (a VIF gained or released, wildcards,
// rules, changed links, switched feeds, a dynamic entry in the way) it gives
// up and the full path decides everything (core::compute_desired, with the
// dynamic entries and feed overrides merged in, and make_plan).
#pragma once

#include <cstdint>
#include <vector>

#include "core/plan.hpp"
#include "core/rules.hpp"
#include "router/model.hpp"

namespace mfcd::router {

// The rule index of an intent, rebuilt only when the intent changed.
class RuleCache {
 public:
  const core::RuleIndex& get(const core::Intent& intent);

 private:
  core::RuleIndex index_;
  const core::Intent* of_ = nullptr;
  uint64_t generation_ = UINT64_MAX;
};

struct RoutePlan {
  core::Plan plan;                         // VIF and MFC ops
  std::vector<core::Diagnostic> warnings;  // e.g. a route names a disabled phyint
  bool whole = false;                      // every route was decided (the full path)
};

// Decides `changes` (from Intent::take_changes) against `m.links` and plans
// them. `whole` forces the full path. Updates m.desired; the full path also
// merges m.dynamic and m.feeds (dropping what no longer applies).
RoutePlan plan_routes(Model& m, const core::Installed& installed,
                      const core::Intent::Changes& changes, bool whole, RuleCache& rules);

// After a plan ran: a route whose entry the kernel refused (no free VIF, a
// kernel error) is pending with that reason, whatever the plan hoped, so
// that route.list and pending.list say so. A refused change of a route
// that was already installed leaves it installed as it was.
void mark_refused(Model& m, const core::Installed& installed,
                  const std::vector<core::Failure>& failures);

}  // namespace mfcd::router
