// See writer.hpp. Formatting an op costs about as much as planning it, so
// the debug lines are built only when debug logging is on.
#include "router/writer.hpp"

#include <spdlog/spdlog.h>

namespace mfcd::router {

std::vector<core::Failure> Writer::write(const core::Plan& plan) {
  if (plan.ops.empty()) return {};
  if (spdlog::should_log(spdlog::level::debug)) {
    for (const auto& op : plan.ops)
      spdlog::debug("kernel: {}", op.str());
  }
  return core::apply(core::Writers{kernel_, membership_}, installed_, plan);
}

void Writer::forget_vifs_of(int ifindex) {
  // Only the VIFs: the kernel keeps their TTLs in the entries (docs/kernel.md),
  // and so do the records, so that the next plan rewrites every entry that
  // still names one and no VIF given that index later inherits its traffic.
  for (auto& family_vifs : installed_.vifs)
    for (auto& vif : family_vifs)
      if (vif && vif->ifindex == ifindex) vif.reset();
}

}  // namespace mfcd::router
