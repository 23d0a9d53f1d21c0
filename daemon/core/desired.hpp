// Intent resolved against the interfaces that exist now: which interfaces
// need a VIF/MIF, which (S,G) entries belong in the kernel with which OIFs,
// and what waits for a missing interface. Pure: same inputs, same output.
#pragma once

#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/flat_map.hpp"
#include "core/intent.hpp"
#include "core/links.hpp"

namespace mfcd::core {

struct DesiredVif {
  std::string ifname;
  int ifindex = 0;
  int ttl_threshold = 1;
};

struct DesiredMfc {
  SgKey key;
  std::string iif;
  std::vector<std::string> oifs;  // only interfaces that exist; the iif only if named as such
  RouteKey route;                 // the route this entry realises
  bool dynamic = false;           // learned from a (*,G) rule (upcall)
};

enum class RouteState {
  installed,  // in the kernel (maybe without some OIFs, see missing_oifs)
  standby,    // another route for the same (S,G) is installed
  rule,       // (*,G) or range rule: matched on demand, not in the kernel
  pending,    // inbound interface missing or disabled
};
std::string_view route_state_name(RouteState s);

struct RouteStatus {
  RouteState state = RouteState::pending;
  std::vector<std::string> missing_oifs;  // named but not present now
  std::string reason;                     // why pending/standby, for humans
};

// How many routes use an interface that has a VIF, and whether an enabled
// phyint line holds that VIF anyway. Lets update_desired tell whether a
// change would add or release a VIF without looking at every route.
// `inbound` counts the routes entering through it: only on such a link can
// a route hold or contest an (S,G), so only those are searched for rivals.
struct VifUse {
  uint32_t routes = 0;
  bool pinned = false;
  uint32_t inbound = 0;
};

// VifUse per interface name, for one family.
using VifUses = FlatMap<std::string, VifUse, std::hash<std::string>>;

struct Desired {
  // Interfaces that need a VIF, per family, in order of first use: the order
  // decides which interface gets VIF 0 on a fresh start.
  std::vector<DesiredVif> vifs[2];
  std::unordered_map<SgKey, DesiredMfc, SgKeyHash> mfc;
  FlatMap<RouteKey, RouteStatus, RouteKeyHash> status;  // see Installed::mfc
  std::vector<Diagnostic> warnings;                     // e.g. route names a disabled phyint
  // What update_desired needs: the links this was computed against and,
  // per family, the use of every interface in `vifs`.
  Links links;
  VifUses uses[2];
};

Desired compute_desired(const Intent& intent, const Links& links);

// compute_desired for a few changed routes (`changes`, from
// Intent::take_changes) on top of `desired`, the last full result: every
// route of each (S,G) those routes touch is decided afresh, in creation
// order, exactly as compute_desired would. On success, `desired.status`
// and `desired.uses` are updated, `slice` receives the touched (S,G)s'
// entries with `desired`'s VIF list, and the touched (S,G)s are returned.
// Returns nullopt, `desired` untouched, when the answer could differ from a
// full computation: load_config ran, links changed, a wildcard or rule is
// involved, or the change would add or release a VIF.
std::optional<std::vector<SgKey>> update_desired(Desired& desired, const Intent& intent,
                                                 const Links& links, const Intent::Changes& changes,
                                                 Desired& slice);

inline size_t family_index(Family f) {
  return f == Family::v4 ? 0 : 1;
}

}  // namespace mfcd::core
