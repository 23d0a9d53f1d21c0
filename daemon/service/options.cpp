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
    {'s', "syslog", false},       {'S', "state-file", true},
    {'t', "table", true},         {'u', "socket", true},
    {'v', "version", false},      {'D', nullptr, true},
    {0, "list-methods", false},   {0, "metrics-listen", true},
    {0, "socket-group", true},    {0, "admin-group", true},
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

namespace {

// One pass over argv. Each step is a method so that the grammar reads top
// down: run() walks the words, a word is a long option or a bundle of short
// ones, and every flag with its value ends up in set().
class ArgParser {
 public:
  explicit ArgParser(const std::vector<std::string>& argv) : argv_(argv) {}

  ParsedArgs run() {
    set_program_defaults();
    for (i_ = 1; i_ < argv_.size() && failed_.empty(); ++i_) {
      const std::string& arg = argv_[i_];
      if (arg.size() > 2 && arg.compare(0, 2, "--") == 0) {
        parse_long(arg.substr(2));
      } else if (arg.size() >= 2 && arg[0] == '-') {
        parse_short_bundle(arg);
      } else {
        failed_ = "unexpected argument '" + arg + "'";
      }
    }
    if (!failed_.empty()) {
      out_.action = ParsedArgs::Action::exit_usage;
      out_.error = std::move(failed_);
      return std::move(out_);
    }
    set_path_defaults();
    return std::move(out_);
  }

 private:
  void set_program_defaults() {
    Options& o = out_.options;
    o.program = argv_.empty() ? "mfcd" : basename_of(argv_[0]);
    o.smcroute_names = o.program == "smcrouted";
    o.identity = o.smcroute_names ? "smcroute" : "mfcd";
  }

  // Paths follow the identity, which any -i on the line may have changed.
  // SMCRoute keeps no state, so under its name there is no state file
  // unless one is asked for.
  void set_path_defaults() {
    Options& o = out_.options;
    if (o.config_file.empty()) o.config_file = "/etc/" + o.identity + ".conf";
    if (o.socket_path.empty()) o.socket_path = "/run/" + o.identity + ".sock";
    if (o.pid_file.empty()) o.pid_file = "/run/" + o.identity + ".pid";
    if (!o.state_file && !o.smcroute_names) o.state_file = "/var/lib/mfcd/" + o.identity + ".state";
    if (o.state_file && o.state_file->empty()) o.state_file.reset();  // -S "": none
  }

  // --name=value or --name value.
  void parse_long(std::string name) {
    std::string value;
    bool has_value = false;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
      has_value = true;
    }
    const Spec* spec = find_long(name);
    if (!spec) {
      failed_ = "unknown option '--" + name + "'";
    } else if (spec->takes_value && !has_value) {
      if (i_ + 1 >= argv_.size())
        failed_ = "option '--" + name + "' needs a value";
      else
        set(*spec, argv_[++i_]);
    } else if (!spec->takes_value && has_value) {
      failed_ = "option '--" + name + "' takes no value";
    } else {
      set(*spec, value);
    }
  }

  // -ns, -ldebug, -l debug: a flag that takes a value ends the bundle.
  void parse_short_bundle(const std::string& arg) {
    for (size_t j = 1; j < arg.size() && failed_.empty(); ++j) {
      const Spec* spec = find_short(arg[j]);
      if (!spec) {
        failed_ = std::string("unknown option '-") + arg[j] + "'";
      } else if (!spec->takes_value) {
        set(*spec, "");
      } else if (j + 1 < arg.size()) {
        set(*spec, arg.substr(j + 1));
        return;
      } else if (i_ + 1 < argv_.size()) {
        set(*spec, argv_[++i_]);
      } else {
        failed_ = std::string("option '-") + arg[j] + "' needs a value";
      }
    }
  }

  // Reads a number bounded by max into n; false (and failed_ set) if it
  // is not one.
  bool number(const Spec& spec, const std::string& value, unsigned long max, unsigned long& n) {
    if (parse_uint(value, max, n)) return true;
    std::string flag =
        spec.short_name ? std::string("-") + spec.short_name : std::string("--") + spec.long_name;
    failed_ = "invalid number '" + value + "' for " + flag;
    return false;
  }

  void set(const Spec& spec, const std::string& value) {
    if (!spec.short_name) return set_long_only(spec, value);
    if (set_number(spec, value) || set_text(spec, value)) return;
    set_switch(spec);
  }

  // The options without a short flag: SMCRoute's smcrouted has none of
  // these, so no letter of its may be taken for them.
  void set_long_only(const Spec& spec, const std::string& value) {
    Options& o = out_.options;
    const std::string name = spec.long_name;
    if (name == "list-methods") {
      o.list_methods = true;
    } else if (name == "metrics-listen") {
      auto addr = core::parse_listen_address(value);
      if (addr)
        o.metrics_listen = *addr;
      else
        failed_ = addr.error().message + " for --metrics-listen";
    } else if (value.empty()) {
      failed_ = "--" + name + " needs a group name or a numeric GID";
    } else {
      (name == "socket-group" ? o.socket_group : o.admin_group) = value;
    }
  }

