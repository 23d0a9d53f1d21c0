// Command-line options of the daemon. The flags are SMCRoute's (smcrouted),
// so init scripts keep working; the long options are mfcd's own. The program
// name decides the defaults: as `smcrouted` the identity is "smcroute" and
// the paths are SMCRoute's, as `mfcd` they are ours.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/metrics.hpp"

namespace mfcd {

enum class LogLevel { none, err, notice, info, debug };

struct Options {
  std::string program = "mfcd";           // argv[0] basename
  bool smcroute_names = false;            // invoked as smcrouted
  std::string identity = "mfcd";          // -i: names config, PID file, socket, log ident
  std::string config_file;                // -f (default /etc/IDENT.conf)
  bool config_explicit = false;           // -f given: a missing file is an error (as mfcd)
  std::optional<std::string> check_file;  // -F: check and exit
  std::string socket_path;                // -u (default /run/IDENT.sock)
  std::string pid_file;                   // -P (default /run/IDENT.pid)
  // -S: where routes and joins added over the API survive a crash (default
  // /var/lib/mfcd/IDENT.state as mfcd, none as smcrouted; -S "" for none).
  std::optional<std::string> state_file;
  bool foreground = false;                // -n
  bool syslog = false;                    // -s
  LogLevel log_level = LogLevel::notice;  // -l
  uint32_t table = 0;                     // -t
  unsigned cache_timeout = 60;            // -c
  unsigned startup_delay = 0;             // -d
  unsigned mrdisc_interval = 20;          // -m
  unsigned exit_after = 0;                // -D (tests): exit cleanly after SEC
  std::string script;                     // -e
  std::string run_as;                     // -p USER[:GROUP]
  bool list_methods = false;              // --list-methods (schema test)
  // --metrics-listen ADDR:PORT: serve GET /metrics there (over the
  // config's metrics-listen line); nullopt: as the config says, else off.
  std::optional<core::ListenAddress> metrics_listen;
  // --socket-group NAME|GID: the control socket's group (members may call
  // read methods); --admin-group NAME|GID: whose members may also write.
  // As given; the service resolves them. Empty: the config's, or none.
  std::string socket_group;
  std::string admin_group;
};

struct ParsedArgs {
  Options options;
  enum class Action { run, help, version, exit_usage } action = Action::run;
  std::string error;  // for exit_usage
};

ParsedArgs parse_args(const std::vector<std::string>& argv);
// The help text, showing the defaults that this program name and identity
// really use.
std::string usage_text(const Options& options);
std::optional<LogLevel> parse_log_level(const std::string& text);

}  // namespace mfcd
