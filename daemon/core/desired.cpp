// Desired state is intent seen through the interfaces that exist now. One
// pass over the routes in creation order decides everything: which
// interfaces need a VIF (in order of first use, so numbering is predictable),
// which (S,G) entries go into the kernel, and why the other routes do not.
// Creation order also settles ties: when two routes claim the same (S,G)
// from different inbound interfaces, the older one is installed and the
// newer one waits as standby, visible to the operator, never dropped.
// Interface names are resolved once per link and once per wildcard pattern,
// so the pass stays linear in the number of routes.
//
// A route.add on a big table must not pay for that whole pass, and need
// not: a host route only ever competes with the routes of its own (S,G),
// and what it asks of the VIF list is captured by a use count per
// interface. update_desired re-decides just the touched (S,G)s with the
// same per-route code, and gives up whenever the VIF list itself would move.
#include "core/desired.hpp"

#include <algorithm>
#include <utility>

#include "core/phyint.hpp"

namespace mfcd::core {

std::string_view route_state_name(RouteState s) {
  switch (s) {
    case RouteState::installed:
      return "installed";
    case RouteState::standby:
      return "standby";
    case RouteState::rule:
      return "rule";
    case RouteState::pending:
      return "pending";
  }
  return "unknown";
}

namespace {

// What the config says about one existing link.
struct LinkInfo {
  const Link* link = nullptr;
  bool enabled = true;
  int ttl_threshold = 1;
  size_t index = 0;  // position in the resolver's list
};

class Resolver {
 public:
  Resolver(const std::vector<PhyintConf>& phyints, const Links& links) {
    infos_.reserve(links.size());
    by_name_.reserve(links.size());
    for (const auto& link : links) {
      const PhyintSettings s = resolve_phyint(phyints, link.name);
      const LinkInfo info{&link, s.enabled, s.ttl_threshold, infos_.size()};
      by_name_.emplace(link.name, infos_.size());
      infos_.push_back(info);
    }
  }

  const LinkInfo* find(const std::string& name) const {
    auto it = by_name_.find(name);
    return it == by_name_.end() ? nullptr : &infos_[it->second];
  }

  // Enabled links matching a wildcard, in link order (cached per pattern).
  const std::vector<const LinkInfo*>& matches(const std::string& pattern) {
    auto [it, inserted] = wildcard_cache_.try_emplace(pattern);
    if (inserted) {
      for (const auto& info : infos_) {
        if (info.enabled && ifname_matches(pattern, info.link->name)) it->second.push_back(&info);
      }
    }
    return it->second;
  }

  const std::vector<LinkInfo>& infos() const { return infos_; }

 private:
  std::vector<LinkInfo> infos_;
  std::unordered_map<std::string, size_t> by_name_;
  std::unordered_map<std::string, std::vector<const LinkInfo*>> wildcard_cache_;
};

// Per-family VIF list in order of first use. Seen links are marked by their
// position, so using a link costs no hashing of its name.
// It also counts, per link, how many routes use it (each route once, told
// apart by a stamp) and whether a phyint line holds it (stamp 0).
class VifList {
 public:
  VifList(std::vector<DesiredVif>& out, size_t links)
      : out_(out),
        seen_(links, false),
        stamp_(links, kNoStamp),
        routes_(links, 0),
        pinned_(links, false),
        inbound_(links, 0) {}
  void use(const LinkInfo& info) {
    if (stamp_[info.index] != stamp) {
      stamp_[info.index] = stamp;
      if (stamp == 0)
        pinned_[info.index] = true;
      else
        ++routes_[info.index];
    }
    if (seen_[info.index]) return;
    seen_[info.index] = true;
    out_.push_back(DesiredVif{info.link->name, info.link->ifindex, info.ttl_threshold});
  }
  // The route being resolved enters through `info` (after use()).
  void enter(const LinkInfo& info) { ++inbound_[info.index]; }
  void export_uses(const std::vector<LinkInfo>& infos, VifUses& out) const {
    for (const auto& info : infos) {
      if (seen_[info.index])
        out.emplace(info.link->name,
                    VifUse{routes_[info.index], pinned_[info.index], inbound_[info.index]});
    }
  }