  // The flags whose value is a number; true if spec was one of them.
  bool set_number(const Spec& spec, const std::string& value) {
    Options& o = out_.options;
    unsigned long n = 0;
    switch (spec.short_name) {
      case 'c':
        if (number(spec, value, 86400 * 365, n)) o.cache_timeout = static_cast<unsigned>(n);
        return true;
      case 'd':
        if (number(spec, value, 3600, n)) o.startup_delay = static_cast<unsigned>(n);
        return true;
      case 'D':
        if (number(spec, value, 86400 * 365, n)) o.exit_after = static_cast<unsigned>(n);
        return true;
      case 'm':
        if (!number(spec, value, 180, n)) return true;
        if (n < 4)
          failed_ = "mrdisc interval must be 4..180 seconds, got " + value;
        else
          o.mrdisc_interval = static_cast<unsigned>(n);
        return true;
      case 't':
        if (number(spec, value, UINT32_MAX, n)) o.table = static_cast<uint32_t>(n);
        return true;
      default:
        return false;
    }
  }

  // The flags whose value is a word or a path; true if spec was one of them.
  bool set_text(const Spec& spec, const std::string& value) {
    Options& o = out_.options;
    switch (spec.short_name) {
      case 'e':
        o.script = value;
        return true;
      case 'f':
        o.config_file = value;
        o.config_explicit = true;
        return true;
      case 'F':
        o.check_file = value;
        return true;
      case 'i':
      case 'I':
        if (value.empty() || value.find('/') != std::string::npos)
          failed_ = "invalid identity '" + value + "': a plain name is expected";
        else
          o.identity = value;
        return true;
      case 'l':
        if (auto level = parse_log_level(value))
          o.log_level = *level;
        else
          failed_ = "invalid log level '" + value + "': expected none, err, notice, info or debug";
        return true;
      case 'p':
        if (value.empty())
          failed_ = "-p needs USER[:GROUP]";
        else
          o.run_as = value;
        return true;
      case 'P':
        o.pid_file = value;
        return true;
      case 'S':
        o.state_file = value;
        return true;
      case 'u':
        o.socket_path = value;
        return true;
      default:
        return false;
    }
  }

  // The flags without a value.
  void set_switch(const Spec& spec) {
    Options& o = out_.options;
    switch (spec.short_name) {
      case 'h':
        out_.action = ParsedArgs::Action::help;
        break;
      case 'n':
        o.foreground = true;
        break;
      case 'N':
        break;  // SMCRoute's old "disable all interfaces by default": accepted, ignored
      case 's':
        o.syslog = true;
        break;
      case 'v':
        if (out_.action == ParsedArgs::Action::run) out_.action = ParsedArgs::Action::version;
        break;
      default:
        break;
    }
  }

  const std::vector<std::string>& argv_;
  size_t i_ = 1;
  ParsedArgs out_;
  std::string failed_;
};

}  // namespace

ParsedArgs parse_args(const std::vector<std::string>& argv) {
  return ArgParser(argv).run();
}

std::string usage_text(const Options& o) {
  // The defaults shown are the ones this name and identity really use, so
  // `smcrouted -h` shows SMCRoute's paths and `mfcd -i r2 -h` shows r2's.
  const std::string conf = "/etc/" + o.identity + ".conf";
  const std::string pid = "/run/" + o.identity + ".pid";
  const std::string sock = "/run/" + o.identity + ".sock";
  return "Usage: " + o.program +
         " [-hnNsv] [-c SEC] [-d SEC] [-e CMD] [-f FILE] [-F FILE] [-i NAME]\n"
         "       [-l LEVEL] [-m SEC] [-p USER[:GROUP]] [-P FILE] [-S FILE] [-t ID]\n"
         "       [-u FILE] [--socket-group GROUP] [--admin-group GROUP]\n"
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
         "      --metrics-listen ADDR:PORT\n"
         "                           serve Prometheus metrics at http://ADDR:PORT/metrics\n"
         "                           (PORT alone: 127.0.0.1; default off)\n"
         "  -n, --foreground         stay in the foreground, log to stderr\n"
         "  -N                       accepted for SMCRoute compatibility, ignored\n"
         "  -p, --user USER[:GROUP]  drop root after start-up, keep only CAP_NET_ADMIN\n"
         "                           (and CAP_NET_RAW)\n"
         "  -P, --pidfile FILE       PID file (default " +
         pid +
         "), written once ready\n"
         "  -s, --syslog             log to syslog also in the foreground\n"
         "  -S, --state-file FILE    keep routes and joins added at run time in FILE, so\n"
         "                           they survive a crash (default " +
         (o.smcroute_names ? std::string("none") : "/var/lib/mfcd/" + o.identity + ".state") +
         ",\n"
         "                           \"\" for none)\n"
         "  -t, --table ID           kernel multicast routing table (default 0, the main one)\n"
         "  -u, --socket FILE        control socket (default " +
         sock +
         ")\n"
         "  -v, --version            print the version and exit\n"
         "      --socket-group GROUP  the control socket's group (name or GID): its\n"
         "                           members may connect and call read methods\n"
         "      --admin-group GROUP  members of GROUP (name or GID) may also call write\n"
         "                           methods, as root may\n"
         "\n"
         "Exit status: 0 ok, 64 usage, 69 table in use, 70 internal error, 71 OS error,\n"
         "76 no multicast routing in the kernel, 77 permission, 78 configuration error.\n";
}

}  // namespace mfcd
