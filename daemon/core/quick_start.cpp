// What compute_desired and make_plan would decide for an empty kernel table,
// reproduced for the simple configs, line by line. Two things must come out
// identical for the follow-up reconcile to find nothing to do:
//  - VIF numbers: enabled phyint lines first (in file order, both families;
//    a wildcard line's enabled links in link order), then every route's
//    inbound and outbound interfaces in file order, each interface numbered
//    when first used (compute_desired's order; make_plan hands out the
//    lowest free index in that order);
//  - each entry: the inbound VIF, and every present, enabled OIF other than
//    the inbound one at its interface's ttl-threshold.
// Routes that do not become a kernel entry here (rules, pending routes)
// still claim their interfaces' VIFs, as they do in compute_desired.
#include "core/quick_start.hpp"

#include <algorithm>
#include <cstring>
#include <string_view>

#include "core/phyint.hpp"

namespace mfcd::core {

namespace {

// One existing link as the config sees it.
struct Iface {
  std::string_view name;
  int ifindex = 0;
  bool enabled = true;
  int ttl_threshold = 1;
  VifIndex vif[2] = {-1, -1};  // per family, once used
};

class Interfaces {
 public:
  // Each link's settings come from core::resolve_phyint, the rule every
  // other reader of phyint lines follows.
  Interfaces(const Links& links, const std::vector<PhyintConf>& phyints) {
    list_.reserve(links.size());
    for (const auto& link : links) {
      const PhyintSettings s = resolve_phyint(phyints, link.name);
      list_.push_back(Iface{link.name, link.ifindex, s.enabled, s.ttl_threshold});
    }
  }

  // A router has tens of interfaces: a scan that compares lengths first is
  // cheaper than hashing every name of every line.
  Iface* find(std::string_view name) {
    for (auto& iface : list_) {
      if (iface.name.size() == name.size() && iface.name == name) return &iface;
    }
    return nullptr;
  }

  std::vector<Iface>& all() { return list_; }

 private:
  std::vector<Iface> list_;
};

// Hands out VIF numbers per family in order of first use, as make_plan does
// on an empty table, and remembers each VIF for the plan and its log lines.
class VifNumbering {
 public:
  void use(Iface& iface, Family family) {
    const size_t fi = family_index(family);
    if (iface.vif[fi] >= 0) return;
    if (vifs_[fi].size() == static_cast<size_t>(kMaxVifs)) {
      full_ = true;
      return;
    }
    iface.vif[fi] = static_cast<VifIndex>(vifs_[fi].size());
    names_[fi][static_cast<size_t>(iface.vif[fi])] = std::string(iface.name);
    vifs_[fi].push_back(VifConf{family, iface.vif[fi], iface.ifindex, iface.ttl_threshold,
                                std::string(iface.name)});
  }

  // More interfaces were wanted than the kernel has VIFs.
  bool full() const { return full_; }

  // The VIFs (IPv4 first), their thresholds and names, into `quick`.
  void finish(QuickStart& quick) {
    for (auto& family_vifs : vifs_) {
      for (const VifConf& vif : family_vifs) {
        quick.ttls[family_index(vif.family)][static_cast<size_t>(vif.vif)] =
            static_cast<uint8_t>(std::clamp(vif.ttl_threshold, 1, 255));
      }
      std::move(family_vifs.begin(), family_vifs.end(), std::back_inserter(quick.vifs));
    }
    for (size_t fi = 0; fi < 2; ++fi)
      quick.names[fi] = std::make_shared<const VifNames>(std::move(names_[fi]));
  }

 private:
  std::array<VifNames, 2> names_;
  std::vector<VifConf> vifs_[2];
  bool full_ = false;
};

// Route keys seen so far, as hashes in an open-addressing table: a few
// nanoseconds a line, where a node-based set of RouteKeys would cost more
// than the rest of the quick start. A slot keeps the upper half of the
// 64-bit hash and the lower half picks the slot, so the table is 4 bytes a
// slot (it is fresh memory, paid for in page faults) and still tells keys
// apart by about 47 bits at 10,000 routes. A false match only sends the
// start down the regular path.
class SeenKeys {
 public:
  explicit SeenKeys(size_t n) {
    size_t size = 16;
    while (size < 2 * n)
      size *= 2;
    slots_.assign(size, 0);
  }
  // False when `hash` (or, rarely, another hash with the same tag on the
  // same probe run) was inserted before.
  bool insert(uint64_t hash) {
    const uint32_t tag = static_cast<uint32_t>(hash >> 32) | 1;  // 0 marks a free slot
    const size_t mask = slots_.size() - 1;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
      if (slots_[i] == tag) return false;
      if (slots_[i] == 0) {
        slots_[i] = tag;
        return true;
      }
    }
  }