  uint64_t stamp = 0;  // the route being resolved (0: phyint lines)

 private:
  static constexpr uint64_t kNoStamp = UINT64_MAX;
  std::vector<DesiredVif>& out_;
  std::vector<bool> seen_;
  std::vector<uint64_t> stamp_;
  std::vector<uint32_t> routes_;
  std::vector<bool> pinned_;
  std::vector<uint32_t> inbound_;
};

// A route's OIFs: its one share read in place (nearly every route has one
// owner), else the union of its shares, built in `scratch`.
const std::vector<std::string>& oifs_of(const RouteIntent& route,
                                        std::vector<std::string>& scratch) {
  if (route.shares.size() == 1) return route.shares.begin()->second;
  scratch = route.oifs();
  return scratch;
}

void add_unique(std::vector<std::string>& list, const std::string& name) {
  if (std::find(list.begin(), list.end(), name) == list.end()) list.push_back(name);
}

using Statuses = decltype(Desired::status);

// The OIFs a route names that are not there, by why, so that its reason
// says which interface a listing of pending routes is waiting for.
struct MissingOifs {
  std::vector<std::string> absent, disabled, unmatched;

  // Appends "outbound interface a2 does not exist" and the like to `reason`.
  void explain(std::string& reason) const {
    auto add = [&reason](const std::vector<std::string>& names, const char* one, const char* many) {
      if (names.empty()) return;
      std::string list;
      for (const auto& n : names)
        list += (list.empty() ? "" : ", ") + n;
      if (!reason.empty()) reason += "; ";
      reason += names.size() == 1 ? "outbound interface " + list + one
                                  : "outbound interfaces " + list + many;
    };
    add(absent, " does not exist", " do not exist");
    add(disabled, " is disabled", " are disabled");
    for (const auto& pattern : unmatched)
      reason +=
          (reason.empty() ? "" : "; ") + std::string("no interface matches outbound ") + pattern;
  }
};

// Resolves routes one at a time into a Desired: compute_desired feeds it
// every route, update_desired only the routes of the (S,G)s that changed.
// Statuses go to `statuses`: update_desired passes the full result's map,
// so that each route's status is written once, in place.
class Builder {
 public:
  Builder(Desired& desired, Statuses& statuses, const std::vector<PhyintConf>& phyints,
          const Links& links)
      : desired_(desired),
        statuses_(statuses),
        resolver_(phyints, links),
        vifs_{VifList(desired.vifs[0], links.size()), VifList(desired.vifs[1], links.size())},
        one_iif_(1) {}

  // Enabled phyints first, in config order: the first one gets VIF 0.
  void add_phyints(const std::vector<PhyintConf>& phyints) {
    for (const auto& p : phyints) {
      if (!p.enabled) continue;
      if (is_wildcard(p.ifname)) {
        for (const LinkInfo* info : resolver_.matches(p.ifname)) {
          for (auto& list : vifs_)
            list.use(*info);
        }
      } else if (const LinkInfo* info = resolver_.find(p.ifname); info && info->enabled) {
        for (auto& list : vifs_)
          list.use(*info);
      }
    }
  }

