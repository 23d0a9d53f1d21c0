// route.explain's reasoning: given what was read about one flow (which
// route covers it, its kernel entry, the interfaces it uses and their
// sysctls), every reason this router could lose it, each as a check that
// says what it looked at, and one verdict. Pure: the facts are gathered
// elsewhere (api/explain_methods.cpp, through core::SystemFiles), so every
// check is unit-tested from made-up facts.
//
// Also here: the few pieces of text parsing and memory explain needs
// (/proc/net/ip_mr_cache lines, the counters last seen per flow).
#pragma once

#include <cstdint>
#include <list>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/addr.hpp"
#include "core/mrules.hpp"
#include "core/ports.hpp"

namespace mfcd::core {

// What was read about one interface the flow enters or leaves by.
struct IfaceFacts {
  std::string name;
  bool inbound = false;  // the flow's inbound interface; else an outbound one
  bool present = false;  // in the link table
  bool up = false;       // IFF_UP
  bool multicast = false;
  std::optional<bool> carrier;  // /sys/class/net/IF/carrier; nullopt: unreadable
  bool has_vif = false;
  int ttl_threshold = 1;             // an outbound VIF's threshold (IPv4 only)
  std::optional<int> mc_forwarding;  // conf/IF/mc_forwarding
  std::optional<int> rp_filter;      // conf/IF/rp_filter (IPv4 inbound only)
  std::optional<int> rp_filter_all;  // conf/all/rp_filter
  bool bridge = false;               // /sys/class/net/IF/bridge exists
  std::optional<int> snooping;       // bridge/multicast_snooping
  std::optional<int> querier;        // bridge/multicast_querier
};

// What covers the flow in mfcd's intent.
enum class Coverage {
  route,         // a static (S,G) route
  rule,          // a (*,G) or range rule, matched on demand
  stop_filter,   // a route with no outbound interfaces
  learned_stop,  // no rule covered its first packet: mfcd installed a stop filter
  none,          // nothing: the first packet will get a stop filter
};
std::string_view coverage_name(Coverage c);

struct ExplainFacts {
  SgKey flow;
  std::string iif;                            // the inbound interface considered ("" unknown)
  bool family_routed = true;                  // mfcd holds the family's mroute table
  std::string family_note;                    // why not, as the daemon logged it
  uint32_t table = kDefaultMrTable;           // mfcd's table, as the kernel numbers it
  std::optional<std::vector<MrRule>> mrules;  // the family's rules; nullopt: not read
  std::string mrules_note;                    // why not (a kernel with one table only)
  Coverage coverage = Coverage::none;
  std::string covered_by;                // the route or rule, as text ("" for none)
  bool covered_by_asm = false;           // that route has no source
  bool installed = false;                // mfcd installed an (S,G) entry for the flow
  std::string entry_iif;                 // that entry's inbound interface
  bool iif_given = false;                // the caller named `iif`
  std::optional<std::string> proc_path;  // /proc/net/ip(6)_mr_cache, nullopt: unreadable
  std::optional<int> proc_iif;           // the flow's line there: its Iif (-1: unresolved)
  size_t vifs_used = 0;                  // VIFs of the family mfcd holds
  std::vector<IfaceFacts> ifaces;
};

struct Check {
  std::string check;  // an id: "route", "interface_up", "rp_filter", ...
  bool ok = true;
  std::string looked_at;  // what was read, e.g. "/proc/sys/.../rp_filter = 1"
  std::string detail;     // one plain sentence
  std::string interface;  // the interface it concerns, "" for the flow
  // A failing blocking check loses every packet of the flow; a failing
  // non-blocking one loses some (low TTL) or may (rp_filter, snooping).
  bool blocking = true;
};

struct Explanation {
  std::vector<Check> checks;
  // "forwarding", "would be forwarded", "dropped: <first blocking reason>";
  // ", but: <first non-blocking reason>" appended when one failed.
  std::string verdict;
};

Explanation explain(const ExplainFacts& facts);

// 224.0.0.0/24; ff02::/16 and every IPv6 group of scope 0, 1 or 2. The
// kernel never forwards these.
bool is_link_local_group(const Addr& group);
// 232.0.0.0/8 and ff3x::/32.
bool is_ssm_group(const Addr& group);

// Where explain reads a sysctl or a sysfs attribute of interface `ifname`
// ("all" for conf/all).
std::string conf_path(Family family, const std::string& ifname, const std::string& leaf);
std::string sysfs_path(const std::string& ifname, const std::string& leaf);
std::string mr_cache_path(Family family);

// One line of /proc/net/ip_mr_cache or ip6_mr_cache.
struct ProcMfc {
  SgKey key;
  int iif = -1;  // -1: unresolved
  uint64_t packets = 0, bytes = 0, wrong_if = 0;
};
// The lines that parse; the heading and anything else is skipped. IPv4
// addresses are printed in the host's byte order.
std::vector<ProcMfc> parse_mr_cache(std::string_view text, Family family);

// The counters route.explain last saw per flow, so that it can say how
// much they moved since. Bounded: past `capacity` flows, the one explained
// longest ago is forgotten.
class CounterMemory {
 public:
  explicit CounterMemory(size_t capacity = 1024) : capacity_(capacity) {}
  // Remembers `now` for `key`; returns what was remembered before, if any.
  std::optional<Counters> exchange(const SgKey& key, const Counters& now);
  size_t size() const { return seen_.size(); }

 private:
  struct Seen {
    Counters counters;
    std::list<SgKey>::iterator at;
  };
  size_t capacity_;
  std::list<SgKey> order_;  // least recently explained first
  std::unordered_map<SgKey, Seen, SgKeyHash> seen_;
};

}  // namespace mfcd::core
