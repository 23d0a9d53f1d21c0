// See router.hpp. Every path here has the same shape: change the model,
// plan, write the plan through the one Writer, then record what the kernel
// refused. An API change that the kernel refuses is undone in the model
// and the undo is written too, so the caller finds everything as it was.
#include "router/router.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <optional>
#include <set>

#include "core/quick_start.hpp"

namespace mfcd::router {

Router::Router(core::KernelPort& kernel, core::MembershipPort& membership, const core::Clock& clock,
               Listener& listener, Settings settings)
    : settings_(settings),
      listener_(listener),
      writer_(kernel, membership),
      model_{core::Intent{}, core::Desired{}, core::Joins(settings.join_range_limit), {}, {}, {}},
      groups_(writer_),
      upcalls_(writer_, clock, settings.cache_timeout),
      clock_(clock) {
  writer_.set_observer(this);
}

// --- start-up and the reconcile step ------------------------------------

void Router::start(const core::Config& config, core::Links links) {
  model_.links = std::move(links);
  const auto begin = std::chrono::steady_clock::now();
  // A fresh table gets the static entries straight from the file first;
  // the sync below builds the bookkeeping and corrects what the quick
  // start could not know. Without IPv4 the regular path numbers the VIFs.
  if (settings_.with_v4 && writer_.installed().mfc.empty()) {
    if (auto quick = core::plan_quick_start(config, model_.links, settings_.with_v6)) {
      auto failures = writer_.write(core::quick_start_plan(config, *quick));
      using ms = std::chrono::duration<double, std::milli>;
      spdlog::info("quick start: {} of {} static entries in the kernel in {:.1f} ms",
                   writer_.installed().mfc.size(), quick->entries.size(),
                   ms(std::chrono::steady_clock::now() - begin).count());
      (void)failures;  // the sync below tries again and reports
    }
  }
  model_.intent.load_config(config);
  groups_.write_config(model_, model_.joins.load_config(config.joins));
  sync(true);
}

void Router::log_failures(const std::vector<core::Failure>& failures, bool whole) {
  // A failure that persists (a route waiting for a free VIF) is logged once,
  // not at every sync. A plan of the whole state says which ones still hold.
  std::set<std::string> now;
  if (!whole) now = reported_;
  for (const auto& f : failures) {
    std::string line = f.what + ": " + f.error.message;
    if (!reported_.count(line)) spdlog::error("{}", line);
    now.insert(std::move(line));
  }
  if (whole) {
    // Warnings are kept by report_once; a whole pass forgets only failures.
    for (const auto& line : reported_)
      if (line.rfind("warning:", 0) == 0) now.insert(line);
  }
  reported_ = std::move(now);
}

void Router::report_once(const std::vector<core::Diagnostic>& warnings) {
  for (const auto& w : warnings) {
    std::string line = "warning:" + w.str();
    if (!reported_.count(line)) spdlog::warn("{}", w.str());
    reported_.insert(std::move(line));
  }
}

std::vector<core::Failure> Router::write_routes(RoutePlan& plan) {
  auto failures = plan.plan.failures;
  auto written = writer_.write(plan.plan);
  failures.insert(failures.end(), written.begin(), written.end());
  mark_refused(model_, writer_.installed(), failures);
  // Whether something may still be failing: a reload then takes the full
  // path, which tries every route again.
  retry_pending_ = plan.whole ? !failures.empty() : retry_pending_ || !failures.empty();
  log_failures(failures, plan.whole);
  report_once(plan.warnings);
  if (watching())
    publish_route_states();
  else if (!published_states_.empty())
    published_states_ = {};  // the last subscriber has gone: free the copy
  return failures;
}

std::vector<core::Failure> Router::sync(bool whole) {
  auto changes = model_.intent.take_changes();
  auto plan = plan_routes(model_, writer_.installed(), changes, whole, rules_);
  auto failures = write_routes(plan);
  if (plan.whole) {
    update_join_links();
    announce_mrdisc();
  }
  return failures;
}

void Router::announce_mrdisc() {
  auto wanted = mrdisc_interfaces(model_);
  listener_.mrdisc_changed(wanted, model_.links);
  mrdisc_announced_ = std::move(wanted);
}

// --- route changes ----------------------------------------------------------

namespace {

std::optional<core::RouteIntent> snapshot(const core::Intent& intent, const core::RouteKey& key) {
  const auto* r = intent.find_route(key);
  if (!r) return std::nullopt;
  return *r;
}

}  // namespace

Router::RouteOutcome Router::commit_route(const core::RouteRequest& req,
                                          const std::optional<core::RouteIntent>& before,
                                          std::string_view done) {
  const core::RouteKey& key = req.key;
  auto changes = model_.intent.take_changes();
  auto plan = plan_routes(model_, writer_.installed(), changes, false, rules_);
  auto failures = write_routes(plan);
  if (plan.whole) {
    update_join_links();
    announce_mrdisc();
  }
  // This call's failure is one of an op that this call's route needed: its
  // own entry, or a VIF for one of its interfaces that the plan had to add.
  // A full plan also retries other routes' failures; those are not ours.
  const core::RouteIntent* now = model_.intent.find_route(key);
  std::vector<std::string> ifnames{key.iif};
  if (now)
    for (const auto& oif : now->oifs())
      ifnames.push_back(oif);
  for (const auto& f : failures) {
    const bool own_entry = f.route && *f.route == key;
    // A VIF for one of its interfaces: one the plan could not give (no op)
    // or whose add_vif the kernel refused.
    const bool own_vif =
        !f.route && std::find(ifnames.begin(), ifnames.end(), f.ifname) != ifnames.end() &&
        (f.op == core::kNoOp || plan.plan.ops[f.op].kind == core::Op::Kind::add_vif);
    if (!own_entry && !own_vif) continue;
    // The kernel refused: put the intent back and write that too, so the
    // running state stays exactly as it was.
    model_.intent.restore_route(key, before);
    sync();
    core::Error err = f.error;
    if (!f.ifname.empty() && err.message.find(f.ifname) == std::string::npos)
      err.message = f.ifname + ": " + err.message;
    return Refusal{err, f};
  }
  spdlog::info("route {} {} by {}", key.str(), done, req.owner);
  if (!now) return std::optional<core::RouteIntent>{};
  return std::optional<core::RouteIntent>{*now};
}

Router::RouteOutcome Router::add_route(const core::RouteRequest& req) {
  auto before = snapshot(model_.intent, req.key);
  model_.intent.add_route(req);
  return commit_route(req, before, "added");
}

Router::RouteOutcome Router::set_route(const core::RouteRequest& req) {
  auto before = snapshot(model_.intent, req.key);
  model_.intent.set_route(req);
  return commit_route(req, before, "set");
}

Router::RouteOutcome Router::remove_route(const core::RouteRequest& req) {
  auto before = snapshot(model_.intent, req.key);
  auto removed = model_.intent.remove_route(req);
  if (!removed) return Refusal{removed.error(), std::nullopt};
  return commit_route(req, before, "removed");
}

core::Result<void> Router::join(const core::JoinKey& key, const std::string& owner) {
  auto joined = groups_.join(model_, key, owner);
  // Taken memberships came as join.active from the Writer; a join that
  // waits for its interface took none.
  if (joined && watching()) {
    const core::JoinIntent* intent = model_.joins.find(key);
    if (intent && groups_.state(model_, *intent).kind == JoinState::Kind::pending)
      listener_.event(join_pending_event(key, groups_.state(model_, *intent).reason));
  }
  return joined;
}

core::Result<void> Router::leave(const core::JoinKey& key, const std::string& owner) {
  return groups_.leave(model_, key, owner);
}

// The joins waiting for their interface; empty when nobody watches.
std::set<core::JoinKey> Router::pending_joins() const {
  std::set<core::JoinKey> keys;
  if (!watching()) return keys;
  for (const auto* j : model_.joins.joins())
    if (groups_.state(model_, *j).kind == JoinState::Kind::pending) keys.insert(j->key);
  return keys;
}

// join.pending for each join that waits now and did not before: its
// interface went away, or a reload added it for one that does not exist.
void Router::publish_joins_pending(const std::set<core::JoinKey>& before) {
  if (!watching()) return;
  for (const auto* j : model_.joins.joins()) {
    if (before.count(j->key)) continue;
    const auto st = groups_.state(model_, *j);
    if (st.kind == JoinState::Kind::pending) listener_.event(join_pending_event(j->key, st.reason));
  }
}

void Router::update_join_links() {
  const auto waiting = pending_joins();
  groups_.update_links(model_);
  publish_joins_pending(waiting);
}

// --- reload -----------------------------------------------------------------

ReloadPlan Router::plan_reload(const core::Config& config) {
  auto waiting = pending_joins();
  auto plan = router::plan_reload(model_, writer_.installed(), config,
                                  ReloadOptions{settings_.smcroute_names, retry_pending_}, rules_);
  plan.joins_waiting = std::move(waiting);
  return plan;
}

ReloadReport Router::apply_reload(ReloadPlan plan) {
  ReloadReport report = std::move(plan.report);
  report.failures = write_routes(plan.routes);
  // The report was written before the kernel answered: a route whose
  // entry it refused reads as it now is, pending with the reason.
  if (!report.failures.empty()) {
    for (auto* list : {&report.added, &report.changed})
      for (auto& change : *list)
        if (const auto* status = route_status(change.route.key)) change.status = *status;
  }
  groups_.write_config(model_, plan.groups);
  // Whichever path the routes took, memberships the kernel refused before
  // are tried again (write_routes, unlike sync, does not do it).
  groups_.update_links(model_);
  publish_joins_pending(plan.joins_waiting);
  listener_.mrdisc_changed(report.mrdisc, model_.links);
  mrdisc_announced_ = report.mrdisc;
  return report;
}

ReloadReport Router::dry_run(const core::Config& config) const {
  Model scratch = model_;
  RuleCache rules;
  auto plan = router::plan_reload(scratch, writer_.installed(), config,
                                  ReloadOptions{settings_.smcroute_names, retry_pending_}, rules);
  return std::move(plan.report);
}

// --- kernel events ------------------------------------------------------------

void Router::on_upcalls(std::span<const core::Upcall> upcalls) {
  if (watching()) publish_upcall_events(upcalls);
  for (const auto& key : upcalls_.handle(model_, rules_, upcalls))
    listener_.entry_installed(key);
}

void Router::on_link_events(const std::vector<core::LinkEvent>& events) {
  bool changed = false;
  bool only_updown = true;
  for (const auto& ev : events) {
    auto& links = model_.links;
    auto it = std::find_if(links.begin(), links.end(),
                           [&](const core::Link& l) { return l.ifindex == ev.link.ifindex; });
    if (ev.kind == core::LinkEvent::Kind::removed) {
      if (it == links.end()) continue;
      spdlog::info("interface {} (index {}) removed", it->name, it->ifindex);
      publish_link_change(&*it, ev);
      links.erase(it);
      publish_vifs_dropped(ev.link.ifindex);
      writer_.forget_vifs_of(ev.link.ifindex);
      changed = true;
      only_updown = false;
    } else if (it == links.end()) {
      spdlog::info("interface {} (index {}) appeared", ev.link.name, ev.link.ifindex);
      publish_link_change(nullptr, ev);
      links.push_back(ev.link);
      changed = true;
      only_updown = false;
    } else if (!(*it == ev.link)) {
      publish_link_change(&*it, ev);
      core::Link was = *it;
      *it = ev.link;
      was.up = ev.link.up;
      if (!(was == ev.link)) only_updown = false;
      changed = true;
    }
  }
  if (!changed) return;
  if (only_updown) {
    // Up or down changes no VIF and no entry: the desired state stays as
    // decided (its links are taken as they are now), only router
    // discovery starts or pauses.
    model_.desired.links = model_.links;
    announce_mrdisc();
    return;
  }
  sync(true);
}

// The changes the lost messages carried are logged and published as if
// they had come, so that the log and the event stream tell what happened.
void Router::replace_links(core::Links links) {
  auto find = [](const core::Links& in, int ifindex) -> const core::Link* {
    auto it = std::find_if(in.begin(), in.end(),
                           [&](const core::Link& l) { return l.ifindex == ifindex; });
    return it == in.end() ? nullptr : &*it;
  };
  for (const auto& old : model_.links) {
    if (find(links, old.ifindex)) continue;
    spdlog::info("interface {} (index {}) removed", old.name, old.ifindex);
    publish_link_change(&old, core::LinkEvent{core::LinkEvent::Kind::removed, old});
    publish_vifs_dropped(old.ifindex);
    writer_.forget_vifs_of(old.ifindex);
  }
  for (const auto& now : links) {
    const core::Link* was = find(model_.links, now.ifindex);
    if (!was) spdlog::info("interface {} (index {}) appeared", now.name, now.ifindex);
    if (!was || !(*was == now))
      publish_link_change(was, core::LinkEvent{core::LinkEvent::Kind::added_or_changed, now});
  }
  model_.links = std::move(links);
  sync(true);
}

void Router::tick() {
  auto result = upcalls_.tick(model_, rules_);
  for (const auto& key : result.installed)
    listener_.entry_installed(key);
  if (result.resync) sync(true);
}

std::optional<uint64_t> Router::next_tick_ms() const {
  return upcalls_.next_tick_ms(model_);
}

size_t Router::flush() {
  return upcalls_.flush(model_);
}

void Router::teardown() {
  spdlog::info("removing {} kernel entries, their VIFs and {} group memberships",
               writer_.installed().mfc.size(), writer_.installed().memberships.size());
  writer_.write(core::release_plan());
  groups_.clear();
  upcalls_.clear();
  model_.dynamic.clear();
  model_.feeds.clear();
  model_.joins = core::Joins(settings_.join_range_limit);
  if (!mrdisc_announced_.empty()) {
    mrdisc_announced_.clear();
    listener_.mrdisc_changed({}, model_.links);
  }
}

// --- events -------------------------------------------------------------------

void Router::written(const core::Plan& plan, const std::vector<char>& existed,
                     const std::vector<core::Failure>& failures) {
  std::vector<const core::Failure*> failed(plan.ops.size(), nullptr);
  for (const auto& f : failures)
    if (f.op < plan.ops.size()) failed[f.op] = &f;
  // Names as the VIFs are once the plan ran: every entry's VIFs exist then.
  std::array<std::array<std::string, core::kMaxVifs>, 2> names;
  const auto& vifs = writer_.installed().vifs;
  for (size_t f = 0; f < 2; ++f)
    for (size_t v = 0; v < core::kMaxVifs; ++v)
      if (vifs[f][v]) names[f][v] = vifs[f][v]->ifname;
  // The entries' events, or one bulk event in place of the first of them.
  using Kind = core::Op::Kind;
  auto entry = [&](size_t i) {
    return !failed[i] && (plan.ops[i].kind == Kind::add_mfc || plan.ops[i].kind == Kind::del_mfc);
  };
  size_t entries = 0;
  for (size_t i = 0; i < plan.ops.size(); ++i)
    entries += entry(i) ? 1 : 0;
  std::optional<Event> bulk;
  if (entries > kMaxEventsPerChange) {
    std::set<std::string_view> kinds;
    for (size_t i = 0; i < plan.ops.size(); ++i)
      if (entry(i)) kinds.insert(entry_event_kind(plan.ops[i], existed[i] != 0, model_));
    bulk = bulk_event(entries, {kinds.begin(), kinds.end()});
  }
  bool bulk_sent = false;
  for (size_t i = 0; i < plan.ops.size(); ++i) {
    const core::Op& op = plan.ops[i];
    if (bulk && entry(i)) {
      if (!bulk_sent) listener_.event(std::move(*bulk));
      bulk_sent = true;
      continue;
    }
    core::Family family = op.vif.family;
    if (op.kind == Kind::add_mfc || op.kind == Kind::del_mfc) family = op.mfc.key.group.family;
    if (op.kind == Kind::join || op.kind == Kind::leave) family = op.membership.family();
    auto e = failed[i]
                 ? event_of_failure(op, *failed[i])
                 : event_of_op(op, existed[i] != 0, model_, names[core::family_index(family)]);
    if (e) listener_.event(std::move(*e));
  }
}

void Router::start_route_events() {
  published_states_.clear();
  for (const auto& [key, status] : model_.desired.status)
    published_states_.emplace(key, status.state);
  upcalls_lost_seen_ = upcalls_.lost();
}

void Router::publish_route_states() {
  // A route the intent dropped leaves the map without an event: its
  // entry's route.removed (or nothing, if it never was in the kernel) says it.
  std::erase_if(published_states_, [&](const auto& p) {
    return model_.desired.status.find(p.first) == model_.desired.status.end();
  });
  size_t moved = 0;
  for (const auto& [key, status] : model_.desired.status) {
    auto it = published_states_.find(key);
    moved += it == published_states_.end() || it->second != status.state ? 1 : 0;
  }
  const bool bulk = moved > kMaxEventsPerChange;
  std::set<std::string_view> kinds;
  for (const auto& [key, status] : model_.desired.status) {
    auto [it, fresh] = published_states_.try_emplace(key, status.state);
    if (!fresh && it->second == status.state) continue;
    it->second = status.state;
    if (bulk)
      kinds.insert(route_state_kind(status.state));
    else
      listener_.event(route_state_event(key, status));
  }
  if (bulk) listener_.event(bulk_event(moved, {kinds.begin(), kinds.end()}));
}

void Router::publish_link_change(const core::Link* was, const core::LinkEvent& ev) {
  if (!watching()) return;
  if (ev.kind == core::LinkEvent::Kind::removed) {
    listener_.event(link_event("interface.removed", *was));
  } else if (!was) {
    listener_.event(link_event("interface.added", ev.link));
    if (ev.link.up) listener_.event(link_event("interface.up", ev.link));
  } else if (was->up != ev.link.up) {
    listener_.event(link_event(ev.link.up ? "interface.up" : "interface.down", ev.link));
  }
}

void Router::publish_vifs_dropped(int ifindex) {
  if (!watching()) return;
  for (const auto family : {core::Family::v4, core::Family::v6}) {
    const auto& slots = writer_.installed().vifs[core::family_index(family)];
    for (core::VifIndex v = 0; v < core::kMaxVifs; ++v) {
      const auto& slot = slots[static_cast<size_t>(v)];
      if (!slot || slot->ifindex != ifindex) continue;
      listener_.event(vif_freed_event(
          core::VifConf{family, v, slot->ifindex, slot->ttl_threshold, slot->ifname}));
    }
  }
}

void Router::publish_upcall_events(std::span<const core::Upcall> upcalls) {
  if (auto lost = upcalls_.lost(); lost > upcalls_lost_seen_) {
    Event e{"upcalls.lost", std::nullopt, std::nullopt, {}, {}};
    e.with("count", static_cast<int64_t>(lost - upcalls_lost_seen_))
        .with("total", static_cast<int64_t>(lost));
    listener_.event(std::move(e));
    upcalls_lost_seen_ = lost;
  }
  // The kernel sends one WRONGVIF per (S,G) every 3 s at most, yet a
  // thousand flows on the wrong side are a thousand a turn: one event a
  // second, with how many were left out since the last one.
  for (const auto& u : upcalls) {
    if (u.type != core::UpcallType::wrongvif) continue;
    const uint64_t now = clock_.now_ms();
    if (wrongvif_event_ms_ != 0 && now - wrongvif_event_ms_ < 1000) {
      ++wrongvif_suppressed_;
      continue;
    }
    const auto& slot = writer_.installed().vifs[core::family_index(u.family)];
    std::string arrived = "#" + std::to_string(u.vif);
    if (u.vif >= 0 && u.vif < core::kMaxVifs && slot[static_cast<size_t>(u.vif)])
      arrived = slot[static_cast<size_t>(u.vif)]->ifname;
    Event e{"wrongvif", u.family, u.group, {arrived}, {}};
    e.with("family", std::string(core::family_name(u.family)))
        .with("source", u.source.str())
        .with("group", u.group.str())
        .with("interface", arrived)
        .with("suppressed", static_cast<int64_t>(wrongvif_suppressed_));
    listener_.event(std::move(e));
    wrongvif_event_ms_ = now;
    wrongvif_suppressed_ = 0;
  }
}

// --- reads --------------------------------------------------------------------

const core::RouteStatus* Router::route_status(const core::RouteKey& key) const {
  auto it = model_.desired.status.find(key);
  return it == model_.desired.status.end() ? nullptr : &it->second;
}

std::optional<core::Counters> Router::counters(const core::SgKey& key) const {
  auto c = writer_.kernel().counters(key);
  if (!c) return std::nullopt;
  return c.value();
}

std::optional<core::VifCounters> Router::vif_counters(core::Family family,
                                                      core::VifIndex vif) const {
  auto c = writer_.kernel().vif_counters(family, vif);
  if (!c) return std::nullopt;
  return c.value();
}

}  // namespace mfcd::router
