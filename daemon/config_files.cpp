// Reads config files and expands include globs for the pure parser.
#include "config_files.hpp"

#include <glob.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace mfcd {

core::FileSystem real_file_system() {
  core::FileSystem fs;
  fs.read = [](const std::string& path) -> core::Result<std::string> {
    std::ifstream in(path, std::ios::binary);
    if (!in) return core::make_error(core::Errc::config, std::strerror(errno), errno);
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad()) return core::make_error(core::Errc::config, std::strerror(errno), errno);
    return text.str();
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

core::ParseResult load_config_file(const std::string& path) {
  return core::parse_config_file(path, real_file_system());
}

}  // namespace mfcd
