// Reads config files and expands include globs for the pure parser. The
// parser bounds a load (core/config.hpp); this file makes sure a read
// cannot run past the bytes the load has left, nor block on something that
// is not a file.
#include "service/config_files.hpp"

#include "service/access_groups.hpp"

#include <fcntl.h>
#include <glob.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>

namespace mfcd {

namespace {

// What a file that is not a regular one is, for the error.
const char* kind_of(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  return "not a file";
}

core::Error not_regular(mode_t mode) {
  return core::make_error(core::Errc::config,
                          std::string("not a regular file (") + kind_of(mode) + ")");
}

// Closes the descriptor on every way out.
struct Fd {
  int fd;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

core::Result<std::string> read_config_file(const std::string& path, size_t max_bytes) {
  // Only a regular file is a config: /dev/zero or a FIFO never ends, a
  // directory or a socket is no text. The check is on the opened
  // descriptor, so that what is checked is what is read. O_NONBLOCK makes
  // the open of a FIFO with no writer return at once instead of blocking
  // the loop; O_NOCTTY keeps a terminal from becoming the daemon's.
  Fd file{::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)};
  if (file.fd < 0) {
    const int err = errno;
    // A socket cannot be opened at all (ENXIO, "No such device or
    // address"): say what it is instead.
    struct stat st {};
    if (err == ENXIO && ::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode))
      return not_regular(st.st_mode);
    return core::make_error(core::Errc::config, std::strerror(err), err);
  }
  struct stat st {};
  if (::fstat(file.fd, &st) != 0) {
    const int err = errno;
    return core::make_error(core::Errc::config, std::strerror(err), err);
  }
  if (!S_ISREG(st.st_mode)) return not_regular(st.st_mode);
  // One buffer and as few reads as the file needs: a stream would copy a
  // big config several times over while growing, and each fresh page of
  // those copies costs a page fault before the first route reaches the
  // kernel. At most max_bytes + 1 bytes, however big the file says it is or
  // grows while read: one byte past the bound is what tells the parser the
  // file is over it.
  const size_t cap = max_bytes < SIZE_MAX ? max_bytes + 1 : max_bytes;
  const size_t size = static_cast<size_t>(std::max<off_t>(st.st_size, 0));
  // One byte more than the file, so that the read seeing the end finds
  // room and the buffer never has to grow (and be copied) for it.
  std::string text(std::min(size + 1, cap), '\0');
  size_t used = 0;
  while (used < cap) {
    if (used == text.size()) text.resize(std::min(std::max<size_t>(4096, 2 * text.size()), cap));
    const ssize_t n = ::read(file.fd, text.data() + used, text.size() - used);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      return core::make_error(core::Errc::config, std::strerror(err), err);
    }
    if (n == 0) break;
    used += static_cast<size_t>(n);
  }
  text.resize(used);
  return text;
}

core::FileSystem real_file_system() {
  core::FileSystem fs;
  fs.read = read_config_file;
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
  auto parsed = core::parse_config_file(path, real_file_system(), options);
  check_config_groups(parsed.config, lookup_group, parsed.diagnostics);
  return parsed;
}

}  // namespace mfcd
