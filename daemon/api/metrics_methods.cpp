// metrics.get, and the snapshot behind it that the HTTP listener renders
// too. The figures come from where their owners keep them: the kernel's
// counters through the router (as route.list detail reads them), the
// upcall counts as daemon.status has them, pending items by pending.list's
// rule, and the service's own (RPC, clients, reloads, process) through
// the Daemon port. Rendering is core's (core/metrics.hpp).
#include "api/methods.hpp"
#include "api/params.hpp"
#include "api/views.hpp"

namespace mfcd::api {

using nlohmann::json;

namespace {

using Snapshot = core::MetricsSnapshot;
constexpr core::Family kFamilies[] = {core::Family::v4, core::Family::v6};

// Every MFC entry mfcd installed whose counters the kernel still answers
// for: a missing figure is left out rather than reported as a reset.
void add_routes(Snapshot& s, const router::Router& router) {
  const auto& inst = router.installed();
  s.routes.reserve(inst.mfc.size());
  for (const auto& [key, m] : inst.mfc) {
    const auto c = router.counters(key);
    if (!c) continue;
    const core::Family f = key.group.family;
    s.routes.push_back({std::string(core::family_name(f)), key.source.str(), key.group.str(),
                        vif_name(inst, f, m.conf.iif), m.dynamic ? "dynamic" : "static", c->packets,
                        c->bytes, c->wrong_if});
  }
}

void add_vifs(Snapshot& s, const router::Router& router) {
  const auto& inst = router.installed();
  for (const core::Family f : kFamilies) {
    for (core::VifIndex v = 0; v < core::kMaxVifs; ++v) {
      const auto& slot = inst.vifs[core::family_index(f)][static_cast<size_t>(v)];
      if (!slot) continue;
      const auto c = router.vif_counters(f, v);
      if (!c) continue;
      s.vifs.push_back({std::string(core::family_name(f)), v, slot->ifname, c->packets_in,
                        c->packets_out, c->bytes_in, c->bytes_out});
    }
  }
}

void add_upcalls(Snapshot& s, const router::Router& router) {
  const auto& st = router.upcall_stats();
  s.upcalls = {{"nocache", st.nocache}, {"wrongvif", st.wrongvif}};
  s.upcall_events = {
      {"ignored", st.ignored}, {"installed", st.installed}, {"stop_filter", st.stop_filters},
      {"failed", st.failed},   {"moved", st.moved},         {"expired", st.expired},
      {"flushed", st.flushed}};
  s.upcalls_lost = router.upcalls_lost();
}

// One family's routes by state, pending items and VIF slots.
Snapshot::Table family_table(const router::Router& router, core::Family f, uint32_t table) {
  Snapshot::Table t{std::string(core::family_name(f)), table, {}, 0, 0, 0, 0};
  const core::RouteState states[] = {core::RouteState::installed, core::RouteState::standby,
                                     core::RouteState::rule, core::RouteState::pending};
  uint64_t by_state[std::size(states)] = {};
  for (const auto* r : router.model().intent.routes()) {
    if (r->key.family() != f) continue;
    const core::RouteStatus* st = router.route_status(r->key);
    const core::RouteState state = st ? st->state : core::RouteState::pending;
    for (size_t i = 0; i < std::size(states); ++i)
      by_state[i] += states[i] == state ? 1 : 0;
    t.pending_routes += route_is_pending(st) ? 1 : 0;
  }
  for (size_t i = 0; i < std::size(states); ++i)
    t.routes_by_state.emplace_back(std::string(core::route_state_name(states[i])), by_state[i]);
  for (const auto* j : router.model().joins.joins())
    t.pending_joins += j->key.family() == f && join_is_pending(*j) ? 1 : 0;
  t.vifs_used = router.installed().vif_count(f);
  t.vifs_free = core::kMaxVifs - t.vifs_used;
  return t;
}

}  // namespace

core::MetricsSnapshot metrics_snapshot(const router::Router& router, const Daemon& daemon) {
  Snapshot s;
  add_routes(s, router);
  add_vifs(s, router);
  add_upcalls(s, router);
  const DaemonInfo info = daemon.info();
  for (const core::Family f : kFamilies) {
    if ((f == core::Family::v4 && !info.ipv4) || (f == core::Family::v6 && !info.ipv6)) continue;
    s.tables.push_back(family_table(router, f, info.table));
  }
  ServiceFigures fig = daemon.figures();
  s.reloads = fig.reloads;
  for (auto& m : fig.rpc)
    s.rpc.push_back({std::move(m.method), m.requests, m.errors});
  s.clients = std::move(fig.clients);
  s.resident_bytes = fig.resident_bytes;
  s.open_fds = fig.open_fds;
  return s;
}

std::string metrics_text(const router::Router& router, const Daemon& daemon) {
  return core::render_metrics(metrics_snapshot(router, daemon));
}

rpc::HandlerResult metrics_get(Context& c, const json& params) {
  no_params(params);
  return json{{"format", std::string(core::kMetricsFormat)},
              {"content_type", std::string(core::kMetricsContentType)},
              {"text", metrics_text(c.router, c.daemon)}};
}

}  // namespace mfcd::api
