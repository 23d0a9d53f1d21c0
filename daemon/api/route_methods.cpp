// route.add, route.set, route.remove, route.list and pending.list.
#include <spdlog/spdlog.h>

#include <algorithm>

#include "api/methods.hpp"
#include "api/missing_interfaces.hpp"
#include "api/params.hpp"
#include "api/views.hpp"

namespace mfcd::api {

using nlohmann::json;

namespace {

// Under the smcrouted name, requests are read as SMCRoute reads them.
bool lenient(const Context& c) {
  return c.router.settings().smcroute_names;
}

// A route change's answer: the route afterwards, or the error with the data
// the schema promises for its code (which route, which op, which interface).
rpc::HandlerResult route_result(const router::Router& router,
                                const router::Router::RouteOutcome& out,
                                const core::RouteKey& key) {
  if (const auto* refusal = std::get_if<router::Refusal>(&out)) {
    json data = key_json(key);
    data["what"] = "route";
    if (refusal->failure) {
      data["op"] = refusal->failure->what;
      if (!refusal->failure->ifname.empty()) data["interface"] = refusal->failure->ifname;
    }
    if (refusal->error.code == core::Errc::vif_table_full) {
      data["family"] = std::string(core::family_name(key.family()));
      data["limit"] = core::kMaxVifs;
    }
    if (refusal->error.code == core::Errc::invalid_argument) data["param"] = nullptr;
    return to_rpc_error(refusal->error, std::move(data));
  }
  const auto& route = std::get<std::optional<core::RouteIntent>>(out);
  return json{{"route", route ? route_item(router, *route) : json(nullptr)}};
}

using RouteChange = router::Router::RouteOutcome (router::Router::*)(const core::RouteRequest&);

// route.add and route.set. An interface the request names that does not
// exist is refused when the call is strict, before anything changes;
// otherwise the route waits for it, and the result and the log say so.
rpc::HandlerResult change_route(Context& c, const json& params, RouteChange change) {
  json rest = params;
  const Strict strict = take_strict(rest);
  auto req = route_request(rest, true, lenient(c));
  const auto missing =
      router::missing_route_interfaces(req.key.iif, req.oifs, c.router.model().links);
  if (auto refused = refused_by(missing, strict); !refused.empty()) return missing_error(refused);
  auto result = route_result(c.router, (c.router.*change)(req), req.key);
  auto* ok = std::get_if<json>(&result);
  if (ok && !missing.empty()) {
    for (const auto& m : missing)
      spdlog::warn("route {} by {}: {}", req.key.str(), req.owner, m.message());
    (*ok)["warnings"] = warnings_json(missing);
  }
  return result;
}

}  // namespace

rpc::HandlerResult route_add(Context& c, const json& params) {
  return change_route(c, params, &router::Router::add_route);
}

rpc::HandlerResult route_set(Context& c, const json& params) {
  return change_route(c, params, &router::Router::set_route);
}

rpc::HandlerResult route_remove(Context& c, const json& params) {
  auto req = route_request(params, false, lenient(c));
  return route_result(c.router, c.router.remove_route(req), req.key);
}

rpc::HandlerResult route_list(Context& c, const json& params) {
  rpc::Params p(params);
  const bool detail = p.opt_bool("detail", false);
  p.finish();
  json asm_rules = json::array(), ssm_rules = json::array(), kernel = json::array();
  for (const auto* r : c.router.model().intent.routes())
    (r->key.is_asm() ? asm_rules : ssm_rules).push_back(route_item(c.router, *r));
  std::vector<const core::InstalledMfc*> entries;
  entries.reserve(c.router.installed().mfc.size());
  for (const auto& [key, m] : c.router.installed().mfc)
    entries.push_back(&m);
  std::sort(entries.begin(), entries.end(), [](const auto* a, const auto* b) {
    return std::tie(a->conf.key.group, a->conf.key.source) <
           std::tie(b->conf.key.group, b->conf.key.source);
  });
  for (const auto* m : entries)
    kernel.push_back(kernel_entry(c.router, *m, detail));
  return json{{"routes", {{"asm", asm_rules}, {"ssm", ssm_rules}, {"kernel", kernel}}}};
}

rpc::HandlerResult pending_list(Context& c, const json& params) {
  no_params(params);
  json pending = json::array();
  for (const auto* r : c.router.model().intent.routes()) {
    const core::RouteStatus* st = c.router.route_status(r->key);
    if (!route_is_pending(st)) continue;
    json item = key_json(r->key);
    item["kind"] = "mroute";
    item["oifs"] = r->oifs();
    item["missing_oifs"] = st->missing_oifs;
    item["state"] = std::string(core::route_state_name(st->state));
    if (!st->reason.empty()) item["reason"] = st->reason;
    pending.push_back(item);
  }
  for (const auto* j : c.router.model().joins.joins()) {
    if (!join_is_pending(*j)) continue;
    json item = key_json(j->key);
    item["kind"] = "mgroup";
    item["reason"] = "interface " + j->key.iif + " does not exist";
    pending.push_back(item);
  }
  return json{{"pending", pending}};
}

}  // namespace mfcd::api
