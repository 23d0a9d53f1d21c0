// See views.hpp.
#include "api/views.hpp"

namespace mfcd::api {

using nlohmann::json;

json prefix_or_null(const std::optional<core::Prefix>& p) {
  return p ? json(p->str()) : json(nullptr);
}

json key_json(const core::FlowKey& key) {
  return {{"iif", key.iif}, {"source", prefix_or_null(key.source)}, {"group", key.group.str()}};
}

json route_item(const core::RouteIntent& r, const core::RouteStatus* st) {
  json item = key_json(r.key);
  item["oifs"] = r.oifs();
  item["family"] = std::string(core::family_name(r.key.family()));
  item["state"] = std::string(core::route_state_name(st ? st->state : core::RouteState::pending));
  item["missing_oifs"] = st ? st->missing_oifs : std::vector<std::string>{};
  if (st && !st->reason.empty()) item["reason"] = st->reason;
  json origins = json::array();
  if (r.from_config()) origins.push_back("config");
  if (r.from_api()) origins.push_back("api");
  item["origins"] = origins;
  item["owners"] = r.api_owners();
  return item;
}

json route_item(const router::Router& router, const core::RouteIntent& r) {
  return route_item(r, router.route_status(r.key));
}

std::string vif_name(const core::Installed& inst, core::Family f, core::VifIndex vif) {
  if (vif < 0 || vif >= core::kMaxVifs) return "?";
  const auto& v = inst.vifs[core::family_index(f)][static_cast<size_t>(vif)];
  return v ? v->ifname : "vif" + std::to_string(vif);
}

bool route_is_pending(const core::RouteStatus* st) {
  return st && (st->state == core::RouteState::pending || !st->missing_oifs.empty());
}

bool join_is_pending(const core::JoinIntent& j) {
  return !j.ifindex && j.error.empty();
}

json kernel_entry(const router::Router& router, const core::InstalledMfc& m, bool detail) {
  const auto& inst = router.installed();
  core::Family f = m.conf.key.group.family;
  json oifs = json::array();
  for (int v = 0; v < core::kMaxVifs; ++v)
    if (m.conf.ttls[static_cast<size_t>(v)] > 0) oifs.push_back(vif_name(inst, f, v));
  json e = {
      {"source", m.conf.key.source.str()},           {"group", m.conf.key.group.str()},
      {"iif", vif_name(inst, f, m.conf.iif)},        {"oifs", oifs},
      {"family", std::string(core::family_name(f))}, {"type", m.dynamic ? "dynamic" : "static"}};
  if (detail) {
    auto c = router.counters(m.conf.key);
    e["packets"] = c ? c->packets : 0;
    e["bytes"] = c ? c->bytes : 0;
    e["wrong_if"] = c ? c->wrong_if : 0;
  }
  if (m.dynamic) {
    const auto& dynamic = router.model().dynamic;
    auto d = dynamic.find(m.conf.key);
    if (d != dynamic.end() && d->second.rule) e["rule"] = d->second.rule->str();
  }
  return e;
}

json join_item(const router::Router& router, const core::JoinIntent& j) {
  json it = key_json(j.key);
  it["family"] = std::string(core::family_name(j.key.family()));
  json origins = json::array();
  if (j.from_config()) origins.push_back("config");
  if (j.from_api()) origins.push_back("api");
  it["origins"] = origins;
  it["owners"] = j.api_owners();
  const router::JoinState st = router.join_state(j);
  switch (st.kind) {
    case router::JoinState::Kind::joined:
      it["state"] = "joined";
      break;
    case router::JoinState::Kind::pending:
      it["state"] = "pending";
      it["reason"] = st.reason;
      break;
    case router::JoinState::Kind::failed:
      it["state"] = "failed";
      it["reason"] = st.reason;
      break;
  }
  it["memberships"] = st.memberships;
  if (j.pos) {
    it["file"] = j.pos->file;
    it["line"] = j.pos->line;
  }
  return it;
}

json diagnostic_json(const core::Diagnostic& d) {
  return {
      {"file", d.pos.file}, {"line", d.pos.line}, {"column", d.pos.column}, {"message", d.message}};
}

namespace {

json change_list(const std::vector<router::RouteChange>& changes) {
  json list = json::array();
  for (const auto& c : changes)
    list.push_back(route_item(c.route, &c.status));
  return list;
}

}  // namespace

json reload_routes(const router::ReloadReport& report) {
  return {{"added", change_list(report.added)},
          {"changed", change_list(report.changed)},
          {"removed", change_list(report.removed)}};
}

json reload_groups(const router::Router& router, const router::ReloadReport& report) {
  json joined = json::array(), left = json::array();
  for (const auto& j : report.joined)
    joined.push_back(join_item(router, j));
  for (const auto& j : report.left)
    left.push_back(join_item(router, j));
  return {{"joined", joined}, {"left", left}};
}

}  // namespace mfcd::api
