// The kernel's upcalls, as mfcd reads them off the mroute sockets: the
// first byte chooses IPv4 (struct igmpmsg) or IPv6 (struct mrt6msg), the
// rest is the message. What the parser accepts goes to a Router over the
// fakes, which must stay consistent with the fake kernel.
#include <cstddef>
#include <cstdint>
#include <span>

#include "fuzz_router.hpp"
#include "kernel/mroute.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace mfcd;
  if (size < 1) return 0;
  const bool v6 = data[0] & 1;
  const auto upcall = v6 ? kernel::parse_upcall_v6(data + 1, size - 1)
                         : kernel::parse_upcall_v4(data + 1, size - 1);
  if (!upcall) return 0;
  fuzz::FuzzRouter r;
  r.router.on_upcalls(std::span<const core::Upcall>(&*upcall, 1));
  r.router.on_upcalls(std::span<const core::Upcall>(&*upcall, 1));  // a repeat changes nothing
  r.check_consistent();
  return 0;
}
