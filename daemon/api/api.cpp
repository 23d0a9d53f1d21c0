// The method table: every method, its access and its handler, in one
// place. The dispatcher enforces the access before a handler runs.
#include "api/api.hpp"

#include <algorithm>
#include <memory>

#include "api/methods.hpp"

namespace mfcd::api {

namespace {

struct Entry {
  const char* name;
  rpc::Access access;
  Method method;
};

constexpr rpc::Access kRead = rpc::Access::read;
constexpr rpc::Access kWrite = rpc::Access::write;
constexpr size_t kExplainedFlows = 1024;

constexpr Entry kMethods[] = {
    {"route.add", kWrite, route_add},
    {"route.set", kWrite, route_set},
    {"route.remove", kWrite, route_remove},
    {"route.list", kRead, route_list},
    {"route.explain", kRead, route_explain},
    {"pending.list", kRead, pending_list},
    {"group.join", kWrite, group_join},
    {"group.leave", kWrite, group_leave},
    {"group.list", kRead, group_list},
    {"config.reload", kWrite, config_reload},
    // It reads any file root can read and quotes it in errors: a write.
    {"config.check", kWrite, config_check},
    {"interface.list", kRead, interface_list},
    {"cache.flush", kWrite, cache_flush},
    {"daemon.status", kRead, daemon_status},
    {"daemon.version", kRead, daemon_version},
    {"daemon.stop", kWrite, daemon_stop},
    {"metrics.get", kRead, metrics_get},
    {"rpc.discover", kRead, rpc_discover},
    {"events.subscribe", kRead, events_subscribe},
    {"events.unsubscribe", kRead, events_unsubscribe},
};

}  // namespace

std::vector<std::pair<std::string, rpc::Access>> method_table() {
  std::vector<std::pair<std::string, rpc::Access>> table;
  for (const Entry& e : kMethods)
    table.emplace_back(e.name, e.access);
  return table;
}

void register_methods(rpc::Dispatcher& dispatcher, router::Router& router, Daemon& daemon,
                      AccessRules rules) {
  // A write method may change the API's routes and joins (a refused one
  // too: a partial reload), so the state is saved after the message that
  // held it, once for a whole batch, before the reply goes out. Saving an
  // unchanged state writes nothing.
  auto wrote = std::make_shared<bool>(false);
  // route.explain's memory of the counters it showed, per flow.
  auto explained = std::make_shared<core::CounterMemory>(kExplainedFlows);
  for (const Entry& e : kMethods) {
    const bool writes = e.access == kWrite;
    dispatcher.add(e.name, e.access,
                   [&router, &daemon, method = e.method, writes, wrote, explained](
                       const nlohmann::json& params, const rpc::CallContext& caller) {
                     Context c{router, daemon, caller, explained.get()};
                     *wrote = *wrote || writes;
                     return method(c, params);
                   });
  }
  set_access_rules(dispatcher, std::move(rules));
  dispatcher.set_after_message([&daemon, wrote] {
    if (!*wrote) return;
    *wrote = false;
    daemon.save_state();
  });
}

void set_access_rules(rpc::Dispatcher& dispatcher, AccessRules rules) {
  dispatcher.set_policy([rules = std::move(rules)](rpc::Access access, const std::string& method,
                                                   const rpc::CallContext& ctx) {
    return check_access(rules, access, method, ctx);
  });
}

bool in_group(const rpc::CallContext& ctx, uint32_t gid) {
  return ctx.gid == gid || std::find(ctx.groups.begin(), ctx.groups.end(), gid) != ctx.groups.end();
}

namespace {

std::string who_may_write(const AccessRules& rules) {
  if (!rules.admin_gid) return "only root may call it";
  return "it needs root or membership of group \"" + rules.admin_group + "\"";
}

nlohmann::json needs(const AccessRules& rules) {
  nlohmann::json out{{"uid", 0}};
  if (rules.admin_gid) out["group"] = {{"name", rules.admin_group}, {"gid", *rules.admin_gid}};
  return out;
}

}  // namespace

std::optional<rpc::RpcError> check_access(const AccessRules& rules, rpc::Access access,
                                          const std::string& method, const rpc::CallContext& ctx) {
  if (access == rpc::Access::read || ctx.uid == 0) return std::nullopt;
  if (rules.admin_gid && in_group(ctx, *rules.admin_gid)) return std::nullopt;
  return rpc::RpcError{
      rpc::kPermissionDenied,
      "permission denied: " + method + " changes the daemon; " + who_may_write(rules),
      nlohmann::json{{"uid", ctx.uid},
                     {"method", method},
                     {"access", rpc::access_name(access)},
                     {"needs", needs(rules)}}};
}

}  // namespace mfcd::api
