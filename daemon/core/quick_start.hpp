// The first kernel writes of a fresh start, taken straight from the parsed
// config. At start-up the kernel table is empty and a typical config is a
// long list of static (S,G) routes, so the entries can be derived from the
// file's lines and written before the intent, the desired state and the plan
// exist: traffic starts to flow after roughly the time the syscalls take,
// and the bookkeeping follows. The regular reconcile runs right after and
// is the authority: it finds nothing left to do when the quick start got
// everything right, and rewrites whatever it did not (two lines for one
// (S,G), say), so a quick start can never leave the kernel wrong for long.
//
// Only configs whose VIF numbering it can reproduce exactly get a quick
// start (see plan_quick_start); the others start through the regular path.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "core/config.hpp"
#include "core/links.hpp"
#include "core/plan.hpp"

namespace mfcd::core {

struct QuickStart {
  // VIFs to add, IPv4 first, each family numbered from 0 in order of first
  // use: the numbers compute_desired + make_plan give on an empty table.
  std::vector<VifConf> vifs;
  // One entry per static (S,G) line whose inbound interface exists and is
  // enabled, in file order. Kept small (the MfcConf is built as it is
  // written): every byte here is fresh memory, and fresh memory costs page
  // faults before the first entry reaches the kernel.
  struct Entry {
    uint32_t route = 0;  // index into config.routes
    uint32_t oifs = 0;   // bit per VIF
    VifIndex iif = 0;
  };
  std::vector<Entry> entries;
  // Each VIF's ttl-threshold, per family, for the entries' OIFs.
  std::array<std::array<uint8_t, kMaxVifs>, 2> ttls{};
  // Every VIF's interface name, per family, for log lines (Op::names).
  std::array<std::shared_ptr<const VifNames>, 2> names;
};

// nullopt when the config needs the regular path to number its VIFs:
// a wildcard in a route, two lines for one route, or more interfaces than
// kMaxVifs. Wildcard phyint lines are fine: each link's settings come from
// core::resolve_phyint, as on the regular path.
// `with_v6` false: the kernel has no IPv6 multicast routing, so IPv6 lines
// are left to the regular path (which reports why they cannot be installed).
std::optional<QuickStart> plan_quick_start(const Config& config, const Links& links, bool with_v6);

// The quick start as a plan for apply(): the VIFs, then one add_mfc per
// entry, in file order. A refused VIF makes apply() skip the entries that
// need it; the regular reconcile that follows retries and reports it.
Plan quick_start_plan(const Config& config, const QuickStart& quick);

}  // namespace mfcd::core
