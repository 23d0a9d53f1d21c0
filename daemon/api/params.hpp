// Named params in, core requests out, and core errors back out as JSON-RPC
// errors: what every method file shares. A bad param is thrown as
// rpc::ParamError, which the dispatcher answers with -32602 naming it.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "core/intent.hpp"
#include "core/joins.hpp"
#include "core/result.hpp"
#include "rpc/dispatcher.hpp"
#include "rpc/errors.hpp"
#include "rpc/params.hpp"

namespace mfcd::api {

// The JSON-RPC code for a core error kind (docs/api.md's table).
int rpc_code(core::Errc code);
// The error object: `data` plus errno/strerror (when set) and the message.
rpc::RpcError to_rpc_error(const core::Error& err, nlohmann::json data = nlohmann::json::object());

// {iif, source?, group, oifs, owner?}. oifs are required for route.add and
// route.set, optional for route.remove. With `mask_host_bits` (the daemon
// runs as smcrouted), a /LEN with host bits set is read as its prefix and
// logged as a warning instead of being refused.
core::RouteRequest route_request(const nlohmann::json& params, bool oifs_required,
                                 bool mask_host_bits = false);

struct JoinRequest {
  core::JoinKey key;
  std::string owner;
};
// {iif, source?, group, owner?}; `mask_host_bits` as for route_request.
JoinRequest join_request(const nlohmann::json& params, bool mask_host_bits = false);

// An interface name param, judged as the config parser judges one
// (core::validate_ifname), in the same words.
void check_ifname(const char* param, const std::string& name);

// Only the params a method takes, none of them.
void no_params(const nlohmann::json& params);

// A listing's `limit` and `cursor` (api/paging.hpp's bounds), taken from
// `p`: none of them asks for the whole listing, either one for a page.
struct PageRequest {
  std::optional<size_t> size;         // items on the page; nullopt: the whole listing
  std::optional<std::string> cursor;  // where the page starts; nullopt: at the start
};
PageRequest page_request(rpc::Params& p);

}  // namespace mfcd::api
