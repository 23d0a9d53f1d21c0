// IPv4/IPv6 addresses and prefixes as plain values: parse, format, compare,
// hash, and prefix containment. One type for both families so that routes,
// joins and kernel entries are family-agnostic everywhere above this file.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace mfcd::core {

enum class Family : uint8_t { v4, v6 };

constexpr int full_length(Family f) {
  return f == Family::v4 ? 32 : 128;
}
std::string_view family_name(Family f);  // "ipv4" / "ipv6"

// An address. For IPv4 only bytes[0..3] are used; the rest stay zero so that
// comparison and hashing can look at the whole array.
struct Addr {
  Family family = Family::v4;
  std::array<uint8_t, 16> bytes{};

  static std::optional<Addr> parse(std::string_view text);  // "10.0.0.1", "ff05::1"
  static Addr v4(uint32_t host_order);
  std::string str() const;         // compressed form for IPv6
  bool is_any() const;             // 0.0.0.0 / ::
  bool is_multicast() const;       // 224/4, ff00::/8
  uint32_t v4_host_order() const;  // IPv4 only
  auto operator<=>(const Addr&) const = default;
  bool operator==(const Addr&) const = default;
};

// An address with a prefix length. Host bits beyond `len` are always zero
// (parse() rejects "225.1.1.1/16" style input with host bits set).
struct Prefix {
  Addr addr;
  uint8_t len = 0;

  static Prefix host(const Addr& a) {
    return Prefix{a, static_cast<uint8_t>(full_length(a.family))};
  }
  bool is_host() const { return len == full_length(addr.family); }
  bool contains(const Addr& a) const;
  bool contains(const Prefix& p) const;  // p is inside this (same or longer)
  // "225.1.0.0/16"; the "/LEN" is omitted when the prefix is a single host.
  std::string str() const;
  auto operator<=>(const Prefix&) const = default;
  bool operator==(const Prefix&) const = default;
};

// Parse "A" or "A/LEN". Returns an error text (no position) on failure, e.g.
// "invalid address '300.1.1.1'" or "prefix length 33 out of range 0..32" or
// "host bits set in 225.1.1.1/16 (did you mean 225.1.0.0/16?)".
// With `mask_host_bits` (SMCRoute's reading, see compat.md), host bits are
// not an error: they are cleared, `masked` is set and `error` says what was
// read as what, "host bits set in 225.1.1.1/16; read as 225.1.0.0/16", for
// the caller's warning.
struct PrefixParse {
  std::optional<Prefix> prefix;
  std::string error;
  bool masked = false;
};
PrefixParse parse_prefix(std::string_view text, bool mask_host_bits = false);
// The same acceptance and result as parse_prefix, written into `out`, with
// no error text: false (leaving `out` unspecified) wherever parse_prefix
// fails, and then the caller asks parse_prefix what is wrong. For the config
// parser, which reads two prefixes per route: filling the caller's value in
// place spares the optional/struct copies of the general form.
bool try_parse_prefix(std::string_view text, Prefix& out);

// The rules every (source, group) pair of a route or a join obeys: the
// group is multicast (a range stays inside 224.0.0.0/4 or ff00::/8), the
// source, if any, is a unicast sender of the same family, and neither has
// host bits set beyond its length. Errc::invalid_argument says which broke.
Result<void> validate_source_group(const std::optional<Prefix>& source, const Prefix& group);
// Its parts, in the same words, for a caller that reports each at the
// token it is about (the config parser): the group alone, the source
// alone, and the two families.
Result<void> validate_group(const Prefix& group);
Result<void> validate_source(const Prefix& source);
Result<void> validate_families(const Prefix& source, const Prefix& group);

// A source written as 0.0.0.0 or :: (as a host or as /0) means any source:
// such a route or join is the same as one written without a source.
bool is_any_source(const std::optional<Prefix>& source);

// The address with every bit after the first `len` cleared.
Addr masked(const Addr& a, int len);

// Number of addresses in the prefix, saturating at UINT64_MAX.
uint64_t prefix_size(const Prefix& p);

struct AddrHash {
  size_t operator()(const Addr& a) const noexcept;
};

// A multicast forwarding cache key: one (S,G) pair.
struct SgKey {
  Addr source;
  Addr group;
  std::string str() const;  // "(10.0.0.1, 225.1.1.1)"
  auto operator<=>(const SgKey&) const = default;
  bool operator==(const SgKey&) const = default;
};

// Deliberately not noexcept: libstdc++ then keeps each key's hash in its
// node, so a lookup in a big table compares stored hashes while it walks a
// bucket instead of hashing every key it passes (a cache miss each).
struct SgKeyHash {
  size_t operator()(const SgKey& k) const;
};

}  // namespace mfcd::core
