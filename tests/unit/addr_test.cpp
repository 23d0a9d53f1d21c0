// Addresses and prefixes: parsing is strict, formatting canonical, and every
// error text is checked exactly because users read them in config errors.
#include <arpa/inet.h>
#include <doctest/doctest.h>

#include <iterator>
#include <unordered_set>

#include "budget.hpp"
#include "core/addr.hpp"
#include "rng.hpp"

using namespace mfcd::core;

namespace {

Addr addr(const char* s) {
  auto a = Addr::parse(s);
  REQUIRE(a.has_value());
  return *a;
}

Prefix prefix(const char* s) {
  auto p = parse_prefix(s);
  REQUIRE_MESSAGE(p.prefix.has_value(), p.error);
  return *p.prefix;
}

std::string prefix_error(const char* s) {
  auto p = parse_prefix(s);
  CHECK_FALSE(p.prefix.has_value());
  return p.error;
}

}  // namespace

TEST_CASE("addr: IPv4 parse and format") {
  const Addr a = addr("10.0.0.1");
  CHECK(a.family == Family::v4);
  CHECK(a.str() == "10.0.0.1");
  CHECK(a.v4_host_order() == 0x0a000001u);
  CHECK(Addr::v4(0x0a000001u) == a);
  CHECK(addr("255.255.255.255").str() == "255.255.255.255");
  // IPv4 leaves bytes 4..15 zero so comparison and hashing see equal values.
  for (size_t i = 4; i < 16; ++i)
    CHECK(a.bytes[i] == 0);
}

TEST_CASE("addr: IPv6 parse and compressed format") {
  CHECK(addr("ff04::111").str() == "ff04::111");
  CHECK(addr("FF04:0:0:0:0:0:0:0111").str() == "ff04::111");
  CHECK(addr("2001:db8:0:0:1:0:0:1").str() == "2001:db8::1:0:0:1");
  CHECK(addr("::").str() == "::");
  CHECK(addr("::1").str() == "::1");
  CHECK(addr("::ffff:192.0.2.1").family == Family::v6);
  CHECK(addr("ff05::1").family == Family::v6);
}

TEST_CASE("addr: garbage is rejected") {
  for (const char* bad :
       {"", "300.1.1.1", "1.2.3", "1.2.3.4.5", "10.0.0.1 ", " 10.0.0.1", "010.0.0.1", "1.2.3.4/8",
        "eth0", "ff05:::1", "ff05::1%eth0", "1::2::3", "0x0a.0.0.1", "gggg::1", "-1.0.0.0"}) {
    CAPTURE(bad);
    CHECK_FALSE(Addr::parse(bad).has_value());
  }
  CHECK_FALSE(Addr::parse(std::string(200, '1')).has_value());
}

TEST_CASE("addr: any and multicast") {
  CHECK(addr("0.0.0.0").is_any());
  CHECK(addr("::").is_any());
  CHECK_FALSE(addr("0.0.0.1").is_any());
  CHECK(addr("224.0.0.0").is_multicast());
  CHECK(addr("239.255.255.255").is_multicast());
  CHECK_FALSE(addr("223.255.255.255").is_multicast());
  CHECK_FALSE(addr("240.0.0.0").is_multicast());
  CHECK(addr("ff02::1").is_multicast());
  CHECK_FALSE(addr("fe80::1").is_multicast());
  CHECK(family_name(Family::v4) == "ipv4");
  CHECK(family_name(Family::v6) == "ipv6");
}

TEST_CASE("addr: ordering compares family first, then bytes") {
  CHECK(addr("10.0.0.1") < addr("10.0.0.2"));
  CHECK(addr("255.0.0.0") < addr("::"));
  CHECK(addr("ff05::1") == addr("ff05:0::1"));
}

