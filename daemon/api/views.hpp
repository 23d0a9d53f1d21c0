// How the router's state reads in JSON: the items of route.list,
// group.list, pending.list and the reload report, with SMCRoute's field
// names where it has them (compat.md). Presentation only: nothing here
// decides anything.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "core/intent.hpp"
#include "core/joins.hpp"
#include "router/reload.hpp"
#include "router/router.hpp"
#include "rpc/json_writer.hpp"

namespace mfcd::api {

nlohmann::json prefix_or_null(const std::optional<core::Prefix>& p);
// {iif, source, group}, shared by routes and joins.
nlohmann::json key_json(const core::FlowKey& key);

// The name of VIF `vif` as mfcd installed it ("vifN" for a number it
// holds no more, "?" out of range).
std::string vif_name(const core::Installed& installed, core::Family family, core::VifIndex vif);
// Whether pending.list lists a route (no inbound interface yet, or OIFs
// missing) and a join (its interface does not exist); the metrics count
// the same ones.
bool route_is_pending(const core::RouteStatus* status);
bool join_is_pending(const core::JoinIntent& join);

// A route as route.list and the route methods show it; the listings write
// it straight into their text, the other methods take it as an object.
void write_route_item(rpc::JsonWriter& w, const core::RouteIntent& route,
                      const core::RouteStatus* status);
nlohmann::json route_item(const core::RouteIntent& route, const core::RouteStatus* status);
nlohmann::json route_item(const router::Router& router, const core::RouteIntent& route);
// A kernel entry as route.list shows it (with counters when `detail`).
void write_kernel_entry(rpc::JsonWriter& w, const router::Router& router,
                        const core::InstalledMfc& entry, bool detail);
nlohmann::json join_item(const router::Router& router, const core::JoinIntent& join);
nlohmann::json diagnostic_json(const core::Diagnostic& d);
// config.reload's "routes" and "groups" members.
nlohmann::json reload_routes(const router::ReloadReport& report);
nlohmann::json reload_groups(const router::Router& router, const router::ReloadReport& report);

}  // namespace mfcd::api
