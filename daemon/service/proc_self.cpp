// See proc_self.hpp.
#include "service/proc_self.hpp"

#include <dirent.h>

#include <fstream>
#include <sstream>
#include <string>

namespace mfcd {

std::optional<uint64_t> resident_bytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) != 0) continue;
    std::istringstream fields(line.substr(6));
    uint64_t kib = 0;
    std::string unit;
    if (fields >> kib >> unit && unit == "kB") return kib * 1024;
    return std::nullopt;
  }
  return std::nullopt;
}

std::optional<uint64_t> open_fd_count() {
  DIR* dir = ::opendir("/proc/self/fd");
  if (!dir) return std::nullopt;
  uint64_t n = 0;
  while (const dirent* e = ::readdir(dir))
    n += e->d_name[0] == '.' ? 0 : 1;
  ::closedir(dir);
  return n > 0 ? n - 1 : 0;  // opendir's own descriptor is among them
}

}  // namespace mfcd