TEST_CASE("addr: prefix parse and format") {
  CHECK(prefix("225.1.0.0/16").str() == "225.1.0.0/16");
  CHECK(prefix("225.1.1.1").str() == "225.1.1.1");
  CHECK(prefix("225.1.1.1").is_host());
  CHECK(prefix("225.1.1.1/32").str() == "225.1.1.1");
  CHECK(prefix("225.1.1.1/32") == Prefix::host(addr("225.1.1.1")));
  CHECK(prefix("0.0.0.0/0").str() == "0.0.0.0/0");
  CHECK(prefix("ff05::/16").str() == "ff05::/16");
  CHECK(prefix("ff05::1/128").str() == "ff05::1");
  CHECK(prefix("ff05::1").len == 128);
  CHECK(prefix("225.1.1.128/25").len == 25);
}

TEST_CASE("addr: prefix error texts") {
  CHECK(prefix_error("300.1.1.1") == "invalid address '300.1.1.1'");
  CHECK(prefix_error("300.1.1.1/8") == "invalid address '300.1.1.1'");
  CHECK(prefix_error("225.1.1.1/33") == "prefix length 33 out of range 0..32");
  CHECK(prefix_error("ff05::/129") == "prefix length 129 out of range 0..128");
  CHECK(prefix_error("225.1.1.1/999") == "prefix length 999 out of range 0..32");
  CHECK(prefix_error("225.1.1.1/16") ==
        "host bits set in 225.1.1.1/16 (did you mean 225.1.0.0/16?)");
  CHECK(prefix_error("225.1.1.129/25") ==
        "host bits set in 225.1.1.129/25 (did you mean 225.1.1.128/25?)");
  CHECK(prefix_error("ff05::1/16") == "host bits set in ff05::1/16 (did you mean ff05::/16?)");
  CHECK(prefix_error("225.1.1.1/") == "invalid prefix length ''");
  CHECK(prefix_error("225.1.1.1/x") == "invalid prefix length 'x'");
  CHECK(prefix_error("225.1.1.1/+8") == "invalid prefix length '+8'");
  CHECK(prefix_error("225.1.1.1/1234") == "invalid prefix length '1234'");
  CHECK(prefix_error("225.1.0.0/16/3") == "invalid prefix length '16/3'");
  CHECK(prefix_error("") == "invalid address ''");
}

TEST_CASE("addr: prefix contains") {
  const Prefix p = prefix("225.1.0.0/16");
  CHECK(p.contains(addr("225.1.0.0")));
  CHECK(p.contains(addr("225.1.255.255")));
  CHECK_FALSE(p.contains(addr("225.2.0.0")));
  CHECK_FALSE(p.contains(addr("ff05::1")));  // other family never matches
  CHECK(p.contains(prefix("225.1.4.0/24")));
  CHECK(p.contains(p));
  CHECK_FALSE(p.contains(prefix("225.0.0.0/8")));  // shorter is not inside
  CHECK(prefix("0.0.0.0/0").contains(addr("1.2.3.4")));
  CHECK_FALSE(prefix("0.0.0.0/0").contains(addr("::1")));
  CHECK(prefix("225.1.1.128/25").contains(addr("225.1.1.200")));
  CHECK_FALSE(prefix("225.1.1.128/25").contains(addr("225.1.1.127")));
  CHECK(prefix("ff05::/16").contains(addr("ff05::1:2")));
  CHECK_FALSE(prefix("ff05::/16").contains(addr("ff06::1")));
  CHECK(prefix("ff05::/16").contains(prefix("ff05:1::/32")));
  CHECK(Prefix::host(addr("10.0.0.1")).contains(addr("10.0.0.1")));
  CHECK_FALSE(Prefix::host(addr("10.0.0.1")).contains(addr("10.0.0.2")));
}

TEST_CASE("addr: prefix size saturates") {
  CHECK(prefix_size(prefix("225.1.1.1")) == 1);
  CHECK(prefix_size(prefix("225.1.1.0/24")) == 256);
  CHECK(prefix_size(prefix("0.0.0.0/0")) == (uint64_t{1} << 32));
  CHECK(prefix_size(prefix("ff05::/120")) == 256);
  CHECK(prefix_size(prefix("ff05::/65")) == (uint64_t{1} << 63));
  CHECK(prefix_size(prefix("ff05::/64")) == UINT64_MAX);
  CHECK(prefix_size(prefix("ff00::/8")) == UINT64_MAX);
}

