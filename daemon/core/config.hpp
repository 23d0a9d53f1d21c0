// The parsed configuration: what the smcroute.conf grammar says, nothing
// resolved yet (interfaces are names, wildcards are kept as written). The
// parser is pure: file access goes through a FileSystem the caller provides,
// so it is unit-tested on in-memory files and the daemon passes the real one.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/addr.hpp"
#include "core/result.hpp"

namespace mfcd::core {

// Where a token came from. line and column are 1-based; column counts bytes.
struct SourcePos {
  std::string file;
  int line = 0;
  int column = 0;
  std::string str() const;  // "file:line:column"
  bool operator==(const SourcePos&) const = default;
};

struct Diagnostic {
  SourcePos pos;
  std::string message;  // e.g. "expected 'group' after source address, got 'to'"
  bool warning = false;
  std::string str() const;  // "file:line:col: error: message"
};

struct PhyintConf {
  std::string ifname;  // may be a wildcard "eth+"
  bool enabled = true;
  bool mrdisc = false;
  int ttl_threshold = 1;  // 1..255
  SourcePos pos;
};

// mroute from IIF [source S[/LEN]] group G[/LEN] to OIF...
// No source (or 0.0.0.0 / ::) means a (*,G) rule.
struct RouteConf {
  std::string iif;  // may be a wildcard
  std::optional<Prefix> source;
  Prefix group;
  std::vector<std::string> oifs;  // in the order written, no duplicates
  SourcePos pos;
};

// mgroup from IIF [source S[/LEN]] group G[/LEN]   (ssmgroup: source required)
struct JoinConf {
  std::string iif;
  std::optional<Prefix> source;
  Prefix group;
  SourcePos pos;
};

struct Config {
  std::vector<PhyintConf> phyints;
  std::vector<RouteConf> routes;
  std::vector<JoinConf> joins;
  std::vector<std::string> files;  // every file read, main first, in read order
};

// What the parser needs from the outside world.
struct FileSystem {
  // Whole contents of a file, or an error message ("No such file or directory").
  std::function<Result<std::string>(const std::string& path)> read;
  // Paths matching a glob pattern (unsorted is fine; the parser sorts).
  std::function<std::vector<std::string>(const std::string& pattern)> glob;
};

struct ParseResult {
  Config config;
  std::vector<Diagnostic> diagnostics;  // errors and warnings, in file order
  bool ok() const;                      // no diagnostic with warning == false
};

// Parse `path` and everything it includes. Reports every error, not only the
// first; a line with an error contributes nothing to the config.
ParseResult parse_config_file(const std::string& path, const FileSystem& fs);
// Parse text given directly (the embedded demo config, unit tests). `name` is
// used in positions; includes still go through `fs`.
ParseResult parse_config_text(const std::string& name, const std::string& text,
                              const FileSystem& fs);

// Interface wildcard: "eth+" matches every name starting with "eth".
bool is_wildcard(const std::string& ifname);
bool ifname_matches(const std::string& pattern, const std::string& ifname);

}  // namespace mfcd::core
