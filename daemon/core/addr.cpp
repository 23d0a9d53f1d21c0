// Addresses are 16 bytes plus a family tag, so both families share one value
// type and compare, hash and sort alike. Text conversion is delegated to
// inet_pton/inet_ntop: they are pure, strict (no "010.1" octal shorthands, no
// leading zeros) and already produce the canonical compressed IPv6 form.
// Prefix logic works bit by bit on the byte array, the same for both families.
#include "core/addr.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>
#include <limits>

namespace mfcd::core {

namespace {

// Longest textual address inet_pton can accept (IPv6 with embedded IPv4).
constexpr size_t kMaxAddrText = 64;

// Mask for the byte holding bit `len` when `len` is not a multiple of 8.
uint8_t leading_mask(int bits) {
  return static_cast<uint8_t>(0xff00u >> bits);
}

// Zero every bit after the first `len` bits.
Addr mask_to(Addr a, int len) {
  const int total = full_length(a.family) / 8;
  for (int i = 0; i < total; ++i) {
    const int keep = len - i * 8;
    if (keep >= 8) continue;
    a.bytes[i] = keep <= 0 ? uint8_t{0} : static_cast<uint8_t>(a.bytes[i] & leading_mask(keep));
  }
  return a;
}

// True when the first `len` bits of a and b agree.
bool same_leading_bits(const Addr& a, const Addr& b, int len) {
  const int whole = len / 8;
  if (std::memcmp(a.bytes.data(), b.bytes.data(), static_cast<size_t>(whole)) != 0) return false;
  const int rest = len % 8;
  if (rest == 0) return true;
  const uint8_t m = leading_mask(rest);
  return (a.bytes[whole] & m) == (b.bytes[whole] & m);
}

size_t mix(uint64_t x) {
  // splitmix64 finaliser: cheap and spreads every input bit.
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return static_cast<size_t>(x);
}

}  // namespace

std::string_view family_name(Family f) {
  return f == Family::v4 ? "ipv4" : "ipv6";
}

std::optional<Addr> Addr::parse(std::string_view text) {
  if (text.empty() || text.size() >= kMaxAddrText) return std::nullopt;
  char buf[kMaxAddrText];
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  Addr a;
  if (text.find(':') != std::string_view::npos) {
    a.family = Family::v6;
    if (inet_pton(AF_INET6, buf, a.bytes.data()) != 1) return std::nullopt;
  } else {
    a.family = Family::v4;
    if (inet_pton(AF_INET, buf, a.bytes.data()) != 1) return std::nullopt;
  }
  return a;
}

Addr Addr::v4(uint32_t host_order) {
  Addr a;
  a.family = Family::v4;
  a.bytes[0] = static_cast<uint8_t>(host_order >> 24);
  a.bytes[1] = static_cast<uint8_t>(host_order >> 16);
  a.bytes[2] = static_cast<uint8_t>(host_order >> 8);
  a.bytes[3] = static_cast<uint8_t>(host_order);
  return a;
}

std::string Addr::str() const {
  char buf[INET6_ADDRSTRLEN];
  const int af = family == Family::v4 ? AF_INET : AF_INET6;
  if (inet_ntop(af, bytes.data(), buf, sizeof buf) == nullptr) return "?";
  return buf;
}

bool Addr::is_any() const {
  for (uint8_t b : bytes)
    if (b != 0) return false;
  return true;
}

bool Addr::is_multicast() const {
  return family == Family::v4 ? (bytes[0] & 0xf0) == 0xe0 : bytes[0] == 0xff;
}

uint32_t Addr::v4_host_order() const {
  return (uint32_t{bytes[0]} << 24) | (uint32_t{bytes[1]} << 16) | (uint32_t{bytes[2]} << 8) |
         uint32_t{bytes[3]};
}

bool Prefix::contains(const Addr& a) const {
  return a.family == addr.family && same_leading_bits(addr, a, len);
}

bool Prefix::contains(const Prefix& p) const {
  return p.len >= len && contains(p.addr);
}

std::string Prefix::str() const {
  if (is_host()) return addr.str();
  return addr.str() + "/" + std::to_string(len);
}

PrefixParse parse_prefix(std::string_view text) {
  const size_t slash = text.find('/');
  const std::string_view addr_text = text.substr(0, slash);
  const auto addr = Addr::parse(addr_text);
  if (!addr) return {std::nullopt, "invalid address '" + std::string(addr_text) + "'"};
  const int max = full_length(addr->family);
  if (slash == std::string_view::npos) return {Prefix::host(*addr), {}};

  const std::string_view len_text = text.substr(slash + 1);
  int len = -1;
  // from_chars alone would take "+5" as invalid but " 5" too; require digits
  // only, and few enough of them that an absurd length is still reported.
  const bool digits = !len_text.empty() && len_text.size() <= 3 &&
                      len_text.find_first_not_of("0123456789") == std::string_view::npos;
  if (!digits ||
      std::from_chars(len_text.data(), len_text.data() + len_text.size(), len).ec != std::errc{}) {
    return {std::nullopt, "invalid prefix length '" + std::string(len_text) + "'"};
  }
  if (len > max) {
    return {std::nullopt,
            "prefix length " + std::to_string(len) + " out of range 0.." + std::to_string(max)};
  }
  const Prefix p{*addr, static_cast<uint8_t>(len)};
  const Addr masked = mask_to(*addr, len);
  if (masked != *addr) {
    const Prefix fixed{masked, p.len};
    return {std::nullopt, "host bits set in " + addr->str() + "/" + std::to_string(len) +
                              " (did you mean " + fixed.addr.str() + "/" + std::to_string(len) +
                              "?)"};
  }
  return {p, {}};
}

uint64_t prefix_size(const Prefix& p) {
  const int bits = full_length(p.addr.family) - p.len;
  if (bits >= 64) return std::numeric_limits<uint64_t>::max();
  return uint64_t{1} << bits;
}

size_t AddrHash::operator()(const Addr& a) const noexcept {
  uint64_t hi = 0;
  uint64_t lo = 0;
  std::memcpy(&hi, a.bytes.data(), 8);
  std::memcpy(&lo, a.bytes.data() + 8, 8);
  return mix(hi ^ mix(lo ^ static_cast<uint64_t>(a.family)));
}

std::string SgKey::str() const {
  return "(" + source.str() + ", " + group.str() + ")";
}

size_t SgKeyHash::operator()(const SgKey& k) const noexcept {
  const AddrHash h;
  return mix(h(k.source) * 31 + h(k.group));
}

namespace {

bool host_bits_clear(const Prefix& p) {
  const int full = full_length(p.addr.family);
  for (int bit = p.len; bit < full; ++bit) {
    if (p.addr.bytes[static_cast<size_t>(bit / 8)] & (0x80 >> (bit % 8))) return false;
  }
  return true;
}

Result<void> check_prefix(const Prefix& p, const char* what) {
  const int full = full_length(p.addr.family);
  if (p.len > full) {
    return make_error(Errc::invalid_argument, std::string(what) + " prefix length " +
                                                  std::to_string(p.len) + " out of range 0.." +
                                                  std::to_string(full));
  }
  if (!host_bits_clear(p)) {
    return make_error(Errc::invalid_argument,
                      std::string(what) + " " + p.addr.str() + "/" + std::to_string(p.len) +
                          " has host bits set beyond /" + std::to_string(p.len));
  }
  return {};
}

}  // namespace

Result<void> validate_source_group(const std::optional<Prefix>& source, const Prefix& group) {
  if (auto ok = check_prefix(group, "group"); !ok) return ok;
  const Family f = group.addr.family;
  if (!group.addr.is_multicast()) {
    return make_error(Errc::invalid_argument,
                      "group " + group.str() + " is not a multicast address");
  }
  if (group.len < (f == Family::v4 ? 4 : 8)) {
    return make_error(Errc::invalid_argument, "group range " + group.str() +
                                                  " reaches outside the multicast range " +
                                                  (f == Family::v4 ? "224.0.0.0/4" : "ff00::/8"));
  }
  if (!source) return {};
  if (source->addr.family != f) {
    return make_error(Errc::invalid_argument, "source " + source->str() + " and group " +
                                                  group.str() + " are not the same address family");
  }
  if (auto ok = check_prefix(*source, "source"); !ok) return ok;
  if (source->addr.is_multicast()) {
    return make_error(Errc::invalid_argument,
                      "source " + source->str() + " is a multicast address, not a sender");
  }
  return {};
}

}  // namespace mfcd::core