TEST_CASE("addr: hashes and SgKey") {
  const SgKey k{addr("10.0.0.1"), addr("225.1.1.1")};
  CHECK(k.str() == "(10.0.0.1, 225.1.1.1)");
  CHECK(SgKey{addr("2001:db8::1"), addr("ff05::1")}.str() == "(2001:db8::1, ff05::1)");
  CHECK(AddrHash{}(addr("10.0.0.1")) == AddrHash{}(Addr::v4(0x0a000001u)));
  CHECK(SgKeyHash{}(k) == SgKeyHash{}(SgKey{addr("10.0.0.1"), addr("225.1.1.1")}));
  // Distinct keys spread out: 65536 groups give (nearly) as many hashes.
  std::unordered_set<size_t> seen;
  for (uint32_t i = 0; i < 65536; ++i)
    seen.insert(SgKeyHash{}(SgKey{k.source, Addr::v4(0xe1000000u + i)}));
  CHECK(seen.size() > 65000);
  CHECK(SgKeyHash{}(SgKey{k.group, k.source}) != SgKeyHash{}(k));
  std::unordered_set<Addr, AddrHash> set{addr("10.0.0.1"), addr("10.0.0.1"), addr("::a00:1")};
  CHECK(set.size() == 2);
}

// ---------------------------------------------------------------------------
// Addr::parse has its own parser in front of inet_pton, and the config parser
// uses try_parse_prefix. Both must accept exactly what inet_pton (and
// parse_prefix) accept, with the same bytes: checked here on every string of
// a generated corpus, mostly near-addresses, so that each rule (leading
// zeros, octet range, group length, "::" placement, embedded IPv4, lengths
// after '/') is crossed many times on both sides.

namespace {

// What Addr::parse always meant: inet_pton on the text as a C string (it
// stops at a NUL), IPv6 when the text holds a ':', nothing at 64 bytes or
// more.
std::optional<Addr> reference_parse(const std::string& text) {
  if (text.empty() || text.size() >= 64) return std::nullopt;
  Addr a;
  const bool v6 = text.find(':') != std::string::npos;
  a.family = v6 ? Family::v6 : Family::v4;
  if (inet_pton(v6 ? AF_INET6 : AF_INET, text.c_str(), a.bytes.data()) != 1) return std::nullopt;
  return a;
}

using mfcd::test::Rng;

std::string octet(Rng& rng) {
  switch (rng.below(6)) {
    case 0:
      return std::to_string(rng.below(10));
    case 1:
      return std::to_string(rng.below(100));
    case 2:
      return std::to_string(rng.below(1000));
    case 3:
      return "0" + std::to_string(rng.below(100));  // leading zeros
    case 4:
      return std::to_string(250 + rng.below(10));  // around 255
    default:
      return std::to_string(rng.below(256));
  }
}

std::string group6(Rng& rng) {
  static const char kHex[] = "0123456789abcdefABCDEF";
  std::string g;
  const size_t n = 1 + rng.below(rng.below(8) == 0 ? 6 : 4);  // now and then too long
  for (size_t i = 0; i < n; ++i)
    g += kHex[rng.below(sizeof kHex - 1)];
  return g;
}

// A string that is often an address and often almost one.
std::string near_address(Rng& rng) {
  std::string s;
  switch (rng.below(4)) {
    case 0: {  // dotted quad with 3..5 parts
      const size_t parts = 3 + rng.below(3);
      for (size_t i = 0; i < parts; ++i)
        s += (i ? "." : "") + octet(rng);
      break;
    }
    case 1: {  // colon-hex with 1..10 groups and maybe a "::"
      const size_t groups = 1 + rng.below(10);
      const size_t gap = rng.below(groups + 2);
      for (size_t i = 0; i < groups; ++i) {
        if (i == gap)
          s += "::";
        else if (i)
          s += ":";
        s += group6(rng);
      }
      if (gap == groups) s += "::";
      if (rng.below(6) == 0)
        s += ":" + octet(rng) + "." + octet(rng) + "." + octet(rng) + "." +
             octet(rng);  // embedded IPv4
      break;
    }
    default: {  // random characters from the address alphabet
      static const char kChars[] = "0123456789abcdefABCDEF:.x/";
      const size_t n = rng.below(20);
      for (size_t i = 0; i < n; ++i)
        s += kChars[rng.below(sizeof kChars - 1)];
      break;
    }
  }
  // Now and then damage it at a random place.
  if (!s.empty() && rng.below(5) == 0) {
    static const char kDamage[] = ".:/ 0\0";
    s[rng.below(s.size())] = kDamage[rng.below(sizeof kDamage)];
  }
  return s;
}

}  // namespace