  void add(const RouteIntent& route) {
    const RouteKey& key = route.key;
    VifList& family_vifs = vifs_[family_index(key.family())];
    family_vifs.stamp = route.seq;
    RouteStatus status;
    auto warn_disabled = [&](const std::string& name) {
      Diagnostic d;
      if (route.pos) d.pos = *route.pos;
      d.message = "route " + key.str() + " names interface " + name +
                  ", which is disabled by its phyint line; treated as absent";
      d.warning = true;
      desired_.warnings.push_back(std::move(d));
    };

    // Inbound interface: one name, or every enabled link a wildcard matches
    // (the first in link order carries an (S,G) entry).
    static const std::vector<const LinkInfo*> kNone;
    const std::vector<const LinkInfo*>* iifs_ptr = &kNone;
    if (is_wildcard(key.iif)) {
      iifs_ptr = &resolver_.matches(key.iif);
      if (iifs_ptr->empty()) status.reason = "no interface matches inbound " + key.iif;
    } else if (const LinkInfo* info = resolver_.find(key.iif); !info) {
      status.reason = "inbound interface " + key.iif + " does not exist";
    } else if (!info->enabled) {
      warn_disabled(key.iif);
      status.reason = "inbound interface " + key.iif + " is disabled";
    } else {
      one_iif_[0] = info;
      iifs_ptr = &one_iif_;
    }
    const std::vector<const LinkInfo*>& iifs = *iifs_ptr;
    for (const LinkInfo* info : iifs) {
      family_vifs.use(*info);
      family_vifs.enter(*info);
    }
    static const std::string kNoName;
    const std::string& iif = iifs.empty() ? kNoName : iifs.front()->link->name;

    const std::vector<std::string>* wanted = &oifs_of(route, merged_oifs_);
    std::vector<std::string> oifs;
    oifs.reserve(wanted->size());
    MissingOifs missing;
    for (const auto& name : *wanted) {
      if (is_wildcard(name)) {
        const auto& found = resolver_.matches(name);
        if (found.empty()) {
          add_unique(status.missing_oifs, name);
          add_unique(missing.unmatched, name);
        }
        // A wildcard spans interfaces; the inbound one is not among them.
        for (const LinkInfo* info : found) {
          family_vifs.use(*info);
          if (info->link->name != iif) add_unique(oifs, info->link->name);
        }
        continue;
      }
      const LinkInfo* info = resolver_.find(name);
      if (!info) {
        add_unique(status.missing_oifs, name);
        add_unique(missing.absent, name);
      } else if (!info->enabled) {
        warn_disabled(name);
        add_unique(status.missing_oifs, name);
        add_unique(missing.disabled, name);
      } else {
        family_vifs.use(*info);
        // The inbound interface named again as an outbound one is a
        // hairpin, asked for and kept; a wildcard inbound interface that
        // happened to resolve to this name asked for nothing of the kind.
        if (name != iif || !is_wildcard(key.iif)) add_unique(oifs, name);
      }
    }

    if (iifs.empty()) {
      status.state = RouteState::pending;
    } else if (!key.source || !key.source->is_host() || !key.group.is_host()) {
      status.state = RouteState::rule;
      status.reason = key.source ? "range rule: (S,G) entries are added as traffic arrives"
                                 : "(*,G) rule: (S,G) entries are added as traffic arrives";
    } else {
      const SgKey sg{key.source->addr, key.group.addr};
      auto [it, inserted] = desired_.mfc.try_emplace(sg);
      if (inserted) {
        status.state = RouteState::installed;
        it->second = DesiredMfc{sg, iif, std::move(oifs), key, false};
      } else {
        status.state = RouteState::standby;
        status.reason = sg.str() + " is already routed by " + it->second.route.str();
      }
    }
    missing.explain(status.reason);
    statuses_.insert_or_assign(key, std::move(status));
  }

  void export_uses() {
    for (size_t f = 0; f < 2; ++f)
      vifs_[f].export_uses(resolver_.infos(), desired_.uses[f]);
  }

  // The link an exact name resolves to, if it exists and is enabled.
  const LinkInfo* link(const std::string& name) const {
    const LinkInfo* info = resolver_.find(name);
    return info && info->enabled ? info : nullptr;
  }

  // The links a route's names resolve to, each once (exact names only),
  // into `out` (cleared first; a caller reuses it from route to route).
  void links_of(const std::string& iif, const std::vector<std::string>& oifs,
                std::vector<const LinkInfo*>& out) const {
    out.clear();
    auto add = [&](const std::string& name) {
      const LinkInfo* info = resolver_.find(name);
      if (info && info->enabled && std::find(out.begin(), out.end(), info) == out.end())
        out.push_back(info);
    };
    add(iif);
    for (const auto& name : oifs)
      add(name);
  }

