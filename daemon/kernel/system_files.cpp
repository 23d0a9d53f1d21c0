// Reading a /proc or /sys file: they report a size of 0 or 4096 whatever
// they hold, so read until end of file rather than trusting stat().
#include "kernel/system_files.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace mfcd::kernel {

std::optional<std::string> ProcFiles::read(const std::string& path) const {
  constexpr size_t kLimit = size_t{64} << 20;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::string text;
  char buf[8192];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::close(fd);
      return std::nullopt;
    }
    if (n == 0 || text.size() >= kLimit) break;
    text.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return text;
}

}  // namespace mfcd::kernel