TEST_CASE("addr: parse accepts exactly what inet_pton accepts, with the same bytes" *
          doctest::test_suite("randomized")) {
  constexpr int kRounds = mfcd::test::scaled(200000);
  Rng rng;
  size_t accepted = 0;
  for (int i = 0; i < kRounds; ++i) {
    const std::string text = near_address(rng);
    const auto want = reference_parse(text);
    const auto got = Addr::parse(text);
    if (want.has_value() != got.has_value() || (want && *want != *got)) {
      FAIL_CHECK("'" << text << "': inet_pton " << (want ? want->str() : "rejects")
                     << ", Addr::parse " << (got ? got->str() : "rejects"));
    }
    accepted += want.has_value();
  }
  // The corpus must exercise both sides.
  CHECK(accepted > kRounds / 10);
  CHECK(accepted < kRounds / 4 * 3);

  // Fixed cases at the edges of the rules.
  for (const char* text : {"0.0.0.0",
                           "255.255.255.255",
                           "1.2.3.4",
                           "00.1.2.3",
                           "1.2.3.04",
                           "1.2.3.256",
                           "1.2.3.4.",
                           ".1.2.3",
                           "1.2..3",
                           "1.2.3",
                           "1.2.3.4.5",
                           "1234.1.1.1",
                           "::",
                           ":::",
                           "::1",
                           "1::",
                           "1:",
                           ":1",
                           "1:2:3:4:5:6:7:8",
                           "1:2:3:4:5:6:7:8:9",
                           "1:2:3:4:5:6:7::",
                           "::2:3:4:5:6:7:8",
                           "1::2:3:4:5:6:7:8",
                           "1::2::3",
                           "12345::",
                           "0000::",
                           "00000::",
                           "::ffff:1.2.3.4",
                           "::ffff:1.2.3",
                           "::1.2.3.4:1",
                           "1.2.3.4::",
                           "ff05::g",
                           "FF05::AB"}) {
    CAPTURE(text);
    const auto want = reference_parse(text);
    const auto got = Addr::parse(text);
    REQUIRE(want.has_value() == got.has_value());
    if (want) CHECK(*want == *got);
  }
}

TEST_CASE("addr: try_parse_prefix agrees with parse_prefix" * doctest::test_suite("randomized")) {
  Rng rng;
  size_t accepted = 0;
  constexpr int kRounds = mfcd::test::scaled(100000);
  for (int i = 0; i < kRounds; ++i) {
    std::string text = near_address(rng);
    if (rng.below(2)) {  // a length, often a bad one
      static const char* const kLengths[] = {"0",   "8",   "16", "24", "32",  "33",   "64", "96",
                                             "128", "129", "",   "08", "032", "0032", "+8", "x"};
      text += "/" + std::string(kLengths[rng.below(std::size(kLengths))]);
    }
    const PrefixParse want = parse_prefix(text);
    Prefix got;
    const bool ok = try_parse_prefix(text, got);
    if (want.prefix.has_value() != ok || (ok && *want.prefix != got)) {
      FAIL_CHECK("'" << text << "': parse_prefix "
                     << (want.prefix ? want.prefix->str() : want.error) << ", try_parse_prefix "
                     << (ok ? got.str() : "rejects"));
    }
    accepted += ok;
  }
  CHECK(accepted > kRounds / 20);
}
