// group.join, group.leave and group.list. Bad addresses are refused as
// invalid params (-32602) before anything changes; what only the router can
// judge (the range bound, the interface, the kernel) comes back as one of
// mfcd's own codes with its data object.
#include <spdlog/spdlog.h>

#include "api/methods.hpp"
#include "api/missing_interfaces.hpp"
#include "api/params.hpp"
#include "api/views.hpp"

namespace mfcd::api {

using nlohmann::json;

namespace {

// The data object each code promises in the schema.
rpc::RpcError join_error(const core::Error& err, const core::JoinKey& key, size_t range_limit) {
  json data = json::object();
  switch (err.code) {
    case core::Errc::invalid_argument:
      data = {{"param", "group"}};
      break;
    case core::Errc::interface_unknown:
      data = {{"interface", key.iif}};
      break;
    case core::Errc::not_found:
      data = key_json(key);
      data["what"] = "join";
      break;
    case core::Errc::limit:
      data = {{"limit", "join_range"}, {"value", range_limit}};
      break;
    case core::Errc::kernel:
      // "MCAST_JOIN_GROUP a1 (*, 225.1.1.1): No such device" -> the part
      // before the colon names the operation.
      data = {{"op", err.message.substr(0, err.message.find(": "))}};
      break;
    default:
      break;
  }
  return to_rpc_error(err, std::move(data));
}

// {"group": item afterwards, or null when the join is gone}
rpc::HandlerResult join_result(const router::Router& router, const core::JoinKey& key) {
  const auto* j = router.model().joins.find(key);
  return json{{"group", j ? join_item(router, *j) : json(nullptr)}};
}

}  // namespace

// A join on an interface that does not exist waits for it, as a route does
// (and as an mgroup line always did), with a warning in the result; a
// strict call is refused instead, changing nothing.
rpc::HandlerResult group_join(Context& c, const json& params) {
  json rest = params;
  const Strict strict = take_strict(rest);
  auto req = join_request(rest, c.router.settings().smcroute_names);
  const auto missing = router::missing_join_interface(req.key.iif, c.router.model().links);
  if (auto refused = refused_by(missing, strict); !refused.empty()) return missing_error(refused);
  if (auto r = c.router.join(req.key, req.owner); !r)
    return join_error(r.error(), req.key, c.router.model().joins.range_limit());
  auto result = join_result(c.router, req.key);
  if (!missing.empty()) {
    for (const auto& m : missing)
      spdlog::warn("join {} by {}: {}", req.key.str(), req.owner, m.message());
    std::get<json>(result)["warnings"] = warnings_json(missing);
  }
  return result;
}

rpc::HandlerResult group_leave(Context& c, const json& params) {
  auto req = join_request(params, c.router.settings().smcroute_names);
  if (auto r = c.router.leave(req.key, req.owner); !r)
    return join_error(r.error(), req.key, c.router.model().joins.range_limit());
  return join_result(c.router, req.key);
}

rpc::HandlerResult group_list(Context& c, const json& params) {
  no_params(params);
  json conf = json::array();
  for (const auto* j : c.router.model().joins.joins())
    conf.push_back(join_item(c.router, *j));
  json kernel = json::array();
  for (const auto& held : c.router.held_memberships()) {
    const auto& m = held.membership;
    kernel.push_back({{"iif", m.ifname},
                      {"source", m.source ? json(m.source->str()) : json(nullptr)},
                      {"group", m.group.str()},
                      {"family", std::string(core::family_name(m.family()))},
                      {"socket", held.socket}});
  }
  return json{{"groups", {{"conf", conf}, {"kernel", kernel}}}};
}

}  // namespace mfcd::api
