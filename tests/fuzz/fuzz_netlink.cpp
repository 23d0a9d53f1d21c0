// Link notifications, as one datagram from the rtnetlink socket: the
// parser's events go to a Router over the fakes (interfaces appearing,
// changing and going), which must stay consistent with the fake kernel.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "fuzz_router.hpp"
#include "kernel/netlink.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace mfcd;
  std::vector<core::LinkEvent> events;
  kernel::parse_link_events(data, size, events);
  if (events.empty()) return 0;
  fuzz::FuzzRouter r;
  // The kernel's side of each removal: the device with that ifindex goes,
  // and its VIFs with it (a removal of an unknown ifindex is news of
  // nothing the kernel holds).
  for (const auto& e : events) {
    if (e.kind != core::LinkEvent::Kind::removed) continue;
    for (auto it = r.links.begin(); it != r.links.end(); ++it) {
      if (it->ifindex != e.link.ifindex) continue;
      r.kernel.device_gone(it->name);
      r.links.erase(it);
      break;
    }
  }
  r.router.on_link_events(events);
  r.check_consistent();
  return 0;
}
