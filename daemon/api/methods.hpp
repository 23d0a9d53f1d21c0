// One handler per method, each a function of the context and the params.
// api.cpp's table registers them with their access.
#pragma once

#include <nlohmann/json.hpp>

#include "api/api.hpp"
#include "core/explain.hpp"
#include "router/router.hpp"
#include "rpc/dispatcher.hpp"

namespace mfcd::api {

struct Context {
  router::Router& router;
  Daemon& daemon;
  rpc::CallContext caller;
  core::CounterMemory* explained = nullptr;  // route.explain's counters per flow
};

using Method = rpc::HandlerResult (*)(Context& c, const nlohmann::json& params);

// route_methods.cpp
rpc::HandlerResult route_add(Context& c, const nlohmann::json& params);
rpc::HandlerResult route_set(Context& c, const nlohmann::json& params);
rpc::HandlerResult route_remove(Context& c, const nlohmann::json& params);
rpc::HandlerResult route_list(Context& c, const nlohmann::json& params);
rpc::HandlerResult pending_list(Context& c, const nlohmann::json& params);
// explain_methods.cpp
rpc::HandlerResult route_explain(Context& c, const nlohmann::json& params);
// group_methods.cpp
rpc::HandlerResult group_join(Context& c, const nlohmann::json& params);
rpc::HandlerResult group_leave(Context& c, const nlohmann::json& params);
rpc::HandlerResult group_list(Context& c, const nlohmann::json& params);
// config_methods.cpp
rpc::HandlerResult config_reload(Context& c, const nlohmann::json& params);
rpc::HandlerResult config_check(Context& c, const nlohmann::json& params);
// daemon_methods.cpp
rpc::HandlerResult interface_list(Context& c, const nlohmann::json& params);
rpc::HandlerResult cache_flush(Context& c, const nlohmann::json& params);
rpc::HandlerResult daemon_status(Context& c, const nlohmann::json& params);
rpc::HandlerResult daemon_version(Context& c, const nlohmann::json& params);
rpc::HandlerResult daemon_stop(Context& c, const nlohmann::json& params);
rpc::HandlerResult rpc_discover(Context& c, const nlohmann::json& params);
// event_methods.cpp
rpc::HandlerResult events_subscribe(Context& c, const nlohmann::json& params);
rpc::HandlerResult events_unsubscribe(Context& c, const nlohmann::json& params);
// metrics_methods.cpp
rpc::HandlerResult metrics_get(Context& c, const nlohmann::json& params);

}  // namespace mfcd::api
