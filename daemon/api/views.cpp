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

namespace {

void write_strings(rpc::JsonWriter& w, const std::vector<std::string>& list) {
  w.begin_array();
  for (const auto& s : list)
    w.value(s);
  w.end_array();
}

}  // namespace

// Members in the order rpc::dump sorts them, so that an item reads the
// same whether a listing wrote it or a json object was made of it.
void write_route_item(rpc::JsonWriter& w, const core::RouteIntent& r, const core::RouteStatus* st) {
  w.begin_object();
  w.key("family").value(core::family_name(r.key.family()));
  w.key("group").value(r.key.group.str());
  w.key("iif").value(r.key.iif);
  w.key("missing_oifs");
  write_strings(w, st ? st->missing_oifs : std::vector<std::string>{});
  w.key("oifs");
  write_strings(w, r.oifs());
  w.key("origins").begin_array();
  if (r.from_config()) w.value("config");
  if (r.from_api()) w.value("api");
  w.end_array();
  w.key("owners");
  write_strings(w, r.api_owners());
  if (st && !st->reason.empty()) w.key("reason").value(st->reason);
  w.key("source");
  if (r.key.source) {
    w.value(r.key.source->str());
  } else {
    w.null();
  }
  w.key("state").value(core::route_state_name(st ? st->state : core::RouteState::pending));
  w.end_object();
}

json route_item(const core::RouteIntent& r, const core::RouteStatus* st) {
  rpc::JsonWriter w;
  write_route_item(w, r, st);
  return json::parse(w.text());
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

// Members in rpc::dump's order, as write_route_item.
void write_kernel_entry(rpc::JsonWriter& w, const router::Router& router,
                        const core::InstalledMfc& m, bool detail) {
  const auto& inst = router.installed();
  const core::Family f = m.conf.key.group.family;
  std::optional<core::Counters> counters;
  if (detail) counters = router.counters(m.conf.key).value_or(core::Counters{});
  std::optional<std::string> rule;
  if (m.dynamic) {
    const auto& dynamic = router.model().dynamic;
    auto d = dynamic.find(m.conf.key);
    if (d != dynamic.end() && d->second.rule) rule = d->second.rule->str();
  }
  w.begin_object();
  if (counters) w.key("bytes").value(counters->bytes);
  w.key("family").value(core::family_name(f));
  w.key("group").value(m.conf.key.group.str());
  w.key("iif").value(vif_name(inst, f, m.conf.iif));
  w.key("oifs").begin_array();
  for (int v = 0; v < core::kMaxVifs; ++v)
    if (m.conf.ttls[static_cast<size_t>(v)] > 0) w.value(vif_name(inst, f, v));
  w.end_array();
  if (counters) w.key("packets").value(counters->packets);
  if (rule) w.key("rule").value(*rule);
  w.key("source").value(m.conf.key.source.str());
  w.key("type").value(m.dynamic ? "dynamic" : "static");
  if (counters) w.key("wrong_if").value(counters->wrong_if);
  w.end_object();
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
