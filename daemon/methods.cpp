// The JSON-RPC methods: each turns named params into a core request, calls
// the service, and shapes the answer as schema/mfcd.openrpc.json says. The
// list results use SMCRoute's JSON field names (compat.md) so that the
// client's -j output is a pass-through.
#include <unistd.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "config_files.hpp"
#include "method_support.hpp"
#include "rpc/errors.hpp"
#include "service.hpp"
#include "version.hpp"

extern const char kOpenRpcDocument[];

namespace mfcd {

namespace {

using nlohmann::json;

json key_json(const core::RouteKey& key) {
  return {{"iif", key.iif}, {"source", prefix_or_null(key.source)}, {"group", key.group.str()}};
}

json route_item(const core::RouteIntent& r, const core::RouteStatus* st) {
  json item = key_json(r.key);
  item["oifs"] = r.oifs();
  item["family"] = std::string(core::family_name(r.key.family()));
  item["state"] = std::string(core::route_state_name(st ? st->state : core::RouteState::pending));
  item["missing_oifs"] = st ? st->missing_oifs : std::vector<std::string>{};
  if (st && !st->reason.empty()) item["reason"] = st->reason;
  json origins = json::array();
  if (r.from_config()) origins.push_back("config");
  if (r.from_api()) origins.push_back("api");
  item["origins"] = origins;
  item["owners"] = r.api_owners();
  return item;
}

json route_item(const Service& svc, const core::RouteIntent& r) {
  return route_item(r, svc.route_status(r.key));
}

json diagnostic_json(const core::Diagnostic& d) {
  return {
      {"file", d.pos.file}, {"line", d.pos.line}, {"column", d.pos.column}, {"message", d.message}};
}

json change_list(const std::vector<RouteChange>& changes) {
  json list = json::array();
  for (const auto& c : changes)
    list.push_back(route_item(c.route, &c.status));
  return list;
}

std::string vif_name(const core::Installed& inst, core::Family f, core::VifIndex vif) {
  if (vif < 0 || vif >= core::kMaxVifs) return "?";
  const auto& v = inst.vifs[core::family_index(f)][static_cast<size_t>(vif)];
  return v ? v->ifname : "vif" + std::to_string(vif);
}

json kernel_entry(const Service& svc, const core::InstalledMfc& m, bool detail) {
  const auto& inst = svc.installed();
  core::Family f = m.conf.key.group.family;
  json oifs = json::array();
  for (int v = 0; v < core::kMaxVifs; ++v)
    if (m.conf.ttls[static_cast<size_t>(v)] > 0) oifs.push_back(vif_name(inst, f, v));
  json e = {
      {"source", m.conf.key.source.str()},           {"group", m.conf.key.group.str()},
      {"iif", vif_name(inst, f, m.conf.iif)},        {"oifs", oifs},
      {"family", std::string(core::family_name(f))}, {"type", m.dynamic ? "dynamic" : "static"}};
  if (detail) {
    auto c = svc.counters(m.conf.key);
    e["packets"] = c ? c->packets : 0;
    e["bytes"] = c ? c->bytes : 0;
    e["wrong_if"] = c ? c->wrong_if : 0;
  }
  if (m.dynamic) {
    const auto* up = svc.upcalls();
    auto d = up ? up->dynamic().find(m.conf.key) : core::DynamicMap::const_iterator{};
    if (up && d != up->dynamic().end() && d->second.rule) e["rule"] = d->second.rule->str();
  }
  return e;
}

core::RouteRequest route_request(const json& params, bool oifs_required) {
  rpc::Params p(params);
  core::RouteRequest req;
  req.key.iif = p.get_string("iif");
  auto source = p.opt_string("source");
  req.key.group = prefix_param("group", p.get_string("group"));
  if (source) {
    auto s = prefix_param("source", *source);
    if (!(s.addr.is_any() && s.len == 0) && !(s.addr.is_any() && s.is_host()))
      req.key.source = s;
    else if (s.addr.family != req.key.group.addr.family)
      throw rpc::ParamError{"source", "source and group are of different families"};
  }
  if (oifs_required) {
    req.oifs = p.get_string_array("oifs");
  } else if (auto oifs = p.opt_string_array("oifs")) {
    req.oifs = *oifs;
  }
  req.owner = owner_param(p);
  p.finish();
  if (req.key.iif.empty()) throw rpc::ParamError{"iif", "interface name is empty"};
  for (const auto& oif : req.oifs)
    if (oif.empty()) throw rpc::ParamError{"oifs", "interface name is empty"};
  if (auto ok = core::validate_route_key(req.key); !ok) {
    const std::string& msg = ok.error().message;
    throw rpc::ParamError{msg.find("source") != std::string::npos ? "source" : "group", msg};
  }
  return req;
}

rpc::HandlerResult route_result(const Service& svc,
                                const core::Result<std::optional<core::RouteIntent>>& r,
                                const core::RouteKey& key) {
  if (!r) {
    // data carries what the schema promises for each code: which route,
    // which kernel operation, which interface.
    json data = key_json(key);
    data["what"] = "route";
    if (const auto& f = svc.last_failure()) {
      data["op"] = f->what;
      if (!f->ifname.empty()) data["interface"] = f->ifname;
    }
    if (r.error().code == core::Errc::vif_table_full) {
      data["family"] = std::string(core::family_name(key.family()));
      data["limit"] = core::kMaxVifs;
    }
    if (r.error().code == core::Errc::invalid_argument) {
      data["param"] = nullptr;
    }
    return to_rpc_error(r.error(), std::move(data));
  }
  const auto& route = r.value();
  return json{{"route", route ? route_item(svc, *route) : json(nullptr)}};
}

}  // namespace

void register_methods(Service& svc) {
  auto& d = svc.dispatcher();

  d.add("route.add", [&svc](const json& params, const rpc::CallContext& ctx) -> rpc::HandlerResult {
    auto req = route_request(params, true);
    if (!may_change(ctx)) return permission_denied(ctx, "routes");
    return route_result(svc, svc.route_add(req), req.key);
  });
  d.add("route.set", [&svc](const json& params, const rpc::CallContext& ctx) -> rpc::HandlerResult {
    auto req = route_request(params, true);
    if (!may_change(ctx)) return permission_denied(ctx, "routes");
    return route_result(svc, svc.route_set(req), req.key);
  });
  d.add("route.remove",
        [&svc](const json& params, const rpc::CallContext& ctx) -> rpc::HandlerResult {
          auto req = route_request(params, false);
          if (!may_change(ctx)) return permission_denied(ctx, "routes");
          return route_result(svc, svc.route_remove(req), req.key);
        });

  d.add("route.list", [&svc](const json& params, const rpc::CallContext&) -> rpc::HandlerResult {
    rpc::Params p(params);
    bool detail = p.opt_bool("detail", false);
    p.finish();
    json asm_rules = json::array(), ssm_rules = json::array(), kernel = json::array();
    for (const auto* r : svc.intent().routes())
      (r->key.is_asm() ? asm_rules : ssm_rules).push_back(route_item(svc, *r));
    std::vector<const core::InstalledMfc*> entries;
    entries.reserve(svc.installed().mfc.size());
    for (const auto& [key, m] : svc.installed().mfc)
      entries.push_back(&m);
    std::sort(entries.begin(), entries.end(), [](const auto* a, const auto* b) {
      return std::tie(a->conf.key.group, a->conf.key.source) <
             std::tie(b->conf.key.group, b->conf.key.source);
    });
    for (const auto* m : entries)
      kernel.push_back(kernel_entry(svc, *m, detail));
    return json{{"routes", {{"asm", asm_rules}, {"ssm", ssm_rules}, {"kernel", kernel}}}};
  });

  d.add("config.reload",
        [&svc](const json& params, const rpc::CallContext& ctx) -> rpc::HandlerResult {
          rpc::Params p(params);
          bool dry_run = p.opt_bool("dry_run", false);
          p.finish();
          if (!may_change(ctx)) return permission_denied(ctx, "routes");
          auto outcome = svc.reload_config(dry_run);
          if (!outcome.ok) {
            json errors = json::array();
            for (const auto& diag : outcome.diagnostics)
              if (!diag.warning) errors.push_back(diagnostic_json(diag));
            std::string first = errors.empty() ? "" : ": " + outcome.diagnostics.front().str();
            return rpc::RpcError{
                rpc::kConfigError,
                "configuration " + svc.options().config_file + " has errors; nothing changed",
                json{{"file", svc.options().config_file}, {"errors", errors}}};
          }
          return json{{"dry_run", dry_run},
                      {"routes",
                       {{"added", change_list(outcome.added)},
                        {"changed", change_list(outcome.changed)},
                        {"removed", change_list(outcome.removed)}}},
                      {"groups", outcome.groups}};
        });

  d.add("config.check",
        [&svc](const json& params, const rpc::CallContext& ctx) -> rpc::HandlerResult {
          rpc::Params p(params);
          std::string file = p.opt_string("file").value_or(svc.options().config_file);
          p.finish();
          if (!may_change(ctx)) return permission_denied(ctx, "routes");
          auto parsed = load_config_file(file);
          json errors = json::array(), warnings = json::array();
          for (const auto& diag : parsed.diagnostics)
            (diag.warning ? warnings : errors).push_back(diagnostic_json(diag));
          return json{{"file", file},
                      {"valid", parsed.ok()},
                      {"errors", errors},
                      {"warnings", warnings},
                      {"routes", parsed.config.routes.size()},
                      {"groups", parsed.config.joins.size()}};
        });

  d.add("pending.list", [&svc](const json& params, const rpc::CallContext&) -> rpc::HandlerResult {
    rpc::Params p(params);
    p.finish();
    json pending = json::array();
    for (const auto* r : svc.intent().routes()) {
      const core::RouteStatus* st = svc.route_status(r->key);
      if (!st || (st->state != core::RouteState::pending && st->missing_oifs.empty())) continue;
      json item = key_json(r->key);
      item["kind"] = "mroute";
      item["oifs"] = r->oifs();
      item["missing_oifs"] = st->missing_oifs;
      item["state"] = std::string(core::route_state_name(st->state));
      if (!st->reason.empty()) item["reason"] = st->reason;
      pending.push_back(item);
    }
    if (const Groups* groups = svc.groups())
      for (const auto& item : groups->pending())
        pending.push_back(item);
    return json{{"pending", pending}};
  });

  d.add("interface.list",
        [&svc](const json& params, const rpc::CallContext&) -> rpc::HandlerResult {
          rpc::Params p(params);
          p.finish();
          json list = json::array();
          auto links = svc.links();
          std::sort(links.begin(), links.end(),
                    [](const auto& a, const auto& b) { return a.ifindex < b.ifindex; });
          for (const auto& link : links) {
            json item = {{"index", link.ifindex},       {"name", link.name},  {"up", link.up},
                         {"multicast", link.multicast}, {"ttl_threshold", 1}, {"enabled", true}};
            for (const auto& ph : svc.intent().phyints()) {
              if (!core::ifname_matches(ph.ifname, link.name)) continue;
              item["ttl_threshold"] = ph.ttl_threshold;
              item["enabled"] = ph.enabled;
            }
            auto vif = svc.installed().vif_of(core::Family::v4, link.name);
            auto mif = svc.installed().vif_of(core::Family::v6, link.name);
            item["vif"] = vif ? json(*vif) : json(nullptr);
            item["mif"] = mif ? json(*mif) : json(nullptr);
            auto mrd = svc.mrdisc() ? svc.mrdisc()->state(link.name) : std::nullopt;
            item["mrdisc"] = mrd.has_value();
            item["mrdisc_next"] =
                mrd && mrd->announcing ? json(double(mrd->next_due_ms) / 1000.0) : json(nullptr);
            list.push_back(item);
          }
          return json{{"interfaces", list}};
        });

  d.add("daemon.status", [&svc](const json& params, const rpc::CallContext&) -> rpc::HandlerResult {
    rpc::Params p(params);
    p.finish();
    const auto& o = svc.options();
    auto uptime = std::chrono::duration_cast<std::chrono::seconds>(
                      std::chrono::steady_clock::now() - svc.started())
                      .count();
    size_t kernel_v4 = 0, kernel_v6 = 0;
    for (const auto& [key, m] : svc.installed().mfc)
      (key.group.family == core::Family::v4 ? kernel_v4 : kernel_v6)++;
    json upcalls = {{"nocache", 0}, {"wrongvif", 0}, {"ignored", 0}, {"lost", 0}};
    size_t dynamic = 0;
    if (const auto* up = svc.upcalls()) {
      const auto& st = up->stats();
      upcalls = {
          {"nocache", st.nocache},     {"wrongvif", st.wrongvif},         {"ignored", st.ignored},
          {"installed", st.installed}, {"stop_filters", st.stop_filters}, {"failed", st.failed},
          {"moved", st.moved},         {"expired", st.expired},           {"flushed", st.flushed},
          {"lost", up->lost()}};
      dynamic = up->dynamic().size();
    }
    return json{{"version", MFCD_VERSION},
                {"identity", o.identity},
                {"pid", ::getpid()},
                {"uptime", uptime},
                {"config_file", o.config_file},
                {"socket", o.socket_path},
                {"table", o.table},
                {"ipv6", svc.has_v6()},
                {"routes",
                 {{"configured", svc.intent().route_count()},
                  {"kernel", kernel_v4 + kernel_v6},
                  {"kernel_ipv4", kernel_v4},
                  {"kernel_ipv6", kernel_v6},
                  {"dynamic", dynamic}}},
                {"upcalls", upcalls},
                {"cache_timeout", o.cache_timeout},
                {"vifs",
                 {{"ipv4", svc.installed().vif_count(core::Family::v4)},
                  {"ipv6", svc.installed().vif_count(core::Family::v6)}}}};
  });

  d.add("cache.flush",
        [&svc](const json& params, const rpc::CallContext& ctx) -> rpc::HandlerResult {
          rpc::Params p(params);
          p.finish();
          if (!may_change(ctx)) return permission_denied(ctx, "routes");
          return json{{"flushed", svc.upcalls() ? svc.upcalls()->flush() : 0}};
        });

  d.add("daemon.version", [](const json& params, const rpc::CallContext&) -> rpc::HandlerResult {
    rpc::Params p(params);
    p.finish();
    return json{{"name", "mfcd"}, {"version", MFCD_VERSION}};
  });

  d.add("daemon.stop",
        [&svc](const json& params, const rpc::CallContext& ctx) -> rpc::HandlerResult {
          rpc::Params p(params);
          p.finish();
          if (!may_change(ctx)) return permission_denied(ctx, "routes");
          svc.request_stop("daemon.stop from pid " + std::to_string(ctx.pid));
          return json{{"stopping", true}};
        });

  d.add("rpc.discover", [](const json& params, const rpc::CallContext&) -> rpc::HandlerResult {
    rpc::Params p(params);
    p.finish();
    static const json doc = json::parse(kOpenRpcDocument);
    return doc;
  });
}

}  // namespace mfcd
