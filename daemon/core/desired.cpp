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
#include <array>
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

// An (S,G) route: the only kind that is an entry of its own.
bool host_route(const RouteKey& key) {
  return key.source && key.source->is_host() && key.group.is_host();
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
    VifList& family_vifs = vifs_[family_index(route.key.family())];
    family_vifs.stamp = route.seq;
    RouteStatus status;
    const std::vector<const LinkInfo*>& iifs = inbound_links(route, status);
    for (const LinkInfo* info : iifs) {
      family_vifs.use(*info);
      family_vifs.enter(*info);
    }
    // An inbound wildcard's first link in link order carries the (S,G) entry.
    static const std::string kNoName;
    const std::string& iif = iifs.empty() ? kNoName : iifs.front()->link->name;
    MissingOifs missing;
    std::vector<std::string> oifs = outbound_names(route, iif, family_vifs, status, missing);
    if (iifs.empty()) {
      status.state = RouteState::pending;
    } else {
      place(route.key, iif, std::move(oifs), status);
    }
    missing.explain(status.reason);
    statuses_.insert_or_assign(route.key, std::move(status));
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
  void warn_disabled(const RouteIntent& route, const std::string& name) {
    Diagnostic d;
    if (route.pos) d.pos = *route.pos;
    d.message = "route " + route.key.str() + " names interface " + name +
                ", which is disabled by its phyint line; treated as absent";
    d.warning = true;
    desired_.warnings.push_back(std::move(d));
  }

  // The links a route enters through: one name, or every enabled link a
  // wildcard matches. None (and `status.reason` says why) when the route
  // must wait for its inbound interface.
  const std::vector<const LinkInfo*>& inbound_links(const RouteIntent& route, RouteStatus& status) {
    static const std::vector<const LinkInfo*> kNone;
    const std::string& name = route.key.iif;
    if (is_wildcard(name)) {
      const auto& found = resolver_.matches(name);
      if (found.empty()) status.reason = "no interface matches inbound " + name;
      return found;
    }
    const LinkInfo* info = resolver_.find(name);
    if (!info) {
      status.reason = "inbound interface " + name + " does not exist";
      return kNone;
    }
    if (!info->enabled) {
      warn_disabled(route, name);
      status.reason = "inbound interface " + name + " is disabled";
      return kNone;
    }
    one_iif_[0] = info;
    return one_iif_;
  }

  // The route's OIFs that exist now, each once, with a VIF used for each;
  // the ones named but not there go to `status` and `missing`. `iif` is the
  // link carrying the entry ("" when none).
  std::vector<std::string> outbound_names(const RouteIntent& route, const std::string& iif,
                                          VifList& family_vifs, RouteStatus& status,
                                          MissingOifs& missing) {
    const std::vector<std::string>& wanted = oifs_of(route, merged_oifs_);
    std::vector<std::string> oifs;
    oifs.reserve(wanted.size());
    for (const auto& name : wanted) {
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
        warn_disabled(route, name);
        add_unique(status.missing_oifs, name);
        add_unique(missing.disabled, name);
      } else {
        family_vifs.use(*info);
        // The inbound interface named again as an outbound one is a
        // hairpin, asked for and kept; a wildcard inbound interface that
        // happened to resolve to this name asked for nothing of the kind.
        if (name != iif || !is_wildcard(route.key.iif)) add_unique(oifs, name);
      }
    }
    return oifs;
  }

  // A route whose inbound interface is there: a rule, or the (S,G)'s entry
  // unless an older route already holds it (creation order settles ties).
  void place(const RouteKey& key, const std::string& iif, std::vector<std::string> oifs,
             RouteStatus& status) {
    if (!host_route(key)) {
      status.state = RouteState::rule;
      status.reason = key.source ? "range rule: (S,G) entries are added as traffic arrives"
                                 : "(*,G) rule: (S,G) entries are added as traffic arrives";
      return;
    }
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

  Desired& desired_;
  Statuses& statuses_;
  Resolver resolver_;
  VifList vifs_[2];
  std::vector<const LinkInfo*> one_iif_;
  std::vector<std::string> merged_oifs_;  // scratch for routes with several shares
};

bool any_wildcard(const std::vector<std::string>& names) {
  return std::any_of(names.begin(), names.end(),
                     [](const std::string& n) { return is_wildcard(n); });
}

bool any_wildcard_oif(const RouteIntent& route) {
  return std::any_of(route.shares.begin(), route.shares.end(),
                     [](const auto& share) { return any_wildcard(share.second); });
}

// The routes an update_desired call changed, each with the names it had
// before its first change and what it is now, grouped by (S,G). Each
// (S,G)'s changed routes are chained through `next`, so grouping allocates
// nothing per (S,G).
class ChangedRoutes {
 public:
  static constexpr size_t kEnd = SIZE_MAX;
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

