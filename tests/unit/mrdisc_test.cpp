// RFC 4286 messages and schedule. The expected bytes were worked out by hand
// from the RFC's formats: one's-complement sums of the 16-bit words (plus,
// for ICMPv6, the pseudo-header words), complemented.
#include "core/mrdisc.hpp"

#include <doctest/doctest.h>

#include <vector>

using namespace mfcd::core;
using namespace mfcd::core::mrdisc;

namespace {

using Bytes = std::vector<uint8_t>;

Addr addr(const char* text) {
  return *Addr::parse(text);
}

// Draws always at the low or high end, or a fixed value, so a schedule's
// bounds are reached exactly.
uint64_t low(uint64_t lo, uint64_t) {
  return lo;
}
uint64_t high(uint64_t, uint64_t hi) {
  return hi;
}

}  // namespace

TEST_CASE("IGMP advertisement: 0x30, interval, checksum, zero query fields") {
  // words 0x3014 0 0 0 -> ~0x3014 = 0xcfeb
  CHECK(encode_v4(MessageType::advertisement, {20, 0, 0}) ==
        Bytes{0x30, 0x14, 0xcf, 0xeb, 0x00, 0x00, 0x00, 0x00});
  // interval 4, query interval 125, robustness 2:
  // 0x3004 + 0x007d + 0x0002 = 0x3083 -> 0xcf7c
  CHECK(encode_v4(MessageType::advertisement, {4, 125, 2}) ==
        Bytes{0x30, 0x04, 0xcf, 0x7c, 0x00, 0x7d, 0x00, 0x02});
}

TEST_CASE("IGMP solicitation and termination are four bytes") {
  CHECK(encode_v4(MessageType::solicitation) == Bytes{0x31, 0x00, 0xce, 0xff});
  CHECK(encode_v4(MessageType::termination) == Bytes{0x32, 0x00, 0xcd, 0xff});
}

TEST_CASE("ICMPv6 messages carry the pseudo-header checksum") {
  // fe80::1 -> ff02::6a, length 8, next header 58:
  // fe80 + 0001 + ff02 + 006a + 0008 + 003a + 9714 = 0x29543 -> 0x9545 -> 0x6aba
  CHECK(encode_v6(MessageType::advertisement, addr("fe80::1"), addr("ff02::6a"), {20, 0, 0}) ==
        Bytes{151, 0x14, 0x6a, 0xba, 0, 0, 0, 0});
  // fe80::2 -> ff02::2, length 4: ... + 9800 = 0x295c4 -> 0x95c6 -> 0x6a39
  CHECK(encode_v6(MessageType::solicitation, addr("fe80::2"), addr("ff02::2")) ==
        Bytes{152, 0x00, 0x6a, 0x39});
  // fe80::1 -> ff02::6a, length 4: ... + 9900 = 0x2972b -> 0x972d -> 0x68d2
  CHECK(encode_v6(MessageType::termination, addr("fe80::1"), addr("ff02::6a")) ==
        Bytes{153, 0x00, 0x68, 0xd2});
}

TEST_CASE("checksum over an odd length pads with a zero byte") {
  // 0x0102 + 0x0300 = 0x0402 -> 0xfbfd
  CHECK(inet_checksum(Bytes{0x01, 0x02, 0x03}) == 0xfbfd);
  // carries fold back in: 0xffff + 0x0001 = 0x10000 -> 0x0001 -> 0xfffe
  CHECK(inet_checksum(Bytes{0xff, 0xff, 0x00, 0x01}) == 0xfffe);
}

TEST_CASE("decode accepts what encode makes and rejects bad checksums") {
  auto v4 = decode_v4(encode_v4(MessageType::advertisement, {33, 125, 2}));
  REQUIRE(v4);
  CHECK(v4->type == MessageType::advertisement);
  CHECK(v4->fields.interval == 33);
  CHECK(v4->fields.query_interval == 125);
  CHECK(v4->fields.robustness == 2);

  auto sol = decode_v4(Bytes{0x31, 0x00, 0xce, 0xff});
  REQUIRE(sol);
  CHECK(sol->type == MessageType::solicitation);
  CHECK_FALSE(decode_v4(Bytes{0x31, 0x00, 0xce, 0xfe}));  // checksum off by one
  CHECK_FALSE(decode_v4(Bytes{0x11, 0x00, 0xee, 0xff}));  // an IGMP query
  CHECK_FALSE(decode_v4(Bytes{0x30, 0x14, 0xcf, 0xeb}));  // advertisement cut short
  CHECK_FALSE(decode_v4(Bytes{0x31, 0x00}));              // too short

  auto src = addr("fe80::2"), dst = addr("ff02::2");
  auto v6 = decode_v6(Bytes{152, 0x00, 0x6a, 0x39}, src, dst);
  REQUIRE(v6);
  CHECK(v6->type == MessageType::solicitation);
  // The same bytes from another source fail the pseudo-header checksum.
  CHECK_FALSE(decode_v6(Bytes{152, 0x00, 0x6a, 0x39}, addr("fe80::3"), dst));
  // IGMP codes mean nothing in ICMPv6.
  CHECK_FALSE(decode_v6(encode_v4(MessageType::solicitation), src, dst));
}

