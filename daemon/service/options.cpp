// Flag parsing by hand rather than getopt_long: getopt keeps global state and
// permutes argv, which makes it awkward to test and to reason about. The
// grammar is small: short flags may be bundled (-ns), a short flag's value
// may be attached (-l debug / -ldebug), long options take --name=value or
// --name value.
#include "service/options.hpp"

#include <charconv>
#include <map>

namespace mfcd {

namespace {

std::string basename_of(const std::string& path) {
  auto slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

bool parse_uint(const std::string& text, unsigned long max, unsigned long& out) {
  if (text.empty()) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size() && out <= max;
}

struct Spec {
  char short_name;
  const char* long_name;
  bool takes_value;
};

const Spec kSpecs[] = {
    {'c', "cache-timeout", true}, {'d', "startup-delay", true},
    {'e', "exec", true},          {'f', "config", true},
    {'F', "check", true},         {'h', "help", false},
    {'i', "ident", true},         {'I', nullptr, true},
    {'l', "loglevel", true},      {'m', "mrdisc-interval", true},
    {'n', "foreground", false},   {'N', nullptr, false},
    {'p', "user", true},          {'P', "pidfile", true},
    {'s', "syslog", false},       {'t', "table", true},
    {'u', "socket", true},        {'v', "version", false},
    {'D', nullptr, true},         {0, "list-methods", false},
};

const Spec* find_short(char c) {
  for (const auto& s : kSpecs)
    if (s.short_name == c) return &s;
  return nullptr;
}

const Spec* find_long(const std::string& name) {
  for (const auto& s : kSpecs)
    if (s.long_name && name == s.long_name) return &s;
  return nullptr;
}

}  // namespace

std::optional<LogLevel> parse_log_level(const std::string& text) {
  static const std::map<std::string, LogLevel> kLevels = {
      {"none", LogLevel::none},      {"err", LogLevel::err},   {"error", LogLevel::err},
      {"notice", LogLevel::notice},  {"info", LogLevel::info}, {"debug", LogLevel::debug},
      {"warning", LogLevel::notice}, {"crit", LogLevel::err},
  };
  auto it = kLevels.find(text);
  if (it == kLevels.end()) return std::nullopt;
  return it->second;
}

ParsedArgs parse_args(const std::vector<std::string>& argv) {
  ParsedArgs out;
  Options& o = out.options;
  o.program = argv.empty() ? "mfcd" : basename_of(argv[0]);
  o.smcroute_names = o.program == "smcrouted";
  o.identity = o.smcroute_names ? "smcroute" : "mfcd";
  bool ident_given = false;

  auto fail = [&](std::string message) {
    out.action = ParsedArgs::Action::exit_usage;
    out.error = std::move(message);
    return out;
  };

  auto apply = [&](const Spec& spec, const std::string& value) -> std::string {
    unsigned long n = 0;
    auto number = [&](unsigned long max) -> std::string {
      if (!parse_uint(value, max, n)) {
        std::string flag = spec.short_name ? std::string("-") + spec.short_name
                                           : std::string("--") + spec.long_name;
        return "invalid number '" + value + "' for " + flag;
      }
      return "";
    };
    std::string err;
    switch (spec.short_name) {
      case 'c':
        if (!(err = number(86400 * 365)).empty()) return err;
        o.cache_timeout = static_cast<unsigned>(n);
        break;
      case 'd':
        if (!(err = number(3600)).empty()) return err;
        o.startup_delay = static_cast<unsigned>(n);
        break;
      case 'D':
        if (!(err = number(86400 * 365)).empty()) return err;
        o.exit_after = static_cast<unsigned>(n);
        break;
      case 'e':
        o.script = value;
        break;
      case 'f':
        o.config_file = value;
        o.config_explicit = true;
        break;
      case 'F':
        o.check_file = value;
        break;
      case 'h':
        out.action = ParsedArgs::Action::help;
        break;
      case 'i':
      case 'I':
        if (value.empty() || value.find('/') != std::string::npos)
          return "invalid identity '" + value + "': a plain name is expected";
        o.identity = value;
        ident_given = true;
        break;
      case 'l': {
        auto level = parse_log_level(value);
        if (!level)
          return "invalid log level '" + value + "': expected none, err, notice, info or debug";
        o.log_level = *level;
        break;
      }
      case 'm':
        if (!(err = number(180)).empty()) return err;
        if (n < 4) return "mrdisc interval must be 4..180 seconds, got " + value;
        o.mrdisc_interval = static_cast<unsigned>(n);
        break;
      case 'n':
        o.foreground = true;
        break;
      case 'N':
        break;  // SMCRoute's old "disable all interfaces by default": accepted, ignored
      case 'p':
        if (value.empty()) return "-p needs USER[:GROUP]";
        o.run_as = value;
        break;
      case 'P':
        o.pid_file = value;
        break;
      case 's':
        o.syslog = true;
        break;
      case 't':
        if (!(err = number(UINT32_MAX)).empty()) return err;
        o.table = static_cast<uint32_t>(n);
        break;
      case 'u':
        o.socket_path = value;
        break;
      case 'v':
        if (out.action == ParsedArgs::Action::run) out.action = ParsedArgs::Action::version;
        break;
      case 0:
        o.list_methods = true;
        break;
    }
    return "";
  };

  for (size_t i = 1; i < argv.size(); ++i) {
    const std::string& arg = argv[i];
    if (arg.size() > 2 && arg.compare(0, 2, "--") == 0) {
      std::string name = arg.substr(2), value;
      bool has_value = false;
      if (auto eq = name.find('='); eq != std::string::npos) {
        value = name.substr(eq + 1);
        name.resize(eq);
        has_value = true;
      }
      const Spec* spec = find_long(name);
      if (!spec) return fail("unknown option '--" + name + "'");
      if (spec->takes_value && !has_value) {
        if (i + 1 >= argv.size()) return fail("option '--" + name + "' needs a value");
        value = argv[++i];
      } else if (!spec->takes_value && has_value) {
        return fail("option '--" + name + "' takes no value");
      }
      if (auto err = apply(*spec, value); !err.empty()) return fail(err);
      continue;
    }
    if (arg.size() < 2 || arg[0] != '-') return fail("unexpected argument '" + arg + "'");
    for (size_t j = 1; j < arg.size(); ++j) {
      const Spec* spec = find_short(arg[j]);
      if (!spec) return fail(std::string("unknown option '-") + arg[j] + "'");
      std::string value;
      if (spec->takes_value) {
        if (j + 1 < arg.size()) {
          value = arg.substr(j + 1);
        } else if (i + 1 < argv.size()) {
          value = argv[++i];
        } else {
          return fail(std::string("option '-") + arg[j] + "' needs a value");
        }
        j = arg.size();
      }
      if (auto err = apply(*spec, value); !err.empty()) return fail(err);
    }
  }

  (void)ident_given;
  if (o.config_file.empty()) o.config_file = "/etc/" + o.identity + ".conf";
  if (o.socket_path.empty()) o.socket_path = "/run/" + o.identity + ".sock";
  if (o.pid_file.empty()) o.pid_file = "/run/" + o.identity + ".pid";
  return out;
}

std::string usage_text(const Options& o) {
  // The defaults shown are the ones this name and identity really use, so
  // `smcrouted -h` shows SMCRoute's paths and `mfcd -i r2 -h` shows r2's.
  const std::string conf = "/etc/" + o.identity + ".conf";
  const std::string pid = "/run/" + o.identity + ".pid";
  const std::string sock = "/run/" + o.identity + ".sock";
  return "Usage: " + o.program +
         " [-hnNsv] [-c SEC] [-d SEC] [-e CMD] [-f FILE] [-F FILE] [-i NAME]\n"
         "       [-l LEVEL] [-m SEC] [-p USER[:GROUP]] [-P FILE] [-t ID] [-u FILE]\n"
         "\n"
         "Static multicast routing daemon: installs the routes of its configuration\n"
         "into the kernel's multicast forwarding cache and keeps them there.\n"
         "\n"
         "  -c, --cache-timeout SEC  remove (*,G)-learned entries idle for SEC s (default 60, 0 "
         "off)\n"
         "  -d, --startup-delay SEC  wait SEC seconds before reading the configuration\n"
         "  -e, --exec CMD           run CMD after a (re)load and after a dynamic install\n"
         "  -f, --config FILE        configuration file (default " +
         conf +
         ")\n"
         "  -F, --check FILE         check FILE and exit: 0 if valid, 78 on errors\n"
         "  -h, --help               this help\n"
         "  -i, --ident NAME         identity (default " +
         (o.smcroute_names ? std::string("smcroute") : std::string("mfcd")) +
         "): names /etc/NAME.conf, /run/NAME.pid,\n"
         "                           /run/NAME.sock and the log ident (-I is an old alias)\n"
         "  -l, --loglevel LEVEL     none, err, notice (default), info, debug\n"
         "  -m, --mrdisc-interval SEC  multicast router discovery interval, 4..180 (default 20)\n"
         "  -n, --foreground         stay in the foreground, log to stderr\n"
         "  -N                       accepted for SMCRoute compatibility, ignored\n"
         "  -p, --user USER[:GROUP]  drop root after start-up, keep only CAP_NET_ADMIN\n"
         "                           (and CAP_NET_RAW)\n"
         "  -P, --pidfile FILE       PID file (default " +
         pid +
         "), written once ready\n"
         "  -s, --syslog             log to syslog also in the foreground\n"
         "  -t, --table ID           kernel multicast routing table (default 0, the main one)\n"
         "  -u, --socket FILE        control socket (default " +
         sock +
         ")\n"
         "  -v, --version            print the version and exit\n"
         "\n"
         "Exit status: 0 ok, 64 usage, 69 table in use, 70 internal error, 71 OS error,\n"
         "76 no multicast routing in the kernel, 77 permission, 78 configuration error.\n";
}

}  // namespace mfcd