  // Whether `chain` already holds a change of `key`.
  bool holds(const SgChain& chain, const RouteKey& key) const {
    return any_of(chain, [&](const First& f) { return f.change->key == key; });
  }

  // Whether one of `chain`'s changed routes enters through `iif`.
  bool changed_through(const SgChain& chain, const std::string& iif) const {
    return any_of(chain, [&](const First& f) { return f.change->key.iif == iif; });
  }

  // Adds a route to the chain at `chain`, or to a new one for `sg` when
  // `chain` is sgs.size().
  void append(size_t chain, const SgKey& sg, const Intent::Change& change, const RouteIntent* now) {
    const size_t pos = firsts.size();
    if (chain == sgs.size())
      sgs.push_back(SgChain{sg, pos, pos});
    else
      firsts[std::exchange(sgs[chain].tail, pos)].next = pos;
    firsts.push_back(First{&change, now, kEnd});
  }

 private:
  template <class Pred>
  bool any_of(const SgChain& chain, Pred pred) const {
    for (size_t k = chain.head; k != kEnd; k = firsts[k].next) {
      if (pred(firsts[k])) return true;
    }
    return false;
  }
};

// `changes` grouped by (S,G), or nullopt when one involves a wildcard or a
// rule (whose reach only a full computation knows). A reload may bring
// thousands of changes: every step here is a hash lookup per change, never
// a scan of the list. A key changed twice counts once: its first change
// holds what the route was before.
std::optional<ChangedRoutes> group_changes(const Intent& intent, const Intent::Changes& changes) {
  ChangedRoutes grouped;
  FlatMap<SgKey, size_t, SgKeyHash> sg_index;
  grouped.firsts.reserve(changes.list.size());
  grouped.sgs.reserve(changes.list.size());
  sg_index.reserve(changes.list.size());
  for (const auto& change : changes.list) {
    if (!host_route(change.key) || is_wildcard(change.key.iif) || any_wildcard(change.names))
      return std::nullopt;
    const SgKey sg{change.key.source->addr, change.key.group.addr};
    auto [at, fresh] = sg_index.try_emplace(sg, grouped.sgs.size());
    if (!fresh && grouped.holds(grouped.sgs[at->second], change.key)) continue;
    const RouteIntent* now = intent.find_route(change.key);
    if (now && any_wildcard_oif(*now)) return std::nullopt;
    grouped.append(at->second, sg, change, now);
  }
  return grouped;
}

// VIF use counts as they will be once the changed routes are applied. A VIF
// that would be gained or released changes the VIF list: that is
// compute_desired's job, and apply() says so.
class UseCounter {
 public:
  UseCounter(const Builder& builder, const VifUses (&before)[2])
      : uses{before[0], before[1]}, builder_(builder) {}

  // False when the VIF list would change (or the counts do not add up).
  bool apply(const ChangedRoutes& grouped) {
    for (const auto& [change, now, next] : grouped.firsts) {
      auto& family_uses = uses[family_index(change->key.family())];
      if (change->existed && !withdraw(*change, family_uses)) return false;
      if (now && !enlist(*now, family_uses)) return false;
    }
    return !releases_a_vif();
  }

  VifUses uses[2];

 private:
  // Takes back the uses of the route as it was before its change.
  bool withdraw(const Intent::Change& change, VifUses& family_uses) {
    builder_.links_of(change.key.iif, change.names, route_links_);
    for (const LinkInfo* info : route_links_) {
      auto it = family_uses.find(info->link->name);
      if (it == family_uses.end() || it->second.routes == 0) return false;
      --it->second.routes;
    }
    if (const LinkInfo* in = builder_.link(change.key.iif)) {
      auto it = family_uses.find(in->link->name);
      if (it == family_uses.end() || it->second.inbound == 0) return false;
      --it->second.inbound;
    }
    return true;
  }

  // Counts the uses of the route as it is now.
  bool enlist(const RouteIntent& now, VifUses& family_uses) {
    builder_.links_of(now.key.iif, oifs_of(now, merged_), route_links_);
    for (const LinkInfo* info : route_links_) {
      auto it = family_uses.find(info->link->name);
      if (it == family_uses.end()) return false;  // would need a new VIF
      ++it->second.routes;
    }
    if (const LinkInfo* in = builder_.link(now.key.iif)) ++family_uses[in->link->name].inbound;
    return true;
  }

  bool releases_a_vif() const {
    for (const auto& family_uses : uses) {
      for (const auto& [name, use] : family_uses) {
        if (use.routes == 0 && !use.pinned) return true;
      }
    }
    return false;
  }

