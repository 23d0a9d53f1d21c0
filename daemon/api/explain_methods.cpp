// route.explain: what happens to one flow on this router, and why. The
// facts come from the router (routes, rules, what mfcd installed, the link
// table, the entry's counters) and from the system's own files through
// Daemon::system_files() (sysctls, sysfs, /proc/net/ip_mr_cache); the
// reasoning is core::explain's. The counters of each flow explained are
// remembered (Context::explained), so that the answer says how much they
// moved since the last look.
#include <algorithm>
#include <cerrno>

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

// The flow asked about, as the params give it.
struct Query {
  core::Addr source;
  core::Addr group;
  std::string iif;  // "" when not given
};

// Throws rpc::ParamError for the first mistake: unknown params, then the
// addresses, then the interface name.
Query parse_query(const json& params) {
  rpc::Params p(params);
  Query q;
  q.source = addr_param("source", p.get_string("source"));
  q.group = addr_param("group", p.get_string("group"));
  q.iif = p.opt_string("iif").value_or("");
  p.finish();
  if (!q.group.is_multicast()) throw rpc::ParamError{"group", "not a multicast group address"};
  if (q.source.family != q.group.family)
    throw rpc::ParamError{"source", "source and group are of different families"};
  if (q.source.is_multicast() || q.source.is_any())
    throw rpc::ParamError{"source", "the source must be a unicast address"};
  if (!q.iif.empty()) check_ifname("iif", q.iif);
  return q;
}

// The flow's line in the kernel's own table (/proc/net/ip(6)_mr_cache): is
// it there, resolved or not.
struct ProcLookup {
  std::optional<std::string> path;    // unset: the file could not be read
  std::optional<core::ProcMfc> line;  // unset: the flow is not listed
};

ProcLookup find_in_mr_cache(const core::SystemFiles* files, const core::SgKey& sg) {
  ProcLookup found;
  if (!files) return found;
  const core::Family fam = sg.group.family;
  auto text = files->read(core::mr_cache_path(fam));
  if (!text) return found;
  found.path = core::mr_cache_path(fam);
  for (const auto& m : core::parse_mr_cache(*text, fam)) {
    if (m.key == sg) found.line = m;
  }
  return found;
}

// An outbound interface and its TTL threshold (0: the VIF's own).
using Oif = std::pair<std::string, int>;

// The OIFs of mfcd's kernel entry, with the thresholds the entry gives them.
std::vector<Oif> entry_oifs(const core::Installed& inst, core::Family fam,
                            const core::InstalledMfc* entry) {
  std::vector<Oif> oifs;
  if (!entry) return oifs;
  for (int v = 0; v < core::kMaxVifs; ++v) {
    const uint8_t ttl = entry->conf.ttls[static_cast<size_t>(v)];
    if (ttl > 0) oifs.emplace_back(vif_name(inst, fam, v), ttl);
  }
  return oifs;
}

void add_oif(std::vector<Oif>& oifs, const std::string& name) {
  for (const auto& o : oifs)
    if (o.first == name) return;
  oifs.emplace_back(name, 0);
}

// The OIFs of the covering route or rule that the entry lacks (missing, or
// without a VIF), so that their checks say why. A wildcard stands for every
// link it matches but the inbound one.
void add_route_oifs(std::vector<Oif>& oifs, const Cover& cover, const core::Links& links,
                    const std::string& iif) {
  if (cover.kind != core::Coverage::route && cover.kind != core::Coverage::rule) return;
  for (const auto& o : cover.oifs) {
    if (!core::is_wildcard(o)) {
      add_oif(oifs, o);
      continue;
    }
    for (const auto& l : links)
      if (l.name != iif && core::ifname_matches(o, l.name)) add_oif(oifs, l.name);
  }
}

// What route.explain finds about the flow in mfcd and in the kernel's table.
struct Flow {
  core::SgKey sg;
  std::string iif;  // as asked, else the entry's, else the covering route's
  bool iif_given = false;
  const core::InstalledMfc* entry = nullptr;  // mfcd's kernel entry for the flow
  Cover cover;
  ProcLookup proc;
  std::vector<Oif> oifs;  // the entry's first, then those the route adds
  size_t oifs_in_entry = 0;
};

