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
#include "core/flow_key.hpp"
#include "core/result.hpp"

namespace mfcd::core {

// A route's inbound interface and (source, group); core/flow_key.hpp.
using RouteKey = FlowKey;
using RouteKeyHash = FlowKeyHash;

// Owner name used for the config's shares.
inline constexpr const char* kConfigOwner = "config";

struct RouteIntent {
  RouteKey key;
  // owner -> OIFs that owner asked for, in the order asked. An owner with an
  // empty list still holds the route: it is a stop filter for that owner.
  std::map<std::string, std::vector<std::string>> shares;
  std::optional<SourcePos> pos;  // the config line, if the config holds a share
  uint64_t seq = 0;              // creation order: first route wins a (S,G) tie
  // Intent's own bookkeeping for load_config: the load that last named this
  // route, the load that recorded it as changed, its place in that load.
  uint32_t loaded = 0;
  uint32_t noted = 0;
  uint32_t line = 0;

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

class Intent {
 public:
  // What a reload did, route by route, for its report: every route whose
  // existence or OIF set may have changed, once, with what it was before,
  // in the order they were met. A route that only moved to another line is
  // not in it. A route whose config share changed but whose OIF set did not
  // (another owner holds those OIFs) is in it: the caller compares before
  // and after.
  struct Touched {
    RouteKey key;
    bool existed = false;              // the route existed before
    std::vector<std::string> names;    // its OIFs then (all owners)
    std::optional<RouteIntent> whole;  // all of it, kept when the reload may remove it
  };
  struct LoadReport {
    std::vector<Touched> touched;
    std::unordered_map<RouteKey, size_t, RouteKeyHash> index;  // key -> position in touched
  };

  // Replace every config share with `config` (phyints too). Routes that only
  // the config held and that it no longer names disappear; a route the file
  // still names keeps its seq (and so its place in ties and VIF order) and
  // takes its first line's position; API shares are left alone. Only the
  // routes whose config share appears, goes or gets other OIFs are recorded
  // as changes (and in `report`, when given); a change of the phyint lines
  // makes the change list `all`. The file is read alongside the last load's
  // routes in file order, so an unchanged line costs a comparison; a new or
  // moved line costs a lookup.
  void load_config(const Config& config, LoadReport* report = nullptr);

  // SMCRoute's reload makes the file the whole truth: every API share goes
  // (and a route only the API held, with it). Recorded like load_config.
  void drop_api_shares(LoadReport* report = nullptr);

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
  // The table itself, in no order (a listing's page picks from it).
  using Routes = std::unordered_map<RouteKey, RouteIntent, RouteKeyHash>;
  const Routes& route_table() const { return routes_; }

  const std::vector<PhyintConf>& phyints() const { return phyints_; }
  const std::vector<JoinConf>& config_joins() const { return joins_; }

  // Bumped on every change, so callers can cache derived state.
  uint64_t generation() const { return generation_; }

  // What changed since the last take_changes(), so that a caller can update
  // derived state for just those routes. `all` is set before the first
  // take_changes(), when load_config finds the phyint lines changed, and
  // when the list would grow past a quarter of the routes (at least 64):
  // then a full recomputation is the cheaper, and only right, answer. Each
  // change keeps what the route looked like before it, which a caller needs
  // to tell whether a change can release a VIF.
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
  class Load;  // one load_config call

  RouteIntent& route_for(const RouteKey& key);
  void init_route(Routes::iterator it);  // a route just inserted: key, seq, counts
  void erase_if_unowned(const RouteKey& key);
  Routes::iterator erase(Routes::iterator it);
  void note_change(const RouteKey& key);
  // note_change, plus the route's former self into `report` (all of it
  // when `may_go`: it may be gone afterwards).
  void note_change(const RouteKey& key, const RouteIntent* before, LoadReport* report,
                   bool may_go = false);
  size_t max_tracked_changes() const;

  // Below this many changes the list is kept whatever the table's size.
  static constexpr size_t kMinTrackedChanges = 64;

  Routes routes_;
  std::vector<PhyintConf> phyints_;
  std::vector<JoinConf> joins_;
  uint64_t next_seq_ = 1;
  uint64_t generation_ = 0;
  size_t wildcard_iifs_ = 0;  // routes whose inbound interface is a wildcard
  uint32_t loads_ = 0;        // load_config calls (mod 2^32), to stamp RouteIntent::loaded
  // The routes the last load_config named, in the order of their first
  // lines, which the next load walks along the file. Pointers into routes_,
  // whose nodes never move; `valid` is cleared when one of them is erased
  // or a config share appears outside load_config (the next load then looks
  // every line up), and a copied Intent starts without the list, which
  // points into the original's table.
  struct LineOrder {
    std::vector<RouteIntent*> routes;
    std::vector<RouteIntent*> spare;  // the list before, kept for its buffer
    bool valid = false;
    LineOrder() = default;
    LineOrder(const LineOrder&) {}
    LineOrder(LineOrder&&) = default;
    LineOrder& operator=(const LineOrder&) {
      routes.clear();
      valid = false;
      return *this;
    }
    LineOrder& operator=(LineOrder&&) = default;
  };
  LineOrder lines_;
  Changes changes_{true, {}};
};

}  // namespace mfcd::core
