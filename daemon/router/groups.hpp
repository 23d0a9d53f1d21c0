// The service's group memberships: the config's mgroup lines and the API's
// group.join calls (core::Joins), made real in the kernel through a pool of
// membership sockets (kernel::MembershipSockets).
//
// The service calls load_config() at start and on every reload, update()
// after every sync with the interfaces present, and stop() at teardown. API
// joins are synchronous: join() returns once the kernel holds every
// membership, or fails with the intent put back as it was. A config join the
// kernel refuses stays listed as "failed" with the reason and is tried again
// on the next update().
#pragma once

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "core/joins.hpp"
#include "core/links.hpp"
#include "core/result.hpp"
#include "kernel/membership.hpp"

namespace mfcd {

namespace rpc {
class Dispatcher;
}

class Groups {
 public:
  // Opens no sockets until the first join; reads the kernel's per-socket
  // limits from /proc/sys of the current network namespace.
  Groups();
  explicit Groups(size_t range_limit);
  ~Groups();
  Groups(const Groups&) = delete;
  Groups& operator=(const Groups&) = delete;

  // Replaces the config's joins (startup, reload). Unchanged lines are not
  // touched in the kernel.
  void load_config(const std::vector<core::JoinConf>& joins);
  // After every sync: make pending joins whose interface appeared, join
  // again after an ifindex change, drop the joins of vanished interfaces,
  // retry memberships the kernel refused before.
  void update(const core::Links& links);
  // group.join / group.leave: the group item afterwards (leave: null when
  // the join is gone). Errors: invalid_argument, limit, interface_unknown,
  // not_found, kernel.
  core::Result<nlohmann::json> join(const core::JoinKey& key, const std::string& owner);
  core::Result<nlohmann::json> leave(const core::JoinKey& key, const std::string& owner);
  // {"groups": {"conf": [group item], "kernel": [kernel membership]}}
  nlohmann::json list() const;
  // [{"kind": "mgroup", "iif", "source", "group", "reason"}] for joins
  // waiting for their interface.
  nlohmann::json pending() const;
  // What load_config(joins) would change, changing nothing:
  // {"joined": [group item], "left": [group item]}.
  nlohmann::json plan_config(const std::vector<core::JoinConf>& joins) const;
  // SMCRoute's reload makes the file the whole truth: every API share goes.
  // Returns the items of joins that only the API held (they are left);
  // with dry_run nothing changes.
  nlohmann::json drop_api_joins(bool dry_run);
  // Leave everything and close the sockets (daemon stop).
  void stop();

  const core::Joins& joins() const { return joins_; }

 private:
  // Applies a diff (leaves first, to free socket slots); returns the
  // kernel's refusals among the joins.
  std::vector<core::Error> apply(const core::JoinDiff& diff);
  void retry_failed();
  nlohmann::json item(const core::JoinIntent& intent) const;

  core::Joins joins_;
  std::unique_ptr<kernel::MembershipSockets> sockets_;
  std::map<core::Membership, std::string> failed_;  // wanted, refused by the kernel
};

// Registers group.join, group.leave and group.list (group_methods.cpp).
void register_group_methods(rpc::Dispatcher& dispatcher, Groups& groups);

}  // namespace mfcd
