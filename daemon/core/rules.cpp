// The rule index trades a little memory for a lookup that does not depend on
// how many rules there are. Rules are grouped by the pair (group prefix
// length, source prefix length); inside a group of equal lengths, a rule is
// found by hashing the packet's group and source masked to those lengths.
// Walking the pairs from most to least specific makes the first hit the
// winner, so a lookup is a handful of hash probes plus an interface check
// on the few rules that share exactly the same prefixes. Real configs use a
// few distinct lengths; the worst case (every length pair present) is still
// bounded by the address width, never by the rule count.
#include "core/rules.hpp"

#include <algorithm>

namespace mfcd::core {

bool is_rule(const RouteKey& key) {
  return !key.source || !key.source->is_host() || !key.group.is_host();
}

RuleIndex::RuleIndex(const Intent& intent) {
  for (const RouteIntent* r : intent.routes()) {
    if (!is_rule(r->key)) continue;
    rules_.push_back(Rule{r->key, r->oifs(), r->seq});
  }
  for (uint32_t i = 0; i < rules_.size(); ++i) {
    const Rule& rule = rules_[i];
    const Family f = rule.key.family();
    const int glen = rule.key.group.len;
    const int slen = rule.key.source ? rule.key.source->len : 0;
    auto& levels = levels_[f == Family::v4 ? 0 : 1];
    auto level = std::find_if(levels.begin(), levels.end(), [&](const Level& l) {
      return l.group_len == glen && l.source_len == slen;
    });
    if (level == levels.end()) {
      levels.push_back(Level{glen, slen, {}});
      level = levels.end() - 1;
    }
    const Addr any = masked(rule.key.group.addr, 0);
    PairKey key{rule.key.group.addr, rule.key.source ? rule.key.source->addr : any};
    level->rules[key].push_back(i);
  }
  for (auto& levels : levels_) {
    std::sort(levels.begin(), levels.end(), [](const Level& a, const Level& b) {
      return std::pair(a.group_len, a.source_len) > std::pair(b.group_len, b.source_len);
    });
    for (auto& level : levels) {
      for (auto& [key, list] : level.rules) {
        std::stable_sort(list.begin(), list.end(), [&](uint32_t a, uint32_t b) {
          const bool wa = is_wildcard(rules_[a].key.iif), wb = is_wildcard(rules_[b].key.iif);
          if (wa != wb) return !wa;
          return rules_[a].seq < rules_[b].seq;
        });
      }
    }
  }
}

const Rule* RuleIndex::match(const std::string& iif, const Addr& source, const Addr& group) const {
  if (source.family != group.family) return nullptr;
  for (const Level& level : levels_[group.family == Family::v4 ? 0 : 1]) {
    auto it =
        level.rules.find(PairKey{masked(group, level.group_len), masked(source, level.source_len)});
    if (it == level.rules.end()) continue;
    for (uint32_t i : it->second) {
      if (ifname_matches(rules_[i].key.iif, iif)) return &rules_[i];
    }
  }
  return nullptr;
}

bool is_hairpin(const std::string& route_iif, const std::vector<std::string>& oifs) {
  return !is_wildcard(route_iif) && std::find(oifs.begin(), oifs.end(), route_iif) != oifs.end();
}

std::vector<std::string> resolve_oifs(const std::vector<std::string>& oifs,
                                      const std::vector<std::string>& with_vif,
                                      const std::string& iif, const std::string& route_iif) {
  std::vector<std::string> out;
  const bool hairpin = route_iif == iif && is_hairpin(route_iif, oifs);
  for (const auto& name : with_vif) {
    if (name == iif && !hairpin) continue;
    for (const auto& oif : oifs) {
      if (ifname_matches(oif, name)) {
        out.push_back(name);
        break;
      }
    }
  }
  return out;
}

}  // namespace mfcd::core
