// The parsed configuration: what the smcroute.conf grammar says, nothing
// resolved yet (interfaces are names, wildcards are kept as written). The
// parser is pure: file access goes through a FileSystem the caller provides,
// so it is unit-tested on in-memory files and the daemon passes the real one.
#pragma once

#include <cstring>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/addr.hpp"
#include "core/metrics.hpp"
#include "core/result.hpp"

namespace mfcd::core {

// A file name, stored once and shared by every position in that file. A
// config of 50,000 routes names its file 50,000 times; a copy per route is
// fresh heap that the first kernel write waits for (page faults), and the
// intent would copy each one again.
class FileName {
 public:
  FileName() = default;
  FileName(std::string name)  // NOLINT: implicit, it stands for a string
      : name_(std::make_shared<const std::string>(std::move(name))) {}
  FileName(const char* name) : FileName(std::string(name)) {}  // NOLINT: as above

  const std::string& str() const { return name_ ? *name_ : empty(); }
  operator const std::string&() const { return str(); }  // NOLINT: as above

  friend bool operator==(const FileName& a, const FileName& b) {
    return a.name_ == b.name_ || a.str() == b.str();
  }
  friend bool operator==(const FileName& a, std::string_view b) { return a.str() == b; }
  friend bool operator==(const FileName& a, const std::string& b) { return a.str() == b; }
  friend bool operator==(const FileName& a, const char* b) { return a.str() == b; }

 private:
  static const std::string& empty();
  std::shared_ptr<const std::string> name_;
};

// Interface names in the order written, kept as one string with a space
// between names (which an interface name cannot hold). A route names a few
// short interfaces: they then fit in the string itself, where a vector of
// strings costs two allocations and about 80 bytes of fresh heap per route.
class NameList {
 public:
  class iterator {
   public:
    using value_type = std::string_view;
    using difference_type = std::ptrdiff_t;
    using iterator_category = std::forward_iterator_tag;
    iterator() = default;
    iterator(const char* at, const char* end) : at_(at), end_(end) {}
    std::string_view operator*() const { return {at_, static_cast<size_t>(next_space() - at_)}; }
    iterator& operator++() {
      const char* space = next_space();
      at_ = space == end_ ? end_ : space + 1;
      return *this;
    }
    iterator operator++(int) {
      iterator before = *this;
      ++*this;
      return before;
    }
    bool operator==(const iterator& o) const { return at_ == o.at_; }

   private:
    const char* next_space() const {
      const void* space = std::memchr(at_, ' ', static_cast<size_t>(end_ - at_));
      return space ? static_cast<const char*>(space) : end_;
    }
    const char* at_ = nullptr;
    const char* end_ = nullptr;
  };

  NameList() = default;
  NameList(std::initializer_list<std::string_view> names);

  // `name`: not empty, no space.
  void push_back(std::string_view name);
  bool empty() const { return text_.empty(); }
  size_t size() const;
  iterator begin() const { return {text_.data(), text_.data() + text_.size()}; }
  iterator end() const { return {text_.data() + text_.size(), text_.data() + text_.size()}; }
  std::string_view front() const { return *begin(); }
  std::string_view back() const;
  std::vector<std::string> to_vector() const;

  bool operator==(const NameList&) const = default;
  friend bool operator==(const NameList& a, const std::vector<std::string>& b);

