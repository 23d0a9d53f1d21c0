// See events.hpp. Names of kinds and members are the API's (docs/api.md,
// schema/mfcd.openrpc.json "Event"): change them there too.
#include "router/events.hpp"

#include <algorithm>

namespace mfcd::router {

namespace {

using Names = std::array<std::string, core::kMaxVifs>;

std::string vif_name(const Names& names, core::VifIndex vif) {
  if (vif >= 0 && vif < core::kMaxVifs && !names[static_cast<size_t>(vif)].empty())
    return names[static_cast<size_t>(vif)];
  return "#" + std::to_string(vif);
}

Event vif_event(std::string kind, const core::VifConf& vif) {
  Event e{std::move(kind), vif.family, std::nullopt, {vif.ifname}, {}};
  e.with("family", std::string(core::family_name(vif.family)))
      .with("vif", int64_t{vif.vif})
      .with("interface", vif.ifname);
  return e;
}

// Which of "config" and "api" hold the route, and the API's owners.
void add_origin(Event& e, const core::RouteIntent* route) {
  if (!route) return;
  std::vector<std::string> origin;
  if (route->from_config()) origin.emplace_back("config");
  if (route->from_api()) origin.emplace_back("api");
  e.with("origin", std::move(origin)).with("owners", route->api_owners());
}

// A stop filter is an entry that asks for no OIF: a flow no rule covers,
// or a route written without any. A route whose OIFs are all missing is
// still a route (installed, its OIFs to come).
std::string_view add_mfc_kind(const core::Op& op, bool existed, bool no_oifs,
                              const core::RouteIntent* route) {
  if (existed) return op.dynamic ? "flow.changed" : "route.changed";
  const bool stop = op.dynamic ? no_oifs : route && route->oifs().empty();
  if (stop) return "filter.added";
  return op.dynamic ? "flow.learned" : "route.installed";
}

Event add_mfc_event(const core::Op& op, bool existed, const Model& model, const Names& names) {
  const core::SgKey& key = op.mfc.key;
  std::vector<std::string> oifs;
  for (core::VifIndex i = 0; i < core::kMaxVifs; ++i)
    if (op.mfc.ttls[static_cast<size_t>(i)]) oifs.push_back(vif_name(names, i));
  const std::string iif = vif_name(names, op.mfc.iif);
  const core::RouteIntent* route = op.dynamic ? nullptr : model.intent.find_route(op.route);
  Event e{std::string(add_mfc_kind(op, existed, oifs.empty(), route)),
          key.group.family,
          key.group,
          {iif},
          {}};
  e.interfaces.insert(e.interfaces.end(), oifs.begin(), oifs.end());
  e.with("family", std::string(core::family_name(key.group.family)))
      .with("source", key.source.str())
      .with("group", key.group.str())
      .with("iif", iif)
      .with("oifs", std::move(oifs))
      .with(op.dynamic ? "rule" : "route", op.route.str());
  if (!op.dynamic) add_origin(e, route);
  return e;
}

Event del_mfc_event(const core::Op& op) {
  const core::SgKey& key = op.mfc.key;
  Event e{op.dynamic ? "flow.expired" : "route.removed",
          key.group.family,
          key.group,
          {op.route.iif},
          {}};
  e.with("family", std::string(core::family_name(key.group.family)))
      .with("source", key.source.str())
      .with("group", key.group.str())
      .with(op.dynamic ? "rule" : "route", op.route.str());
  return e;
}

Event membership_event(std::string kind, const core::Membership& m) {
  Event e{std::move(kind), m.family(), m.group, {m.ifname}, {}};
  e.with("family", std::string(core::family_name(m.family())))
      .with("interface", m.ifname)
      .with("group", m.group.str());
  if (m.source) e.with("source", m.source->str());
  return e;
}

}  // namespace

std::string_view entry_event_kind(const core::Op& op, bool existed, const Model& model) {
  if (op.kind == core::Op::Kind::del_mfc) return op.dynamic ? "flow.expired" : "route.removed";
  const bool no_oifs =
      std::none_of(op.mfc.ttls.begin(), op.mfc.ttls.end(), [](auto ttl) { return ttl != 0; });
  const core::RouteIntent* route = op.dynamic ? nullptr : model.intent.find_route(op.route);
  return add_mfc_kind(op, existed, no_oifs, route);
}

Event bulk_event(size_t count, std::vector<std::string> kinds) {
  Event e{"bulk", std::nullopt, std::nullopt, {}, {}};
  e.with("count", static_cast<int64_t>(count))
      .with("kinds", std::move(kinds))
      .with("reason", std::to_string(count) + " events of one change, more than " +
                          std::to_string(kMaxEventsPerChange) +
                          ": left out; read the state again (route.list)");
  return e;
}

const std::vector<std::string>* bulk_kinds(const Event& e) {
  if (e.kind != "bulk") return nullptr;
  for (const auto& f : e.fields)
    if (f.name == "kinds") return &f.list;
  return nullptr;
}

std::optional<Event> event_of_op(const core::Op& op, bool existed, const Model& model,
                                 const Names& vif_names) {
  using Kind = core::Op::Kind;
  switch (op.kind) {
    case Kind::add_vif:
      return vif_event("vif.added", op.vif);
    case Kind::del_vif:
      return vif_event("vif.freed", op.vif);
    case Kind::add_mfc:
      return add_mfc_event(op, existed, model, vif_names);
    case Kind::del_mfc:
      return del_mfc_event(op);
    case Kind::join:
      return membership_event("join.active", op.membership);
    case Kind::leave:
      return membership_event("join.left", op.membership);
    case Kind::release_all:
      return std::nullopt;
  }
  return std::nullopt;
}

Event vif_freed_event(const core::VifConf& vif) {
  return vif_event("vif.freed", vif);
}

std::optional<Event> event_of_failure(const core::Op& op, const core::Failure& failure) {
  if (op.kind != core::Op::Kind::join) return std::nullopt;
  Event e = membership_event("join.failed", op.membership);
  e.with("error", failure.error.message);
  return e;
}

std::string_view route_state_kind(core::RouteState state) {
  if (state == core::RouteState::pending) return "route.pending";
  if (state == core::RouteState::standby) return "route.standby";
  return "route.active";
}

Event route_state_event(const core::RouteKey& key, const core::RouteStatus& status) {
  Event e{std::string(route_state_kind(status.state)), key.family(), key.group.addr, {key.iif}, {}};
  e.with("family", std::string(core::family_name(key.family())))
      .with("route", key.str())
      .with("state", std::string(core::route_state_name(status.state)));
  if (!status.missing_oifs.empty()) e.with("missing_oifs", status.missing_oifs);
  if (!status.reason.empty()) e.with("reason", status.reason);
  return e;
}

Event join_pending_event(const core::JoinKey& key, const std::string& reason) {
  Event e{"join.pending", key.family(), key.group.addr, {key.iif}, {}};
  e.with("family", std::string(core::family_name(key.family())))
      .with("interface", key.iif)
      .with("group", key.group.str());
  if (key.source) e.with("source", key.source->str());
  e.with("reason", reason);
  return e;
}

Event link_event(std::string kind, const core::Link& link) {
  Event e{std::move(kind), std::nullopt, std::nullopt, {link.name}, {}};
  e.with("interface", link.name).with("ifindex", int64_t{link.ifindex});
  return e;
}

}  // namespace mfcd::router