  const Builder& builder_;
  std::vector<const LinkInfo*> route_links_;  // reused from route to route
  std::vector<std::string> merged_;           // scratch for oifs_of
};

// Per family, the links some route enters through, in link order.
using InboundNames = std::array<std::vector<const std::string*>, 2>;

InboundNames inbound_names(const Links& links, const VifUses (&uses)[2]) {
  InboundNames inbound;
  for (size_t f = 0; f < 2; ++f) {
    for (const auto& link : links) {
      auto it = uses[f].find(link.name);
      if (it != uses[f].end() && it->second.inbound > 0) inbound[f].push_back(&link.name);
    }
  }
  return inbound;
}

// Appends to `routes` the routes of one touched (S,G) that must be decided
// afresh, each once; `probe` is scratch. A route belongs to one (S,G) only,
// so duplicates are looked for only among the (S,G)'s few.
void add_routes_of(const Intent& intent, const ChangedRoutes& grouped,
                   const ChangedRoutes::SgChain& chain, const InboundNames& inbound,
                   RouteKey& probe, std::vector<const RouteIntent*>& routes) {
  const auto first_of_sg = static_cast<std::ptrdiff_t>(routes.size());
  auto add = [&](const RouteIntent* r) {
    if (r && std::find(routes.begin() + first_of_sg, routes.end(), r) == routes.end())
      routes.push_back(r);
  };
  for (size_t k = chain.head; k != ChangedRoutes::kEnd; k = grouped.firsts[k].next)
    add(grouped.firsts[k].now);
  probe.source = Prefix::host(chain.sg.source);
  probe.group = Prefix::host(chain.sg.group);
  for (const std::string* iif : inbound[family_index(chain.sg.group.family)]) {
    // The (S,G)'s route through this link is a changed one: added above
    // as it is now, or gone.
    if (grouped.changed_through(chain, *iif)) continue;
    probe.iif = *iif;
    add(intent.find_route(probe));
  }
}

// Every route of each touched (S,G), in creation order: the changed ones
// (whose inbound interface may not exist; they are pending then), and
// every other route of the (S,G) that enters through a link some route
// enters through: only there can a route hold or contest the entry. On
// most tables few links are ever inbound, and a reload that edits
// single-feed routes looks nothing up here at all.
std::vector<const RouteIntent*> routes_to_redecide(const Intent& intent, const Links& links,
                                                   const ChangedRoutes& grouped,
                                                   const VifUses (&uses)[2]) {
  const InboundNames inbound = inbound_names(links, uses);
  std::vector<const RouteIntent*> routes;
  RouteKey probe;
  routes.reserve(grouped.firsts.size());
  for (const auto& chain : grouped.sgs)
    add_routes_of(intent, grouped, chain, inbound, probe, routes);
  std::sort(routes.begin(), routes.end(),
            [](const RouteIntent* a, const RouteIntent* b) { return a->seq < b->seq; });
  return routes;
}

// Fills `slice` with the touched (S,G)s' entries (decided into `scratch`)
// and `desired`'s VIF list; returns the touched (S,G)s.
std::vector<SgKey> hand_over(const Desired& desired, Desired& scratch, const Links& links,
                             const ChangedRoutes& grouped, Desired& slice) {
  slice.vifs[0] = desired.vifs[0];
  slice.vifs[1] = desired.vifs[1];
  slice.mfc = std::move(scratch.mfc);
  slice.warnings = std::move(scratch.warnings);
  slice.links = links;
  std::vector<SgKey> keys;
  keys.reserve(grouped.sgs.size());
  for (const auto& chain : grouped.sgs)
    keys.push_back(chain.sg);
  return keys;
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
  std::optional<ChangedRoutes> grouped = group_changes(intent, changes);
  if (!grouped) return std::nullopt;

  // Statuses are written straight into `desired`; entries and warnings go
  // to `scratch`, which holds only the touched (S,G)s.
  Desired scratch;
  Builder builder(scratch, desired.status, intent.phyints(), links);
  UseCounter counter(builder, desired.uses);
  if (!counter.apply(*grouped)) return std::nullopt;
  const std::vector<const RouteIntent*> routes =
      routes_to_redecide(intent, links, *grouped, counter.uses);

  // From here on `desired` changes: nothing below gives up.
  for (const auto& [change, now, next] : grouped->firsts) {
    if (!now) desired.status.erase(change->key);
  }
  for (const RouteIntent* r : routes)
    builder.add(*r);
  desired.uses[0] = std::move(counter.uses[0]);
  desired.uses[1] = std::move(counter.uses[1]);
  return hand_over(desired, scratch, links, *grouped, slice);
}

}  // namespace mfcd::core
