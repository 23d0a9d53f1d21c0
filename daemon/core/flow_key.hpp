// The key of a route and of a join: an interface and a (source, group)
// pair, each address possibly a prefix. Routes and joins are keyed the
// same way, validated the same way and printed the same way, so they share
// one type; core/intent.hpp and core/joins.hpp name it for their use.
#pragma once

#include <compare>
#include <cstddef>
#include <optional>
#include <string>

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

// The one check of a key, for the parser's callers and the API alike: an
// interface is named, the families agree, the group is multicast, the
// source (if any) unicast, and no host bits are set beyond a /LEN.
Result<void> validate_flow_key(const FlowKey& key);

}  // namespace mfcd::core
