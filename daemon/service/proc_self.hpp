// The process's own figures for the metrics, read from /proc (procfs
// answers from memory: nothing here waits on a disk).
#pragma once

#include <cstdint>
#include <optional>

namespace mfcd {

// VmRSS of /proc/self/status, in bytes; nullopt if it cannot be read.
std::optional<uint64_t> resident_bytes();
// The entries of /proc/self/fd, less the one reading it.
std::optional<uint64_t> open_fd_count();

}  // namespace mfcd
