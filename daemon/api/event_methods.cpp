// events.subscribe and events.unsubscribe (api/events.hpp has the stream).
#include <spdlog/spdlog.h>

#include <algorithm>

#include "api/events.hpp"
#include "api/methods.hpp"
#include "api/params.hpp"
#include "core/flow_key.hpp"

namespace mfcd::api {

using nlohmann::json;

namespace {

// A kind, or a category: the part before the dot of some kind.
bool known_kind(std::string_view name) {
  const auto& kinds = event_kinds();
  return std::any_of(kinds.begin(), kinds.end(), [&](std::string_view k) {
    return k == name ||
           (k.size() > name.size() && k.substr(0, name.size()) == name && k[name.size()] == '.');
  });
}

EventFilter read_filter(const json& params) {
  rpc::Params p(params);
  EventFilter f;
  for (auto& kind : p.opt_string_array("kinds").value_or(std::vector<std::string>{})) {
    if (!known_kind(kind))
      throw rpc::ParamError{"kinds", "unknown event kind \"" + kind + "\" (see docs/api.md)"};
    f.kinds.insert(std::move(kind));
  }
  if (auto family = p.opt_string("family")) {
    if (*family != "ipv4" && *family != "ipv6")
      throw rpc::ParamError{"family", "must be \"ipv4\" or \"ipv6\""};
    f.family = *family == "ipv4" ? core::Family::v4 : core::Family::v6;
  }
  if (auto group = p.opt_string("group")) {
    auto parsed = core::parse_prefix(*group);
    if (!parsed.prefix) throw rpc::ParamError{"group", parsed.error};
    f.group = *parsed.prefix;
  }
  if (auto ifname = p.opt_string("interface")) {
    if (!core::is_valid_ifname(*ifname))
      throw rpc::ParamError{"interface", "not an interface name"};
    f.interface = *ifname;
  }
  p.finish();
  return f;
}

rpc::RpcError no_stream() {
  return rpc::RpcError{rpc::kInvalidRequest,
                       "events need a connection of their own (the control socket)",
                       json::object()};
}

}  // namespace

rpc::HandlerResult events_subscribe(Context& c, const json& params) {
  EventFilter filter = read_filter(params);
  EventHub* hub = c.daemon.events();
  if (!hub || c.caller.conn == 0) return no_stream();
  json kinds = json::array();
  for (const auto& k : filter.kinds)
    kinds.push_back(k);
  spdlog::info("events: pid {} subscribed to {}", c.caller.pid,
               filter.kinds.empty() ? std::string("every kind") : kinds.dump());
  hub->subscribe(c.caller.conn, std::move(filter));
  return json{{"subscribed", true}, {"kinds", kinds}};
}

rpc::HandlerResult events_unsubscribe(Context& c, const json& params) {
  no_params(params);
  EventHub* hub = c.daemon.events();
  if (!hub || c.caller.conn == 0) return no_stream();
  return json{{"unsubscribed", hub->unsubscribe(c.caller.conn)}};
}

}  // namespace mfcd::api
