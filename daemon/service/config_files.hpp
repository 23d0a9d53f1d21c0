// The real file system behind the pure config parser: reading files and
// expanding include globs are the only I/O the parser needs.
#pragma once

#include "core/config.hpp"

namespace mfcd {

core::FileSystem real_file_system();

// Parse the config file at `path` with the real file system.
core::ParseResult load_config_file(const std::string& path, const core::ParseOptions& options = {});

}  // namespace mfcd
