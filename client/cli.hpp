// mfcctl's grammar: smcroutectl-compatible options and commands, turned into
// JSON-RPC method calls. Pure functions from words to values, so every rule
// (combined options, prefix matching, telling a source from a group from an
// interface) is unit-tested without a daemon.
#pragma once

#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace mfcd::client {

// Exit codes, from sysexits.h where one fits.
inline constexpr int kExitOk = 0;
inline constexpr int kExitRefused = 1;       // the daemon said no
inline constexpr int kExitUsage = 64;        // EX_USAGE
inline constexpr int kExitUnavailable = 69;  // EX_UNAVAILABLE: no daemon to talk to
inline constexpr int kExitBadReply = 70;     // EX_SOFTWARE: a reply we cannot read

inline constexpr std::string_view kDefaultSocket = "/run/mfcd.sock";
inline constexpr std::string_view kSmcrouteSocket = "/run/smcroute.sock";

struct Options {
  bool batch = false;              // -b: commands from stdin
  bool detail = false;             // -d: counters
  bool json = false;               // -j
  bool plain = false;              // -p: rulers instead of escape codes
  bool no_headings = false;        // -t
  bool help = false;               // -h, --help
  bool version = false;            // -v, --version: the client's own version only
  bool strict = false;             // -S, --strict: a missing interface is an error
  bool smcroute_names = false;     // called as smcroutectl: SMCRoute's defaults and leniency
  std::string socket;              // resolved: -u, else -i NAME, else the default for argv[0]
  std::vector<std::string> words;  // the command and its arguments
};

struct OptionsParse {
  std::optional<Options> options;
  std::string error;  // usage error text when options is empty
};

// `args` excludes argv[0]; `program` is argv[0] (only its base name matters:
// "smcroutectl" selects SMCRoute's socket default). Options may appear before
// or after the command words, combined in one word (-pdu SOCK) or long
// (--socket=FILE). "--" ends option parsing. "-n" is the command's own flag
// (reload -n), so it stays in `words`.
// The last component of a path: the name a program was called by.
std::string base_name(std::string_view path);

OptionsParse parse_options(const std::vector<std::string>& args, std::string_view program);

enum class Kind {
  add,
  set,
  remove,
  join,
  leave,
  show,
  flush,
  reload,
  kill,
  metrics,
  version,
  monitor,
  explain,
  help
};
enum class ShowWhat { routes, groups, interfaces, pending };

struct Command {
  Kind kind = Kind::help;
  ShowWhat show = ShowWhat::routes;
  bool dry_run = false;
  std::string method;  // empty for help (answered locally)
  nlohmann::json params = nlohmann::json::object();
};

struct CommandParse {
  std::optional<Command> command;
  std::string error;  // usage error text when command is empty
};

// No words at all means "show routes", as with smcroutectl. The word after
// `show` must abbreviate groups, interfaces, pending or routes; with
// `smcroute_names`, as in SMCRoute, any other word means routes.
CommandParse parse_command(const std::vector<std::string>& words, bool detail,
                           bool smcroute_names = false);

// How strict the daemon is asked to be about interfaces that do not exist
// (the "strict" param of route.add, group.join and config.reload). By
// default a missing interface is kept pending and warned about; -S makes
// any of them an error; under SMCRoute's name a missing inbound interface
// (of add or join) is an error and a missing outbound one is not, as in
// SMCRoute. Leaves other commands alone.
void set_strictness(Command& command, bool strict, bool smcroute_names);

// Resolves an abbreviated command name. Returns the full name, or an error
// naming the candidates when the prefix is ambiguous. The commands that
// take routes away or replace them (kill, flush, set) match only in full,
// so that a slip of the keyboard cannot stop forwarding.
struct NameMatch {
  std::string name;
  std::string error;
};
NameMatch match_command(std::string_view word);

enum class AddrKind { none, unicast, multicast };
// Classifies "A" or "A/LEN" (IPv4 or IPv6). The length is not checked here;
// the daemon reports a bad one with its own message.
AddrKind classify_address(std::string_view token);
// Whether a word was meant as an address, valid or not: it holds ':' or
// '/' (which no Linux interface name may), or it is digits and dots with
// at least one dot ("10.1.0.300"). Such a word that is not an address is
// reported as a bad address, never taken for an interface name.
bool meant_as_address(std::string_view token);

// One command line of a batch.
struct BatchLine {
  int line = 0;  // 1-based line number on stdin
  std::vector<std::string> words;
};
// Splits stdin into command lines; blank lines and '#' comments are dropped.
std::vector<BatchLine> read_batch(std::istream& in);
std::vector<std::string> split_words(std::string_view line);

// The help text; names the control socket this program name uses by
// default, as SMCRoute's does.
std::string usage_text(std::string_view program);

}  // namespace mfcd::client
