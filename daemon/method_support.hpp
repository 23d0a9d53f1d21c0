// What the JSON-RPC method files (methods.cpp, group_methods.cpp) share:
// turning core errors into JSON-RPC errors, reading address and owner
// params, and the one rule for who may change state.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "core/addr.hpp"
#include "core/result.hpp"
#include "rpc/dispatcher.hpp"
#include "rpc/errors.hpp"

namespace mfcd {

// The JSON-RPC code for a core error kind (docs/api.md's table).
int rpc_code(core::Errc code);
// The error object: `data` plus errno/strerror (when set) and the message.
rpc::RpcError to_rpc_error(const core::Error& err, nlohmann::json data = nlohmann::json::object());

// "A" or "A/LEN"; a bad one is refused as invalid params naming `name`.
core::Prefix prefix_param(const std::string& name, const std::string& text);
// The optional "owner" param: default "api"; "config" is reserved.
std::string owner_param(rpc::Params& params);
nlohmann::json prefix_or_null(const std::optional<core::Prefix>& p);

// Root may change state; everyone who can connect may read it.
bool may_change(const rpc::CallContext& ctx);
rpc::RpcError permission_denied(const rpc::CallContext& ctx, const std::string& what);

}  // namespace mfcd
