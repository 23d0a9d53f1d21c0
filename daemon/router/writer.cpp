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
  if (!observer_ || !observer_->watching())
    return core::apply(core::Writers{kernel_, membership_}, installed_, plan);
  std::vector<char> existed(plan.ops.size(), 0);
  for (size_t i = 0; i < plan.ops.size(); ++i)
    if (plan.ops[i].kind == core::Op::Kind::add_mfc)
      existed[i] = installed_.mfc.find(plan.ops[i].mfc.key) != installed_.mfc.end();
  auto failures = core::apply(core::Writers{kernel_, membership_}, installed_, plan);
  observer_->written(plan, existed, failures);
  return failures;
}

void Writer::forget_vifs_of(int ifindex) {
  installed_.forget_vifs_of(ifindex);
}

}  // namespace mfcd::router
