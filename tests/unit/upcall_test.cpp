// The mroute upcall parsers on hand-made messages laid out as the kernel
// writes them (struct igmpmsg over an IP header; struct mrt6msg), next to the
// real IGMP / ICMPv6 packets that share the same sockets and must be skipped.
#include <doctest/doctest.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <vector>

#include "kernel/mroute.hpp"

using mfcd::core::Family;
using mfcd::kernel::parse_upcall_v4;
using mfcd::kernel::parse_upcall_v6;
using mfcd::kernel::UpcallType;

namespace {

// 20 bytes: igmpmsg = two unused words, type, mbz, vif, vif_hi, src, dst.
std::vector<uint8_t> igmpmsg(uint8_t type, uint8_t vif, std::array<uint8_t, 4> src,
                             std::array<uint8_t, 4> grp) {
  std::vector<uint8_t> m(20, 0);
  m[0] = 0x45;  // the kernel copies the packet's IP header; the parser must not care
  m[8] = type;
  m[9] = 0;  // im_mbz
  m[10] = vif;
  std::memcpy(&m[12], src.data(), 4);
  std::memcpy(&m[16], grp.data(), 4);
  return m;
}

std::vector<uint8_t> mrt6msg(uint8_t type, uint16_t mif, const std::array<uint8_t, 16>& src,
                             const std::array<uint8_t, 16>& grp) {
  std::vector<uint8_t> m(40, 0);
  m[0] = 0;  // im6_mbz
  m[1] = type;
  std::memcpy(&m[2], &mif, 2);  // host byte order, as the kernel writes it
  std::memcpy(&m[8], src.data(), 16);
  std::memcpy(&m[24], grp.data(), 16);
  return m;
}

constexpr std::array<uint8_t, 16> kSrc6 = {0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0,
                                           0,    0,    0,    0,    0, 0, 0, 2};
constexpr std::array<uint8_t, 16> kGrp6 = {0xff, 0x0e, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1};

}  // namespace

TEST_CASE("IPv4 NOCACHE upcall") {
  auto m = igmpmsg(1, 3, {192, 0, 2, 2}, {232, 1, 1, 1});
  auto up = parse_upcall_v4(m.data(), m.size());
  REQUIRE(up);
  CHECK(up->family == Family::v4);
  CHECK(up->type == UpcallType::nocache);
  CHECK(up->vif == 3);
  CHECK(up->source.family == Family::v4);
  CHECK(up->source.bytes[0] == 192);
  CHECK(up->source.bytes[3] == 2);
  CHECK(up->group.bytes[0] == 232);
  CHECK(up->group.bytes[3] == 1);
  // IPv4 uses only bytes[0..3]; the rest stays zero for comparison and hashing.
  CHECK(up->group.bytes[4] == 0);
  CHECK(up->group.bytes[15] == 0);
}

TEST_CASE("IPv4 WRONGVIF and WHOLEPKT upcalls; the VIF's high byte counts") {
  auto m = igmpmsg(2, 7, {198, 51, 100, 9}, {239, 0, 0, 5});
  auto up = parse_upcall_v4(m.data(), m.size());
  REQUIRE(up);
  CHECK(up->type == UpcallType::wrongvif);
  CHECK(up->vif == 7);

  m[8] = 3;
  m[11] = 1;
  up = parse_upcall_v4(m.data(), m.size());
  REQUIRE(up);
  CHECK(up->type == UpcallType::wholepkt);
  CHECK(up->vif == 256 + 7);

  // A longer message (WHOLEPKT carries the packet) parses the same.
  m.resize(200, 0xaa);
  CHECK(parse_upcall_v4(m.data(), m.size()));
}

TEST_CASE("a real IGMP packet on the mroute socket is not an upcall") {
  // IPv4 header (TTL 1, protocol 2 = IGMP) + IGMPv2 membership report.
  const std::vector<uint8_t> pkt = {0x45, 0xc0, 0x00, 0x20, 0x00, 0x00, 0x40, 0x00,
                                    0x01, 0x02, 0x00, 0x00, 192,  0,    2,    2,
                                    232,  1,    1,    1,    0x16, 0x00, 0x00, 0x00,
                                    232,  1,    1,    1,    0x94, 0x04, 0x00, 0x00};
  CHECK_FALSE(parse_upcall_v4(pkt.data(), pkt.size()));
}

TEST_CASE("IPv4: too short, unknown type, null rejected") {
  auto m = igmpmsg(1, 0, {192, 0, 2, 2}, {232, 1, 1, 1});
  CHECK_FALSE(parse_upcall_v4(m.data(), 19));
  CHECK_FALSE(parse_upcall_v4(m.data(), 0));
  CHECK_FALSE(parse_upcall_v4(nullptr, 20));
  m[8] = 4;  // WRVIFWHOLE: only with PIM, which mfcd never enables
  CHECK_FALSE(parse_upcall_v4(m.data(), m.size()));
  m[8] = 0;
  CHECK_FALSE(parse_upcall_v4(m.data(), m.size()));
}

TEST_CASE("IPv6 NOCACHE upcall") {
  auto m = mrt6msg(1, 2, kSrc6, kGrp6);
  auto up = parse_upcall_v6(m.data(), m.size());
  REQUIRE(up);
  CHECK(up->family == Family::v6);
  CHECK(up->type == UpcallType::nocache);
  CHECK(up->vif == 2);
  CHECK(up->source.family == Family::v6);
  CHECK(up->source.bytes == kSrc6);
  CHECK(up->group.bytes == kGrp6);
}

TEST_CASE("IPv6 WRONGMIF upcall with a MIF above 255") {
  auto m = mrt6msg(2, 300, kSrc6, kGrp6);
  auto up = parse_upcall_v6(m.data(), m.size());
  REQUIRE(up);
  CHECK(up->type == UpcallType::wrongvif);
  CHECK(up->vif == 300);
}

TEST_CASE("a real ICMPv6 message on the mroute socket is not an upcall") {
  // MLDv2 report (type 143) padded to 40 bytes: first byte non-zero.
  std::vector<uint8_t> mld(40, 0);
  mld[0] = 143;
  mld[1] = 1;  // would read as NOCACHE if the first byte were ignored
  CHECK_FALSE(parse_upcall_v6(mld.data(), mld.size()));
  // Echo request.
  std::vector<uint8_t> echo(64, 0);
  echo[0] = 128;
  CHECK_FALSE(parse_upcall_v6(echo.data(), echo.size()));
}

TEST_CASE("IPv6: too short and unknown type rejected") {
  auto m = mrt6msg(1, 0, kSrc6, kGrp6);
  CHECK_FALSE(parse_upcall_v6(m.data(), 39));
  CHECK_FALSE(parse_upcall_v6(m.data(), 8));
  CHECK_FALSE(parse_upcall_v6(nullptr, 40));
  m[1] = 9;
  CHECK_FALSE(parse_upcall_v6(m.data(), m.size()));
}
