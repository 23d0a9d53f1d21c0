// The smcroutectl grammar. Options follow getopt's habits (clusters like
// -pdu SOCK, an argument glued or in the next word, options before or after
// the command) because init scripts written for smcroutectl use all of
// them. Commands match by unambiguous prefix ("s g" is "show groups"), but
// for kill, flush and set, which must be written in full.
// Addresses decide the shape of route and join commands: after the inbound
// interface, a unicast address followed by another address is the source,
// the next address is the group, and whatever is not an address is an
// outbound interface (Linux interface names cannot contain '/' or parse as
// an address, so this never guesses wrong for a valid name). A word that
// was meant as an address but is not one ("10.1.0.300") is reported as the
// source or group it stands for, never taken for an interface: a typo in
// an address must not become a route to a missing interface.
#include "client/cli.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <istream>

namespace mfcd::client {
namespace {

using nlohmann::json;

constexpr std::string_view kOwner = "mfcctl";

constexpr std::array<std::string_view, 16> kCommands = {
    "add",     "del",     "explain", "flush",  "help",    "join", "kill", "leave",
    "metrics", "monitor", "reload",  "remove", "restart", "set",  "show", "version"};

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

// "'10.1.0.300' is not a valid source address (expected ...)": which word,
// taken for what, and what that place wants.
std::string bad_address(const std::string& cmd, const std::string& word, bool group) {
  return cmd + ": '" + word + "' is not a valid " + (group ? "group" : "source") +
         " address (expected " + (group ? "a multicast " : "an ") +
         "IPv4 or IPv6 address, optionally with /LEN)";
}

bool is_address(const std::string& word) {
  return classify_address(word) != AddrKind::none;
}

RouteWordsParse split_route(const std::string& cmd, const std::vector<std::string>& args,
                            std::string_view synopsis) {
  auto error = [&](const std::string& what) {
    return RouteWordsParse{
        std::nullopt, cmd + ": " + what + " (usage: " + cmd + " " + std::string(synopsis) + ")"};
  };
  auto refuse = [](std::string text) { return RouteWordsParse{std::nullopt, std::move(text)}; };
  if (args.empty()) return error("missing inbound interface");
  RouteWords w;
  w.iif = args[0];
  if (is_address(w.iif)) {
    return error("'" + w.iif + "' is an address, expected the inbound interface first");
  }
  size_t i = 1;
  // Two address words in a row are SOURCE GROUP (unless the first is a
  // group, and then the second is misplaced: reported below).
  if (i + 1 < args.size() && meant_as_address(args[i]) && meant_as_address(args[i + 1])) {
    if (!is_address(args[i])) return refuse(bad_address(cmd, args[i], false));
    if (classify_address(args[i]) == AddrKind::unicast) w.source = args[i++];
  }
  if (i >= args.size() || !meant_as_address(args[i])) return error("missing group address");
  if (!is_address(args[i])) return refuse(bad_address(cmd, args[i], true));
  w.group = args[i++];
  for (; i < args.size(); ++i) {
    if (meant_as_address(args[i])) {
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

// The options that only switch something on, short and long.
struct Flag {
  char short_name;
  std::string_view long_name;
  bool Options::*field;
};
constexpr std::array<Flag, 8> kFlags = {{
    {'b', "batch", &Options::batch},
    {'d', "detail", &Options::detail},
    {'h', "help", &Options::help},
    {'j', "json", &Options::json},
    {'p', "plain", &Options::plain},
    {'S', "strict", &Options::strict},
    {'t', "no-headings", &Options::no_headings},
    {'v', "version", &Options::version},
}};

// parse_options' state while it walks the words.
struct OptionScan {
  explicit OptionScan(const std::vector<std::string>& words) : args(words) {}
  const std::vector<std::string>& args;
  size_t i = 0;  // the word being read; an option's argument advances it
  Options o;
  std::optional<std::string> socket;
  std::optional<std::string> ident;
};

// Whether `a` is an option word (and not a command word, "-n" included).
bool is_option(const std::string& a) {
  return a.size() >= 2 && a[0] == '-' && a != "-n" && a != "--dry-run";
}

// "--name" or "--name=value" (or the value in the next word). Returns an
// error text, empty when the option was good.
std::string long_option(OptionScan& scan, const std::string& a) {
  const auto eq = a.find('=');
  const std::string name = a.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
  if (name == "socket" || name == "ident") {
    std::optional<std::string> v;
    if (eq != std::string::npos) {
      v = a.substr(eq + 1);
    } else if (scan.i + 1 < scan.args.size()) {
      v = scan.args[++scan.i];
    }
    if (!v || v->empty()) return "option '--" + name + "' needs an argument";
    (name == "socket" ? scan.socket : scan.ident) = *v;
    return {};
  }
  for (const auto& f : kFlags) {
    if (f.long_name == name && eq == std::string::npos) {
      scan.o.*f.field = true;
      return {};
    }
  }
  return "unknown option '" + a + "'";
}

// A cluster of short options; -u and -i take the rest of the word or the
// next word as their argument, as getopt does.
std::string short_options(OptionScan& scan, const std::string& a) {
  for (size_t k = 1; k < a.size(); ++k) {
    const char c = a[k];
    if (c == 'u' || c == 'i') {
      std::string v;
      if (k + 1 < a.size()) {
        v = a.substr(k + 1);
      } else if (scan.i + 1 < scan.args.size()) {
        v = scan.args[++scan.i];
      }
      if (v.empty()) return std::string("option '-") + c + "' needs an argument";
      (c == 'u' ? scan.socket : scan.ident) = v;
      return {};
    }
    const auto* f = std::find_if(kFlags.begin(), kFlags.end(),
                                 [&](const Flag& flag) { return flag.short_name == c; });
    if (f == kFlags.end()) return std::string("unknown option '-") + c + "'";
    scan.o.*f->field = true;
  }
  return {};
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

bool meant_as_address(std::string_view token) {
  if (token.find_first_of(":/") != std::string_view::npos) return true;
  const bool digits_and_dots =
      !token.empty() && token.find_first_not_of("0123456789.") == std::string_view::npos;
  return digits_and_dots && token.find('.') != std::string_view::npos;
}

OptionsParse parse_options(const std::vector<std::string>& args, std::string_view program) {
  OptionScan scan(args);
  bool options_done = false;
  for (; scan.i < args.size(); ++scan.i) {
    const std::string& a = args[scan.i];
    if (options_done || !is_option(a)) {
      scan.o.words.push_back(a);
    } else if (a == "--") {
      options_done = true;
    } else if (auto error = a.rfind("--", 0) == 0 ? long_option(scan, a) : short_options(scan, a);
               !error.empty()) {
      return OptionsParse{std::nullopt, std::move(error)};
    }
  }
  Options& o = scan.o;
  o.smcroute_names = base_name(program) == "smcroutectl";
  if (scan.socket) {
    o.socket = *scan.socket;
  } else if (scan.ident) {
    o.socket = "/run/" + *scan.ident + ".sock";
  } else {
    o.socket = o.smcroute_names ? kSmcrouteSocket : kDefaultSocket;
  }
  return OptionsParse{std::move(o), {}};
}

void set_strictness(Command& command, bool strict, bool smcroute_names) {
  const bool takes_intent =
      command.kind == Kind::add || command.kind == Kind::set || command.kind == Kind::join;
  if (strict && (takes_intent || command.kind == Kind::reload)) {
    command.params["strict"] = true;
  } else if (smcroute_names && takes_intent) {
    command.params["strict"] = "iif";
  }
}

// The commands that stop forwarding or replace what a route forwards to
// match only when written in full: a prefix would be one slip of the
// keyboard away from losing traffic (`k` would stop the daemon and with it
// every route). A prefix that other commands share goes to them ("s" is
// still show); one that only such a command has is refused, saying why.
struct FullOnly {
  std::string_view name;
  std::string_view does;
};
constexpr std::array<FullOnly, 3> kFullOnly = {{
    {"kill", "stop the daemon"},
    {"flush", "drop the (*,G) routes"},
    {"set", "replace a route's outbound interfaces"},
}};

const FullOnly* full_only(std::string_view name) {
  for (const auto& f : kFullOnly) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

NameMatch match_command(std::string_view word) {
  std::vector<std::string_view> hits, full_only_hits;
  for (const auto c : kCommands) {
    if (c == word) return NameMatch{std::string(c), {}};
    if (word.empty() || c.substr(0, word.size()) != word) continue;
    (full_only(c) ? full_only_hits : hits).push_back(c);
  }
  const std::string w(word);
  if (hits.empty() && full_only_hits.size() == 1) {
    const auto* f = full_only(full_only_hits[0]);
    return NameMatch{{},
                     "'" + w + "' is not a command: type '" + std::string(f->name) +
                         "' in full to " + std::string(f->does)};
  }
  if (hits.size() == 1) return NameMatch{std::string(hits[0]), {}};
  if (hits.empty()) return NameMatch{{}, "unknown command '" + w + "'"};
  std::string list;
  for (const auto h : hits)
    list += (list.empty() ? "" : ", ") + std::string(h);
  return NameMatch{{}, "ambiguous command '" + w + "': could be " + list};
}

namespace {

// One command's words after its name, and the options that shape it.
struct CommandWords {
  const std::string& name;
  const std::vector<std::string>& args;
  bool detail;
  bool smcroute_names;
};

CommandParse command(Kind kind, std::string method, json params = json::object()) {
  Command c;
  c.kind = kind;
  c.method = std::move(method);
  c.params = std::move(params);
  return CommandParse{std::move(c), {}};
}

// add and set: a route and at least one outbound interface.
CommandParse parse_route_change(const CommandWords& w) {
  const std::string synopsis = "IIF [SOURCE[/LEN]] GROUP[/LEN] OIF [OIF...]";
  auto r = split_route(w.name, w.args, synopsis);
  if (!r.words) return usage(r.error);
  if (r.words->oifs.empty()) {
    return usage(w.name + ": missing outbound interface (usage: " + w.name + " " + synopsis + ")");
  }
  const bool add = w.name == "add";
  return command(add ? Kind::add : Kind::set, add ? "route.add" : "route.set",
                 route_params(*r.words, true));
}

CommandParse parse_remove(const CommandWords& w) {
  auto r = split_route(w.name, w.args, "IIF [SOURCE[/LEN]] GROUP[/LEN] [OIF...]");
  if (!r.words) return usage(r.error);
  return command(Kind::remove, "route.remove", route_params(*r.words, !r.words->oifs.empty()));
}

CommandParse parse_membership(const CommandWords& w) {
  auto r = split_route(w.name, w.args, "IIF [SOURCE[/LEN]] GROUP[/LEN]");
  if (!r.words) return usage(r.error);
  if (!r.words->oifs.empty()) {
    return usage(w.name + ": unexpected argument '" + r.words->oifs[0] + "'");
  }
  const bool join = w.name == "join";
  return command(join ? Kind::join : Kind::leave, join ? "group.join" : "group.leave",
                 route_params(*r.words, false));
}

CommandParse parse_show(const CommandWords& w) {
  if (w.args.size() > 1) return usage("show: unexpected argument '" + w.args[1] + "'");
  const std::string what = w.args.empty() ? "routes" : w.args[0];
  // SMCRoute looks at the first letter only, and shows the routes for any
  // word it does not know; mfcctl says that the word is wrong.
  auto is = [&](std::string_view table) {
    if (w.smcroute_names) return !what.empty() && what[0] == table[0];
    return !what.empty() && table.substr(0, what.size()) == what;
  };
  struct Table {
    std::string_view name;
    ShowWhat show;
    const char* method;
  };
  static constexpr std::array<Table, 3> kTables = {{
      {"groups", ShowWhat::groups, "group.list"},
      {"interfaces", ShowWhat::interfaces, "interface.list"},
      {"pending", ShowWhat::pending, "pending.list"},
  }};
  for (const auto& t : kTables) {
    if (!is(t.name)) continue;
    auto parsed = command(Kind::show, t.method);
    parsed.command->show = t.show;
    return parsed;
  }
  if (!is("routes") && !w.smcroute_names) {
    return usage("show: unknown table '" + what +
                 "', expected groups, interfaces, pending or routes");
  }
  auto parsed = command(Kind::show, "route.list");
  if (w.detail) parsed.command->params["detail"] = true;
  return parsed;
}

CommandParse parse_reload(const CommandWords& w) {
  auto parsed = command(Kind::reload, "config.reload");
  for (const auto& a : w.args) {
    if (a != "-n" && a != "--dry-run") return usage(w.name + ": unexpected argument '" + a + "'");
    parsed.command->dry_run = true;
  }
  if (parsed.command->dry_run) parsed.command->params["dry_run"] = true;
  return parsed;
}

// monitor [KIND...]: events.subscribe, with the kinds (or categories)
// given; the daemon refuses one it does not know.
CommandParse parse_monitor(const CommandWords& w) {
  auto parsed = command(Kind::monitor, "events.subscribe");
  if (!w.args.empty()) parsed.command->params["kinds"] = w.args;
  return parsed;
}

// explain SOURCE GROUP [IIF]: route.explain. The addresses must look
// like addresses; the daemon judges them further.
CommandParse parse_explain(const CommandWords& w) {
  const std::string synopsis = "SOURCE GROUP [IIF]";
  auto error = [&](const std::string& what) {
    return usage("explain: " + what + " (usage: explain " + synopsis + ")");
  };
  if (w.args.size() < 2)
    return error("missing " + std::string(w.args.empty() ? "source" : "group") + " address");
  if (w.args.size() > 3) return error("unexpected argument '" + w.args[3] + "'");
  if (classify_address(w.args[0]) != AddrKind::unicast)
    return error("'" + w.args[0] + "' is not a unicast source address");
  if (classify_address(w.args[1]) != AddrKind::multicast)
    return error("'" + w.args[1] + "' is not a multicast group address");
  if (w.args.size() == 3 && meant_as_address(w.args[2]))
    return error("'" + w.args[2] + "' is an address, expected the inbound interface");
  json params{{"source", w.args[0]}, {"group", w.args[1]}};
  if (w.args.size() == 3) params["iif"] = w.args[2];
  return command(Kind::explain, "route.explain", std::move(params));
}

// flush, kill, metrics and version take no argument; help ignores its own.
CommandParse parse_bare(const CommandWords& w) {
  if (w.name == "help") return command(Kind::help, {});
  if (!w.args.empty()) return usage(w.name + ": unexpected argument '" + w.args[0] + "'");
  if (w.name == "flush") return command(Kind::flush, "cache.flush");
  if (w.name == "kill") return command(Kind::kill, "daemon.stop");
  if (w.name == "metrics") return command(Kind::metrics, "metrics.get");
  return command(Kind::version, "daemon.version");
}

using CommandParser = CommandParse (*)(const CommandWords&);

CommandParser parser_for(const std::string& name) {
  if (name == "add" || name == "set") return parse_route_change;
  if (name == "remove" || name == "del") return parse_remove;
  if (name == "join" || name == "leave") return parse_membership;
  if (name == "show") return parse_show;
  if (name == "reload" || name == "restart") return parse_reload;
  if (name == "monitor") return parse_monitor;
  if (name == "explain") return parse_explain;
  return parse_bare;
}

}  // namespace

CommandParse parse_command(const std::vector<std::string>& words, bool detail,
                           bool smcroute_names) {
  if (words.empty()) {
    auto parsed = command(Kind::show, "route.list");
    if (detail) parsed.command->params["detail"] = true;
    return parsed;
  }
  const auto match = match_command(words[0]);
  if (!match.error.empty()) return usage(match.error);
  const std::vector<std::string> args(words.begin() + 1, words.end());
  // "-n" is only the reload command's flag; anywhere else it is a mistake.
  if (match.name != "reload" && match.name != "restart") {
    for (const auto& a : args) {
      if (a == "-n" || a == "--dry-run") {
        return usage(match.name + ": unexpected option '" + a + "'");
      }
    }
  }
  return parser_for(match.name)(CommandWords{match.name, args, detail, smcroute_names});
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
         " [-bdhjpStv] [-i NAME] [-u FILE] [COMMAND [ARGS]]\n"
         "\n"
         "Options:\n"
         "  -b, --batch          read commands from stdin, one per line, send as one batch\n"
         "  -d, --detail         show counters (PACKETS, BYTES) with show routes\n"
         "  -h, --help           this text\n"
         "  -i, --ident=NAME     talk to the daemon started with -i NAME (/run/NAME.sock)\n"
         "  -j, --json           print JSON instead of tables\n"
         "  -p, --plain          plain headings, no terminal escape codes\n"
         "  -S, --strict         refuse add, set, join and reload when an interface they\n"
         "                       name does not exist (default: keep it pending, with a\n"
         "                       warning)\n"
         "  -t, --no-headings    no headings at all\n"
         "  -u, --socket=FILE    the daemon's control socket (default " +
         socket +
         ")\n"
         "  -v, --version        print the client's version\n"
         "\n"
         "Commands (an unambiguous prefix will do, e.g. 's g'; kill, flush and set in full):\n"
         "  add    IIF [SOURCE[/LEN]] GROUP[/LEN] OIF [OIF...]  add a route or OIFs to it\n"
         "  set    IIF [SOURCE[/LEN]] GROUP[/LEN] OIF [OIF...]  add a route, or replace the OIFs\n"
         "                                                     mfcctl gave it\n"
         "  remove IIF [SOURCE[/LEN]] GROUP[/LEN] [OIF...]      remove a route, or only its OIFs"
         " (alias del)\n"
         "  join   IIF [SOURCE[/LEN]] GROUP[/LEN]               join a group (SSM with SOURCE)\n"
         "  leave  IIF [SOURCE[/LEN]] GROUP[/LEN]               leave a group\n"
         "  show   [groups|interfaces|pending|routes]          default routes; -d adds counters\n"
         "  explain SOURCE GROUP [IIF]                         why a flow is forwarded or not:"
         " the\n"
         "                                                     route, the kernel entry, every"
         " check\n"
         "  flush                                              drop routes learned from (*,G)"
         " rules\n"
         "  reload [-n]                                        re-read the configuration; -n only"
         " shows\n"
         "                                                     what would change (alias restart)\n"
         "  kill                                               stop the daemon\n"
         "  monitor [KIND...]                                  print events as they happen, e.g.\n"
         "                                                     'monitor route interface' (-j: "
         "JSON)\n"
         "  metrics                                            the daemon's metrics, Prometheus"
         " text\n"
         "  version                                            client and daemon versions\n"
         "  help                                               this text\n"
         "\n"
         "With no command, " +
         p + " shows the routes.\n";
}

}  // namespace mfcd::client
