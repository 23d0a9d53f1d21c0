// A reload, phase one: what a new config means, decided in full before
// anything is written. The model takes the file (only the routes whose lines
// appeared, went or changed are decided again), and the result is one plan
// of kernel ops for the routes, one of membership ops for the groups, and
// the interfaces that announce afterwards, with a report of every route and
// join the reload adds, changes or removes. Router::apply_reload writes
// exactly that plan; Router::dry_run runs this on a copy of the model and
// returns its report.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "core/joins.hpp"
#include "core/plan.hpp"
#include "router/missing.hpp"
#include "router/model.hpp"
#include "router/sync.hpp"

namespace mfcd::router {

// One route in a reload report, with its state after (or, for removed
// routes, before) the reload.
struct RouteChange {
  core::RouteIntent route;
  core::RouteStatus status;
};

struct ReloadReport {
  // Each in creation order, as route.list has them. A route changed when
  // its OIF set changed; owners coming and going alone is not a change.
  std::vector<RouteChange> added, changed, removed;
  // The joins the reload makes and drops, as they are then (left: before).
  std::vector<core::JoinIntent> joined, left;
  std::set<std::string> mrdisc;  // the interfaces that announce afterwards
  size_t kernel_ops = 0;         // VIF, MFC and membership ops in the plan
  // Ops the kernel refused (a real reload only).
  std::vector<core::Failure> failures;
  std::vector<core::Diagnostic> warnings;  // e.g. a route names a disabled phyint
  // Every interface the file names that does not exist now, in file order:
  // the same list as mfcd -F prints, whether or not the line changed, so
  // that a typo shows at every reload until it is fixed.
  std::vector<MissingInterface> missing;
};

struct ReloadPlan {
  RoutePlan routes;       // VIF and MFC ops
  core::JoinDiff groups;  // memberships to make and drop
  ReloadReport report;    // what the plan does
  // The joins that waited for their interface before phase one (which
  // changes the model): the others that wait after phase two are announced.
  std::set<core::JoinKey> joins_waiting;
};

struct ReloadOptions {
  bool smcroute_names = false;  // the file is the whole truth: API routes and joins go
  bool retry = false;           // something failed before: decide every route again
};

// Phase one: `m` takes `config`; the plan brings `installed` to it.
ReloadPlan plan_reload(Model& m, const core::Installed& installed, const core::Config& config,
                       ReloadOptions options, RuleCache& rules);

// The interfaces whose phyint line asks for router discovery, among the
// links present (loopback never).
std::set<std::string> mrdisc_interfaces(const Model& m);

}  // namespace mfcd::router
