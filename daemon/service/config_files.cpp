// Reads config files and expands include globs for the pure parser.
#include "service/config_files.hpp"

#include <fcntl.h>
#include <glob.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace mfcd {

core::FileSystem real_file_system() {
  core::FileSystem fs;
  fs.read = [](const std::string& path) -> core::Result<std::string> {
    // One buffer of the file's size and one read: a stream would copy a big
    // config several times over while growing, and each fresh page of those
    // copies costs a page fault before the first route reaches the kernel.
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return core::make_error(core::Errc::config, std::strerror(errno), errno);
    struct stat st {};
    std::string text;
    // One byte more than the file, so that the read seeing the end finds
    // room and the buffer never has to grow (and be copied) for it.
    if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0)
      text.resize(static_cast<size_t>(st.st_size) + 1);
    size_t used = 0;
    for (;;) {
      if (used == text.size()) text.resize(std::max<size_t>(4096, 2 * text.size()));
      const ssize_t n = ::read(fd, text.data() + used, text.size() - used);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        const int err = errno;
        ::close(fd);
        return core::make_error(core::Errc::config, std::strerror(err), err);
      }
      if (n == 0) break;
      used += static_cast<size_t>(n);
    }
    ::close(fd);
    text.resize(used);
    return text;
  };
  fs.glob = [](const std::string& pattern) {
    std::vector<std::string> paths;
    glob_t g{};
    if (::glob(pattern.c_str(), GLOB_NOSORT, nullptr, &g) == 0) {
      for (size_t i = 0; i < g.gl_pathc; ++i)
        paths.emplace_back(g.gl_pathv[i]);
    }
    globfree(&g);
    return paths;
  };
  return fs;
}

core::ParseResult load_config_file(const std::string& path, const core::ParseOptions& options) {
  return core::parse_config_file(path, real_file_system(), options);
}

}  // namespace mfcd