TEST_CASE("type codes and group addresses of both families") {
  CHECK(type_code(Family::v4, MessageType::termination) == 0x32);
  CHECK(type_code(Family::v6, MessageType::advertisement) == 151);
  CHECK(message_type(Family::v6, 152) == MessageType::solicitation);
  CHECK_FALSE(message_type(Family::v4, 152));
  CHECK(all_snoopers(Family::v4).str() == "224.0.0.106");
  CHECK(all_snoopers(Family::v6).str() == "ff02::6a");
  CHECK(all_routers(Family::v4).str() == "224.0.0.2");
  CHECK(all_routers(Family::v6).str() == "ff02::2");
}

TEST_CASE("parse_ipv4 finds addresses, TTL, Router Alert and the payload") {
  // 24-byte header (IHL 6) with Router Alert 94 04 00 00, TTL 1, proto 2,
  // 192.0.2.2 -> 224.0.0.2, then an IGMP solicitation.
  Bytes pkt{0x46, 0xc0, 0x00, 0x1c, 0, 0, 0x40, 0, 1,    2,    0,    0,    192,  0,
            2,    2,    224,  0,    0, 2, 0x94, 4, 0x00, 0x00, 0x31, 0x00, 0xce, 0xff};
  auto p = parse_ipv4(pkt);
  REQUIRE(p);
  CHECK(p->source.str() == "192.0.2.2");
  CHECK(p->dest.str() == "224.0.0.2");
  CHECK(p->ttl == 1);
  CHECK(p->router_alert);
  REQUIRE(p->payload.size() == 4);
  CHECK(decode_v4(p->payload)->type == MessageType::solicitation);

  // Without options: no Router Alert.
  Bytes plain{0x45, 0, 0, 24, 0,   0, 0, 0, 1,    2, 0,    0,
              10,   0, 0, 1,  224, 0, 0, 2, 0x31, 0, 0xce, 0xff};
  auto q = parse_ipv4(plain);
  REQUIRE(q);
  CHECK_FALSE(q->router_alert);
  CHECK(q->payload.size() == 4);

  CHECK_FALSE(parse_ipv4(Bytes{0x45, 0, 0}));  // short
  CHECK_FALSE(parse_ipv4(Bytes(20, 0x60)));    // version 6
}

TEST_CASE("schedule: three initial advertisements at most 2 s apart") {
  AdvertSchedule s(20);
  CHECK(s.start(high) == 2000);
  CHECK(s.start(low) == 0);
  CHECK(s.in_initial_burst());
  CHECK(s.after_advertisement(high) == 2000);  // after the 1st
  CHECK(s.after_advertisement(high) == 2000);  // after the 2nd
  CHECK(s.sent() == 2);
  // After the 3rd the steady interval begins.
  CHECK(s.after_advertisement(low) == 20000 - 500);
  CHECK_FALSE(s.in_initial_burst());
}

TEST_CASE("schedule: steady interval with +-2.5 % jitter, for every interval") {
  for (unsigned interval : {kMinInterval, 20u, 33u, kMaxInterval}) {
    CAPTURE(interval);
    AdvertSchedule s(interval);
    (void)s.start(low);
    for (unsigned i = 0; i < kMaxInitialAdvertisements; ++i)
      (void)s.after_advertisement(low);
    uint64_t base = uint64_t{interval} * 1000;
    uint64_t jitter = base / 40;  // 0.025 * interval
    CHECK(s.jitter_ms() == jitter);
    CHECK(s.after_advertisement(low) == base - jitter);
    CHECK(s.after_advertisement(high) == base + jitter);
    CHECK(s.after_advertisement([](uint64_t lo, uint64_t hi) { return (lo + hi) / 2; }) == base);
  }
}

TEST_CASE("schedule: start() after a link flap restarts the burst") {
  AdvertSchedule s(4);
  (void)s.start(low);
  for (int i = 0; i < 5; ++i)
    (void)s.after_advertisement(low);
  CHECK_FALSE(s.in_initial_burst());
  CHECK(s.start(high) == kMaxInitialAdvertIntervalMs);
  CHECK(s.in_initial_burst());
  CHECK(s.after_advertisement(high) == 2000);
}

TEST_CASE("schedule: the random source is asked for the documented ranges") {
  std::vector<std::pair<uint64_t, uint64_t>> asked;
  Random spy = [&](uint64_t lo, uint64_t hi) {
    asked.emplace_back(lo, hi);
    return lo;
  };
  AdvertSchedule s(4);
  (void)s.start(spy);
  for (int i = 0; i < 4; ++i)
    (void)s.after_advertisement(spy);
  using P = std::pair<uint64_t, uint64_t>;
  CHECK(asked == std::vector<P>{{0, 2000}, {0, 2000}, {0, 2000}, {0, 200}, {0, 200}});
}

TEST_CASE("answers to solicitations: at most MaxMessageRate per second") {
  AnswerLimiter limit;
  CHECK(limit.allow(1000));
  CHECK_FALSE(limit.allow(1000));
  CHECK_FALSE(limit.allow(1099));
  CHECK(limit.allow(1100));
  // A flood of one solicitation per ms gets ten answers a second.
  AnswerLimiter flood;
  int answered = 0;
  for (uint64_t t = 0; t < 1000; ++t)
    answered += flood.allow(t) ? 1 : 0;
  CHECK(answered == kMaxMessageRate);
}
