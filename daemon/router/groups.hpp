// Group memberships between intent and kernel. core::Joins (in the Model)
// says which memberships to make and drop; here they become join and leave
// ops for the Writer, and what the kernel refused is remembered.
//
// An API join is a small transaction: its memberships are written, and if
// the kernel refuses any, the caller's share is taken back and its
// memberships dropped again, so that the kernel and the listing look
// exactly as before. A config join cannot be refused that way (the file
// says what it says): a refused one is listed as failed, with the reason,
// and tried again whenever the interfaces change.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/joins.hpp"
#include "core/plan.hpp"
#include "router/model.hpp"
#include "router/writer.hpp"

namespace mfcd::router {

// The ops for a JoinDiff: leaves first (they free socket slots), then joins.
core::Plan membership_plan(const core::JoinDiff& diff);

// Where a join stands, for listings.
struct JoinState {
  enum class Kind { joined, pending, failed } kind = Kind::pending;
  std::string reason;      // pending or failed: why
  size_t memberships = 0;  // held in the kernel
};

class Groups {
 public:
  explicit Groups(Writer& writer) : writer_(writer) {}

  // The config's joins replace the last ones (start-up, reload): `diff`
  // comes from m.joins.load_config. Logs lines whose range is too big.
  void write_config(const Model& m, const core::JoinDiff& diff);
  // The interfaces changed: m.joins.set_links(m.links)'s diff, plus another
  // try of every membership the kernel refused before.
  void update_links(Model& m);

  // group.join / group.leave. Errors: invalid_argument, limit,
  // not_found (leave), kernel (the first refusal, with how many more). A
  // join on an interface that does not exist is kept, pending, as a
  // config join is.
  core::Result<void> join(Model& m, const core::JoinKey& key, const std::string& owner);
  core::Result<void> leave(Model& m, const core::JoinKey& key, const std::string& owner);
  // SMCRoute's reload makes the file the whole truth: every API share goes.
  void drop_api_shares(Model& m);

  JoinState state(const Model& m, const core::JoinIntent& join) const;
  // Everything forgotten (after teardown released the memberships).
  void clear() { failed_.clear(); }

 private:
  // Writes a plan of membership ops; records refusals. Returns the errors
  // of the refused joins.
  std::vector<core::Error> write(const core::Plan& plan);

  Writer& writer_;
  std::map<core::Membership, std::string> failed_;  // wanted, refused by the kernel
};

}  // namespace mfcd::router
