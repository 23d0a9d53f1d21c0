// group.join, group.leave and group.list: named params to a core::JoinKey,
// a call on Groups, and the answer shaped as schema/mfcd.openrpc.json says.
// Bad addresses are refused here as invalid params (-32602) before anything
// changes; what only Groups can judge (the range bound, the interface, the
// kernel) comes back as one of mfcd's own codes with its data object.
#include <cstring>
#include <nlohmann/json.hpp>

#include "groups.hpp"
#include "method_support.hpp"
#include "rpc/dispatcher.hpp"
#include "rpc/errors.hpp"

namespace mfcd {

namespace {

using nlohmann::json;

struct JoinRequest {
  core::JoinKey key;
  std::string owner;
};

JoinRequest join_request(const json& params) {
  rpc::Params p(params);
  JoinRequest req;
  req.key.iif = p.get_string("iif");
  auto source = p.opt_string("source");
  req.key.group = prefix_param("group", p.get_string("group"));
  if (source) req.key.source = prefix_param("source", *source);
  req.owner = owner_param(p);
  p.finish();
  if (req.key.iif.empty()) throw rpc::ParamError{"iif", "interface name is empty"};
  req.key = core::normalized(req.key);
  if (auto ok = core::validate_join_key(req.key); !ok) {
    const std::string& msg = ok.error().message;
    throw rpc::ParamError{msg.rfind("source", 0) == 0 ? "source" : "group", msg};
  }
  return req;
}

json key_json(const core::JoinKey& key) {
  return {{"iif", key.iif}, {"source", prefix_or_null(key.source)}, {"group", key.group.str()}};
}

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

}  // namespace

void register_group_methods(rpc::Dispatcher& d, Groups& groups) {
  d.add("group.join",
        [&groups](const json& params, const rpc::CallContext& ctx) -> rpc::HandlerResult {
          auto req = join_request(params);
          if (!may_change(ctx)) return permission_denied(ctx, "groups");
          auto r = groups.join(req.key, req.owner);
          if (!r) return join_error(r.error(), req.key, groups.joins().range_limit());
          return json{{"group", r.value()}};
        });
  d.add("group.leave",
        [&groups](const json& params, const rpc::CallContext& ctx) -> rpc::HandlerResult {
          auto req = join_request(params);
          if (!may_change(ctx)) return permission_denied(ctx, "groups");
          auto r = groups.leave(req.key, req.owner);
          if (!r) return join_error(r.error(), req.key, groups.joins().range_limit());
          return json{{"group", r.value()}};
        });
  d.add("group.list", [&groups](const json& params, const rpc::CallContext&) -> rpc::HandlerResult {
    rpc::Params p(params);
    p.finish();
    return groups.list();
  });
}

}  // namespace mfcd
