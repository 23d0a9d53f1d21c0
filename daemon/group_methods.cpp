// group.join, group.leave and group.list: named params to a core::JoinKey,
// a call on Groups, and the answer shaped as schema/mfcd.openrpc.json says.
// Bad addresses are refused here as invalid params (-32602) before anything
// changes; what only Groups can judge (the range bound, the interface, the
// kernel) comes back as one of mfcd's own codes with its data object.
#include <cstring>
#include <nlohmann/json.hpp>

#include "groups.hpp"
#include "rpc/dispatcher.hpp"
#include "rpc/errors.hpp"

namespace mfcd {

namespace {

using nlohmann::json;

constexpr const char* kDefaultOwner = "api";

core::Prefix prefix_param(const std::string& name, const std::string& text) {
  auto parsed = core::parse_prefix(text);
  if (!parsed.prefix) throw rpc::ParamError{name, parsed.error};
  return *parsed.prefix;
}

struct JoinRequest {
  core::JoinKey key;
  std::string owner = kDefaultOwner;
};

JoinRequest join_request(const json& params) {
  rpc::Params p(params);
  JoinRequest req;
  req.key.iif = p.get_string("iif");
  auto source = p.opt_string("source");
  req.key.group = prefix_param("group", p.get_string("group"));
  if (source) req.key.source = prefix_param("source", *source);
  if (auto owner = p.opt_string("owner")) {
    if (owner->empty() || *owner == core::kConfigOwner)
      throw rpc::ParamError{"owner", "owner must be a non-empty name other than 'config'"};
    req.owner = *owner;
  }
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
  return {{"iif", key.iif},
          {"source", key.source ? json(key.source->str()) : json(nullptr)},
          {"group", key.group.str()}};
}

rpc::RpcError to_rpc_error(const core::Error& err, const core::JoinKey& key, size_t range_limit) {
  json data = json::object();
  int code = rpc::kInternalError;
  switch (err.code) {
    case core::Errc::invalid_argument:
      code = rpc::kInvalidParams;
      data = {{"param", "group"}, {"message", err.message}};
      break;
    case core::Errc::interface_unknown:
      code = rpc::kUnknownInterface;
      data = {{"interface", key.iif}};
      break;
    case core::Errc::not_found:
      code = rpc::kNotFound;
      data = key_json(key);
      data["what"] = "join";
      break;
    case core::Errc::limit:
      code = rpc::kLimitExceeded;
      data = {{"limit", "join_range"}, {"value", range_limit}};
      break;
    case core::Errc::kernel: {
      code = rpc::kKernelError;
      // "MCAST_JOIN_GROUP a1 (*, 225.1.1.1): No such device" -> the part
      // before the colon names the operation.
      auto colon = err.message.find(": ");
      data = {{"op", err.message.substr(0, colon)}};
      break;
    }
    case core::Errc::permission:
      code = rpc::kPermissionDenied;
      break;
    case core::Errc::conflict:
      code = rpc::kConflict;
      break;
    default:
      break;
  }
  if (err.sys_errno != 0) {
    data["errno"] = err.sys_errno;
    data["strerror"] = std::strerror(err.sys_errno);
  }
  data["message"] = err.message;
  return rpc::RpcError{code, err.message, std::move(data)};
}

bool may_change(const rpc::CallContext& ctx) {
  return ctx.uid == 0;
}

rpc::RpcError permission_denied(const rpc::CallContext& ctx) {
  return rpc::RpcError{rpc::kPermissionDenied, "permission denied: only root may change groups",
                       json{{"uid", ctx.uid}}};
}

}  // namespace

void register_group_methods(rpc::Dispatcher& d, Groups& groups) {
  d.add("group.join",
        [&groups](const json& params, const rpc::CallContext& ctx) -> rpc::HandlerResult {
          auto req = join_request(params);
          if (!may_change(ctx)) return permission_denied(ctx);
          auto r = groups.join(req.key, req.owner);
          if (!r) return to_rpc_error(r.error(), req.key, groups.joins().range_limit());
          return json{{"group", r.value()}};
        });
  d.add("group.leave",
        [&groups](const json& params, const rpc::CallContext& ctx) -> rpc::HandlerResult {
          auto req = join_request(params);
          if (!may_change(ctx)) return permission_denied(ctx);
          auto r = groups.leave(req.key, req.owner);
          if (!r) return to_rpc_error(r.error(), req.key, groups.joins().range_limit());
          return json{{"group", r.value()}};
        });
  d.add("group.list", [&groups](const json& params, const rpc::CallContext&) -> rpc::HandlerResult {
    rpc::Params p(params);
    p.finish();
    return groups.list();
  });
}

}  // namespace mfcd
