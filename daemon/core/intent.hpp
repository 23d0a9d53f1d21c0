// What the operator asked for: the config's phyints, routes and joins plus
// what came in over the API, each route share tagged with who wants it.
// A route is identified by (iif, source, group); its OIF set is the union of
// its shares. The config owns one share per route; each API owner owns one.
// A reload replaces only the config shares, so API intent survives it.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/addr.hpp"
#include "core/config.hpp"
#include "core/result.hpp"

namespace mfcd::core {

struct RouteKey {
  std::string iif;
  std::optional<Prefix> source;  // nullopt: (*,G)
  Prefix group;
  Family family() const { return group.addr.family; }
  bool is_asm() const { return !source.has_value(); }
  std::string str() const;  // "a1 (10.0.0.1, 225.1.1.1)"
  bool operator==(const RouteKey&) const = default;
};

struct RouteKeyHash {
  size_t operator()(const RouteKey& k) const noexcept;
};

// Owner name used for the config's shares.
inline constexpr const char* kConfigOwner = "config";

struct RouteIntent {
  RouteKey key;
  // owner -> OIFs that owner asked for, in the order asked. An owner with an
  // empty list still holds the route: it is a stop filter for that owner.
  std::map<std::string, std::vector<std::string>> shares;
  std::optional<SourcePos> pos;  // the config line, if the config holds a share
  uint64_t seq = 0;              // creation order: first route wins a (S,G) tie

  std::vector<std::string> oifs() const;  // union of shares, first-asked order
  bool from_config() const { return shares.count(kConfigOwner) != 0; }
  bool from_api() const;
  std::vector<std::string> api_owners() const;
};

struct RouteRequest {
  RouteKey key;
  std::vector<std::string> oifs;
  std::string owner = "api";
};

// Validation shared by the API and the parser's callers: families agree,
// group is multicast, source (if any) is unicast, prefixes sane.
Result<void> validate_route_key(const RouteKey& key);

class Intent {
 public:
  // Replace every config share with `config` (phyints too). Routes that only
  // the config held and that it no longer names disappear.
  void load_config(const Config& config);

  // route.add: merge `oifs` into the owner's share (creating the route).
  const RouteIntent& add_route(const RouteRequest& req);
  // route.set: make the owner's share exactly `oifs`.
  const RouteIntent& set_route(const RouteRequest& req);
  // route.remove: with no oifs, drop the owner's share; with oifs, remove
  // only those from it. When the owner holds no share but the config does,
  // the config share is the one changed (an operator override that lasts
  // until the next reload). Returns the route afterwards, or nullopt when no
  // share is left; not_found when nothing matched.
  Result<std::optional<RouteIntent>> remove_route(const RouteRequest& req);

  // Put back exactly what a route looked like (undo after a kernel failure).
  void restore_route(const RouteKey& key, const std::optional<RouteIntent>& before);

  const RouteIntent* find_route(const RouteKey& key) const;
  // Routes in creation order.
  std::vector<const RouteIntent*> routes() const;
  size_t route_count() const { return routes_.size(); }

  const std::vector<PhyintConf>& phyints() const { return phyints_; }
  const std::vector<JoinConf>& config_joins() const { return joins_; }

  // Bumped on every change, so callers can cache derived state.
  uint64_t generation() const { return generation_; }

  // What changed since the last take_changes(), so that a caller can update
  // derived state for just those routes. `all` is set by load_config and
  // whenever the list would grow long; then only a full recomputation is
  // right. Each change keeps what the route looked like before it, which a
  // caller needs to tell whether a change can release a VIF.
  struct Change {
    RouteKey key;
    bool existed = false;            // the route existed before this change
    std::vector<std::string> names;  // its OIFs then (all owners)
  };
  struct Changes {
    bool all = false;
    std::vector<Change> list;  // in order; a key may appear more than once
  };
  Changes take_changes();
  // True while some route's inbound interface is a wildcard: such a route
  // may compete for any (S,G), so per-route updates are not enough.
  bool has_wildcard_iif() const { return wildcard_iifs_ != 0; }

 private:
  RouteIntent& route_for(const RouteKey& key);
  void erase_if_unowned(const RouteKey& key);
  void erase(std::unordered_map<RouteKey, RouteIntent, RouteKeyHash>::iterator it);
  void note_change(const RouteKey& key);

  static constexpr size_t kMaxTrackedChanges = 64;

  std::unordered_map<RouteKey, RouteIntent, RouteKeyHash> routes_;
  std::vector<PhyintConf> phyints_;
  std::vector<JoinConf> joins_;
  uint64_t next_seq_ = 1;
  uint64_t generation_ = 0;
  size_t wildcard_iifs_ = 0;  // routes whose inbound interface is a wildcard
  Changes changes_{true, {}};
};

}  // namespace mfcd::core
