// Dynamic entries are derived state kept as small as possible: per (S,G)
// only what an upcall taught (the inbound interface) and what the expiry
// needs (the last counter and when it moved). Everything else, above all
// the OIFs, is recomputed from the rules on every full sync, so there is
// never a second copy of a rule's OIF set to go stale.
#include "core/dynamic.hpp"

#include <algorithm>

namespace mfcd::core {

bool idle_after_sample(DynamicEntry& entry, uint64_t packets, uint64_t now_ms,
                       uint64_t timeout_ms) {
  if (packets != entry.packets) {
    entry.packets = packets;
    entry.moved_ms = now_ms;
    return false;
  }
  return now_ms - entry.moved_ms >= timeout_ms;
}

void merge_dynamic(Desired& desired, DynamicMap& table, const RuleIndex& rules) {
  std::vector<std::string> with_vif[2];
  for (size_t f = 0; f < 2; ++f) {
    for (const auto& v : desired.vifs[f])
      with_vif[f].push_back(v.ifname);
  }
  for (auto it = table.begin(); it != table.end();) {
    const SgKey& key = it->first;
    DynamicEntry& entry = it->second;
    const auto& names = with_vif[family_index(key.group.family)];
    const bool iif_ok = std::find(names.begin(), names.end(), entry.iif) != names.end();
    const Rule* rule = iif_ok ? rules.match(entry.iif, key.source, key.group) : nullptr;
    const bool rule_gone = entry.rule && !rule;
    if (!iif_ok || rule_gone || desired.mfc.count(key)) {
      it = table.erase(it);
      continue;
    }
    DesiredMfc mfc;
    mfc.key = key;
    mfc.iif = entry.iif;
    mfc.dynamic = true;
    if (rule) {
      entry.rule = rule->key;
      mfc.route = rule->key;
      mfc.oifs = resolve_oifs(rule->oifs, names, entry.iif, rule->key.iif);
    } else {
      mfc.route = RouteKey{entry.iif, Prefix::host(key.source), Prefix::host(key.group)};
    }
    desired.mfc.emplace(key, std::move(mfc));
    ++it;
  }
}

void apply_active_feeds(Desired& desired, const Intent& intent, ActiveFeeds& feeds) {
  for (auto it = feeds.begin(); it != feeds.end();) {
    const RouteIntent* route = intent.find_route(it->second);
    auto status = desired.status.find(it->second);
    auto current = desired.mfc.find(it->first);
    if (!route || status == desired.status.end() || current == desired.mfc.end() ||
        current->second.dynamic) {
      it = feeds.erase(it);
      continue;
    }
    if (status->second.state != RouteState::standby) {
      ++it;  // already the installed one (or cannot be): nothing to swap
      continue;
    }
    const auto& vifs = desired.vifs[family_index(it->first.group.family)];
    std::vector<std::string> names;
    for (const auto& v : vifs)
      names.push_back(v.ifname);
    if (std::find(names.begin(), names.end(), route->key.iif) == names.end()) {
      it = feeds.erase(it);
      continue;
    }
    const RouteKey previous = current->second.route;
    current->second.iif = route->key.iif;
    current->second.oifs = resolve_oifs(route->oifs(), names, route->key.iif, route->key.iif);
    current->second.route = route->key;
    status->second.state = RouteState::installed;
    status->second.reason = "active feed: switched here when " + previous.iif + " went quiet";
    if (auto old = desired.status.find(previous); old != desired.status.end()) {
      old->second.state = RouteState::standby;
      old->second.reason = it->first.str() + " is now routed by " + route->key.str();
    }
    ++it;
  }
}

FeedVerdict feed_sample(FeedWatch& watch, uint64_t rx, uint64_t now_ms) {
  if (rx != watch.rx) return FeedVerdict::keep;
  return now_ms - watch.since_ms >= kFeedQuietMs ? FeedVerdict::switch_now : FeedVerdict::wait;
}

}  // namespace mfcd::core
