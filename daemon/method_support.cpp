// Shared pieces of the JSON-RPC methods; see method_support.hpp.
#include "method_support.hpp"

#include <cstring>

#include "core/intent.hpp"

namespace mfcd {

using nlohmann::json;

int rpc_code(core::Errc code) {
  switch (code) {
    case core::Errc::invalid_argument:
      return rpc::kInvalidParams;
    case core::Errc::not_found:
      return rpc::kNotFound;
    case core::Errc::interface_unknown:
      return rpc::kUnknownInterface;
    case core::Errc::vif_table_full:
      return rpc::kVifTableFull;
    case core::Errc::kernel:
      return rpc::kKernelError;
    case core::Errc::permission:
      return rpc::kPermissionDenied;
    case core::Errc::config:
      return rpc::kConfigError;
    case core::Errc::conflict:
      return rpc::kConflict;
    case core::Errc::limit:
      return rpc::kLimitExceeded;
    case core::Errc::internal:
      break;
  }
  return rpc::kInternalError;
}

rpc::RpcError to_rpc_error(const core::Error& err, json data) {
  if (err.sys_errno != 0) {
    data["errno"] = err.sys_errno;
    data["strerror"] = std::strerror(err.sys_errno);
  }
  data["message"] = err.message;
  return rpc::RpcError{rpc_code(err.code), err.message, std::move(data)};
}

core::Prefix prefix_param(const std::string& name, const std::string& text) {
  auto parsed = core::parse_prefix(text);
  if (!parsed.prefix) throw rpc::ParamError{name, parsed.error};
  return *parsed.prefix;
}

std::string owner_param(rpc::Params& params) {
  auto owner = params.opt_string("owner");
  if (!owner) return "api";
  if (owner->empty() || *owner == core::kConfigOwner)
    throw rpc::ParamError{"owner", "owner must be a non-empty name other than 'config'"};
  return *owner;
}

json prefix_or_null(const std::optional<core::Prefix>& p) {
  return p ? json(p->str()) : json(nullptr);
}

bool may_change(const rpc::CallContext& ctx) {
  return ctx.uid == 0;
}

rpc::RpcError permission_denied(const rpc::CallContext& ctx, const std::string& what) {
  return rpc::RpcError{rpc::kPermissionDenied, "permission denied: only root may change " + what,
                       json{{"uid", ctx.uid}}};
}

}  // namespace mfcd
