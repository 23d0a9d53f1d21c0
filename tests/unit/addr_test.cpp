// Addresses and prefixes: parsing is strict, formatting canonical, and every
// error text is checked exactly because users read them in config errors.
#include <doctest/doctest.h>

#include <unordered_set>

#include "core/addr.hpp"

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
