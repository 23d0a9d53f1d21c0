// The one writer of kernel state. Every change mfcd makes to the kernel
// (start-up, the quick start, API calls, reloads, upcall installs, expiry,
// flush, group memberships, teardown) is a core::Plan run here, so there is
// one place that talks to the ports for writing and one record of what the
// kernel holds (core::Installed). Each failure names the op that failed.
#pragma once

#include <vector>

#include "core/plan.hpp"
#include "core/ports.hpp"

namespace mfcd::router {

// Hears of every plan the Writer ran, op by op, while it is watching (the
// router's events): `existed[i]` tells whether op i's entry was in the
// kernel before the plan (add_mfc: changed rather than installed).
class WriteObserver {
 public:
  virtual ~WriteObserver() = default;
  virtual bool watching() const = 0;
  virtual void written(const core::Plan& plan, const std::vector<char>& existed,
                       const std::vector<core::Failure>& failures) = 0;
};

class Writer {
 public:
  Writer(core::KernelPort& kernel, core::MembershipPort& membership)
      : kernel_(kernel), membership_(membership) {}

  // Runs every op (core::apply), logging each one at debug level. Returns
  // the ops that failed.
  std::vector<core::Failure> write(const core::Plan& plan);

  const core::Installed& installed() const { return installed_; }
  const core::KernelPort& kernel() const { return kernel_; }
  const core::MembershipPort& membership() const { return membership_; }

  // The kernel removed an interface's VIFs by itself (the interface was
  // unregistered): forget them, so that nothing deletes them again or
  // counts them as used.
  void forget_vifs_of(int ifindex);

  void set_observer(WriteObserver* observer) { observer_ = observer; }

 private:
  core::KernelPort& kernel_;
  core::MembershipPort& membership_;
  core::Installed installed_;
  WriteObserver* observer_ = nullptr;
};

}  // namespace mfcd::router
