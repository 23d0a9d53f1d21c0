// core::SystemFiles on the real file system: one open and read per call.
#pragma once

#include "core/ports.hpp"

namespace mfcd::kernel {

class ProcFiles final : public core::SystemFiles {
 public:
  // At most 64 MiB, so that a runaway file cannot take the daemon's memory
  // (/proc/net/ip_mr_cache with 100,000 entries is about 10 MB).
  std::optional<std::string> read(const std::string& path) const override;
};

}  // namespace mfcd::kernel