 private:
  std::vector<uint32_t> slots_;
};

uint64_t key_hash(const RouteConf& route, bool any_source) {
  uint64_t h = std::hash<std::string_view>{}(route.iif);
  auto mix = [&h](const Prefix& p) {
    uint64_t words[2];
    std::memcpy(words, p.addr.bytes.data(), sizeof words);
    for (uint64_t w : words)
      h = (h ^ w) * 0x9e3779b97f4a7c15ULL;
    h = (h ^ (uint64_t{p.len} << 8 | static_cast<uint64_t>(p.addr.family))) * 0xff51afd7ed558ccdULL;
  };
  mix(route.group);
  if (route.source && !any_source) mix(*route.source);
  return h ^ (h >> 29);
}

MfcConf entry_conf(const Config& config, const QuickStart& quick, const QuickStart::Entry& entry) {
  const RouteConf& route = config.routes[entry.route];
  MfcConf conf;
  conf.key = SgKey{route.source->addr, route.group.addr};
  conf.iif = entry.iif;
  const auto& ttls = quick.ttls[family_index(route.group.addr.family)];
  for (uint32_t bits = entry.oifs; bits != 0; bits &= bits - 1) {
    const auto vif = static_cast<size_t>(__builtin_ctz(bits));
    conf.ttls[vif] = ttls[vif];
  }
  return conf;
}

// The steps of plan_quick_start, in the order compute_desired takes them.
class Planner {
 public:
  Planner(const Config& config, const Links& links, bool with_v6)
      : config_(config), ifaces_(links, config.phyints), with_v6_(with_v6) {}

  // Enabled phyint lines first, in file order, both families; a wildcard
  // line takes the enabled links it matches in link order.
  void add_phyints() {
    for (const auto& p : config_.phyints) {
      if (!p.enabled) continue;
      for (Iface& iface : ifaces_.all()) {
        if (!iface.enabled || !ifname_matches(p.ifname, std::string(iface.name))) continue;
        vifs_.use(iface, Family::v4);
        if (with_v6_) vifs_.use(iface, Family::v6);
      }
    }
  }

  // Then every route in file order. False when one needs the regular path.
  bool add_routes(QuickStart& quick) {
    SeenKeys seen(config_.routes.size());
    quick.entries.reserve(config_.routes.size());
    for (size_t r = 0; r < config_.routes.size(); ++r) {
      const RouteConf& route = config_.routes[r];
      if (route.group.addr.family == Family::v6 && !with_v6_) continue;
      if (is_wildcard(route.iif)) return false;
      // Two lines with the same inbound interface, source and group are one
      // route in the intent, whose OIFs all count at the first line's place
      // in the VIF order. Rare enough to leave to the regular path.
      if (!seen.insert(key_hash(route, is_any_source(route.source)))) return false;
      if (!add_route(route, static_cast<uint32_t>(r), quick)) return false;
    }
    return !vifs_.full();
  }

  void finish(QuickStart& quick) { vifs_.finish(quick); }

 private:
  bool add_route(const RouteConf& route, uint32_t index, QuickStart& quick) {
    const Family family = route.group.addr.family;
    Iface* iif = ifaces_.find(route.iif);
    if (iif && !iif->enabled) iif = nullptr;  // disabled: the route is pending
    if (iif) vifs_.use(*iif, family);
    const std::optional<uint32_t> oifs = oif_bits(route, family);
    if (!oifs || vifs_.full()) return false;

    // Only a host route with a real source is an entry; "source 0.0.0.0"
    // is a (*,G) rule, and rules are matched on demand.
    const size_t fi = family_index(family);
    const bool entry = iif && route.source && !is_any_source(route.source) &&
                       route.source->is_host() && route.group.is_host();
    if (entry && iif->vif[fi] >= 0)
      quick.entries.push_back(QuickStart::Entry{index, *oifs, iif->vif[fi]});
    return true;
  }

  // A bit per outbound VIF; nullopt for a wildcard (the regular path's).
  std::optional<uint32_t> oif_bits(const RouteConf& route, Family family) {
    const size_t fi = family_index(family);
    uint32_t oifs = 0;
    for (const auto& name : route.oifs) {
      if (is_wildcard(name)) return std::nullopt;
      Iface* oif = ifaces_.find(name);
      if (!oif || !oif->enabled) continue;  // installed without it for now
      vifs_.use(*oif, family);
      // The inbound interface as an outbound one is a hairpin: kept, as
      // compute_desired keeps it (no wildcards get here).
      if (oif->vif[fi] < 0) continue;  // no VIF left
      oifs |= uint32_t{1} << oif->vif[fi];
    }
    return oifs;
  }

  const Config& config_;
  Interfaces ifaces_;
  VifNumbering vifs_;
  bool with_v6_;
};

}  // namespace

std::optional<QuickStart> plan_quick_start(const Config& config, const Links& links, bool with_v6) {
  Planner planner(config, links, with_v6);
  planner.add_phyints();
  QuickStart quick;
  if (!planner.add_routes(quick)) return std::nullopt;
  planner.finish(quick);
  return quick;
}

Plan quick_start_plan(const Config& config, const QuickStart& quick) {
  Plan plan;
  plan.ops.reserve(quick.vifs.size() + quick.entries.size());
  for (const VifConf& vif : quick.vifs) {
    Op op{};
    op.kind = Op::Kind::add_vif;
    op.vif = vif;
    plan.ops.push_back(std::move(op));
  }
  for (const QuickStart::Entry& entry : quick.entries) {
    const RouteConf& route = config.routes[entry.route];
    const MfcConf conf = entry_conf(config, quick, entry);
    plan.ops.push_back(add_mfc_op(conf, RouteKey{route.iif, route.source, route.group}, false,
                                  quick.names[family_index(conf.key.group.family)]));
  }
  return plan;
}

}  // namespace mfcd::core
