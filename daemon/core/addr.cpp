// Addresses are 16 bytes plus a family tag, so both families share one value
// type and compare, hash and sort alike. inet_pton/inet_ntop define the text
// forms: they are pure, strict (no "010.1" octal shorthands, no leading zeros)
// and inet_ntop already produces the canonical compressed IPv6 form.
// Parsing has a fast path in front of inet_pton, because the config parser
// reads two addresses per route and tens of thousands of routes at start-up;
// the copy into a NUL-terminated buffer, strlen and the call cost more than
// the parse itself. The fast path follows glibc's own algorithm and only ever
// accepts: whatever it does not accept goes to inet_pton, so the accepted set
// and the resulting bytes stay inet_pton's (tests/unit/addr_test.cpp checks
// this against inet_pton on a large generated corpus).
// Prefix logic works bit by bit on the byte array, the same for both families.
#include "core/addr.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>
#include <limits>

#include "core/quote.hpp"

namespace mfcd::core {

namespace {

// Longest textual address inet_pton can accept (IPv6 with embedded IPv4).
constexpr size_t kMaxAddrText = 64;

// Mask for the byte holding bit `len` when `len` is not a multiple of 8.
uint8_t leading_mask(int bits) {
  return static_cast<uint8_t>(0xff00u >> bits);
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

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// Dotted quad, exactly four decimal octets of at most 255 without leading
// zeros, as glibc's inet_pton4 takes them, at the start of [p, end): returns
// where the fourth octet ends (the text is an address if that is `end`), or
// nullptr. The value is gathered in a register: writing it byte by byte and
// reading it back whole would stall.
[[gnu::always_inline]] inline const char* scan_v4(const char* p, const char* end, uint32_t& host) {
  for (int i = 0; i < 4; ++i) {
    if (p == end || !is_digit(*p)) return nullptr;
    unsigned v = static_cast<unsigned>(*p++ - '0');
    if (p != end && is_digit(*p)) {
      if (v == 0) return nullptr;  // "01": a leading zero
      v = v * 10 + static_cast<unsigned>(*p++ - '0');
      if (p != end && is_digit(*p)) {
        v = v * 10 + static_cast<unsigned>(*p++ - '0');
        if (v > 255) return nullptr;
      }
    }
    host = (host << 8) | v;
    // A fourth digit lands here too: it is neither '.' nor the end.
    if (i < 3) {
      if (p == end || *p != '.') return nullptr;
      ++p;
    }
  }
  return p;
}

void set_v4(Addr& a, uint32_t host) {
  a.family = Family::v4;
  a.bytes = {};
  a.bytes[0] = static_cast<uint8_t>(host >> 24);
  a.bytes[1] = static_cast<uint8_t>(host >> 16);
  a.bytes[2] = static_cast<uint8_t>(host >> 8);
  a.bytes[3] = static_cast<uint8_t>(host);
}

// Hex digit values, -1 for anything else: one load instead of three range
// tests per character.
constexpr std::array<int8_t, 256> kHexValue = [] {
  std::array<int8_t, 256> t{};
  for (int c = 0; c < 256; ++c) {
    t[static_cast<size_t>(c)] = c >= '0' && c <= '9'   ? static_cast<int8_t>(c - '0')
                                : c >= 'a' && c <= 'f' ? static_cast<int8_t>(c - 'a' + 10)
                                : c >= 'A' && c <= 'F' ? static_cast<int8_t>(c - 'A' + 10)
                                                       : int8_t{-1};
  }
  return t;
}();

int hex_value(char c) {
  return kHexValue[static_cast<unsigned char>(c)];
}

// Colon-hex IPv6 text, following glibc's inet_pton6 step by step (groups of
// one to four hex digits, at most one "::", no trailing single ':'), minus
// its embedded-IPv4 tail ("::ffff:1.2.3.4"), which is left to inet_pton.
// Writes 16 bytes on success.
bool fast_pton6(const char* p, const char* end, uint8_t* out) {
  uint8_t tmp[16] = {};
  uint8_t* tp = tmp;
  uint8_t* const endp = tmp + 16;
  uint8_t* colonp = nullptr;
  if (p == end) return false;
  if (*p == ':') {  // a leading ':' must be the start of "::"
    ++p;
    if (p == end || *p != ':') return false;
  }
  int xdigits = 0;
  unsigned val = 0;
  while (p < end) {
    const char ch = *p++;
    const int digit = hex_value(ch);
    if (digit >= 0) {
      if (xdigits == 4) return false;
      val = (val << 4) | static_cast<unsigned>(digit);
      ++xdigits;
      continue;
    }
    if (ch != ':') return false;  // '.' (embedded IPv4) included
    if (xdigits == 0) {
      if (colonp) return false;  // a second "::"
      colonp = tp;
      continue;
    }
    if (p == end) return false;  // a trailing single ':'
    if (tp + 2 > endp) return false;
    *tp++ = static_cast<uint8_t>(val >> 8);
    *tp++ = static_cast<uint8_t>(val);
    xdigits = 0;
    val = 0;
  }
  if (xdigits > 0) {
    if (tp + 2 > endp) return false;
    *tp++ = static_cast<uint8_t>(val >> 8);
    *tp++ = static_cast<uint8_t>(val);
  }
  if (colonp) {
    if (tp == endp) return false;  // "::" standing for no group at all
    const size_t n = static_cast<size_t>(tp - colonp);
    std::memmove(endp - n, colonp, n);
    std::memset(colonp, 0, static_cast<size_t>(endp - n - colonp));
    tp = endp;
  }
  if (tp != endp) return false;
  std::memcpy(out, tmp, 16);
  return true;
}

// Addr::parse into `a`: the fast paths first, then inet_pton for all they
// leave (errors, embedded IPv4, a NUL inside the text, which inet_pton takes
// as the end of the string). a.bytes beyond the family's length end zero.
// `v6` says whether the text holds a ':', which is what picks the family.
bool parse_addr_into(std::string_view text, bool v6, Addr& a) {
  if (text.empty() || text.size() >= kMaxAddrText) return false;
  const char* const begin = text.data();
  const char* const end = begin + text.size();
  a.family = v6 ? Family::v6 : Family::v4;
  if (v6) {
    if (fast_pton6(begin, end, a.bytes.data())) return true;
  } else {
    uint32_t host = 0;
    if (scan_v4(begin, end, host) == end) {
      set_v4(a, host);
      return true;
    }
  }
  char buf[kMaxAddrText];
  std::memcpy(buf, begin, text.size());
  buf[text.size()] = '\0';
  a.bytes = {};
  return inet_pton(v6 ? AF_INET6 : AF_INET, buf, a.bytes.data()) == 1;
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

Addr masked(const Addr& a, int len) {
  Addr out = a;
  const int full = full_length(a.family);
  for (int byte = 0; byte < 16; ++byte) {
    const int first_bit = byte * 8;
    if (first_bit >= full) {
      out.bytes[byte] = 0;  // beyond an IPv4 address: always zero
    } else if (len - first_bit < 8) {
      const int keep = std::max(0, len - first_bit);
      out.bytes[byte] =
          keep == 0 ? uint8_t{0} : static_cast<uint8_t>(out.bytes[byte] & leading_mask(keep));
    }
  }
  return out;
}

std::string_view family_name(Family f) {
  return f == Family::v4 ? "ipv4" : "ipv6";
}

std::optional<Addr> Addr::parse(std::string_view text) {
  Addr a;
  if (!parse_addr_into(text, text.find(':') != std::string_view::npos, a)) return std::nullopt;
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
  // Two words, not sixteen bytes: a reload asks this of every line.
  uint64_t words[2];
  std::memcpy(words, bytes.data(), sizeof words);
  return (words[0] | words[1]) == 0;
}

bool is_any_source(const std::optional<Prefix>& source) {
  return source && source->addr.is_any() && (source->len == 0 || source->is_host());
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

PrefixParse parse_prefix(std::string_view text, bool mask_host_bits) {
  const size_t slash = text.find('/');
  const std::string_view addr_text = text.substr(0, slash);
  const auto addr = Addr::parse(addr_text);
  if (!addr) return {std::nullopt, "invalid address " + quote(addr_text)};
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
    return {std::nullopt, "invalid prefix length " + quote(len_text)};
  }
  if (len > max) {
    return {std::nullopt,
            "prefix length " + std::to_string(len) + " out of range 0.." + std::to_string(max)};
  }
  const Prefix p{*addr, static_cast<uint8_t>(len)};
  const Addr cleared = masked(*addr, len);
  if (cleared != *addr) {
    const Prefix fixed{cleared, p.len};
    const std::string given = addr->str() + "/" + std::to_string(len);
    if (mask_host_bits)
      return {fixed, "host bits set in " + given + "; read as " + fixed.str(), true};
    return {std::nullopt, "host bits set in " + given + " (did you mean " + fixed.addr.str() + "/" +
                              std::to_string(len) + "?)"};
  }
  return {p, {}};
}

bool try_parse_prefix(std::string_view text, Prefix& out) {
  const char* const begin = text.data();
  const char* const end = begin + text.size();
  size_t slash = text.size();
  // IPv4 first, straight off the text: a dotted quad ending at the end or
  // at a '/' has no ':' before the '/', so it is IPv4 for Addr::parse too.
  uint32_t host = 0;
  const char* stop = scan_v4(begin, end, host);
  if (stop && (stop == end || *stop == '/')) {
    set_v4(out.addr, host);
    slash = static_cast<size_t>(stop - begin);
  } else {
    // Anything else the general way: the address is what precedes the
    // first '/', and a ':' in it picks IPv6. One pass finds both; the text
    // is a few dozen bytes, so a loop beats two library calls.
    bool colon = false;
    for (size_t i = 0; i < text.size(); ++i) {
      const char c = text[i];
      if (c == '/') {
        slash = i;
        break;
      }
      colon |= c == ':';
    }
    if (!parse_addr_into(text.substr(0, slash), colon, out.addr)) return false;
  }
  const int max = full_length(out.addr.family);
  if (slash == text.size()) {
    out.len = static_cast<uint8_t>(max);
    return true;
  }
  // parse_prefix's rules: one to three digits, at most the family's length,
  // no host bits set.
  const std::string_view len_text = text.substr(slash + 1);
  if (len_text.empty() || len_text.size() > 3) return false;
  int len = 0;
  for (const char c : len_text) {
    if (c < '0' || c > '9') return false;
    len = len * 10 + (c - '0');
  }
  if (len > max) return false;
  out.len = static_cast<uint8_t>(len);
  return masked(out.addr, len) == out.addr;
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

size_t SgKeyHash::operator()(const SgKey& k) const {
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

Result<void> validate_group(const Prefix& group) {
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
  return {};
}

Result<void> validate_source(const Prefix& source) {
  if (auto ok = check_prefix(source, "source"); !ok) return ok;
  if (source.addr.is_multicast()) {
    return make_error(Errc::invalid_argument,
                      "source " + source.str() + " is a multicast address, not a sender");
  }
  return {};
}

Result<void> validate_families(const Prefix& source, const Prefix& group) {
  if (source.addr.family == group.addr.family) return {};
  return make_error(Errc::invalid_argument, "source " + source.str() + " and group " + group.str() +
                                                " are not the same address family");
}

Result<void> validate_source_group(const std::optional<Prefix>& source, const Prefix& group) {
  if (auto ok = validate_group(group); !ok) return ok;
  if (!source) return {};
  if (auto ok = validate_families(*source, group); !ok) return ok;
  return validate_source(*source);
}

}  // namespace mfcd::core