 private:
  Desired& desired_;
  Statuses& statuses_;
  Resolver resolver_;
  VifList vifs_[2];
  std::vector<const LinkInfo*> one_iif_;
  std::vector<std::string> merged_oifs_;  // scratch for routes with several shares
};

bool host_route(const RouteKey& key) {
  return key.source && key.source->is_host() && key.group.is_host();
}

bool any_wildcard(const std::vector<std::string>& names) {
  return std::any_of(names.begin(), names.end(),
                     [](const std::string& n) { return is_wildcard(n); });
}

}  // namespace

Desired compute_desired(const Intent& intent, const Links& links) {
  Desired desired;
  desired.links = links;
  Builder builder(desired, desired.status, intent.phyints(), links);
  builder.add_phyints(intent.phyints());
  const auto routes = intent.routes();
  desired.status.reserve(routes.size());
  desired.mfc.reserve(routes.size());
  for (const RouteIntent* route : routes)
    builder.add(*route);
  builder.export_uses();
  return desired;
}

std::optional<std::vector<SgKey>> update_desired(Desired& desired, const Intent& intent,
                                                 const Links& links, const Intent::Changes& changes,
                                                 Desired& slice) {
  if (changes.all || links != desired.links || intent.has_wildcard_iif()) return std::nullopt;
  // Every changed route's status is rewritten below; on a big table each
  // is a cache miss, so they are all started now and overlap.
  for (const auto& change : changes.list)
    desired.status.prefetch(change.key);

  // The routes changed, each with the names it had before its first change
  // and what it is now, grouped by (S,G). A reload may bring thousands of
  // changes: every step here is a hash lookup per change, never a scan of
  // the list. Each (S,G)'s changed routes are chained through `next`, so
  // grouping allocates nothing per (S,G); a key changed twice counts once
  // (its first change holds what the route was before).
  constexpr size_t kEnd = SIZE_MAX;
  struct First {
    const Intent::Change* change;
    const RouteIntent* now;  // null: the route is gone
    size_t next;             // the (S,G)'s next changed route, or kEnd
  };
  struct SgChain {
    SgKey sg;
    size_t head, tail;  // positions in firsts
  };
  std::vector<First> firsts;
  std::vector<SgChain> sgs;
  FlatMap<SgKey, size_t, SgKeyHash> sg_index;
  firsts.reserve(changes.list.size());
  sgs.reserve(changes.list.size());
  sg_index.reserve(changes.list.size());
  auto any_wildcard_oif = [](const RouteIntent& route) {
    return std::any_of(route.shares.begin(), route.shares.end(),
                       [](const auto& share) { return any_wildcard(share.second); });
  };
  for (const auto& change : changes.list) {
    if (!host_route(change.key) || is_wildcard(change.key.iif) || any_wildcard(change.names))
      return std::nullopt;
    const SgKey sg{change.key.source->addr, change.key.group.addr};
    auto [at, fresh] = sg_index.try_emplace(sg, sgs.size());
    if (!fresh) {
      bool repeat = false;
      for (size_t k = sgs[at->second].head; k != kEnd && !repeat; k = firsts[k].next)
        repeat = firsts[k].change->key == change.key;
      if (repeat) continue;
    }
    const RouteIntent* now = intent.find_route(change.key);
    if (now && any_wildcard_oif(*now)) return std::nullopt;
    const size_t pos = firsts.size();
    if (fresh)
      sgs.push_back(SgChain{sg, pos, pos});
    else
      firsts[std::exchange(sgs[at->second].tail, pos)].next = pos;
    firsts.push_back(First{&change, now, kEnd});
  }

  // VIF use counts after the change. A VIF that would be gained or released
  // changes the VIF list: that is compute_desired's job.
  Desired scratch;
  Builder builder(scratch, desired.status, intent.phyints(), links);
  VifUses uses[2] = {desired.uses[0], desired.uses[1]};
  std::vector<const LinkInfo*> route_links;  // reused from route to route
  std::vector<std::string> merged;           // scratch for oifs_of
  for (const auto& [change, now, next] : firsts) {
    auto& family_uses = uses[family_index(change->key.family())];
    if (change->existed) {
      builder.links_of(change->key.iif, change->names, route_links);
      for (const LinkInfo* info : route_links) {
        auto it = family_uses.find(info->link->name);
        if (it == family_uses.end() || it->second.routes == 0) return std::nullopt;
        --it->second.routes;
      }
      if (const LinkInfo* in = builder.link(change->key.iif)) {
        auto it = family_uses.find(in->link->name);
        if (it == family_uses.end() || it->second.inbound == 0) return std::nullopt;
        --it->second.inbound;
      }
    }
    if (now) {
      builder.links_of(now->key.iif, oifs_of(*now, merged), route_links);
      for (const LinkInfo* info : route_links) {
        auto it = family_uses.find(info->link->name);
        if (it == family_uses.end()) return std::nullopt;  // would need a new VIF
        ++it->second.routes;
      }
      if (const LinkInfo* in = builder.link(now->key.iif)) ++family_uses[in->link->name].inbound;
    }
  }
  for (const auto& family_uses : uses) {
    for (const auto& [name, use] : family_uses) {
      if (use.routes == 0 && !use.pinned) return std::nullopt;  // would release a VIF
    }
  }

  // Every route of each touched (S,G), in creation order, decided afresh:
  // the changed ones (whose inbound interface may not exist; they are
  // pending then), and every other route of the (S,G) that enters through a
  // link some route enters through: only there can a route hold or contest
  // the entry. On most tables few links are ever inbound, and a reload that
  // edits single-feed routes looks nothing up here at all. A route belongs
  // to one (S,G) only, so duplicates are looked for only among its few.
  std::vector<const std::string*> inbound[2];
  for (size_t f = 0; f < 2; ++f) {
    for (const auto& link : links) {
      auto it = uses[f].find(link.name);
      if (it != uses[f].end() && it->second.inbound > 0) inbound[f].push_back(&link.name);
    }
  }
  std::vector<const RouteIntent*> routes;
  RouteKey probe;
  routes.reserve(firsts.size());
  for (const SgChain& chain : sgs) {
    const size_t first_of_sg = routes.size();
    auto add = [&](const RouteIntent* r) {
      if (r && std::find(routes.begin() + static_cast<std::ptrdiff_t>(first_of_sg), routes.end(),
                         r) == routes.end())
        routes.push_back(r);
    };
    auto changed_through = [&](const std::string& iif) {
      for (size_t k = chain.head; k != kEnd; k = firsts[k].next) {
        if (firsts[k].change->key.iif == iif) return true;
      }
      return false;
    };
    for (size_t k = chain.head; k != kEnd; k = firsts[k].next)
      add(firsts[k].now);
    probe.source = Prefix::host(chain.sg.source);
    probe.group = Prefix::host(chain.sg.group);
    for (const std::string* iif : inbound[family_index(chain.sg.group.family)]) {
      if (changed_through(*iif)) continue;  // that route is the changed one
      probe.iif = *iif;
      add(intent.find_route(probe));
    }
  }
  std::sort(routes.begin(), routes.end(),
            [](const RouteIntent* a, const RouteIntent* b) { return a->seq < b->seq; });
  // From here on `desired` changes: nothing below gives up.
  for (const auto& [change, now, next] : firsts) {
    if (!now) desired.status.erase(change->key);
  }
  for (const RouteIntent* r : routes)
    builder.add(*r);
  desired.uses[0] = std::move(uses[0]);
  desired.uses[1] = std::move(uses[1]);

  slice.vifs[0] = desired.vifs[0];
  slice.vifs[1] = desired.vifs[1];
  slice.mfc = std::move(scratch.mfc);
  slice.warnings = std::move(scratch.warnings);
  slice.links = links;
  std::vector<SgKey> keys;
  keys.reserve(sgs.size());
  for (const SgChain& chain : sgs)
    keys.push_back(chain.sg);
  return keys;
}

}  // namespace mfcd::core
