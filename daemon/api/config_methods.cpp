// config.reload and config.check. The file is read by the service (the
// Daemon port); a reload with errors changes nothing and lists them all.
// A reload also lists every interface the file names that does not exist
// (the same list as mfcd -F), so that a typo shows when it is loaded; a
// strict reload refuses such a file instead, changing nothing.
#include "api/events.hpp"
#include "api/methods.hpp"
#include "api/missing_interfaces.hpp"
#include "api/params.hpp"
#include "api/views.hpp"

namespace mfcd::api {

using nlohmann::json;

namespace {

json config_errors(const std::string& file, const ReloadOutcome& outcome) {
  json errors = json::array();
  for (const auto& diag : outcome.diagnostics)
    if (!diag.warning) errors.push_back(diagnostic_json(diag));
  return json{{"file", file}, {"errors", errors}};
}

rpc::RpcError config_error(const std::string& file, const ReloadOutcome& outcome) {
  return rpc::RpcError{rpc::kConfigError, "configuration " + file + " has errors; nothing changed",
                       config_errors(file, outcome)};
}

// The parser's warnings, the plan's, then the missing interfaces.
json reload_warnings(const ReloadOutcome& outcome) {
  json warnings = json::array();
  for (const auto& diag : outcome.diagnostics)
    if (diag.warning) warnings.push_back(diagnostic_json(diag));
  for (const auto& diag : outcome.report.warnings)
    warnings.push_back(diagnostic_json(diag));
  for (const auto& m : outcome.report.missing)
    warnings.push_back(warning_json(m));
  return warnings;
}

json reload_failures(const router::ReloadReport& report) {
  json failures = json::array();
  for (const auto& f : report.failures) {
    json item{{"op", f.what}, {"message", f.error.message}};
    if (f.error.sys_errno != 0) item["errno"] = f.error.sys_errno;
    if (f.route) item["route"] = key_json(*f.route);
    failures.push_back(std::move(item));
  }
  return failures;
}

json reload_result(const router::Router& router, const ReloadOutcome& outcome, bool dry_run) {
  return json{{"dry_run", dry_run},
              {"routes", reload_routes(outcome.report)},
              {"groups", reload_groups(router, outcome.report)},
              {"failures", reload_failures(outcome.report)},
              {"warnings", reload_warnings(outcome)}};
}

}  // namespace

void publish_reload(EventHub& hub, const router::Router& router, const std::string& file,
                    const ReloadOutcome& outcome) {
  if (!hub.wanted()) return;
  if (!outcome.ok) return hub.publish("reload.refused", config_errors(file, outcome));
  json members = reload_result(router, outcome, false);
  members.erase("dry_run");
  members["file"] = file;
  hub.publish("reload.applied", members);
}

rpc::HandlerResult config_reload(Context& c, const json& params) {
  json rest = params;
  const Strict strict = take_strict(rest);
  rpc::Params p(rest);
  const bool dry_run = p.opt_bool("dry_run", false);
  p.finish();
  const std::string file = c.daemon.info().config_file;
  // Strict: a dry run first says which interfaces are missing, so that a
  // refused reload has written nothing.
  if (strict != Strict::off && !dry_run) {
    auto check = c.daemon.reload(true);
    if (!check.ok) return config_error(file, check);
    if (auto refused = refused_by(check.report.missing, strict); !refused.empty())
      return missing_error(refused);
  }
  auto outcome = c.daemon.reload(dry_run);
  if (!outcome.ok) return config_error(file, outcome);
  if (dry_run) {
    if (auto refused = refused_by(outcome.report.missing, strict); !refused.empty())
      return missing_error(refused);
  }
  return reload_result(c.router, outcome, dry_run);
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
  // As mfcd -F and a reload warn: what the file names that is not here.
  for (const auto& m : router::missing_interfaces(parsed.config, c.router.model().links))
    warnings.push_back(warning_json(m));
  return json{{"file", file},
              {"valid", parsed.ok()},
              {"errors", errors},
              {"warnings", warnings},
              {"routes", parsed.config.routes.size()},
              {"groups", parsed.config.joins.size()}};
}

}  // namespace mfcd::api