Flow find_flow(const router::Router& router, const core::SystemFiles* files, const Query& q) {
  const core::Installed& inst = router.installed();
  const core::Family fam = q.group.family;
  Flow fl;
  fl.sg = core::SgKey{q.source, q.group};
  fl.iif = q.iif;
  fl.iif_given = !q.iif.empty();
  if (auto it = inst.mfc.find(fl.sg); it != inst.mfc.end()) fl.entry = &it->second;
  // Without an `iif`, the flow is taken where the kernel expects it.
  if (fl.entry && fl.iif.empty()) fl.iif = vif_name(inst, fam, fl.entry->conf.iif);
  fl.cover = coverage(router, fl.sg, fl.iif);
  if (fl.entry && fl.entry->dynamic && fl.cover.kind == core::Coverage::none)
    fl.cover.kind = core::Coverage::learned_stop;
  fl.proc = find_in_mr_cache(files, fl.sg);
  fl.oifs = entry_oifs(inst, fam, fl.entry);
  fl.oifs_in_entry = fl.oifs.size();
  add_route_oifs(fl.oifs, fl.cover, router.model().links, fl.iif);
  return fl;
}

// The VIF of an interface and the TTL threshold packets must pass on it:
// the entry's when it gives one, else the VIF's, and never below 1.
void add_vif_facts(const core::Installed& inst, core::Family fam, int ttl, core::IfaceFacts& i) {
  const auto vif = inst.vif_of(fam, i.name);
  i.has_vif = vif.has_value();
  i.ttl_threshold = ttl;
  if (vif && ttl == 0) i.ttl_threshold = inst.vifs[core::family_index(fam)][*vif]->ttl_threshold;
  if (i.ttl_threshold == 0) i.ttl_threshold = 1;
}

// The sysctls and sysfs attributes the checks read. rp_filter only matters
// where the flow comes in, and IPv6 has none.
void add_system_facts(const core::SystemFiles* files, core::Family fam, core::IfaceFacts& i) {
  i.mc_forwarding = read_int(files, core::conf_path(fam, i.name, "mc_forwarding"));
  if (i.inbound && fam == core::Family::v4) {
    i.rp_filter = read_int(files, core::conf_path(fam, i.name, "rp_filter"));
    i.rp_filter_all = read_int(files, core::conf_path(fam, "all", "rp_filter"));
  }
  i.snooping = read_int(files, core::sysfs_path(i.name, "bridge/multicast_snooping"));
  if (i.snooping) {
    // Only a bridge has multicast_snooping; its querier is worth reading then.
    i.bridge = true;
    i.querier = read_int(files, core::sysfs_path(i.name, "bridge/multicast_querier"));
  }
}

core::IfaceFacts interface_facts(const router::Router& router, const core::SystemFiles* files,
                                 core::Family fam, const std::string& name, bool inbound, int ttl) {
  core::IfaceFacts i;
  i.name = name;
  i.inbound = inbound;
  const core::Link* link = core::find_link(router.model().links, name);
  i.present = link != nullptr;
  if (!link) return i;
  i.up = link->up;
  i.multicast = link->multicast;
  if (auto carrier = read_int(files, core::sysfs_path(name, "carrier"))) i.carrier = *carrier != 0;
  add_vif_facts(router.installed(), fam, ttl, i);
  add_system_facts(files, fam, i);
  return i;
}

// The rules that pick the table for the flow's packets: asked only when
// mfcd holds the family's table and the inbound interface is known.
void add_rule_facts(const Daemon& daemon, core::ExplainFacts& f) {
  if (!f.family_routed || f.iif.empty()) return;
  auto rules = daemon.mroute_rules(f.flow.group.family);
  if (rules) {
    f.mrules = std::move(*rules);
  } else if (rules.error().sys_errno == EAFNOSUPPORT) {
    f.mrules_note = "none: this kernel has one multicast routing table";
  } else {
    f.mrules_note = rules.error().message;
  }
}

