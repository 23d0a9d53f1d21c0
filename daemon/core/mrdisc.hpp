// Multicast Router Discovery (RFC 4286), the pure part: the three messages
// of both families as bytes, their checksums, and when to send them. The
// daemon's Mrdisc owns the sockets and timers and asks this file what to put
// on the wire and how long to wait; nothing here does I/O or reads a clock.
//
// Wire formats (RFC 4286 sections 3.2, 4.1, 5.1), IGMP type / ICMPv6 type:
//   Advertisement  0x30 / 151: type, interval (s), checksum, query interval
//                  (16 bit), robustness variable (16 bit)      -> 8 bytes
//   Solicitation   0x31 / 152: type, reserved, checksum         -> 4 bytes
//   Termination    0x32 / 153: type, reserved, checksum         -> 4 bytes
// Advertisements and Terminations go to the all-snoopers group (224.0.0.106,
// ff02::6a), Solicitations to all-routers (224.0.0.2, ff02::2); all with
// TTL / hop limit 1 and the Router Alert option.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <vector>

#include "core/addr.hpp"

namespace mfcd::core::mrdisc {

enum class MessageType : uint8_t { advertisement, solicitation, termination };

// IGMP types (IPv4) and ICMPv6 types (IPv6) of the three messages.
constexpr uint8_t kIgmpAdvertisement = 0x30;
constexpr uint8_t kIgmpSolicitation = 0x31;
constexpr uint8_t kIgmpTermination = 0x32;
constexpr uint8_t kIcmp6Advertisement = 151;
constexpr uint8_t kIcmp6Solicitation = 152;
constexpr uint8_t kIcmp6Termination = 153;

constexpr uint8_t kIpProtoIcmp6 = 58;

// RFC 4286 section 3.1's protocol constants and defaults.
constexpr unsigned kDefaultInterval = 20;  // AdvertisementInterval, s
constexpr unsigned kMinInterval = 4;       // its range: 4..180 s
constexpr unsigned kMaxInterval = 180;
constexpr uint64_t kMaxInitialAdvertIntervalMs = 2000;  // MaxInitialAdvertisementInterval
constexpr unsigned kMaxInitialAdvertisements = 3;       // MaxInitialAdvertisements
constexpr unsigned kMaxMessageRate = 10;                // MaxMessageRate, messages per s
// AdvertisementJitter is 0.025 * AdvertisementInterval: 25 ms per second.
constexpr uint64_t kJitterMsPerSecond = 25;

// Group addresses.
Addr all_snoopers(Family family);  // 224.0.0.106 / ff02::6a
Addr all_routers(Family family);   // 224.0.0.2 / ff02::2

uint8_t type_code(Family family, MessageType type);
std::optional<MessageType> message_type(Family family, uint8_t code);
const char* type_name(MessageType type);  // "advertisement", ...

// What an Advertisement carries besides its type. mfcd runs no IGMP/MLD
// querier, so query interval and robustness are 0 as the RFC asks then.
struct AdvertFields {
  uint8_t interval = kDefaultInterval;  // seconds
  uint16_t query_interval = 0;
  uint16_t robustness = 0;
};

// The Internet checksum (RFC 1071) of `data`, continuing from `sum` (a
// partial 32-bit sum of pseudo-header words). Returns the one's complement
// ready to store, in host order.
uint16_t inet_checksum(std::span<const uint8_t> data, uint32_t sum = 0);
// The IPv6 pseudo-header's partial sum (RFC 8200 section 8.1) for an ICMPv6
// message of `length` bytes from `source` to `dest`.
uint32_t pseudo_header_sum(const Addr& source, const Addr& dest, uint32_t length);

// The message as it goes after the IP header. IPv4: IGMP checksum over the
// message. IPv6: ICMPv6 checksum including the pseudo-header, which is why
// source and destination are needed (the kernel recomputes it on raw ICMPv6
// sockets anyway; computing it here keeps the bytes testable).
std::vector<uint8_t> encode_v4(MessageType type, const AdvertFields& fields = {});
std::vector<uint8_t> encode_v6(MessageType type, const Addr& source, const Addr& dest,
                               const AdvertFields& fields = {});

struct Message {
  MessageType type = MessageType::advertisement;
  AdvertFields fields;  // meaningful for advertisements only
};

// Decodes one message; nullopt if it is too short for its type, not one of
// the three types, or its checksum is wrong. IPv6 needs the addresses for the
// pseudo-header.
std::optional<Message> decode_v4(std::span<const uint8_t> data);
std::optional<Message> decode_v6(std::span<const uint8_t> data, const Addr& source,
                                 const Addr& dest);

// An IPv4 packet as a raw IGMP socket delivers it: the header fields the
// receiver checks, and where the IGMP message starts.
struct Ipv4Packet {
  Addr source, dest;
  uint8_t ttl = 0;
  bool router_alert = false;
  std::span<const uint8_t> payload;
};
std::optional<Ipv4Packet> parse_ipv4(std::span<const uint8_t> packet);

// Random draws: a uniform integer in [lo, hi]. Injected so that the schedule
// is deterministic under test.
using Random = std::function<uint64_t(uint64_t lo, uint64_t hi)>;

// When the unsolicited Advertisements of one interface go out. After start()
// (startup, mrdisc switched on, the link came up) the first
// kMaxInitialAdvertisements come at random delays of at most
// kMaxInitialAdvertIntervalMs each, so a snooping switch learns of the router
// quickly even if one is lost; after that one every interval, jittered by up
// to +-2.5 % so that routers started together drift apart.
class AdvertSchedule {
 public:
  explicit AdvertSchedule(unsigned interval_sec) : interval_sec_(interval_sec) {}

  // Delay in ms to the first Advertisement; restarts the initial burst.
  uint64_t start(const Random& random);
  // One unsolicited Advertisement just went out: delay in ms to the next.
  uint64_t after_advertisement(const Random& random);

  unsigned interval() const { return interval_sec_; }
  unsigned sent() const { return sent_; }  // unsolicited ones since start()
  bool in_initial_burst() const { return sent_ < kMaxInitialAdvertisements; }
  uint64_t jitter_ms() const { return interval_sec_ * kJitterMsPerSecond; }

 private:
  unsigned interval_sec_;
  unsigned sent_ = 0;
};

// Answers to Solicitations are limited to kMaxMessageRate per second per
// interface and family: a burst of Solicitations (or a hostile neighbour)
// gets at most one Advertisement per 100 ms; the rest are dropped, since one
// answer serves every solicitor on the link.
class AnswerLimiter {
 public:
  // True if an answer may go out at `now_ms` (and records it).
  bool allow(uint64_t now_ms);

 private:
  std::optional<uint64_t> last_ms_;
};

}  // namespace mfcd::core::mrdisc
