// The key of a route and of a join: an interface and a (source, group)
// pair, each address possibly a prefix. Routes and joins are keyed the
// same way, validated the same way and printed the same way, so they share
// one type; core/intent.hpp and core/joins.hpp name it for their use.
#pragma once

#include <compare>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "core/addr.hpp"
#include "core/result.hpp"

namespace mfcd::core {

struct FlowKey {
  std::string iif;
  std::optional<Prefix> source;  // nullopt: any source, (*,G)
  Prefix group;
  Family family() const { return group.addr.family; }
  bool is_asm() const { return !source.has_value(); }
  std::string str() const;  // "a1 (10.0.0.1, 225.1.1.1)" / "a1 (*, ff05::1)"
  auto operator<=>(const FlowKey&) const = default;
  bool operator==(const FlowKey&) const = default;
};

// Not noexcept, so that unordered maps keep the hash in each node (see
// SgKeyHash).
struct FlowKeyHash {
  size_t operator()(const FlowKey& k) const;
};

// 0.0.0.0 and :: as a source (with or without /0) mean any source: the
// same key as no source.
FlowKey normalized(FlowKey key);

// The longest interface name the kernel takes: IFNAMSIZ (16) less its NUL.
inline constexpr size_t kMaxIfnameLen = 15;
// The longest owner name. Owners are labels chosen by scripts ("api",
// "orchestrator-7"); 64 leaves room for a host name or a UUID and keeps a
// `show` column readable.
inline constexpr size_t kMaxOwnerLen = 64;

// The most output interfaces one route names, wildcards included. The
// kernel forwards an entry to at most 31 (MAXVIFS less the inbound one) per
// family, so a longer list is a mistake or an attack: bounded, the merging
// of owners' lists and the matching of names against links stay cheap.
inline constexpr size_t kMaxOifNames = 256;

// Whether `name` can be an interface's name, as the kernel judges one
// (dev_valid_name): 1..15 bytes, not "." or "..", no '/', no space and no
// control character. A '+' is an ordinary byte here: the config's
// wildcard "eth+" passes as any name does. (The kernel also refuses ':';
// mfcd does not, so that an old config naming an alias such as "eth0:1"
// still loads, its line then waiting for an interface that never comes.)
// Inline, and a table look-up per byte rather than three compares: the
// config parser asks it of every name of every route.
namespace detail {
struct IfnameBytes {
  bool bad[256] = {};
  constexpr IfnameBytes() {
    for (int c = 0; c <= 0x20; ++c)
      bad[c] = true;  // control characters and the space
    bad[0x7f] = true;
    bad[static_cast<unsigned char>('/')] = true;
  }
};
inline constexpr IfnameBytes kIfnameBytes{};
}  // namespace detail

inline bool is_valid_ifname(std::string_view name) {
  if (name.empty() || name.size() > kMaxIfnameLen) return false;
  if (name[0] == '.' && (name.size() == 1 || (name.size() == 2 && name[1] == '.'))) return false;
  bool bad = false;
  for (const char c : name)
    bad |= detail::kIfnameBytes.bad[static_cast<unsigned char>(c)];
  return !bad;
}

// The one judge of an interface name, for the config parser and the API
// alike, so that both refuse the same names in the same words:
// Errc::invalid_argument, "interface name 'a/b' contains '/'". The name is
// quoted cut short and escaped (core/quote.hpp).
Result<void> validate_ifname(std::string_view name);

// The one judge of an OIF list's length, for the config parser and the
// API alike: at most kMaxOifNames.
Result<void> validate_oif_count(size_t count);

// The one judge of an owner name: 1..kMaxOwnerLen printable ASCII
// characters, no space (an owner is a word in `show` tables and logs).
// Which names are reserved ("config") is the API's rule, not this one.
Result<void> validate_owner(std::string_view owner);

// The one check of a key, for the parser's callers and the API alike: the
// interface name is valid (validate_ifname), the families agree, the group
// is multicast, the source (if any) unicast, and no host bits are set
// beyond a /LEN.
Result<void> validate_flow_key(const FlowKey& key);

}  // namespace mfcd::core
