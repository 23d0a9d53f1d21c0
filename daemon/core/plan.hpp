// The reconcile step: compare what mfcd has installed in the kernel with what
// is desired and produce the minimal ordered list of kernel operations.
// Order matters: VIF adds first (the kernel ignores a TTL for a VIF that does
// not exist yet), then MFC adds/changes, then MFC deletes, then VIF deletes;
// group memberships after them, leaves before joins (a leave frees a slot
// on a membership socket). Unchanged entries produce no operation at all, so
// running flows never see a reload.
//
// apply() is the one writer of kernel state in mfcd: every change (start-up,
// the quick start, API calls, reloads, upcall installs, expiry, flush,
// teardown) is a Plan, and apply() runs it through the ports and records in
// Installed exactly what the kernel accepted, naming each failure by the
// operation that failed.
#pragma once

#include <array>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/desired.hpp"
#include "core/flat_map.hpp"
#include "core/joins.hpp"
#include "core/ports.hpp"

namespace mfcd::core {

struct InstalledVif {
  std::string ifname;
  int ifindex = 0;
  int ttl_threshold = 1;
  bool operator==(const InstalledVif&) const = default;
};

struct InstalledMfc {
  MfcConf conf;
  RouteKey route;
  bool dynamic = false;
};

// What mfcd has put into the kernel, and nothing else.
struct Installed {
  std::array<std::array<std::optional<InstalledVif>, kMaxVifs>, 2> vifs;
  // A FlatMap: a 1% reload looks up 100 entries of a cold table at once.
  // Pointers into it last only until its next change.
  FlatMap<SgKey, InstalledMfc, SgKeyHash> mfc;
  std::set<Membership> memberships;
  // The interface each VIF number served when the kernel dropped the VIF
  // with its device (forget_vifs_of). The kernel keeps such a VIF's TTLs in
  // the entries, which still mean that interface: when it comes back, it
  // takes its number back, and no other interface takes the number while
  // an entry still names it (make_plan).
  std::array<std::array<std::string, kMaxVifs>, 2> former;

  std::optional<VifIndex> vif_of(Family f, const std::string& ifname) const;
  size_t vif_count(Family f) const;
  // The device with `ifindex` is gone and the kernel dropped its VIFs: the
  // records drop them too but keep the entries' TTLs, as the kernel does,
  // so that the next plan rewrites every entry that still names one.
  void forget_vifs_of(int ifindex);
};

using VifNames = std::array<std::string, kMaxVifs>;

struct Op {
  enum class Kind { add_vif, add_mfc, del_mfc, del_vif, leave, join, release_all };
  Kind kind;
  VifConf vif;     // add_vif, del_vif (family + vif)
  MfcConf mfc;     // add_mfc; del_mfc uses mfc.key
  RouteKey route;  // add_mfc: the route it realises
  bool dynamic = false;
  Membership membership;  // join, leave
  // add_mfc: the name of every VIF once the plan has run, shared by all the
  // ops of one family in a plan (one pointer per op instead of a vector of
  // names), so that str() reads like the operator's words, not VIF numbers.
  std::shared_ptr<const VifNames> names;
  std::string iif_name() const;  // names[mfc.iif], "" when unknown
  // "add_vif ipv4 0 a1 ifindex=2 ttl=1", "del_vif ipv4 0 a1",
  // "add_mfc 10.0.0.1,225.1.1.1 iif=a1 oifs=a2,a3", "del_mfc 10.0.0.1,225.1.1.1",
  // "join a1 (*, 225.1.1.1)", "leave a1 (10.0.0.1, 232.1.1.1)", "release_all".
  // OIFs in VIF order, ":TTL" after one whose threshold is not 1; "oifs=" is a
  // stop filter. tests/unit/fakes.hpp records kernel calls the same way.
  std::string str() const;
};

inline constexpr size_t kNoOp = SIZE_MAX;

// An OIF's byte in an entry's TTL array: its VIF's threshold, 1..255 (0
// would mean "not an OIF").
inline uint8_t oif_ttl(int threshold) {
  return static_cast<uint8_t>(std::clamp(threshold, 1, 255));
}

// Something the plan could not do (no free VIF) or the kernel refused.
struct Failure {
  std::string what;  // "add_vif a5 (ipv4)" / "add_mfc (10.0.0.1, 225.1.1.1)"
  Error error;
  std::optional<RouteKey> route;  // the route affected, when there is one
  std::string ifname;             // the interface concerned, when there is one
  size_t op = kNoOp;              // the failed op's place in its plan (kNoOp: found planning)
};

struct Plan {
  std::vector<Op> ops;
  std::vector<Failure> failures;  // found while planning (VIF table full)
  bool empty() const { return ops.empty(); }
};

// Single ops, for the router's own plans (upcalls, expiry, memberships).
Op add_mfc_op(const MfcConf& mfc, const RouteKey& route, bool dynamic,
              std::shared_ptr<const VifNames> names = nullptr);
Op del_mfc_op(const SgKey& key, const InstalledMfc& installed);
Op membership_op(Op::Kind kind, const Membership& m);  // join or leave

Plan make_plan(const Installed& installed, const Desired& desired);

// make_plan for a slice from update_desired: only the entries of `keys` are
// compared (written, changed or deleted). nullopt when the plan would have to
// add, re-create or delete a VIF, or replace a dynamic entry; then only a
// full make_plan is right.
std::optional<Plan> make_plan_for(const Installed& installed, const Desired& slice,
                                  const std::vector<SgKey>& keys);

// Where apply() writes.
struct Writers {
  KernelPort& kernel;
  MembershipPort& membership;
};

// Runs every op in order. A failed op is reported and skipped; the rest still
// run, so one bad route never blocks the others. An entry that needs a VIF
// whose op failed in this run is skipped with that VIF's error.
std::vector<Failure> apply(Writers writers, Installed& installed, const Plan& plan);

// Shutdown: one op that drops every VIF, entry and membership at once (the
// kernel does it when their sockets close: at 50,000 routes 0.14 s, against
// 0.9 s for one delete per entry).
Plan release_plan();

}  // namespace mfcd::core
