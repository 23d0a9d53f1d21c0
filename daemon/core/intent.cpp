// Intent is a keyed set of routes, each held by one or more owners. A route
// exists while at least one owner holds a share of it; its OIF set is the
// union of the shares. The config is just one more owner ("config"), which is
// what lets a reload replace the file's routes while leaving what API clients
// asked for alone. Every mutation is proportional to the route it touches,
// except load_config, which by nature reads every line of the file once.
#include "core/intent.hpp"

#include <algorithm>
#include <cstring>

namespace mfcd::core {

namespace {

// `oifs`: a vector of names or a config line's NameList.
template <typename Names>
void merge_into(std::vector<std::string>& share, const Names& oifs) {
  for (const auto& oif : oifs) {
    if (std::find(share.begin(), share.end(), oif) == share.end()) share.emplace_back(oif);
  }
}

std::vector<std::string> deduplicated(const std::vector<std::string>& oifs) {
  std::vector<std::string> out;
  merge_into(out, oifs);
  return out;
}

// True when every bit after `len` is zero.

}  // namespace

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

namespace {

// What of a phyint line compute_desired and mrdisc act on; a line that only
// moved is the same line.
bool same_phyints(const std::vector<PhyintConf>& a, const std::vector<PhyintConf>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                    [](const PhyintConf& x, const PhyintConf& y) {
                      return x.ifname == y.ifname && x.enabled == y.enabled &&
                             x.mrdisc == y.mrdisc && x.ttl_threshold == y.ttl_threshold;
                    });
}

// `head` is a proper beginning of `list`: `list` is `head` and more names.
bool starts_with(const std::vector<std::string>& list, const NameList& head) {
  auto it = list.begin();
  for (std::string_view name : head) {
    if (it == list.end() || *it != name) return false;
    ++it;
  }
  return it != list.end();
}

bool adds_any(const std::vector<std::string>& share, const NameList& oifs) {
  return std::any_of(oifs.begin(), oifs.end(), [&](std::string_view oif) {
    return std::find(share.begin(), share.end(), oif) == share.end();
  });
}

// Reading a big file, load_config compares every line with its route:
// these compare and normalize without a call to memcmp per address.
bool same_addr(const Addr& a, const Addr& b) {
  uint64_t x[2], y[2];
  std::memcpy(x, a.bytes.data(), sizeof x);
  std::memcpy(y, b.bytes.data(), sizeof y);
  return a.family == b.family && x[0] == y[0] && x[1] == y[1];
}

bool same_prefix(const Prefix& a, const Prefix& b) {
  return a.len == b.len && same_addr(a.addr, b.addr);
}

// A line's source as a route key holds it: 0.0.0.0 or :: (as a host or
// as /0) is no source, as normalized() has it.
const Prefix* key_source(const RouteConf& conf) {
  if (!conf.source || is_any_source(conf.source)) return nullptr;
  return &*conf.source;
}

bool key_of_line(const RouteKey& key, const RouteConf& conf, const Prefix* source) {
  if (!same_prefix(key.group, conf.group)) return false;
  if (source ? !(key.source && same_prefix(*key.source, *source)) : key.source.has_value())
    return false;
  return key.iif == conf.iif;
}

// pos = `to`, without copying the file name when it is the same.
void move_pos(std::optional<SourcePos>& pos, const SourcePos& to) {
  if (!pos) {
    pos = to;
    return;
  }
  if (pos->line == to.line && pos->column == to.column && pos->file == to.file) return;
  pos->line = to.line;
  pos->column = to.column;
  if (pos->file != to.file) pos->file = to.file;
}

}  // namespace

// One load_config call. Each line is compared with the route's config
// share as it stands: the same OIFs leave the route alone (a new line
// number just updates pos), anything else is noted before it is changed.
// Nothing is dropped up front, so a route the file still names stays
// exactly as it was: its seq, its API shares. Routes are stamped with this
// load as they are seen; whatever held a config share and was not seen
// lost its line.
//
// The route of a line is found by walking the last load's routes in file
// order alongside the file: an unchanged line is then one comparison with
// memory read in order, where a hash lookup per line costs a cache miss or
// two each (ten times the time on a big table). A line that is not next on
// that walk is looked up, and the walk goes on after that route.
class Intent::Load {
 public:
  Load(Intent& in, const Config& config, LoadReport* report)
      : in_(in), report_(report), previous_(in.loads_) {
    if (++in.loads_ == 0) ++in.loads_;  // 0 is "never named", a route's starting stamp
    stamp_ = in.loads_;
    first_ = in.routes_.empty();                           // start-up: nothing can lose its line
    if (first_) in.routes_.reserve(config.routes.size());  // one rehash, not a series
    old_ = std::move(in.lines_.routes);
    follow_ = in.lines_.valid;  // `old_` holds every route with a config share
    // The list before last is this one's buffer: no large allocation (after
    // parsing a file, one makes malloc tidy up every small block first).
    in.lines_.routes = std::move(in.lines_.spare);
    in.lines_.routes.clear();
    in.lines_.routes.reserve(config.routes.size());
  }

