// The heart of mfcd, free of the event loop: the operator's intent, what it
// means on the interfaces present, and the kernel state that realises it.
// The service turns readiness, signals and timers into calls here; the
// JSON-RPC methods (api/) call the route, group, reload and read methods.
// Every call does its work and returns: nothing here blocks, waits or knows
// about libuv.
//
// All I/O goes through ports: core::KernelPort (VIFs, MFC entries,
// counters), core::MembershipPort (group joins), core::Clock, and the
// Listener for what the service does on the router's behalf (the -e script,
// router discovery). Every kernel change is a core::Plan run by the one
// Writer, which records what the kernel accepted. The unit tests drive a
// Router with fakes of all of them (tests/unit/fakes.hpp).
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/config.hpp"
#include "core/plan.hpp"
#include "core/ports.hpp"
#include "core/upcall.hpp"
#include "router/events.hpp"
#include "router/groups.hpp"
#include "router/model.hpp"
#include "router/reload.hpp"
#include "router/sync.hpp"
#include "router/upcalls.hpp"
#include "router/writer.hpp"

namespace mfcd::router {

// What the service does for the router.
class Listener {
 public:
  virtual ~Listener() = default;
  // A rule installed (or moved) a learned entry: `-e CMD install`.
  virtual void entry_installed(const core::SgKey& key) = 0;
  // The interfaces that announce mfcd as a multicast router (RFC 4286):
  // `announce` holds their names; `links` is every link present.
  virtual void mrdisc_changed(const std::set<std::string>& announce, const core::Links& links) = 0;
  // events.subscribe: whether anybody listens now, and one thing that
  // happened (router/events.hpp). Events are built only while wanted.
  virtual bool events_wanted() const { return false; }
  virtual void event(Event /*e*/) {}
};

struct Settings {
  unsigned cache_timeout = 60;  // -c, seconds; 0: learned entries never expire
  // Invoked as smcrouted: a reload drops every API route and join, and a
  // request's /LEN with host bits set is masked (api/params.hpp), as
  // SMCRoute does.
  bool smcroute_names = false;
  size_t join_range_limit = core::kDefaultJoinRangeLimit;
  bool with_v4 = true, with_v6 = true;  // the families the kernel routes
};

// A refused route or join change, with the op that failed when the kernel
// refused it (the route's state is exactly as before the call).
struct Refusal {
  core::Error error;
  std::optional<core::Failure> failure;
};

class Router final : private WriteObserver {
 public:
  Router(core::KernelPort& kernel, core::MembershipPort& membership, const core::Clock& clock,
         Listener& listener, Settings settings);

  // Start-up: the config (parsed and checked) into the kernel, on the links
  // present. A fresh table gets the quick start first (core/quick_start.hpp).
  void start(const core::Config& config, core::Links links);

  // route.add / route.set / route.remove: the route afterwards (nullopt:
  // removed), once the kernel holds it; or why not, with nothing changed.
  using RouteOutcome = std::variant<std::optional<core::RouteIntent>, Refusal>;
  RouteOutcome add_route(const core::RouteRequest& req);
  RouteOutcome set_route(const core::RouteRequest& req);
  RouteOutcome remove_route(const core::RouteRequest& req);

  // group.join / group.leave (see Groups).
  core::Result<void> join(const core::JoinKey& key, const std::string& owner);
  core::Result<void> leave(const core::JoinKey& key, const std::string& owner);

  // A reload in two phases. plan_reload decides everything the new config
  // means (routes, groups, router discovery) without touching the kernel;
  // apply_reload writes exactly that plan. dry_run plans on a copy of the
  // model, through the same code, and changes nothing.
  ReloadPlan plan_reload(const core::Config& config);
  ReloadReport apply_reload(ReloadPlan plan);
  ReloadReport dry_run(const core::Config& config) const;

  // Events.
  void on_upcalls(std::span<const core::Upcall> upcalls);
  void on_link_events(const std::vector<core::LinkEvent>& events);
  void replace_links(core::Links links);  // after a netlink overrun: the whole list again
  // The periodic work that is due, a bounded slice of it per call.
  void tick();
  // When tick() has work next (clock milliseconds), or nullopt.
  std::optional<uint64_t> next_tick_ms() const;
  size_t flush();
  // Everything mfcd made in the kernel goes, at once; the router is empty.
  void teardown();

  // Reads, for the API.
  const Model& model() const { return model_; }
  const core::Installed& installed() const { return writer_.installed(); }
  const core::RouteStatus* route_status(const core::RouteKey& key) const;
  std::optional<core::Counters> counters(const core::SgKey& key) const;
  std::optional<core::VifCounters> vif_counters(core::Family family, core::VifIndex vif) const;
  const UpcallStats& upcall_stats() const { return upcalls_.stats(); }
  uint64_t upcalls_lost() const { return upcalls_.lost(); }
  JoinState join_state(const core::JoinIntent& join) const { return groups_.state(model_, join); }
  std::vector<core::HeldMembership> held_memberships() const { return writer_.membership().held(); }
  const Settings& settings() const { return settings_; }

  // The first subscriber arrived: from now on a route whose state differs
  // from the one it has now is announced (route.pending, route.active).
  void start_route_events();

 private:
  // WriteObserver: every kernel op of every plan, as events.
  bool watching() const override { return listener_.events_wanted(); }
  void written(const core::Plan& plan, const std::vector<char>& existed,
               const std::vector<core::Failure>& failures) override;
  // After routes were decided and written: each route whose state changed.
  void publish_route_states();
  void publish_link_change(const core::Link* was, const core::LinkEvent& ev);
  // The kernel dropped the VIFs of a device that went: vif.freed for each.
  void publish_vifs_dropped(int ifindex);
  std::set<core::JoinKey> pending_joins() const;
  void publish_joins_pending(const std::set<core::JoinKey>& before);
  // groups_.update_links, with join.pending for the joins it leaves waiting.
  void update_join_links();
  void publish_upcall_events(std::span<const core::Upcall> upcalls);
  // Decides and writes what changed in the intent (all of it with
  // `whole`), then what follows from the links (groups, mrdisc) when the
  // full path ran. Returns the failures.
  std::vector<core::Failure> sync(bool whole = false);
  std::vector<core::Failure> write_routes(RoutePlan& plan);
  // Plans and writes the change `req` made to the intent; on a refusal
  // puts `before` back. Logs "route K <done> by OWNER" when it went through.
  RouteOutcome commit_route(const core::RouteRequest& req,
                            const std::optional<core::RouteIntent>& before, std::string_view done);
  void announce_mrdisc();
  void report_once(const std::vector<core::Diagnostic>& warnings);
  void log_failures(const std::vector<core::Failure>& failures, bool whole);

  Settings settings_;
  Listener& listener_;
  Writer writer_;
  Model model_;
  RuleCache rules_;
  Groups groups_;
  Upcalls upcalls_;
  std::set<std::string> reported_;  // persistent failures and warnings, each logged once
  bool retry_pending_ = false;      // a plan since the last full one had failures
  std::set<std::string> mrdisc_announced_;
  // Events: the route states subscribers last heard of; the WRONGVIF
  // rate limit (one event a second, with a count of those left out); the
  // upcalls lost so far.
  std::unordered_map<core::RouteKey, core::RouteState, core::RouteKeyHash> published_states_;
  uint64_t wrongvif_event_ms_ = 0;
  uint64_t wrongvif_suppressed_ = 0;
  uint64_t upcalls_lost_seen_ = 0;
  const core::Clock& clock_;
};

}  // namespace mfcd::router
