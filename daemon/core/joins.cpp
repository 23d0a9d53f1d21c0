// Joins as owned intent with reference-counted memberships. Each join is
// resolved against the interface it names: while the interface exists the
// join contributes its memberships (one per covered (source, group) pair) to
// a counted set; when the interface goes, it takes them back and waits. A
// membership is made when its count leaves zero and dropped when it returns
// to zero, so overlapping joins (225.1.1.0/30 and 225.1.1.1) share one kernel
// membership, and every operation yields just the kernel changes it causes.
// Additions are always processed before removals, so a membership that one
// join hands over to another is never left and joined again.
#include "core/joins.hpp"

#include <algorithm>

namespace mfcd::core {

namespace {

// The address `index` steps after the prefix's first address. index is
// below the prefix size, so it only touches the host bits.
Addr nth(const Prefix& p, uint64_t index) {
  Addr a = p.addr;
  size_t byte = a.family == Family::v4 ? 4 : 16;
  while (index != 0 && byte > 0) {
    --byte;
    const uint64_t sum = a.bytes[byte] + (index & 0xff);
    a.bytes[byte] = static_cast<uint8_t>(sum & 0xff);
    index = (index >> 8) + (sum >> 8);
  }
  return a;
}

std::string count_text(uint64_t n) {
  return n == UINT64_MAX ? std::string("more than 18446744073709551614") : std::to_string(n);
}

}  // namespace

std::string Membership::str() const {
  return ifname + " (" + (source ? source->str() : std::string("*")) + ", " + group.str() + ")";
}

Result<std::vector<SourceGroup>> expand_join(const JoinKey& key, size_t limit) {
  const uint64_t groups = prefix_size(key.group);
  const uint64_t sources = key.source ? prefix_size(*key.source) : 1;
  // Saturating product: a /0 source times a /8 group must not wrap around.
  const uint64_t total =
      (groups != 0 && sources > UINT64_MAX / groups) ? UINT64_MAX : groups * sources;
  if (total > limit) {
    return make_error(Errc::limit, "join " + key.str() + " covers " + count_text(total) +
                                       " memberships, more than the limit of " +
                                       std::to_string(limit));
  }
  std::vector<SourceGroup> out;
  out.reserve(static_cast<size_t>(total));
  for (uint64_t g = 0; g < groups; ++g) {
    const Addr group = nth(key.group, g);
    if (!key.source) {
      out.push_back({std::nullopt, group});
      continue;
    }
    for (uint64_t s = 0; s < sources; ++s)
      out.push_back({nth(*key.source, s), group});
  }
  return out;
}

bool JoinIntent::from_config() const {
  return owners.count(kConfigOwner) != 0;
}

bool JoinIntent::from_api() const {
  return owners.size() > (from_config() ? 1U : 0U);
}

std::vector<std::string> JoinIntent::api_owners() const {
  std::vector<std::string> out;
  for (const auto& o : owners)
    if (o != kConfigOwner) out.push_back(o);
  return out;
}

// --- Joins -------------------------------------------------------------------

JoinIntent& Joins::intent_for(const JoinKey& key) {
  auto [it, inserted] = intents_.try_emplace(key);
  if (inserted) {
    it->second.key = key;
    it->second.seq = next_seq_++;
    by_iif_[key.iif].insert(key);
  }
  return it->second;
}

void Joins::want(const Membership& m, JoinDiff& diff) {
  if (wanted_[m]++ == 0) diff.join.push_back(m);
}

void Joins::unwant(const Membership& m, JoinDiff& diff) {
  auto it = wanted_.find(m);
  if (it == wanted_.end()) return;
  if (--it->second == 0) {
    wanted_.erase(it);
    diff.leave.push_back(m);
  }
}

std::vector<Membership> Joins::memberships_of(const JoinIntent& intent) const {
  std::vector<Membership> out;
  if (!intent.ifindex || !intent.error.empty()) return out;
  auto pairs = expand_join(intent.key, range_limit_);
  if (!pairs) return out;
  out.reserve(pairs->size());
  for (const auto& sg : *pairs)
    out.push_back(Membership{*intent.ifindex, intent.key.iif, sg.group, sg.source});
  return out;
}

void Joins::resolve(JoinIntent& intent, JoinDiff& diff) {
  auto link = links_.find(intent.key.iif);
  if (link == links_.end() || intent.ifindex) return;
  intent.ifindex = link->second;
  for (const auto& m : memberships_of(intent))
    want(m, diff);
}

void Joins::unresolve(JoinIntent& intent, JoinDiff& diff) {
  if (!intent.ifindex) return;
  for (const auto& m : memberships_of(intent))
    unwant(m, diff);
  intent.ifindex.reset();
}

void Joins::erase(const JoinKey& key, JoinDiff& diff) {
  auto it = intents_.find(key);
  if (it == intents_.end()) return;
  unresolve(it->second, diff);
  auto by = by_iif_.find(key.iif);
  if (by != by_iif_.end()) {
    by->second.erase(key);
    if (by->second.empty()) by_iif_.erase(by);
  }
  intents_.erase(it);
}

JoinDiff Joins::load_config(const std::vector<JoinConf>& confs) {
  JoinDiff diff;
  std::set<JoinKey> named;
  for (const auto& conf : confs) {
    const JoinKey key = normalized(JoinKey{conf.iif, conf.source, conf.group});
    if (!named.insert(key).second) continue;
    const bool existed = intents_.count(key) != 0;
    JoinIntent& intent = intent_for(key);
    intent.owners.insert(kConfigOwner);
    intent.pos = conf.pos;
    if (existed) continue;
    if (auto ok = validate_flow_key(key); !ok) {
      intent.error = ok.error().message;
    } else if (auto pairs = expand_join(key, range_limit_); !pairs) {
      intent.error = pairs.error().message;
    }
    resolve(intent, diff);
  }
  // Then drop what the config no longer names, after the additions, so a
  // membership handed from one line to another stays joined throughout.
  std::vector<JoinKey> gone;
  for (auto& [key, intent] : intents_) {
    if (!intent.from_config() || named.count(key)) continue;
    intent.owners.erase(kConfigOwner);
    intent.pos.reset();
    if (intent.owners.empty()) gone.push_back(key);
  }
  for (const auto& key : gone)
    erase(key, diff);
  return diff;
}

Joins::ConfigPlan Joins::plan_config(const std::vector<JoinConf>& confs) const {
  ConfigPlan plan;
  std::set<JoinKey> named;
  for (const auto& conf : confs) {
    const JoinKey key = normalized(JoinKey{conf.iif, conf.source, conf.group});
    if (!named.insert(key).second) continue;
    if (!intents_.count(key)) plan.joined.push_back(key);
  }
  for (const auto& [key, intent] : intents_) {
    if (intent.from_config() && intent.owners.size() == 1 && !named.count(key))
      plan.left.push_back(key);
  }
  return plan;
}

Result<JoinDiff> Joins::join(const JoinKey& requested, const std::string& owner,
                             bool require_link) {
  const JoinKey key = normalized(requested);
  if (auto ok = validate_flow_key(key); !ok) return ok.error();
  if (auto pairs = expand_join(key, range_limit_); !pairs) return pairs.error();
  if (require_link && !links_.count(key.iif)) {
    return make_error(Errc::interface_unknown, "no interface " + key.iif);
  }
  JoinDiff diff;
  JoinIntent& intent = intent_for(key);
  intent.owners.insert(owner);
  resolve(intent, diff);
  return diff;
}

Result<JoinDiff> Joins::leave(const JoinKey& requested, const std::string& owner) {
  const JoinKey key = normalized(requested);
  auto it = intents_.find(key);
  if (it == intents_.end()) {
    std::string hint;
    // Name a join on the same interface and group with another source, the
    // usual reason an SSM leave matches nothing.
    for (const auto& other : by_iif_[key.iif]) {
      if (other.group == key.group) {
        hint = "; joined is " + other.str();
        break;
      }
    }
    if (by_iif_[key.iif].empty()) by_iif_.erase(key.iif);
    return make_error(Errc::not_found, "no join " + key.str() + hint);
  }
  JoinIntent& intent = it->second;
  std::string holder = owner;
  if (!intent.owners.count(holder)) holder = kConfigOwner;
  if (!intent.owners.count(holder)) {
    std::string owners;
    for (const auto& o : intent.owners)
      owners += (owners.empty() ? "" : ", ") + o;
    return make_error(Errc::not_found, "join " + key.str() + " is not held by owner '" + owner +
                                           "' (held by " + owners + ")");
  }
  JoinDiff diff;
  intent.owners.erase(holder);
  if (holder == kConfigOwner) intent.pos.reset();
  if (intent.owners.empty()) erase(key, diff);
  return diff;
}

JoinDiff Joins::set_links(const Links& links) {
  std::map<std::string, int> now;
  for (const auto& l : links)
    now[l.name] = l.ifindex;
  // Names whose ifindex changed, appeared or vanished: a merge of two
  // sorted maps, then only the joins on those names are looked at.
  std::vector<std::string> changed;
  auto a = links_.begin();
  auto b = now.begin();
  while (a != links_.end() || b != now.end()) {
    if (b == now.end() || (a != links_.end() && a->first < b->first)) {
      changed.push_back((a++)->first);
    } else if (a == links_.end() || b->first < a->first) {
      changed.push_back((b++)->first);
    } else {
      if (a->second != b->second) changed.push_back(a->first);
      ++a;
      ++b;
    }
  }
  links_ = std::move(now);
  JoinDiff diff;
  std::vector<JoinIntent*> moved;
  for (const auto& name : changed) {
    auto by = by_iif_.find(name);
    if (by == by_iif_.end()) continue;
    for (const auto& key : by->second) {
      JoinIntent& intent = intents_.at(key);
      auto link = links_.find(name);
      if (intent.ifindex && link != links_.end() && *intent.ifindex == link->second) continue;
      moved.push_back(&intent);
    }
  }
  // New memberships first, then the stale ones (they differ in ifindex, so
  // the order only matters to keep the rule of this file simple).
  JoinDiff stale;
  for (auto* intent : moved)
    unresolve(*intent, stale);
  for (auto* intent : moved)
    resolve(*intent, diff);
  diff.leave = std::move(stale.leave);
  return diff;
}

std::optional<int> Joins::ifindex_of(const std::string& name) const {
  auto it = links_.find(name);
  if (it == links_.end()) return std::nullopt;
  return it->second;
}

const JoinIntent* Joins::find(const JoinKey& key) const {
  auto it = intents_.find(normalized(key));
  return it == intents_.end() ? nullptr : &it->second;
}

std::vector<const JoinIntent*> Joins::joins() const {
  std::vector<const JoinIntent*> out;
  out.reserve(intents_.size());
  for (const auto& [key, intent] : intents_)
    out.push_back(&intent);
  std::sort(out.begin(), out.end(),
            [](const JoinIntent* x, const JoinIntent* y) { return x->seq < y->seq; });
  return out;
}

}  // namespace mfcd::core
