// Multicast routing rules (`ip mrule`, `ip -6 mrule`): with more than one
// multicast routing table, the kernel picks the table a packet is routed
// by with these rules, in order of priority. A rule that sends a flow's
// packets to another table than mfcd's hands the flow to whoever holds
// that table: another daemon, or no one. route.explain asks which table
// the kernel's lookup ends in (explain.cpp: mroute_rule).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/addr.hpp"

namespace mfcd::core {

// The table a socket gets without MRT_TABLE, which mfcd's table 0 (-t 0)
// leaves unset: RT_TABLE_DEFAULT for IPv4, and for IPv6 RT6_TABLE_DFLT,
// which the kernel defines as main (checked on the test bed: `ip -6
// mroute show table main`).
inline constexpr uint32_t kDefaultMrTable = 253;
inline constexpr uint32_t kDefaultMr6Table = 254;

// mfcd's -t ID as the kernel's table id.
inline uint32_t kernel_mr_table(Family family, uint32_t table) {
  if (table != 0) return table;
  return family == Family::v4 ? kDefaultMrTable : kDefaultMr6Table;
}

// "default", "main" and "local" for 253..255, else the number: the words
// `ip mrule` uses.
std::string mr_table_name(uint32_t id);

// One rule as the kernel dumps it (RTM_GETRULE, RTNL_FAMILY_IPMR/IP6MR).
// Only what decides a multicast lookup is kept: the kernel matches a
// received packet by inbound interface and firewall mark (an outbound
// interface never matches it), whatever the rule's addresses say.
struct MrRule {
  enum class Action {
    table,  // lookup TABLE
    jump,   // goto PRIORITY
    nop,    // nop: on to the next rule
    drop,   // blackhole, unreachable, prohibit: the lookup fails
    other,  // an action the multicast lookup does not know: it fails
  };
  uint32_t priority = 0;
  Action action = Action::table;
  std::string action_name;          // ip's word for a drop: "blackhole", ...
  uint32_t table = 0;               // Action::table
  uint32_t jump_to = 0;             // Action::jump: the priority it continues at
  bool invert = false;              // "not": the selectors' result inverted
  std::string iif;                  // "" matches every interface
  bool iif_detached = false;        // iif names no existing interface: never matches
  std::string oif;                  // set: never matches a received packet
  uint32_t fwmark = 0, fwmask = 0;  // matches when (mark ^ fwmark) & fwmask == 0

  // As `ip mrule` prints it: "100: from all iif eth0 lookup 10".
  std::string str() const;
};

// Where the kernel's lookup for a packet received on `iif` without a
// firewall mark ends (net/core/fib_rules.c, ipmr.c): in a table, failed at a
// dropping rule, or failed for want of a matching rule.
struct MrLookup {
  const MrRule* rule = nullptr;   // the rule it ended at; nullptr: none matched
  std::optional<uint32_t> table;  // the table it ends in; nullopt: it fails
  // Rules that send it to `table` past one whose table does not exist
  // cannot be told apart here: the kernel goes on to the next rule when a
  // table is missing, and which tables exist is not in the dump.
};
MrLookup mr_lookup(const std::vector<MrRule>& rules, const std::string& iif);

}  // namespace mfcd::core