 private:
  std::string text_;
};

// Where a token came from. line and column are 1-based; column counts bytes.
struct SourcePos {
  FileName file;
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
  NameList oifs;  // in the order written, no duplicates
  SourcePos pos;
};

// mgroup from IIF [source S[/LEN]] group G[/LEN]   (ssmgroup: source required)
struct JoinConf {
  std::string iif;
  std::optional<Prefix> source;
  Prefix group;
  SourcePos pos;
};

// metrics-listen ADDR:PORT: the daemon-wide HTTP metrics listener.
struct MetricsListenConf {
  ListenAddress address;
  SourcePos pos;
};

// socket-group GROUP / admin-group GROUP: a group name or a numeric GID,
// as written. Whether it exists is the service's to find out (the group
// database is I/O); it reports an unknown one at `pos`.
struct AccessGroupConf {
  std::string group;
  SourcePos pos;  // the GROUP token
};

struct Config {
  std::optional<AccessGroupConf> socket_group;      // the control socket's group (readers)
  std::optional<AccessGroupConf> admin_group;       // whose members may also write
  std::optional<MetricsListenConf> metrics_listen;  // the last line counts; none: off
  std::vector<PhyintConf> phyints;
  std::vector<RouteConf> routes;
  std::vector<JoinConf> joins;
  std::vector<std::string> files;  // every file read, main first, in read order
};

// The bounds of one load: a start, a reload or a check reads the main file
// and everything it includes. No real config comes near them (the largest
// ones measured are a few MB, one line per route, mfcd.conf(5) LIMITS);
// they keep a broken or hostile file from taking the daemon's memory or
// holding its loop. Passing one is an error at the position where it is
// passed, under either name: a load that was cut short is never applied.
inline constexpr size_t kMaxLoadBytes = size_t{64} << 20;  // all files of a load together
inline constexpr size_t kMaxLineBytes = size_t{64} << 10;  // one line, its '\n' not counted
inline constexpr size_t kMaxLoadFiles = 1024;              // files a load reads
// Files open inside one another: a backstop behind loop detection, since
// symlinks can make one file reachable under ever-longer names that lexical
// normalisation cannot unify.
inline constexpr size_t kMaxIncludeDepth = 32;
// Diagnostics a load lists; the rest are counted in one last line, so that
// a file of a million bad lines does not become a million messages.
inline constexpr size_t kMaxDiagnostics = 1000;

// What the parser needs from the outside world.
struct FileSystem {
  // The contents of a regular file, or an error message ("No such file or
  // directory", "not a regular file (a FIFO)"). Reads at most max_bytes + 1
  // bytes: a result longer than max_bytes tells the parser that the file
  // is over what the load has left, without reading the rest of it.
  std::function<Result<std::string>(const std::string& path, size_t max_bytes)> read;
  // Paths matching a glob pattern (unsorted is fine; the parser sorts).
  std::function<std::vector<std::string>(const std::string& pattern)> glob;
};

struct ParseResult {
  Config config;
  std::vector<Diagnostic> diagnostics;  // errors and warnings, in file order
  bool ok() const;                      // no diagnostic with warning == false
};

// How forgiving the parser is. The default is mfcd's own: every mistake is
// an error, and a file with errors is refused as a whole. SMCRoute reads
// the same files more loosely, and scripts written for it rely on that
// (compat.md); under the smcrouted name the daemon reads them its way,
// and each thing forgiven is still reported, as a warning at its position.
struct ParseOptions {
  // A /LEN with host bits set ("225.1.2.40/24") is read as its prefix
  // (225.1.2.0/24), with a warning.
  bool mask_host_bits = false;
  // A line with an error is left out, and its errors become warnings
  // ending in "; line skipped". An include line whose file cannot be read
  // is such a line. A phyint line with its name keeps what it can instead:
  // an unknown option or a bad ttl-threshold is ignored, and of enable and
  // disable the later counts, each with a warning.
  bool skip_bad_lines = false;
  // A main file that cannot be read is an empty file, with a warning.
  bool unreadable_file_ok = false;

  // smcrouted's start-up and reload: all of the above.
  static ParseOptions smcroute() { return {true, true, true}; }
  // smcrouted -F: host bits forgiven, but any bad line or a missing file
  // still fails the check, as SMCRoute's -F does.
  static ParseOptions smcroute_check() { return {true, false, false}; }
};

// Parse `path` and everything it includes. Reports every error, not only the
// first (up to kMaxDiagnostics); a line with an error contributes nothing to
// the config. Each file is read once per load: an include of a file already
// read is a warning and reads nothing, so no include graph costs more than
// its files; an include of a file still being read is a loop, an error.
ParseResult parse_config_file(const std::string& path, const FileSystem& fs,
                              const ParseOptions& options = {});
// Parse text given directly (the embedded demo config, unit tests). `name` is
// used in positions; includes still go through `fs`.
ParseResult parse_config_text(const std::string& name, const std::string& text,
                              const FileSystem& fs, const ParseOptions& options = {});

// Interface wildcard: "eth+" matches every name starting with "eth".
bool is_wildcard(std::string_view ifname);
bool ifname_matches(const std::string& pattern, const std::string& ifname);

// Which phyint line applies to an interface: core/phyint.hpp.

}  // namespace mfcd::core
