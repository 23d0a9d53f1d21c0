// RFC 4286 messages and timing, without I/O. The messages are tiny and fixed
// in layout, so they are built byte by byte in network order rather than
// through the C library's struct igmp / icmp6_hdr: the bytes in the unit
// tests are then the bytes on the wire, on any host. The schedule is a small
// state machine over delays; the caller owns the clock and the timers.
#include "core/mrdisc.hpp"

namespace mfcd::core::mrdisc {

namespace {

constexpr size_t kAdvertLength = 8;
constexpr size_t kShortLength = 4;  // Solicitation, Termination

size_t length_of(MessageType type) {
  return type == MessageType::advertisement ? kAdvertLength : kShortLength;
}

void put16(std::vector<uint8_t>& out, size_t at, uint16_t v) {
  out[at] = static_cast<uint8_t>(v >> 8);
  out[at + 1] = static_cast<uint8_t>(v & 0xff);
}

uint16_t get16(std::span<const uint8_t> in, size_t at) {
  return static_cast<uint16_t>((in[at] << 8) | in[at + 1]);
}

uint32_t sum_words(std::span<const uint8_t> data, uint32_t sum) {
  size_t i = 0;
  for (; i + 1 < data.size(); i += 2)
    sum += static_cast<uint32_t>((data[i] << 8) | data[i + 1]);
  if (i < data.size()) sum += static_cast<uint32_t>(data[i] << 8);  // odd byte, zero-padded
  return sum;
}

std::vector<uint8_t> body(Family family, MessageType type, const AdvertFields& fields) {
  std::vector<uint8_t> out(length_of(type), 0);
  out[0] = type_code(family, type);
  if (type == MessageType::advertisement) {
    out[1] = fields.interval;
    put16(out, 4, fields.query_interval);
    put16(out, 6, fields.robustness);
  }
  return out;
}

std::optional<Message> decode_body(Family family, std::span<const uint8_t> data) {
  if (data.empty()) return std::nullopt;
  auto type = message_type(family, data[0]);
  if (!type || data.size() < length_of(*type)) return std::nullopt;
  Message m{*type, {}};
  if (*type == MessageType::advertisement) {
    m.fields.interval = data[1];
    m.fields.query_interval = get16(data, 4);
    m.fields.robustness = get16(data, 6);
  }
  return m;
}

}  // namespace

Addr all_snoopers(Family family) {
  return *Addr::parse(family == Family::v4 ? "224.0.0.106" : "ff02::6a");
}

Addr all_routers(Family family) {
  return *Addr::parse(family == Family::v4 ? "224.0.0.2" : "ff02::2");
}

uint8_t type_code(Family family, MessageType type) {
  bool v4 = family == Family::v4;
  switch (type) {
    case MessageType::advertisement:
      return v4 ? kIgmpAdvertisement : kIcmp6Advertisement;
    case MessageType::solicitation:
      return v4 ? kIgmpSolicitation : kIcmp6Solicitation;
    case MessageType::termination:
      return v4 ? kIgmpTermination : kIcmp6Termination;
  }
  return 0;
}

std::optional<MessageType> message_type(Family family, uint8_t code) {
  for (auto t : {MessageType::advertisement, MessageType::solicitation, MessageType::termination})
    if (type_code(family, t) == code) return t;
  return std::nullopt;
}

const char* type_name(MessageType type) {
  switch (type) {
    case MessageType::advertisement:
      return "advertisement";
    case MessageType::solicitation:
      return "solicitation";
    case MessageType::termination:
      return "termination";
  }
  return "?";
}

uint16_t inet_checksum(std::span<const uint8_t> data, uint32_t sum) {
  sum = sum_words(data, sum);
  while (sum >> 16)
    sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum & 0xffff);
}

uint32_t pseudo_header_sum(const Addr& source, const Addr& dest, uint32_t length) {
  uint32_t sum = sum_words(source.bytes, 0);
  sum = sum_words(dest.bytes, sum);
  sum += length >> 16;
  sum += length & 0xffff;
  sum += kIpProtoIcmp6;  // three zero bytes, then the next header
  return sum;
}

std::vector<uint8_t> encode_v4(MessageType type, const AdvertFields& fields) {
  auto out = body(Family::v4, type, fields);
  put16(out, 2, inet_checksum(out));
  return out;
}

std::vector<uint8_t> encode_v6(MessageType type, const Addr& source, const Addr& dest,
                               const AdvertFields& fields) {
  auto out = body(Family::v6, type, fields);
  uint32_t pseudo = pseudo_header_sum(source, dest, static_cast<uint32_t>(out.size()));
  put16(out, 2, inet_checksum(out, pseudo));
  return out;
}

std::optional<Message> decode_v4(std::span<const uint8_t> data) {
  // A correct checksum sums, with itself included, to zero.
  if (data.size() < kShortLength || inet_checksum(data) != 0) return std::nullopt;
  return decode_body(Family::v4, data);
}

std::optional<Message> decode_v6(std::span<const uint8_t> data, const Addr& source,
                                 const Addr& dest) {
  if (data.size() < kShortLength) return std::nullopt;
  uint32_t pseudo = pseudo_header_sum(source, dest, static_cast<uint32_t>(data.size()));
  if (inet_checksum(data, pseudo) != 0) return std::nullopt;
  return decode_body(Family::v6, data);
}

std::optional<Ipv4Packet> parse_ipv4(std::span<const uint8_t> packet) {
  constexpr size_t kMinHeader = 20;
  if (packet.size() < kMinHeader || (packet[0] >> 4) != 4) return std::nullopt;
  size_t header = static_cast<size_t>(packet[0] & 0x0f) * 4;
  if (header < kMinHeader || header > packet.size()) return std::nullopt;
  Ipv4Packet p;
  p.ttl = packet[8];
  p.source.family = p.dest.family = Family::v4;
  for (size_t i = 0; i < 4; ++i) {
    p.source.bytes[i] = packet[12 + i];
    p.dest.bytes[i] = packet[16 + i];
  }
  // Walk the options for Router Alert (type 148, RFC 2113).
  for (size_t i = kMinHeader; i < header;) {
    uint8_t opt = packet[i];
    if (opt == 0) break;  // end of options
    if (opt == 1) {       // no-operation
      ++i;
      continue;
    }
    if (i + 1 >= header || packet[i + 1] < 2) break;
    if (opt == 148) p.router_alert = true;
    i += packet[i + 1];
  }
  p.payload = packet.subspan(header);
  return p;
}

uint64_t AdvertSchedule::start(const Random& random) {
  sent_ = 0;
  return random(0, kMaxInitialAdvertIntervalMs);
}

uint64_t AdvertSchedule::after_advertisement(const Random& random) {
  ++sent_;
  if (in_initial_burst()) return random(0, kMaxInitialAdvertIntervalMs);
  uint64_t base = uint64_t{interval_sec_} * 1000;
  uint64_t jitter = jitter_ms();
  return base - jitter + random(0, 2 * jitter);
}

bool AnswerLimiter::allow(uint64_t now_ms) {
  constexpr uint64_t kSpacingMs = 1000 / kMaxMessageRate;
  if (last_ms_ && now_ms < *last_ms_ + kSpacingMs) return false;
  last_ms_ = now_ms;
  return true;
}

}  // namespace mfcd::core::mrdisc
