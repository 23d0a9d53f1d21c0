// Desired state is intent seen through the interfaces that exist now. One
// pass over the routes in creation order decides everything: which
// interfaces need a VIF (in order of first use, so numbering is predictable),
// which (S,G) entries go into the kernel, and why the other routes do not.
// Creation order also settles ties: when two routes claim the same (S,G)
// from different inbound interfaces, the older one is installed and the
// newer one waits as standby, visible to the operator, never dropped.
// Interface names are resolved once per link and once per wildcard pattern,
// so the pass stays linear in the number of routes.
#include "core/desired.hpp"

#include <algorithm>

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
      LinkInfo info{&link, true, 1, infos_.size()};
      if (const PhyintConf* p = phyint_for(phyints, link.name)) {
        info.enabled = p->enabled;
        info.ttl_threshold = p->ttl_threshold;
      }
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
  // An exact phyint line beats a wildcard one; among equals the later line
  // wins, as a later line in a file normally overrides an earlier one.
  static const PhyintConf* phyint_for(const std::vector<PhyintConf>& phyints,
                                      const std::string& name) {
    const PhyintConf* exact = nullptr;
    const PhyintConf* wild = nullptr;
    for (const auto& p : phyints) {
      if (p.ifname == name) {
        exact = &p;
      } else if (is_wildcard(p.ifname) && ifname_matches(p.ifname, name)) {
        wild = &p;
      }
    }
    return exact ? exact : wild;
  }

  std::vector<LinkInfo> infos_;
  std::unordered_map<std::string, size_t> by_name_;
  std::unordered_map<std::string, std::vector<const LinkInfo*>> wildcard_cache_;
};

// Per-family VIF list in order of first use. Seen links are marked by their
// position, so using a link costs no hashing of its name.
class VifList {
 public:
  VifList(std::vector<DesiredVif>& out, size_t links) : out_(out), seen_(links, false) {}
  void use(const LinkInfo& info) {
    if (seen_[info.index]) return;
    seen_[info.index] = true;
    out_.push_back(DesiredVif{info.link->name, info.link->ifindex, info.ttl_threshold});
  }

 private:
  std::vector<DesiredVif>& out_;
  std::vector<bool> seen_;
};

void add_unique(std::vector<std::string>& list, const std::string& name) {
  if (std::find(list.begin(), list.end(), name) == list.end()) list.push_back(name);
}

}  // namespace

Desired compute_desired(const Intent& intent, const Links& links) {
  Desired desired;
  Resolver resolver(intent.phyints(), links);
  VifList vifs[2] = {VifList(desired.vifs[0], links.size()),
                     VifList(desired.vifs[1], links.size())};

  // Enabled phyints first, in config order: the first one gets VIF 0.
  for (const auto& p : intent.phyints()) {
    if (!p.enabled) continue;
    if (is_wildcard(p.ifname)) {
      for (const LinkInfo* info : resolver.matches(p.ifname)) {
        for (auto& list : vifs)
          list.use(*info);
      }
    } else if (const LinkInfo* info = resolver.find(p.ifname); info && info->enabled) {
      for (auto& list : vifs)
        list.use(*info);
    }
  }

  const auto routes = intent.routes();
  desired.status.reserve(routes.size());
  desired.mfc.reserve(routes.size());
  std::vector<const LinkInfo*> one_iif(1);
  std::vector<std::string> merged_oifs;  // scratch for routes with several shares
  for (const RouteIntent* route : routes) {
    const RouteKey& key = route->key;
    VifList& family_vifs = vifs[family_index(key.family())];
    RouteStatus status;
    auto warn_disabled = [&](const std::string& name) {
      Diagnostic d;
      if (route->pos) d.pos = *route->pos;
      d.message = "route " + key.str() + " names interface " + name +
                  ", which is disabled by its phyint line; treated as absent";
      d.warning = true;
      desired.warnings.push_back(std::move(d));
    };

    // Inbound interface: one name, or every enabled link a wildcard matches
    // (the first in link order carries an (S,G) entry).
    static const std::vector<const LinkInfo*> kNone;
    const std::vector<const LinkInfo*>* iifs_ptr = &kNone;
    if (is_wildcard(key.iif)) {
      iifs_ptr = &resolver.matches(key.iif);
      if (iifs_ptr->empty()) status.reason = "no interface matches inbound " + key.iif;
    } else if (const LinkInfo* info = resolver.find(key.iif); !info) {
      status.reason = "inbound interface " + key.iif + " does not exist";
    } else if (!info->enabled) {
      warn_disabled(key.iif);
      status.reason = "inbound interface " + key.iif + " is disabled";
    } else {
      one_iif[0] = info;
      iifs_ptr = &one_iif;
    }
    const std::vector<const LinkInfo*>& iifs = *iifs_ptr;
    for (const LinkInfo* info : iifs)
      family_vifs.use(*info);
    static const std::string kNoName;
    const std::string& iif = iifs.empty() ? kNoName : iifs.front()->link->name;

    // A route with one share (nearly all) is read in place, not copied.
    const std::vector<std::string>* wanted = nullptr;
    if (route->shares.size() == 1) {
      wanted = &route->shares.begin()->second;
    } else {
      merged_oifs = route->oifs();
      wanted = &merged_oifs;
    }
    std::vector<std::string> oifs;
    oifs.reserve(wanted->size());
    for (const auto& name : *wanted) {
      if (is_wildcard(name)) {
        const auto& found = resolver.matches(name);
        if (found.empty()) add_unique(status.missing_oifs, name);
        for (const LinkInfo* info : found) {
          family_vifs.use(*info);
          if (info->link->name != iif) add_unique(oifs, info->link->name);
        }
        continue;
      }
      const LinkInfo* info = resolver.find(name);
      if (!info) {
        add_unique(status.missing_oifs, name);
      } else if (!info->enabled) {
        warn_disabled(name);
        add_unique(status.missing_oifs, name);
      } else {
        family_vifs.use(*info);
        if (name != iif && name != key.iif) add_unique(oifs, name);
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
      auto [it, inserted] = desired.mfc.try_emplace(sg);
      if (inserted) {
        status.state = RouteState::installed;
        it->second = DesiredMfc{sg, iif, std::move(oifs), key, false};
      } else {
        status.state = RouteState::standby;
        status.reason = sg.str() + " is already routed by " + it->second.route.str();
      }
    }
    desired.status.emplace(key, std::move(status));
  }
  return desired;
}

}  // namespace mfcd::core
