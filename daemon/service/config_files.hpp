// The real file system behind the pure config parser: reading files and
// expanding include globs are the only I/O the parser needs.
#pragma once

#include "core/config.hpp"

namespace mfcd {

core::FileSystem real_file_system();

// The real FileSystem::read: a regular file's contents, at most
// max_bytes + 1 of them. Anything else (a directory, a FIFO, a socket, a
// device) is an error saying what it is, found without blocking.
core::Result<std::string> read_config_file(const std::string& path, size_t max_bytes);

// Parse the config file at `path` with the real file system.
core::ParseResult load_config_file(const std::string& path, const core::ParseOptions& options = {});

}  // namespace mfcd
