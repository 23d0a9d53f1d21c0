// The state file's document, written and replayed (api/state.hpp).
#include "api/state.hpp"

#include "api/params.hpp"
#include "api/views.hpp"
#include "rpc/params.hpp"

namespace mfcd::api {

using nlohmann::json;

namespace {

// The key as route.add and group.join take it: no "source" for (*,G).
json key_params(const core::FlowKey& key) {
  json p = key_json(key);
  if (!key.source) p.erase("source");
  return p;
}

json route_entries(const router::Router& router) {
  json routes = json::array();
  for (const core::RouteIntent* r : router.model().intent.routes()) {
    for (const auto& [owner, oifs] : r->shares) {
      if (owner == core::kConfigOwner) continue;
      json p = key_params(r->key);
      p["oifs"] = oifs;
      p["owner"] = owner;
      routes.push_back(std::move(p));
    }
  }
  return routes;
}

json join_entries(const router::Router& router) {
  json joins = json::array();
  for (const core::JoinIntent* j : router.model().joins.joins()) {
    for (const auto& owner : j->owners) {
      if (owner == core::kConfigOwner) continue;
      json p = key_params(j->key);
      p["owner"] = owner;
      joins.push_back(std::move(p));
    }
  }
  return joins;
}

// One entry back in. The params parser throws on what route.add would
// refuse as params; the router refuses what the kernel or the model does.
std::optional<std::string> restore_route(router::Router& router, const json& entry) {
  const bool lenient = router.settings().smcroute_names;
  const core::RouteRequest req = route_request(entry, true, lenient);
  auto out = router.set_route(req);
  if (const auto* refusal = std::get_if<router::Refusal>(&out)) return refusal->error.message;
  return std::nullopt;
}

std::optional<std::string> restore_join(router::Router& router, const json& entry) {
  const JoinRequest req = join_request(entry, router.settings().smcroute_names);
  if (auto r = router.join(req.key, req.owner); !r) return r.error().message;
  return std::nullopt;
}

template <typename Restore>
size_t restore_list(const json& list, const char* name, Restore restore,
                    std::vector<RestoreProblem>& problems) {
  size_t done = 0;
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string where = std::string(name) + "[" + std::to_string(i) + "]";
    std::optional<std::string> why;
    try {
      why = restore(list[i]);
    } catch (const rpc::ParamError& e) {
      why = e.param.empty() ? e.message : e.param + ": " + e.message;
    }
    if (why)
      problems.push_back({where, *why});
    else
      ++done;
  }
  return done;
}

}  // namespace

json api_state(const router::Router& router) {
  return {{"version", kStateVersion},
          {"routes", route_entries(router)},
          {"joins", join_entries(router)}};
}

bool restore_api_state(router::Router& router, const json& state, RestoreResult& out,
                       std::string& error) {
  if (!state.is_object() || !state.contains("version") || state["version"] != kStateVersion) {
    error = "not a version " + std::to_string(kStateVersion) + " state file";
    return false;
  }
  const json empty = json::array();
  const json& routes = state.contains("routes") ? state["routes"] : empty;
  const json& joins = state.contains("joins") ? state["joins"] : empty;
  if (!routes.is_array() || !joins.is_array()) {
    error = "\"routes\" and \"joins\" must be lists";
    return false;
  }
  out.routes = restore_list(
      routes, "routes", [&](const json& e) { return restore_route(router, e); }, out.problems);
  out.joins = restore_list(
      joins, "joins", [&](const json& e) { return restore_join(router, e); }, out.problems);
  return true;
}

}  // namespace mfcd::api
