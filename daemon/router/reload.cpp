// See reload.hpp. The intent takes the new file in place, noting only the
// routes whose lines appeared, went or got other OIFs, so that deciding
// and planning cost what changed, not the size of the table (the file is
// still read and compared line by line).
#include "router/reload.hpp"

#include <algorithm>

#include "core/phyint.hpp"

namespace mfcd::router {

namespace {

core::RouteStatus status_in(const core::Desired& desired, const core::RouteKey& key) {
  auto it = desired.status.find(key);
  return it == desired.status.end() ? core::RouteStatus{} : it->second;
}

// Which list each route the load touched goes to, and its status: before
// the reload for a removed route, once decided for the others.
class RouteReport {
 public:
  RouteReport(const core::Intent::LoadReport& load, const core::Intent& intent,
              const core::Desired& before)
      : load_(load), now_(load.touched.size()), kind_(load.touched.size(), Kind::none) {
    status_.resize(load.touched.size());
    for (size_t i = 0; i < load.touched.size(); ++i) {
      const auto& t = load.touched[i];
      now_[i] = intent.find_route(t.key);
      if (!now_[i])
        kind_[i] = t.existed ? Kind::removed : Kind::none;
      else if (!t.existed)
        kind_[i] = Kind::added;
      else if (t.names != now_[i]->oifs())
        kind_[i] = Kind::changed;
      if (kind_[i] == Kind::removed) status_[i] = status_in(before, t.key);
    }
  }

  void fill(const core::Desired& decided, ReloadReport& out) const {
    for (size_t i = 0; i < kind_.size(); ++i) {
      switch (kind_[i]) {
        case Kind::added:
          out.added.push_back({*now_[i], status_in(decided, load_.touched[i].key)});
          break;
        case Kind::changed:
          out.changed.push_back({*now_[i], status_in(decided, load_.touched[i].key)});
          break;
        case Kind::removed:
          out.removed.push_back({*load_.touched[i].whole, status_[i]});
          break;
        case Kind::none:
          break;
      }
    }
    auto by_seq = [](const RouteChange& a, const RouteChange& b) {
      return a.route.seq < b.route.seq;
    };
    for (auto* list : {&out.added, &out.changed, &out.removed})
      std::sort(list->begin(), list->end(), by_seq);
  }

 private:
  enum class Kind { none, added, changed, removed };
  const core::Intent::LoadReport& load_;
  std::vector<const core::RouteIntent*> now_;
  std::vector<Kind> kind_;
  std::vector<core::RouteStatus> status_;
};

// The joins a change of m.joins makes and drops, as JoinIntents.
void join_report(const core::Joins& before, const core::Joins& after, ReloadReport& out) {
  for (const auto* j : after.joins())
    if (!before.find(j->key)) out.joined.push_back(*j);
  for (const auto* j : before.joins())
    if (!after.find(j->key)) out.left.push_back(*j);
}

}  // namespace

std::set<std::string> mrdisc_interfaces(const Model& m) {
  std::set<std::string> out;
  for (const auto& link : m.links) {
    if (link.loopback) continue;
    if (core::resolve_phyint(m.intent.phyints(), link.name).mrdisc) out.insert(link.name);
  }
  return out;
}

ReloadPlan plan_reload(Model& m, const core::Installed& installed, const core::Config& config,
                       ReloadOptions options, RuleCache& rules) {
  ReloadPlan plan;
  core::Intent::LoadReport load;
  if (options.smcroute_names) m.intent.drop_api_shares(&load);
  m.intent.load_config(config, &load);
  RouteReport routes(load, m.intent, m.desired);

  // A route something refused before (a full VIF table, the kernel) is
  // tried again by a reload: the full path decides every route.
  const bool whole = options.retry || m.links != m.desired.links;
  core::Intent::Changes changes = m.intent.take_changes();
  plan.routes = plan_routes(m, installed, changes, whole, rules);
  routes.fill(m.desired, plan.report);
  plan.report.warnings = plan.routes.warnings;

  // Groups: the config's joins replace the last ones; under SMCRoute's
  // names the API's go too. Planned on a copy: joins are few.
  core::Joins next = m.joins;
  if (options.smcroute_names) {
    std::vector<std::pair<core::JoinKey, std::string>> shares;
    for (const auto* j : next.joins())
      for (const auto& owner : j->api_owners())
        shares.emplace_back(j->key, owner);
    for (const auto& [key, owner] : shares) {
      auto diff = next.leave(key, owner);
      if (!diff) continue;
      auto& d = diff.value();
      plan.groups.leave.insert(plan.groups.leave.end(), d.leave.begin(), d.leave.end());
      plan.groups.join.insert(plan.groups.join.end(), d.join.begin(), d.join.end());
    }
  }
  auto config_diff = next.load_config(config.joins);
  plan.groups.leave.insert(plan.groups.leave.end(), config_diff.leave.begin(),
                           config_diff.leave.end());
  plan.groups.join.insert(plan.groups.join.end(), config_diff.join.begin(), config_diff.join.end());
  join_report(m.joins, next, plan.report);
  m.joins = std::move(next);

  plan.report.mrdisc = mrdisc_interfaces(m);
  plan.report.missing = missing_interfaces(config, m.links);
  plan.report.kernel_ops =
      plan.routes.plan.ops.size() + plan.groups.join.size() + plan.groups.leave.size();
  return plan;
}

}  // namespace mfcd::router
