// route.explain: what happens to one flow on this router, and why. The
// facts come from the router (routes, rules, what mfcd installed, the link
// table, the entry's counters) and from the system's own files through
// Daemon::system_files() (sysctls, sysfs, /proc/net/ip_mr_cache); the
// reasoning is core::explain's. The counters of each flow explained are
// remembered (Context::explained), so that the answer says how much they
// moved since the last look.
#include <algorithm>

#include "api/methods.hpp"
#include "api/params.hpp"
#include "api/views.hpp"
#include "core/config.hpp"
#include "core/explain.hpp"
#include "core/rules.hpp"
#include "rpc/params.hpp"

namespace mfcd::api {

using nlohmann::json;

namespace {

core::Addr addr_param(const std::string& name, const std::string& text) {
  auto a = core::Addr::parse(text);
  if (!a) throw rpc::ParamError{name, "invalid address '" + text + "'"};
  return *a;
}

std::optional<int> read_int(const core::SystemFiles* files, const std::string& path) {
  if (!files) return std::nullopt;
  auto text = files->read(path);
  if (!text) return std::nullopt;
  try {
    return std::stoi(*text);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

struct Cover {
  core::Coverage kind = core::Coverage::none;
  std::optional<core::RouteKey> key;
  std::vector<std::string> oifs;  // as written
};

// The static route for (S,G) entering by `iif` (any when empty): the one
// installed first, else the oldest.
const core::RouteIntent* static_route(const router::Router& router, const core::SgKey& sg,
                                      const std::string& iif) {
  const core::RouteIntent* best = nullptr;
  for (const auto* r : router.model().intent.routes()) {
    if (core::is_rule(r->key) || !r->key.source) continue;
    if (r->key.source->addr != sg.source || r->key.group.addr != sg.group) continue;
    if (!iif.empty() && r->key.iif != iif) continue;
    const auto* st = router.route_status(r->key);
    if (st && st->state == core::RouteState::installed) return r;
    if (!best) best = r;
  }
  return best;
}

Cover coverage(const router::Router& router, const core::SgKey& sg, std::string& iif) {
  Cover c;
  if (const auto* r = static_route(router, sg, iif)) {
    iif = r->key.iif;
    c.key = r->key;
    c.oifs = r->oifs();
    c.kind = c.oifs.empty() ? core::Coverage::stop_filter : core::Coverage::route;
    return c;
  }
  const core::RuleIndex rules(router.model().intent);
  const core::Rule* rule = nullptr;
  if (!iif.empty()) {
    rule = rules.match(iif, sg.source, sg.group);
  } else {
    for (const auto& l : router.model().links) {
      if ((rule = rules.match(l.name, sg.source, sg.group))) {
        iif = l.name;
        break;
      }
    }
  }
  if (rule) {
    c.key = rule->key;
    c.oifs = rule->oifs;
    c.kind = c.oifs.empty() ? core::Coverage::stop_filter : core::Coverage::rule;
    return c;
  }
  const auto& dynamic = router.model().dynamic;
  if (auto d = dynamic.find(sg); d != dynamic.end() && !d->second.rule)
    c.kind = core::Coverage::learned_stop;
  return c;
}

json counters_json(const core::Counters& c) {
  return {{"packets", c.packets}, {"bytes", c.bytes}, {"wrong_if", c.wrong_if}};
}

json check_json(const core::Check& c) {
  json j{{"check", c.check},
         {"ok", c.ok},
         {"looked_at", c.looked_at},
         {"detail", c.detail},
         {"blocking", c.blocking}};
  if (!c.interface.empty()) j["interface"] = c.interface;
  return j;
}

}  // namespace

rpc::HandlerResult route_explain(Context& c, const json& params) {
  rpc::Params p(params);
  const core::Addr source = addr_param("source", p.get_string("source"));
  const core::Addr group = addr_param("group", p.get_string("group"));
  std::string iif = p.opt_string("iif").value_or("");
  p.finish();
  if (!group.is_multicast()) throw rpc::ParamError{"group", "not a multicast group address"};
  if (source.family != group.family)
    throw rpc::ParamError{"source", "source and group are of different families"};
  if (source.is_multicast() || source.is_any())
    throw rpc::ParamError{"source", "the source must be a unicast address"};
  if (!iif.empty()) check_ifname("iif", iif);

  const router::Router& router = c.router;
  const core::Installed& inst = router.installed();
  const core::Family fam = group.family;
  const core::SgKey sg{source, group};
  const core::SystemFiles* files = c.daemon.system_files();
  const DaemonInfo info = c.daemon.info();
  const bool asked_iif = !iif.empty();

  const core::InstalledMfc* entry = nullptr;
  if (auto it = inst.mfc.find(sg); it != inst.mfc.end()) entry = &it->second;
  if (entry && iif.empty()) iif = vif_name(inst, fam, entry->conf.iif);

  Cover cover = coverage(router, sg, iif);
  if (entry && entry->dynamic && cover.kind == core::Coverage::none)
    cover.kind = core::Coverage::learned_stop;

  core::ExplainFacts f;
  f.flow = sg;
  f.iif = iif;
  f.family_routed = fam == core::Family::v4 ? info.ipv4 : info.ipv6;
  f.family_note = fam == core::Family::v4 ? info.ipv4_off : info.ipv6_off;
  f.coverage = cover.kind;
  f.covered_by = cover.key ? cover.key->str() : "";
  f.covered_by_asm = cover.key && cover.key->is_asm();
  f.installed = entry != nullptr;
  f.iif_given = asked_iif;
  if (entry) f.entry_iif = vif_name(inst, fam, entry->conf.iif);
  f.vifs_used = inst.vif_count(fam);

  // The kernel's own table: is the flow there, resolved or not.
  std::optional<core::ProcMfc> proc;
  if (files) {
    if (auto text = files->read(core::mr_cache_path(fam))) {
      f.proc_path = core::mr_cache_path(fam);
      for (const auto& m : core::parse_mr_cache(*text, fam)) {
        if (m.key == sg) proc = m;
      }
      if (proc) f.proc_iif = proc->iif;
    }
  }

  // The interfaces: the inbound one, the entry's OIFs (with their TTL
  // thresholds), then those of the route the entry lacks (missing, or
  // without a VIF), wildcards expanded on the links.
  std::vector<std::pair<std::string, int>> oifs;
  if (entry) {
    for (int v = 0; v < core::kMaxVifs; ++v) {
      const uint8_t ttl = entry->conf.ttls[static_cast<size_t>(v)];
      if (ttl > 0) oifs.emplace_back(vif_name(inst, fam, v), ttl);
    }
  }
  const size_t in_entry = oifs.size();
  auto add_oif = [&](const std::string& name) {
    for (const auto& o : oifs)
      if (o.first == name) return;
    oifs.emplace_back(name, 0);
  };
  if (cover.kind == core::Coverage::route || cover.kind == core::Coverage::rule) {
    for (const auto& o : cover.oifs) {
      if (!core::is_wildcard(o)) {
        add_oif(o);
        continue;
      }
      for (const auto& l : router.model().links)
        if (l.name != iif && core::ifname_matches(o, l.name)) add_oif(l.name);
    }
  }
  auto facts_of = [&](const std::string& name, bool inbound, int ttl) {
    core::IfaceFacts i;
    i.name = name;
    i.inbound = inbound;
    const core::Link* link = core::find_link(router.model().links, name);
    i.present = link != nullptr;
    if (!link) return i;
    i.up = link->up;
    i.multicast = link->multicast;
    if (auto carrier = read_int(files, core::sysfs_path(name, "carrier")))
      i.carrier = *carrier != 0;
    const auto vif = inst.vif_of(fam, name);
    i.has_vif = vif.has_value();
    i.ttl_threshold = ttl;
    if (vif && ttl == 0) i.ttl_threshold = inst.vifs[core::family_index(fam)][*vif]->ttl_threshold;
    if (i.ttl_threshold == 0) i.ttl_threshold = 1;
    i.mc_forwarding = read_int(files, core::conf_path(fam, name, "mc_forwarding"));
    if (inbound && fam == core::Family::v4) {
      i.rp_filter = read_int(files, core::conf_path(fam, name, "rp_filter"));
      i.rp_filter_all = read_int(files, core::conf_path(fam, "all", "rp_filter"));
    }
    i.snooping = read_int(files, core::sysfs_path(name, "bridge/multicast_snooping"));
    if (i.snooping) {
      i.bridge = true;
      i.querier = read_int(files, core::sysfs_path(name, "bridge/multicast_querier"));
    }
    return i;
  };
  if (!iif.empty()) f.ifaces.push_back(facts_of(iif, true, 0));
  for (const auto& [name, ttl] : oifs)
    f.ifaces.push_back(facts_of(name, false, ttl));

  const core::Explanation e = core::explain(f);

  json kernel = nullptr;
  if (entry || proc) {
    json out = json::array();
    for (size_t k = 0; k < in_entry; ++k)
      out.push_back({{"interface", oifs[k].first}, {"ttl", oifs[k].second}});
    core::Counters now;
    if (entry) {
      if (auto got = router.counters(sg)) now = *got;
    } else {
      now = {proc->packets, proc->bytes, proc->wrong_if};
    }
    const auto before = c.explained ? c.explained->exchange(sg, now) : std::nullopt;
    json change = nullptr;
    if (before) {
      // A counter that went back means the entry was made anew.
      auto diff = [](uint64_t a, uint64_t b) { return a >= b ? a - b : a; };
      change = counters_json({diff(now.packets, before->packets), diff(now.bytes, before->bytes),
                              diff(now.wrong_if, before->wrong_if)});
    }
    kernel = counters_json(now);
    kernel["iif"] = entry ? json(vif_name(inst, fam, entry->conf.iif)) : json(nullptr);
    kernel["oifs"] = out;
    kernel["type"] = entry ? (entry->dynamic ? "dynamic" : "static") : "other";
    kernel["resolved"] = !(proc && proc->iif < 0);
    kernel["change"] = change;
  }

  json checks = json::array();
  for (const auto& ch : e.checks)
    checks.push_back(check_json(ch));
  json route = nullptr;
  if (cover.key) {
    route = key_json(*cover.key);
    route["oifs"] = cover.oifs;
  }
  return json{
      {"flow",
       {{"source", source.str()},
        {"group", group.str()},
        {"iif", iif.empty() ? json(nullptr) : json(iif)},
        {"iif_given", asked_iif},
        {"family", std::string(core::family_name(fam))}}},
      {"covered_by", {{"kind", std::string(core::coverage_name(cover.kind))}, {"route", route}}},
      {"kernel", kernel},
      {"checks", checks},
      {"verdict", e.verdict}};
}

}  // namespace mfcd::api
