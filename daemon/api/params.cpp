// See params.hpp. Addresses are judged here, before anything changes:
// what only the router can judge (an interface, the kernel) comes back later
// as one of mfcd's own codes.
#include "api/params.hpp"

#include <spdlog/spdlog.h>

#include <cstring>

#include "api/paging.hpp"

namespace mfcd::api {

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

namespace {

// "A" or "A/LEN"; a bad one is refused as invalid params naming `name`.
// With `mask_host_bits` (smcrouted), host bits are cleared with a warning in
// the log, as the config parser does under that name.
core::Prefix prefix_param(const std::string& name, const std::string& text, bool mask_host_bits) {
  auto parsed = core::parse_prefix(text, mask_host_bits);
  if (!parsed.prefix) throw rpc::ParamError{name, parsed.error};
  if (parsed.masked) spdlog::warn("request param {}: {}", name, parsed.error);
  return *parsed.prefix;
}

// The optional "owner" param: default "api"; "config" is reserved. Its
// length and characters are core::validate_owner's to judge.
std::string owner_param(rpc::Params& params) {
  auto owner = params.opt_string("owner");
  if (!owner) return "api";
  if (owner->empty() || *owner == core::kConfigOwner)
    throw rpc::ParamError{"owner", "owner must be a non-empty name other than 'config'"};
  if (auto ok = core::validate_owner(*owner); !ok)
    throw rpc::ParamError{"owner", ok.error().message};
  return *owner;
}

// A validation error names the param it is about.
[[noreturn]] void refuse_key(const core::Error& error) {
  const std::string& msg = error.message;
  const char* param = msg.rfind("source", 0) == 0           ? "source"
                      : msg.rfind("interface name", 0) == 0 ? "iif"
                                                            : "group";
  throw rpc::ParamError{param, msg};
}

}  // namespace

void check_ifname(const char* param, const std::string& name) {
  if (auto ok = core::validate_ifname(name); !ok) throw rpc::ParamError{param, ok.error().message};
}

core::RouteRequest route_request(const json& params, bool oifs_required, bool mask_host_bits) {
  rpc::Params p(params);
  core::RouteRequest req;
  req.key.iif = p.get_string("iif");
  auto source = p.opt_string("source");
  req.key.group = prefix_param("group", p.get_string("group"), mask_host_bits);
  if (source) {
    auto s = prefix_param("source", *source, mask_host_bits);
    if (!(s.addr.is_any() && s.len == 0) && !(s.addr.is_any() && s.is_host()))
      req.key.source = s;
    else if (auto ok = core::validate_families(s, req.key.group); !ok)
      throw rpc::ParamError{"source", ok.error().message};
  }
  if (oifs_required) {
    req.oifs = p.get_string_array("oifs");
  } else if (auto oifs = p.opt_string_array("oifs")) {
    req.oifs = *oifs;
  }
  req.owner = owner_param(p);
  p.finish();
  check_ifname("iif", req.key.iif);
  if (auto ok = core::validate_oif_count(req.oifs.size()); !ok)
    throw rpc::ParamError{"oifs", ok.error().message};
  // An OIF equal to the iif is allowed, as in the config: a hairpin.
  for (const auto& oif : req.oifs)
    check_ifname("oifs", oif);
  if (auto ok = core::validate_flow_key(req.key); !ok) refuse_key(ok.error());
  return req;
}

JoinRequest join_request(const json& params, bool mask_host_bits) {
  rpc::Params p(params);
  JoinRequest req;
  req.key.iif = p.get_string("iif");
  auto source = p.opt_string("source");
  req.key.group = prefix_param("group", p.get_string("group"), mask_host_bits);
  if (source) req.key.source = prefix_param("source", *source, mask_host_bits);
  req.owner = owner_param(p);
  p.finish();
  check_ifname("iif", req.key.iif);
  req.key = core::normalized(req.key);
  if (auto ok = core::validate_flow_key(req.key); !ok) refuse_key(ok.error());
  return req;
}

void no_params(const json& params) {
  rpc::Params(params).finish();
}

PageRequest page_request(rpc::Params& p) {
  const auto limit = p.opt_int("limit");
  PageRequest page;
  page.cursor = p.opt_string("cursor");
  if (limit && (*limit < 1 || *limit > kMaxPage))
    throw rpc::ParamError{"limit", "must be between 1 and " + std::to_string(kMaxPage)};
  if (limit || page.cursor) page.size = static_cast<size_t>(limit.value_or(kDefaultPage));
  return page;
}

}  // namespace mfcd::api
