// The smcroutectl grammar. Options follow getopt's habits (clusters like
// -pdu SOCK, an argument glued or in the next word, options before or after
// the command) because init scripts written for smcroutectl use all of
// them. Commands match by unambiguous prefix ("s g" is "show groups"), but
// for kill and flush, which must be written in full.
// Addresses decide the shape of route and join commands: after the inbound
// interface, a unicast address followed by another address is the source,
// the next address is the group, and whatever is not an address is an
// outbound interface (Linux interface names cannot contain '/' or parse as
// an address, so this never guesses wrong for a valid name).
#include "client/cli.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <istream>

namespace mfcd::client {
namespace {

using nlohmann::json;

constexpr std::string_view kOwner = "mfcctl";

constexpr std::array<std::string_view, 12> kCommands = {"add",    "del",     "flush", "help",
                                                        "join",   "kill",    "leave", "reload",
                                                        "remove", "restart", "show",  "version"};

CommandParse usage(std::string text) {
  return CommandParse{std::nullopt, std::move(text)};
}

// The pieces of `add|remove|join|leave IIF [SOURCE] GROUP [OIF...]`.
struct RouteWords {
  std::string iif;
  std::optional<std::string> source;
  std::string group;
  std::vector<std::string> oifs;
};

struct RouteWordsParse {
  std::optional<RouteWords> words;
  std::string error;
};

RouteWordsParse split_route(const std::string& cmd, const std::vector<std::string>& args,
                            std::string_view synopsis) {
  auto error = [&](const std::string& what) {
    return RouteWordsParse{
        std::nullopt, cmd + ": " + what + " (usage: " + cmd + " " + std::string(synopsis) + ")"};
  };
  if (args.empty()) return error("missing inbound interface");
  RouteWords w;
  w.iif = args[0];
  if (classify_address(w.iif) != AddrKind::none) {
    return error("'" + w.iif + "' is an address, expected the inbound interface first");
  }
  size_t i = 1;
  if (i >= args.size() || classify_address(args[i]) == AddrKind::none) {
    return error("missing group address");
  }
  // A unicast address with another address after it is the source.
  if (classify_address(args[i]) == AddrKind::unicast && i + 1 < args.size() &&
      classify_address(args[i + 1]) != AddrKind::none) {
    w.source = args[i++];
  }
  w.group = args[i++];
  for (; i < args.size(); ++i) {
    if (classify_address(args[i]) != AddrKind::none) {
      return error("unexpected address '" + args[i] + "' where an outbound interface belongs");
    }
    w.oifs.push_back(args[i]);
  }
  return RouteWordsParse{std::move(w), {}};
}

json route_params(const RouteWords& w, bool with_oifs) {
  json p = json::object();
  p["iif"] = w.iif;
  if (w.source) p["source"] = *w.source;
  p["group"] = w.group;
  if (with_oifs) p["oifs"] = w.oifs;
  p["owner"] = kOwner;
  return p;
}

bool apply_flag(Options& o, char c) {
  switch (c) {
    case 'b':
      o.batch = true;
      return true;
    case 'd':
      o.detail = true;
      return true;
    case 'j':
      o.json = true;
      return true;
    case 'p':
      o.plain = true;
      return true;
    case 't':
      o.no_headings = true;
      return true;
    case 'h':
      o.help = true;
      return true;
    case 'v':
      o.version = true;
      return true;
    default:
      return false;
  }
}

}  // namespace

std::string base_name(std::string_view path) {
  const auto slash = path.rfind('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

AddrKind classify_address(std::string_view token) {
  const auto slash = token.find('/');
  const std::string host(token.substr(0, slash));
  if (host.empty()) return AddrKind::none;
  unsigned char buf[16];
  if (::inet_pton(AF_INET, host.c_str(), buf) == 1) {
    return (buf[0] & 0xf0) == 0xe0 ? AddrKind::multicast : AddrKind::unicast;
  }
  if (::inet_pton(AF_INET6, host.c_str(), buf) == 1) {
    return buf[0] == 0xff ? AddrKind::multicast : AddrKind::unicast;
  }
  return AddrKind::none;
}

OptionsParse parse_options(const std::vector<std::string>& args, std::string_view program) {
  Options o;
  std::optional<std::string> socket;
  std::optional<std::string> ident;
  auto error = [](std::string text) { return OptionsParse{std::nullopt, std::move(text)}; };

  bool options_done = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (options_done || a.size() < 2 || a[0] != '-') {
      o.words.push_back(a);
      continue;
    }
    if (a == "--") {
      options_done = true;
      continue;
    }
    // The reload command's own flag.
    if (a == "-n" || a == "--dry-run") {
      o.words.push_back(a);
      continue;
    }
    if (a.rfind("--", 0) == 0) {
      const auto eq = a.find('=');
      const std::string name = a.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
      auto value = [&]() -> std::optional<std::string> {
        if (eq != std::string::npos) return a.substr(eq + 1);
        if (i + 1 < args.size()) return args[++i];
        return std::nullopt;
      };
      auto no_value = [&] { return eq == std::string::npos; };
      if (name == "help" && no_value()) {
        o.help = true;
      } else if (name == "version" && no_value()) {
        o.version = true;
      } else if (name == "json" && no_value()) {
        o.json = true;
      } else if (name == "detail" && no_value()) {
        o.detail = true;
      } else if (name == "plain" && no_value()) {
        o.plain = true;
      } else if (name == "no-headings" && no_value()) {
        o.no_headings = true;
      } else if (name == "batch" && no_value()) {
        o.batch = true;
      } else if (name == "socket" || name == "ident") {
        auto v = value();
        if (!v || v->empty()) return error("option '--" + name + "' needs an argument");
        (name == "socket" ? socket : ident) = *v;
      } else {
        return error("unknown option '" + a + "'");
      }
      continue;
    }
    // A cluster of short options; -u and -i take the rest of the word or
    // the next word as their argument, as getopt does.
    for (size_t k = 1; k < a.size(); ++k) {
      const char c = a[k];
      if (c == 'u' || c == 'i') {
        std::string v;
        if (k + 1 < a.size()) {
          v = a.substr(k + 1);
        } else if (i + 1 < args.size()) {
          v = args[++i];
        } else {
          return error(std::string("option '-") + c + "' needs an argument");
        }
        if (v.empty()) return error(std::string("option '-") + c + "' needs an argument");
        (c == 'u' ? socket : ident) = v;
        break;
      }
      if (!apply_flag(o, c)) return error(std::string("unknown option '-") + c + "'");
    }
  }

  if (socket) {
    o.socket = *socket;
  } else if (ident) {
    o.socket = "/run/" + *ident + ".sock";
  } else {
    o.socket = base_name(program) == "smcroutectl" ? kSmcrouteSocket : kDefaultSocket;
  }
  o.smcroute_names = base_name(program) == "smcroutectl";
  return OptionsParse{std::move(o), {}};
}

NameMatch match_command(std::string_view word) {
  std::vector<std::string_view> hits;
  for (const auto c : kCommands) {
    if (c == word) return NameMatch{std::string(c), {}};
    if (!word.empty() && c.substr(0, word.size()) == word) hits.push_back(c);
  }
  if (hits.size() == 1) {
    // What a prefix of these would do cannot be undone: `k` would stop the
    // daemon and with it every route.
    const std::string full(hits[0]);
    const std::string w(word);
    if (full == "kill") {
      return NameMatch{{}, "'" + w + "' is not a command: type 'kill' in full to stop the daemon"};
    }
    if (full == "flush") {
      return NameMatch{
          {}, "'" + w + "' is not a command: type 'flush' in full to drop the (*,G) routes"};
    }
    return NameMatch{full, {}};
  }
  if (hits.empty()) return NameMatch{{}, "unknown command '" + std::string(word) + "'"};
  std::string list;
  for (const auto h : hits)
    list += (list.empty() ? "" : ", ") + std::string(h);
  return NameMatch{{}, "ambiguous command '" + std::string(word) + "': could be " + list};
}

CommandParse parse_command(const std::vector<std::string>& words, bool detail,
                           bool smcroute_names) {
  Command c;
  if (words.empty()) {
    c.kind = Kind::show;
    c.method = "route.list";
    if (detail) c.params["detail"] = true;
    return CommandParse{std::move(c), {}};
  }
  const auto match = match_command(words[0]);
  if (!match.error.empty()) return usage(match.error);
  const std::string& name = match.name;
  const std::vector<std::string> args(words.begin() + 1, words.end());
  // "-n" is only the reload command's flag; anywhere else it is a mistake.
  if (name != "reload" && name != "restart") {
    for (const auto& a : args) {
      if (a == "-n" || a == "--dry-run") return usage(name + ": unexpected option '" + a + "'");
    }
  }
  auto no_args = [&]() -> std::optional<std::string> {
    if (args.empty()) return std::nullopt;
    return name + ": unexpected argument '" + args[0] + "'";
  };

  if (name == "add") {
    auto r = split_route(name, args, "IIF [SOURCE[/LEN]] GROUP[/LEN] OIF [OIF...]");
    if (!r.words) return usage(r.error);
    if (r.words->oifs.empty()) {
      return usage(
          "add: missing outbound interface (usage: add IIF [SOURCE[/LEN]] GROUP[/LEN] OIF "
          "[OIF...])");
    }
    c.kind = Kind::add;
    c.method = "route.add";
    c.params = route_params(*r.words, true);
  } else if (name == "remove" || name == "del") {
    auto r = split_route(name, args, "IIF [SOURCE[/LEN]] GROUP[/LEN] [OIF...]");
    if (!r.words) return usage(r.error);
    c.kind = Kind::remove;
    c.method = "route.remove";
    c.params = route_params(*r.words, !r.words->oifs.empty());
  } else if (name == "join" || name == "leave") {
    auto r = split_route(name, args, "IIF [SOURCE[/LEN]] GROUP[/LEN]");
    if (!r.words) return usage(r.error);
    if (!r.words->oifs.empty()) {
      return usage(name + ": unexpected argument '" + r.words->oifs[0] + "'");
    }
    c.kind = name == "join" ? Kind::join : Kind::leave;
    c.method = name == "join" ? "group.join" : "group.leave";
    c.params = route_params(*r.words, false);
  } else if (name == "show") {
    if (args.size() > 1) return usage("show: unexpected argument '" + args[1] + "'");
    c.kind = Kind::show;
    const std::string what = args.empty() ? "routes" : args[0];
    // SMCRoute looks at the first letter only, and shows the routes for any
    // word it does not know; mfcctl says that the word is wrong.
    auto is = [&](std::string_view table) {
      if (smcroute_names) return !what.empty() && what[0] == table[0];
      return !what.empty() && table.substr(0, what.size()) == what;
    };
    if (is("groups")) {
      c.show = ShowWhat::groups;
      c.method = "group.list";
    } else if (is("interfaces")) {
      c.show = ShowWhat::interfaces;
      c.method = "interface.list";
    } else if (is("pending")) {
      c.show = ShowWhat::pending;
      c.method = "pending.list";
    } else if (is("routes") || smcroute_names) {
      c.show = ShowWhat::routes;
      c.method = "route.list";
      if (detail) c.params["detail"] = true;
    } else {
      return usage("show: unknown table '" + what +
                   "', expected groups, interfaces, pending or routes");
    }
  } else if (name == "flush") {
    if (auto e = no_args()) return usage(*e);
    c.kind = Kind::flush;
    c.method = "cache.flush";
  } else if (name == "reload" || name == "restart") {
    for (const auto& a : args) {
      if (a != "-n" && a != "--dry-run") return usage(name + ": unexpected argument '" + a + "'");
      c.dry_run = true;
    }
    c.kind = Kind::reload;
    c.method = "config.reload";
    if (c.dry_run) c.params["dry_run"] = true;
  } else if (name == "kill") {
    if (auto e = no_args()) return usage(*e);
    c.kind = Kind::kill;
    c.method = "daemon.stop";
  } else if (name == "version") {
    if (auto e = no_args()) return usage(*e);
    c.kind = Kind::version;
    c.method = "daemon.version";
  } else {
    c.kind = Kind::help;
  }
  return CommandParse{std::move(c), {}};
}

std::vector<std::string> split_words(std::string_view line) {
  std::vector<std::string> words;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r'))
      ++i;
    if (i >= line.size() || line[i] == '#') break;
    const size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t' && line[i] != '\r' &&
           line[i] != '#') {
      ++i;
    }
    words.emplace_back(line.substr(start, i - start));
  }
  return words;
}

