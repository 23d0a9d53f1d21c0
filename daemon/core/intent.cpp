// Intent is a keyed set of routes, each held by one or more owners. A route
// exists while at least one owner holds a share of it; its OIF set is the
// union of the shares. The config is just one more owner ("config"), which is
// what lets a reload replace the file's routes while leaving what API clients
// asked for alone. Every mutation is proportional to the route it touches,
// except load_config, which by nature looks at every route once.
#include "core/intent.hpp"

#include <algorithm>

namespace mfcd::core {

namespace {

// 0.0.0.0 and :: as a source mean "any source": the same route as no source.
RouteKey normalized(RouteKey key) {
  if (key.source && key.source->len == 0 && key.source->addr.is_any()) key.source.reset();
  if (key.source && key.source->is_host() && key.source->addr.is_any()) key.source.reset();
  return key;
}

void merge_into(std::vector<std::string>& share, const std::vector<std::string>& oifs) {
  for (const auto& oif : oifs) {
    if (std::find(share.begin(), share.end(), oif) == share.end()) share.push_back(oif);
  }
}

std::vector<std::string> deduplicated(const std::vector<std::string>& oifs) {
  std::vector<std::string> out;
  merge_into(out, oifs);
  return out;
}

void hash_combine(size_t& seed, size_t value) {
  seed ^= value + 0x9e3779b97f4a7c15ULL + (seed << 6) + (seed >> 2);
}

// True when every bit after `len` is zero.

}  // namespace

std::string RouteKey::str() const {
  return iif + " (" + (source ? source->str() : std::string("*")) + ", " + group.str() + ")";
}

size_t RouteKeyHash::operator()(const RouteKey& k) const noexcept {
  size_t seed = std::hash<std::string>{}(k.iif);
  hash_combine(seed, AddrHash{}(k.group.addr));
  hash_combine(seed, k.group.len);
  if (k.source) {
    hash_combine(seed, AddrHash{}(k.source->addr));
    hash_combine(seed, k.source->len);
  } else {
    hash_combine(seed, 0xa5a5);
  }
  return seed;
}

std::vector<std::string> RouteIntent::oifs() const {
  // The config's share comes first, then API owners by name: a stable order
  // that does not depend on which client happened to call first.
  std::vector<std::string> out;
  if (auto it = shares.find(kConfigOwner); it != shares.end()) merge_into(out, it->second);
  for (const auto& [owner, share] : shares) {
    if (owner != kConfigOwner) merge_into(out, share);
  }
  return out;
}

bool RouteIntent::from_api() const {
  return shares.size() > (from_config() ? 1U : 0U);
}

std::vector<std::string> RouteIntent::api_owners() const {
  std::vector<std::string> out;
  for (const auto& [owner, share] : shares) {
    if (owner != kConfigOwner) out.push_back(owner);
  }
  return out;
}

Result<void> validate_route_key(const RouteKey& key) {
  if (key.iif.empty()) return make_error(Errc::invalid_argument, "inbound interface missing");
  return validate_source_group(key.source, key.group);
}

void Intent::load_config(const Config& config) {
  // Drop every config share first, then add the new ones: a route that the
  // file still names keeps its seq (and so its place in ties and VIF order).
  // A route left with no share is erased only after the file has been
  // read: if the file still names it, it has a share again by then.
  std::vector<const RouteKey*> orphans;
  for (auto& [key, route] : routes_) {
    if (route.shares.erase(kConfigOwner) != 0) route.pos.reset();
    if (route.shares.empty()) orphans.push_back(&key);
  }
  routes_.reserve(routes_.size() + config.routes.size());  // one rehash, not a series
  const std::string config_owner = kConfigOwner;
  RouteKey key;
  for (const auto& conf : config.routes) {
    key.iif = conf.iif;
    key.source = conf.source;
    key.group = conf.group;
    key = normalized(std::move(key));
    RouteIntent& route = route_for(key);
    auto& share = route.shares[config_owner];
    if (share.empty()) {
      share = conf.oifs;  // the parser leaves no duplicates
    } else {
      merge_into(share, conf.oifs);
    }
    if (!route.pos) route.pos = conf.pos;
  }
  for (const RouteKey* orphan : orphans) {
    auto it = routes_.find(*orphan);
    if (it != routes_.end() && it->second.shares.empty()) erase(it);
  }
  changes_ = Changes{true, {}};
  phyints_ = config.phyints;
  joins_ = config.joins;
  ++generation_;
}

RouteIntent& Intent::route_for(const RouteKey& key) {
  auto [it, inserted] = routes_.try_emplace(key);
  if (inserted) {
    it->second.key = key;
    it->second.seq = next_seq_++;
    if (is_wildcard(key.iif)) ++wildcard_iifs_;
  }
  return it->second;
}

void Intent::erase(std::unordered_map<RouteKey, RouteIntent, RouteKeyHash>::iterator it) {
  if (is_wildcard(it->first.iif)) --wildcard_iifs_;
  routes_.erase(it);
}

void Intent::erase_if_unowned(const RouteKey& key) {
  auto it = routes_.find(key);
  if (it != routes_.end() && it->second.shares.empty()) erase(it);
}

void Intent::note_change(const RouteKey& key) {
  if (changes_.all) return;
  if (changes_.list.size() >= kMaxTrackedChanges) {
    changes_ = Changes{true, {}};
    return;
  }
  Change& change = changes_.list.emplace_back();
  change.key = key;
  if (auto it = routes_.find(key); it != routes_.end()) {
    change.existed = true;
    change.names = it->second.oifs();
  }
}

Intent::Changes Intent::take_changes() {
  Changes out = std::move(changes_);
  changes_ = Changes{};
  return out;
}

const RouteIntent& Intent::add_route(const RouteRequest& req) {
  note_change(normalized(req.key));
  RouteIntent& route = route_for(normalized(req.key));
  merge_into(route.shares[req.owner], req.oifs);
  ++generation_;
  return route;
}

const RouteIntent& Intent::set_route(const RouteRequest& req) {
  note_change(normalized(req.key));
  RouteIntent& route = route_for(normalized(req.key));
  route.shares[req.owner] = deduplicated(req.oifs);
  ++generation_;
  return route;
}

Result<std::optional<RouteIntent>> Intent::remove_route(const RouteRequest& req) {
  const RouteKey key = normalized(req.key);
  auto it = routes_.find(key);
  if (it == routes_.end()) return make_error(Errc::not_found, "no route " + key.str());
  // Noted before anything changes, while the old names are there (a
  // refused request below just leaves a key to recompute for nothing).
  note_change(key);
  RouteIntent& route = it->second;

  auto share = route.shares.find(req.owner);
  if (share == route.shares.end()) share = route.shares.find(kConfigOwner);
  if (share == route.shares.end()) {
    std::string owners;
    for (const auto& [owner, oifs] : route.shares)
      owners += (owners.empty() ? "" : ", ") + owner;
    return make_error(Errc::not_found, "route " + key.str() + " is not held by owner '" +
                                           req.owner + "' (held by " + owners + ")");
  }

  if (req.oifs.empty()) {
    if (share->first == kConfigOwner) route.pos.reset();
    route.shares.erase(share);
  } else {
    auto& oifs = share->second;
    const auto old_size = oifs.size();
    std::erase_if(oifs, [&](const std::string& oif) {
      return std::find(req.oifs.begin(), req.oifs.end(), oif) != req.oifs.end();
    });
    if (oifs.size() == old_size) {
      std::string asked;
      for (const auto& oif : req.oifs)
        asked += (asked.empty() ? "" : ", ") + oif;
      return make_error(Errc::not_found, "route " + key.str() + " has no outbound interface " +
                                             asked + " from owner '" + share->first + "'");
    }
  }
  ++generation_;
  if (route.shares.empty()) {
    erase(it);
    return std::optional<RouteIntent>{};
  }
  return std::optional<RouteIntent>{route};
}

void Intent::restore_route(const RouteKey& key, const std::optional<RouteIntent>& before) {
  const RouteKey k = normalized(key);
  note_change(k);
  auto it = routes_.find(k);
  if (it != routes_.end()) erase(it);
  if (before) {
    if (is_wildcard(k.iif)) ++wildcard_iifs_;
    routes_.emplace(k, *before);
  }
  erase_if_unowned(k);
  ++generation_;
}

const RouteIntent* Intent::find_route(const RouteKey& key) const {
  auto it = routes_.find(normalized(key));
  return it == routes_.end() ? nullptr : &it->second;
}

std::vector<const RouteIntent*> Intent::routes() const {
  std::vector<const RouteIntent*> out;
  if (routes_.empty()) return out;
  // One walk over the table's nodes (each one a cache miss on a big table),
  // then everything else on this flat array.
  std::vector<std::pair<uint64_t, const RouteIntent*>> seqs;
  seqs.reserve(routes_.size());
  uint64_t low = UINT64_MAX, high = 0;
  for (const auto& [key, route] : routes_) {
    seqs.emplace_back(route.seq, &route);
    low = std::min(low, route.seq);
    high = std::max(high, route.seq);
  }
  out.reserve(routes_.size());
  // Sequence numbers are unique and mostly dense (a big config gets a run
  // of them), so placing each route at its offset is a linear-time sort;
  // when removals have left the range sparse, a comparison sort it is.
  const uint64_t range = high - low + 1;
  if (range <= 4 * routes_.size() + 64) {
    std::vector<const RouteIntent*> slots(range, nullptr);
    bool unique = true;
    for (const auto& [seq, route] : seqs) {
      auto& slot = slots[seq - low];
      unique = unique && !slot;
      slot = route;
    }
    if (unique) {
      for (const RouteIntent* r : slots)
        if (r) out.push_back(r);
      return out;
    }
  }
  std::sort(seqs.begin(), seqs.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const auto& [seq, route] : seqs)
    out.push_back(route);
  return out;
}

}  // namespace mfcd::core
