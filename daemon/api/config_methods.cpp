// config.reload and config.check. The file is read by the service (the
// Daemon port); a reload with errors changes nothing and lists them all.
#include "api/methods.hpp"
#include "api/params.hpp"
#include "api/views.hpp"

namespace mfcd::api {

using nlohmann::json;

rpc::HandlerResult config_reload(Context& c, const json& params) {
  rpc::Params p(params);
  const bool dry_run = p.opt_bool("dry_run", false);
  p.finish();
  const std::string file = c.daemon.info().config_file;
  auto outcome = c.daemon.reload(dry_run);
  if (!outcome.ok) {
    json errors = json::array();
    for (const auto& diag : outcome.diagnostics)
      if (!diag.warning) errors.push_back(diagnostic_json(diag));
    return rpc::RpcError{rpc::kConfigError,
                         "configuration " + file + " has errors; nothing changed",
                         json{{"file", file}, {"errors", errors}}};
  }
  json failures = json::array();
  for (const auto& f : outcome.report.failures) {
    json item{{"op", f.what}, {"message", f.error.message}};
    if (f.error.sys_errno != 0) item["errno"] = f.error.sys_errno;
    if (f.route) item["route"] = key_json(*f.route);
    failures.push_back(std::move(item));
  }
  return json{{"dry_run", dry_run},
              {"routes", reload_routes(outcome.report)},
              {"groups", reload_groups(c.router, outcome.report)},
              {"failures", failures}};
}

rpc::HandlerResult config_check(Context& c, const json& params) {
  rpc::Params p(params);
  const auto requested = p.opt_string("file");
  if (requested && requested->empty()) throw rpc::ParamError{"file", "file name is empty"};
  const std::string file = requested.value_or(c.daemon.info().config_file);
  p.finish();
  auto parsed = c.daemon.check_config(file);
  json errors = json::array(), warnings = json::array();
  for (const auto& diag : parsed.diagnostics)
    (diag.warning ? warnings : errors).push_back(diagnostic_json(diag));
  return json{{"file", file},
              {"valid", parsed.ok()},
              {"errors", errors},
              {"warnings", warnings},
              {"routes", parsed.config.routes.size()},
              {"groups", parsed.config.joins.size()}};
}

}  // namespace mfcd::api