  void line(const RouteConf& conf) {
    RouteIntent* route = find_or_add(conf);
    if (!route) return;  // a new route, complete
    if (route->loaded != stamp_) return first_line(*route, conf);
    // A later line for the same route: its OIFs add to the first's. Until
    // now the route may have stood unchanged; if this line adds an OIF, it
    // is noted here, still as it was before this load.
    auto& share = route->shares[config_owner_];
    if (route->noted != stamp_ && adds_any(share, conf.oifs)) {
      in_.note_change(route->key, route, report_);
      route->noted = stamp_;
    }
    merge_into(share, conf.oifs);
  }

  // Routes whose first line took less than they had: whether later lines
  // added it all back is known only now.
  void settle_splits() {
    for (auto& [route, before] : split_) {
      auto& share = route->shares.find(config_owner_)->second;
      if (share == before) continue;
      std::swap(share, before);  // noted as it was
      in_.note_change(route->key, route, report_);
      std::swap(share, before);
    }
  }

  // The routes whose lines are gone. Following the walk, only those it
  // stepped over or never reached can be (a second pass over every route
  // would read them all from memory again); after much reordering, the
  // whole list; without the list, the whole table.
  void drop_unnamed() {
    if (follow_) {
      if (next_ < old_.size()) skipped_.emplace_back(next_, old_.size());
      size_t stepped = 0;
      for (const auto& [from, to] : skipped_)
        stepped += to - from;
      if (stepped > old_.size()) skipped_.assign(1, {0, old_.size()});
      for (const auto& [from, to] : skipped_) {
        for (size_t i = from; i < to; ++i) {
          // A route stepped over twice is dropped the first time.
          if (old_[i] && unnamed(*old_[i])) {
            RouteIntent* route = old_[i];
            old_[i] = nullptr;
            drop_config_share(in_.routes_.find(route->key));
          }
        }
      }
    } else if (!first_) {
      for (auto it = in_.routes_.begin(); it != in_.routes_.end();)
        it = unnamed(it->second) ? drop_config_share(it) : std::next(it);
    }
    in_.lines_.valid = true;
    in_.lines_.spare = std::move(old_);
  }

 private:
  // The line's route, from the walk or the table; nullptr when the line
  // made a new route (nothing more to do for it).
  RouteIntent* find_or_add(const RouteConf& conf) {
    const Prefix* source = key_source(conf);
    if (follow_ && next_ < old_.size() && key_of_line(old_[next_]->key, conf, source))
      return old_[next_++];
    key_.iif = conf.iif;
    key_.source = source ? std::optional<Prefix>(*source) : std::nullopt;
    key_.group = conf.group;
    auto [it, inserted] = in_.routes_.try_emplace(key_);
    RouteIntent* route = &it->second;
    if (inserted) {
      in_.init_route(it);
      in_.note_change(key_, nullptr, report_);
      // The parser leaves no duplicates in a line's OIFs.
      route->shares.emplace(config_owner_, conf.oifs.to_vector());
      route->pos = conf.pos;
      route->loaded = route->noted = stamp_;
      append(*route);
      return nullptr;
    }
    if (follow_ && route->loaded == previous_) {
      // On the walk further on (or back): go on from there. The routes
      // stepped over may have lost their lines.
      if (route->line > next_) skipped_.emplace_back(next_, route->line);
      next_ = route->line + 1;
    }
    return route;
  }

  // The first line naming an existing route this load.
  void first_line(RouteIntent& route, const RouteConf& conf) {
    route.loaded = stamp_;
    append(route);
    auto share = route.shares.find(config_owner_);
    if (share != route.shares.end() && share->second == conf.oifs) {
      move_pos(route.pos, conf.pos);
      return;
    }
    if (share != route.shares.end() && starts_with(share->second, conf.oifs)) {
      // What later lines for this route may still add up to its share as
      // it was: decided once every line has been read.
      split_.push_back(Split{&route, std::move(share->second)});
      share->second = conf.oifs.to_vector();
      route.noted = stamp_;
      move_pos(route.pos, conf.pos);
      return;
    }
    in_.note_change(route.key, &route, report_);
    route.noted = stamp_;
    if (share == route.shares.end())
      route.shares.emplace(config_owner_, conf.oifs.to_vector());
    else
      share->second = conf.oifs.to_vector();
    route.pos = conf.pos;
  }

  void append(RouteIntent& route) {
    route.line = static_cast<uint32_t>(in_.lines_.routes.size());
    in_.lines_.routes.push_back(&route);
  }