// What core::explain reasons on. Reads the interfaces' files: the inbound
// interface first, then the OIFs in order, then the rules.
core::ExplainFacts explain_facts(const router::Router& router, const Daemon& daemon,
                                 const core::SystemFiles* files, const DaemonInfo& info,
                                 const Flow& fl) {
  const core::Installed& inst = router.installed();
  const core::Family fam = fl.sg.group.family;
  core::ExplainFacts f;
  f.flow = fl.sg;
  f.iif = fl.iif;
  f.family_routed = fam == core::Family::v4 ? info.ipv4 : info.ipv6;
  f.family_note = fam == core::Family::v4 ? info.ipv4_off : info.ipv6_off;
  f.table = core::kernel_mr_table(fam, info.table);
  f.coverage = fl.cover.kind;
  f.covered_by = fl.cover.key ? fl.cover.key->str() : "";
  f.covered_by_asm = fl.cover.key && fl.cover.key->is_asm();
  f.installed = fl.entry != nullptr;
  f.iif_given = fl.iif_given;
  if (fl.entry) f.entry_iif = vif_name(inst, fam, fl.entry->conf.iif);
  f.vifs_used = inst.vif_count(fam);
  f.proc_path = fl.proc.path;
  if (fl.proc.line) f.proc_iif = fl.proc.line->iif;
  if (!fl.iif.empty()) f.ifaces.push_back(interface_facts(router, files, fam, fl.iif, true, 0));
  for (const auto& [name, ttl] : fl.oifs)
    f.ifaces.push_back(interface_facts(router, files, fam, name, false, ttl));
  add_rule_facts(daemon, f);
  return f;
}

// How much each counter moved since `before`. A counter that went back
// means the entry was made anew: all of it is new.
core::Counters counters_since(const core::Counters& now, const core::Counters& before) {
  auto diff = [](uint64_t a, uint64_t b) { return a >= b ? a - b : a; };
  return {diff(now.packets, before.packets), diff(now.bytes, before.bytes),
          diff(now.wrong_if, before.wrong_if)};
}

// The flow's counters: mfcd's entry's when it has one, else the kernel's line.
core::Counters current_counters(const router::Router& router, const Flow& fl) {
  core::Counters now;
  if (fl.entry) {
    if (auto got = router.counters(fl.sg)) now = *got;
  } else {
    now = {fl.proc.line->packets, fl.proc.line->bytes, fl.proc.line->wrong_if};
  }
  return now;
}

// The flow's kernel entry, null when neither mfcd nor the kernel lists it.
// Remembers its counters in Context::explained, so that the next look can
// say how much they moved.
json kernel_json(Context& c, const Flow& fl) {
  const auto& proc = fl.proc.line;
  if (!fl.entry && !proc) return nullptr;
  const core::Installed& inst = c.router.installed();
  const core::Family fam = fl.sg.group.family;
  json out = json::array();
  for (size_t k = 0; k < fl.oifs_in_entry; ++k)
    out.push_back({{"interface", fl.oifs[k].first}, {"ttl", fl.oifs[k].second}});
  const core::Counters now = current_counters(c.router, fl);
  const auto before = c.explained ? c.explained->exchange(fl.sg, now) : std::nullopt;
  json change = nullptr;
  if (before) change = counters_json(counters_since(now, *before));
  json kernel = counters_json(now);
  kernel["iif"] = fl.entry ? json(vif_name(inst, fam, fl.entry->conf.iif)) : json(nullptr);
  kernel["oifs"] = out;
  kernel["type"] = fl.entry ? (fl.entry->dynamic ? "dynamic" : "static") : "other";
  kernel["resolved"] = !(proc && proc->iif < 0);
  kernel["change"] = change;
  return kernel;
}

json covered_by_json(const Cover& cover) {
  json route = nullptr;
  if (cover.key) {
    route = key_json(*cover.key);
    route["oifs"] = cover.oifs;
  }
  return {{"kind", std::string(core::coverage_name(cover.kind))}, {"route", route}};
}

json answer_json(const Flow& fl, json kernel, const core::Explanation& e) {
  json checks = json::array();
  for (const auto& ch : e.checks)
    checks.push_back(check_json(ch));
  return json{{"flow",
               {{"source", fl.sg.source.str()},
                {"group", fl.sg.group.str()},
                {"iif", fl.iif.empty() ? json(nullptr) : json(fl.iif)},
                {"iif_given", fl.iif_given},
                {"family", std::string(core::family_name(fl.sg.group.family))}}},
              {"covered_by", covered_by_json(fl.cover)},
              {"kernel", std::move(kernel)},
              {"checks", checks},
              {"verdict", e.verdict}};
}

}  // namespace

rpc::HandlerResult route_explain(Context& c, const json& params) {
  const Query q = parse_query(params);
  const core::SystemFiles* files = c.daemon.system_files();
  const DaemonInfo info = c.daemon.info();
  const Flow flow = find_flow(c.router, files, q);
  const core::Explanation e = core::explain(explain_facts(c.router, c.daemon, files, info, flow));
  json kernel = kernel_json(c, flow);
  return answer_json(flow, std::move(kernel), e);
}

}  // namespace mfcd::api
