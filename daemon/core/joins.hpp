// Group memberships: what the operator asked mfcd to join, and which kernel
// memberships that means on the interfaces present now.
//
// A join is identified by (iif, source, group); source absent means ASM
// (any source), present means SSM. Either address may carry /LEN, which
// stands for every address it covers. Like routes, each join is held by
// owners: the config is one owner ("config"), each API client another; the
// join stays while any owner holds it. A reload replaces only the config's
// shares.
//
// Joins keeps a reference count per kernel membership (interface, source,
// group), so every change returns exactly the memberships to make and to
// drop: the cost is proportional to the change, never to the whole table.
// Pure: no syscalls; the caller applies a JoinDiff to the kernel.
#pragma once

#include <compare>
#include <cstddef>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/addr.hpp"
#include "core/config.hpp"
#include "core/intent.hpp"  // kConfigOwner
#include "core/links.hpp"
#include "core/result.hpp"

namespace mfcd::core {

// Memberships one join line or request may expand to, unless told otherwise.
inline constexpr size_t kDefaultJoinRangeLimit = 1024;

// A join's interface and (source, group): ASM without a source, SSM with
// one; core/flow_key.hpp.
using JoinKey = FlowKey;

// One kernel membership: a host group (and host source for SSM) on one
// interface. Ordered so that all memberships of an interface sit together.
struct Membership {
  int ifindex = 0;
  std::string ifname;
  Addr group;
  std::optional<Addr> source;
  Family family() const { return group.family; }
  std::string str() const;  // "a1 (10.0.0.1, 225.1.1.1)"
  auto operator<=>(const Membership&) const = default;
  bool operator==(const Membership&) const = default;
};

// The (source, group) host pairs a join covers, group-major. limit_exceeded
// (Errc::limit) when there are more than `limit`; the message says how many.
struct SourceGroup {
  std::optional<Addr> source;
  Addr group;
};
Result<std::vector<SourceGroup>> expand_join(const JoinKey& key, size_t limit);

struct JoinDiff {
  std::vector<Membership> join;   // make these (in this order)
  std::vector<Membership> leave;  // drop these
  bool empty() const { return join.empty() && leave.empty(); }
};

struct JoinIntent {
  JoinKey key;
  std::set<std::string> owners;  // "config" and/or API owner names
  std::optional<SourcePos> pos;  // the config line, while the config holds it
  uint64_t seq = 0;              // creation order, for listing
  std::optional<int> ifindex;    // resolved: the interface exists now
  std::string error;             // why it cannot be joined at all (range too big)

  bool from_config() const;
  bool from_api() const;
  std::vector<std::string> api_owners() const;
};

class Joins {
 public:
  explicit Joins(size_t range_limit = kDefaultJoinRangeLimit) : range_limit_(range_limit) {}

  size_t range_limit() const { return range_limit_; }

  // Replace the config's shares. Joins the config names again are not
  // touched; only added and dropped ones change memberships. A line whose
  // range is too big is kept with `error` set and joins nothing.
  JoinDiff load_config(const std::vector<JoinConf>& confs);

  // What load_config would do, at the level of joins: the keys it would
  // create and the ones it would drop. Changes nothing.
  struct ConfigPlan {
    std::vector<JoinKey> joined;
    std::vector<JoinKey> left;
  };
  ConfigPlan plan_config(const std::vector<JoinConf>& confs) const;

  // group.join: add `owner`'s share. Refuses (changing nothing) a bad key
  // (invalid_argument), a range beyond the limit (limit) and, when
  // `require_link`, an interface that does not exist (interface_unknown).
  // Joining again what the owner already holds is a no-op.
  Result<JoinDiff> join(const JoinKey& key, const std::string& owner, bool require_link = true);

  // group.leave: take away `owner`'s share; when the owner holds none but
  // the config does, the config's share goes (until the next reload).
  // not_found when no such join exists or only other owners hold it.
  Result<JoinDiff> leave(const JoinKey& key, const std::string& owner);

  // The interfaces changed: resolve joins on interfaces that appeared,
  // vanished or came back with a new ifindex. Looks only at those names.
  JoinDiff set_links(const Links& links);

  // The ifindex of an interface as last seen by set_links.
  std::optional<int> ifindex_of(const std::string& name) const;

  const JoinIntent* find(const JoinKey& key) const;
  std::vector<const JoinIntent*> joins() const;  // in creation order
  size_t size() const { return intents_.size(); }
  // Memberships wanted now, with how many joins want each.
  const std::map<Membership, int>& wanted() const { return wanted_; }
  // The memberships one join stands for now (empty unless resolved).
  std::vector<Membership> memberships_of(const JoinIntent& intent) const;

 private:
  JoinIntent& intent_for(const JoinKey& key);
  void resolve(JoinIntent& intent, JoinDiff& diff);
  void unresolve(JoinIntent& intent, JoinDiff& diff);
  void erase(const JoinKey& key, JoinDiff& diff);
  void want(const Membership& m, JoinDiff& diff);
  void unwant(const Membership& m, JoinDiff& diff);

  size_t range_limit_;
  std::map<JoinKey, JoinIntent> intents_;
  std::map<std::string, std::set<JoinKey>> by_iif_;
  std::map<std::string, int> links_;  // name -> ifindex
  std::map<Membership, int> wanted_;
  uint64_t next_seq_ = 1;
};

}  // namespace mfcd::core
