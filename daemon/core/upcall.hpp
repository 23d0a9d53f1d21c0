// One message from the kernel's forwarding path, as a plain value: a packet
// arrived for an (S,G) the kernel has no entry for (nocache), or on a VIF
// that is not the entry's inbound one (wrongvif). kernel/ parses them off
// the mroute sockets; the router decides what they mean.
#pragma once

#include "core/addr.hpp"
#include "core/ports.hpp"

namespace mfcd::core {

enum class UpcallType { nocache, wrongvif, wholepkt };

struct Upcall {
  Family family = Family::v4;
  UpcallType type = UpcallType::nocache;
  VifIndex vif = 0;
  Addr source, group;
};

}  // namespace mfcd::core