std::vector<BatchLine> read_batch(std::istream& in) {
  std::vector<BatchLine> lines;
  std::string text;
  int number = 0;
  while (std::getline(in, text)) {
    ++number;
    auto words = split_words(text);
    if (!words.empty()) lines.push_back(BatchLine{number, std::move(words)});
  }
  return lines;
}

std::string usage_text(std::string_view program) {
  const std::string p = base_name(program);
  const std::string socket(p == "smcroutectl" ? kSmcrouteSocket : kDefaultSocket);
  return "Usage: " + p +
         " [-bdhjptv] [-i NAME] [-u FILE] [COMMAND [ARGS]]\n"
         "\n"
         "Options:\n"
         "  -b, --batch          read commands from stdin, one per line, send as one batch\n"
         "  -d, --detail         show counters (PACKETS, BYTES) with show routes\n"
         "  -h, --help           this text\n"
         "  -i, --ident=NAME     talk to the daemon started with -i NAME (/run/NAME.sock)\n"
         "  -j, --json           print JSON instead of tables\n"
         "  -p, --plain          plain headings, no terminal escape codes\n"
         "  -t, --no-headings    no headings at all\n"
         "  -u, --socket=FILE    the daemon's control socket (default " +
         socket +
         ")\n"
         "  -v, --version        print the client's version\n"
         "\n"
         "Commands (an unambiguous prefix will do, e.g. 's g'; kill and flush in full):\n"
         "  add    IIF [SOURCE[/LEN]] GROUP[/LEN] OIF [OIF...]  add a route or OIFs to it\n"
         "  remove IIF [SOURCE[/LEN]] GROUP[/LEN] [OIF...]      remove a route, or only its OIFs"
         " (alias del)\n"
         "  join   IIF [SOURCE[/LEN]] GROUP[/LEN]               join a group (SSM with SOURCE)\n"
         "  leave  IIF [SOURCE[/LEN]] GROUP[/LEN]               leave a group\n"
         "  show   [groups|interfaces|pending|routes]          default routes; -d adds counters\n"
         "  flush                                              drop routes learned from (*,G)"
         " rules\n"
         "  reload [-n]                                        re-read the configuration; -n only"
         " shows\n"
         "                                                     what would change (alias restart)\n"
         "  kill                                               stop the daemon\n"
         "  version                                            client and daemon versions\n"
         "  help                                               this text\n"
         "\n"
         "With no command, " +
         p + " shows the routes.\n";
}

}  // namespace mfcd::client