  bool unnamed(const RouteIntent& route) const {
    return route.loaded != stamp_ && route.from_config();
  }

  Routes::iterator drop_config_share(Routes::iterator it) {
    in_.note_change(it->first, &it->second, report_, true);
    it->second.shares.erase(kConfigOwner);
    it->second.pos.reset();
    return it->second.shares.empty() ? in_.erase(it) : std::next(it);
  }

  struct Split {
    RouteIntent* route;
    std::vector<std::string> before;  // its config share before this load
  };

  Intent& in_;
  LoadReport* report_;
  const uint32_t previous_;
  uint32_t stamp_ = 0;
  bool first_ = false;
  bool follow_ = false;
  std::vector<RouteIntent*> old_;
  size_t next_ = 0;                                 // the walk's position in `old_`
  std::vector<std::pair<size_t, size_t>> skipped_;  // [from, to) of `old_` the walk jumped over
  std::vector<Split> split_;
  const std::string config_owner_ = kConfigOwner;
  RouteKey key_;  // reused: one allocation for the interface name, not one per line
};

void Intent::load_config(const Config& config, LoadReport* report) {
  if (!same_phyints(phyints_, config.phyints)) changes_ = Changes{true, {}};
  Load load(*this, config, report);
  for (const auto& conf : config.routes)
    load.line(conf);
  load.settle_splits();
  load.drop_unnamed();
  phyints_ = config.phyints;
  joins_ = config.joins;
  ++generation_;
}

void Intent::drop_api_shares(LoadReport* report) {
  for (auto it = routes_.begin(); it != routes_.end();) {
    RouteIntent& route = it->second;
    if (!route.from_api()) {
      ++it;
      continue;
    }
    note_change(it->first, &route, report, true);
    std::erase_if(route.shares, [](const auto& share) { return share.first != kConfigOwner; });
    it = route.shares.empty() ? erase(it) : std::next(it);
  }
  ++generation_;
}

RouteIntent& Intent::route_for(const RouteKey& key) {
  auto [it, inserted] = routes_.try_emplace(key);
  if (inserted) init_route(it);
  return it->second;
}

void Intent::init_route(Routes::iterator it) {
  it->second.key = it->first;
  it->second.seq = next_seq_++;
  if (is_wildcard(it->first.iif)) ++wildcard_iifs_;
}

Intent::Routes::iterator Intent::erase(Routes::iterator it) {
  if (is_wildcard(it->first.iif)) --wildcard_iifs_;
  // Its node may be on the last load's list; the next load looks up every line.
  if (loads_ != 0 && it->second.loaded == loads_) lines_.valid = false;
  return routes_.erase(it);
}

void Intent::erase_if_unowned(const RouteKey& key) {
  auto it = routes_.find(key);
  if (it != routes_.end() && it->second.shares.empty()) erase(it);
}

size_t Intent::max_tracked_changes() const {
  return std::max(kMinTrackedChanges, routes_.size() / 4);
}

void Intent::note_change(const RouteKey& key) {
  if (changes_.all) return;
  auto it = routes_.find(key);
  note_change(key, it == routes_.end() ? nullptr : &it->second, nullptr);
}

void Intent::note_change(const RouteKey& key, const RouteIntent* before, LoadReport* report,
                         bool may_go) {
  std::vector<std::string> names;
  if (before) names = before->oifs();
  if (report) {
    auto [at, fresh] = report->index.try_emplace(key, report->touched.size());
    if (fresh) {
      Touched& t = report->touched.emplace_back();
      t.key = key;
      t.existed = before != nullptr;
      t.names = names;
      if (before && may_go) t.whole = *before;
    } else if (before && may_go && !report->touched[at->second].whole) {
      report->touched[at->second].whole = *before;
    }
  }
  if (changes_.all) return;
  if (changes_.list.size() >= max_tracked_changes()) {
    changes_ = Changes{true, {}};
    return;
  }
  Change& change = changes_.list.emplace_back();
  change.key = key;
  change.existed = before != nullptr;
  change.names = std::move(names);
}

Intent::Changes Intent::take_changes() {
  Changes out = std::move(changes_);
  changes_ = Changes{};
  return out;
}

const RouteIntent& Intent::add_route(const RouteRequest& req) {
  note_change(normalized(req.key));
  RouteIntent& route = route_for(normalized(req.key));
  if (req.owner == kConfigOwner) lines_.valid = false;  // a config share off the list
  merge_into(route.shares[req.owner], req.oifs);
  ++generation_;
  return route;
}

const RouteIntent& Intent::set_route(const RouteRequest& req) {
  note_change(normalized(req.key));
  RouteIntent& route = route_for(normalized(req.key));
  if (req.owner == kConfigOwner) lines_.valid = false;  // a config share off the list
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
    if (before->from_config()) lines_.valid = false;  // a config share off the list
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
