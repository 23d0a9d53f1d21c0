// Parsing what the kernel's forwarding path tells the routing daemon.
//
// An IPv4 upcall is a struct igmpmsg laid over an IP header and read from the
// raw IGMP socket, which also delivers real IGMP packets. The two are told
// apart by byte 9: the protocol field of a real packet (2 for IGMP), always 0
// (im_mbz) in an upcall. An IPv6 upcall is a struct mrt6msg read from the raw
// ICMPv6 socket, which delivers payloads without the IPv6 header; its first
// byte is 0 where a real ICMPv6 message has its (never zero) type. The parsers
// work on plain bytes so that the unit tests can feed them hand-made messages;
// the static_asserts tie the offsets used here to the kernel's structures.
#include <cstddef>
#include <cstring>

#include "kernel/linux_mroute.hpp"
#include "kernel/mroute.hpp"

namespace mfcd::kernel {
namespace {

static_assert(offsetof(struct igmpmsg, im_msgtype) == 8);
static_assert(offsetof(struct igmpmsg, im_mbz) == 9);
static_assert(offsetof(struct igmpmsg, im_vif) == 10);
static_assert(offsetof(struct igmpmsg, im_vif_hi) == 11);
static_assert(offsetof(struct igmpmsg, im_src) == 12);
static_assert(offsetof(struct igmpmsg, im_dst) == 16);
static_assert(sizeof(struct igmpmsg) == 20);

static_assert(offsetof(struct mrt6msg, im6_mbz) == 0);
static_assert(offsetof(struct mrt6msg, im6_msgtype) == 1);
static_assert(offsetof(struct mrt6msg, im6_mif) == 2);
static_assert(offsetof(struct mrt6msg, im6_src) == 8);
static_assert(offsetof(struct mrt6msg, im6_dst) == 24);
static_assert(sizeof(struct mrt6msg) == 40);

// IGMPMSG_* and MRT6MSG_* share their values for the types mfcd knows.
// WRVIFWHOLE (4) comes only when MRT_PIM is set to 4; mfcd sets it to 1.
std::optional<UpcallType> upcall_type(uint8_t raw) {
  switch (raw) {
    case IGMPMSG_NOCACHE:
      return UpcallType::nocache;
    case IGMPMSG_WRONGVIF:
      return UpcallType::wrongvif;
    case IGMPMSG_WHOLEPKT:
      return UpcallType::wholepkt;
    default:
      return std::nullopt;
  }
}

core::Addr addr_from(core::Family family, const uint8_t* bytes) {
  core::Addr a;
  a.family = family;
  std::memcpy(a.bytes.data(), bytes, family == core::Family::v4 ? 4 : 16);
  return a;
}

}  // namespace

std::optional<Upcall> parse_upcall_v4(const uint8_t* data, size_t len) {
  if (data == nullptr || len < sizeof(struct igmpmsg)) return std::nullopt;
  if (data[offsetof(struct igmpmsg, im_mbz)] != 0) return std::nullopt;  // a real packet
  auto type = upcall_type(data[offsetof(struct igmpmsg, im_msgtype)]);
  if (!type) return std::nullopt;
  Upcall up;
  up.family = core::Family::v4;
  up.type = *type;
  // im_vif_hi carries bits 8..15 on kernels that allow more VIFs; older
  // kernels left that byte unused and zero.
  up.vif =
      data[offsetof(struct igmpmsg, im_vif)] | (data[offsetof(struct igmpmsg, im_vif_hi)] << 8);
  up.source = addr_from(core::Family::v4, data + offsetof(struct igmpmsg, im_src));
  up.group = addr_from(core::Family::v4, data + offsetof(struct igmpmsg, im_dst));
  return up;
}

std::optional<Upcall> parse_upcall_v6(const uint8_t* data, size_t len) {
  if (data == nullptr || len < sizeof(struct mrt6msg)) return std::nullopt;
  if (data[offsetof(struct mrt6msg, im6_mbz)] != 0) return std::nullopt;  // a real ICMPv6 message
  auto type = upcall_type(data[offsetof(struct mrt6msg, im6_msgtype)]);
  if (!type) return std::nullopt;
  static_assert(MRT6MSG_NOCACHE == IGMPMSG_NOCACHE && MRT6MSG_WRONGMIF == IGMPMSG_WRONGVIF &&
                MRT6MSG_WHOLEPKT == IGMPMSG_WHOLEPKT);
  Upcall up;
  up.family = core::Family::v6;
  up.type = *type;
  uint16_t mif = 0;  // host byte order, written by the kernel as a plain u16
  std::memcpy(&mif, data + offsetof(struct mrt6msg, im6_mif), sizeof mif);
  up.vif = mif;
  up.source = addr_from(core::Family::v6, data + offsetof(struct mrt6msg, im6_src));
  up.group = addr_from(core::Family::v6, data + offsetof(struct mrt6msg, im6_dst));
  return up;
}

}  // namespace mfcd::kernel
