// mfcctl's grammar, its requests and its text output, checked without a
// daemon: run() is driven with a fake transport that records each request
// and answers with canned replies. Expected text is written out in full so
// that a change to what scripts parse shows up as a failing test.
#include <doctest/doctest.h>

#include <sstream>

#include "client/app.hpp"
#include "client/cli.hpp"
#include "client/monitor.hpp"
#include "client/show_format.hpp"

using mfcd::client::AddrKind;
using mfcd::client::Command;
using mfcd::client::Exchange;
using mfcd::client::Headings;
using mfcd::client::Kind;
using mfcd::client::ShowStyle;
using mfcd::client::ShowWhat;
using nlohmann::json;
namespace mc = mfcd::client;

namespace {

mc::Options options(std::vector<std::string> args, std::string program = "mfcctl") {
  auto p = mc::parse_options(args, program);
  REQUIRE_MESSAGE(p.options.has_value(), p.error);
  return *p.options;
}

std::string option_error(std::vector<std::string> args) {
  auto p = mc::parse_options(args, "mfcctl");
  REQUIRE_FALSE(p.options.has_value());
  return p.error;
}

Command command(std::vector<std::string> words, bool detail = false) {
  auto p = mc::parse_command(words, detail);
  REQUIRE_MESSAGE(p.command.has_value(), p.error);
  return *p.command;
}

std::string command_error(std::vector<std::string> words) {
  auto p = mc::parse_command(words, false);
  REQUIRE_FALSE(p.command.has_value());
  return p.error;
}

const std::string kUnderscores(79, '_');
const std::string kEquals(79, '=');

// A daemon in a test: answers each request with the reply the test chose
// (by method), and remembers what it was sent.
struct FakeDaemon {
  std::vector<std::string> requests;
  std::vector<std::string> sockets;
  std::vector<std::chrono::milliseconds> timeouts;
  std::function<json(const json& request)> answer;
  Exchange::Status status = Exchange::Status::ok;
  std::string status_error = "No such file or directory";  // with a status not ok
  std::string raw_reply;                                   // when set, sent verbatim

  mc::Transport transport() {
    return [this](const std::string& socket, const std::string& request,
                  std::chrono::milliseconds timeout) {
      sockets.push_back(socket);
      requests.push_back(request);
      timeouts.push_back(timeout);
      Exchange e;
      e.status = status;
      if (status != Exchange::Status::ok) {
        e.error = status_error;
        return e;
      }
      if (!raw_reply.empty()) {
        e.reply = raw_reply;
        return e;
      }
      const json req = json::parse(request);
      if (req.is_array()) {
        json replies = json::array();
        for (const auto& r : req)
          replies.push_back(reply_to(r));
        e.reply = replies.dump();
      } else {
        e.reply = reply_to(req).dump();
      }
      return e;
    };
  }

  json reply_to(const json& req) {
    json body = answer ? answer(req) : json{{"result", json::object()}};
    body["jsonrpc"] = "2.0";
    body["id"] = req["id"];
    return body;
  }
};

struct Invocation {
  int code = -1;
  std::string out;
  std::string err;
};

Invocation invoke(FakeDaemon& daemon, std::vector<std::string> argv, std::string in = "",
                  bool tty = false) {
  std::istringstream input(in);
  std::ostringstream out, err;
  mc::Io io{input, out, err, tty};
  Invocation r;
  r.code = mc::run(argv, io, daemon.transport());
  r.out = out.str();
  r.err = err.str();
  return r;
}

json ok(json result) {
  return json{{"result", std::move(result)}};
}
json fail(int code, std::string message, json data = nullptr) {
  json e{{"code", code}, {"message", std::move(message)}};
  if (!data.is_null()) e["data"] = std::move(data);
  return json{{"error", e}};
}

}  // namespace

TEST_CASE("options: combined short options and their argument") {
  auto o = options({"-pu", "/tmp/x.sock", "show", "groups"});
  CHECK(o.plain);
  CHECK(o.socket == "/tmp/x.sock");
  CHECK(o.words == std::vector<std::string>{"show", "groups"});

  o = options({"-pdu", "/tmp/y.sock"});
  CHECK(o.plain);
  CHECK(o.detail);
  CHECK(o.socket == "/tmp/y.sock");
  CHECK(o.words.empty());

  o = options({"-dp", "-u/tmp/glued.sock", "-bjt"});
  CHECK(o.detail);
  CHECK(o.plain);
  CHECK(o.batch);
  CHECK(o.json);
  CHECK(o.no_headings);
  CHECK(o.socket == "/tmp/glued.sock");

  // Options after the command, as getopt permutes them.
  o = options({"show", "-d", "routes", "-p"});
  CHECK(o.detail);
  CHECK(o.plain);
  CHECK(o.words == std::vector<std::string>{"show", "routes"});
}

TEST_CASE("options: socket defaults by program name, -i and -u") {
  CHECK(options({}).socket == "/run/mfcd.sock");
  CHECK(options({}, "/usr/sbin/smcroutectl").socket == "/run/smcroute.sock");
  CHECK(options({"-i", "r2"}).socket == "/run/r2.sock");
  CHECK(options({"-ir3"}, "smcroutectl").socket == "/run/r3.sock");
  CHECK(options({"-u", "/tmp/a.sock", "-i", "r2"}).socket == "/tmp/a.sock");
  CHECK(options({"-i", "r2", "-u", "/tmp/a.sock"}).socket == "/tmp/a.sock");
}

TEST_CASE("options: long forms") {
  auto o = options(
      {"--socket=/tmp/s.sock", "--json", "--detail", "--plain", "--no-headings", "--batch"});
  CHECK(o.socket == "/tmp/s.sock");
  CHECK(o.json);
  CHECK(o.detail);
  CHECK(o.plain);
  CHECK(o.no_headings);
  CHECK(o.batch);
  CHECK(options({"--socket", "/tmp/t.sock"}).socket == "/tmp/t.sock");
  CHECK(options({"--ident=r9"}).socket == "/run/r9.sock");
  CHECK(options({"--help"}).help);
  CHECK(options({"--version"}).version);
  CHECK(options({"-h"}).help);
  CHECK(options({"-v"}).version);
  CHECK(options({"--", "-x"}).words == std::vector<std::string>{"-x"});
  CHECK(options({"reload", "-n"}).words == std::vector<std::string>{"reload", "-n"});
}

TEST_CASE("options: errors") {
  CHECK(option_error({"-x"}) == "unknown option '-x'");
  CHECK(option_error({"-pu"}) == "option '-u' needs an argument");
  CHECK(option_error({"-i"}) == "option '-i' needs an argument");
  CHECK(option_error({"--socket"}) == "option '--socket' needs an argument");
  CHECK(option_error({"--frobnicate"}) == "unknown option '--frobnicate'");
  CHECK(option_error({"--json=1"}) == "unknown option '--json=1'");
}

TEST_CASE("commands: prefixes and ambiguity") {
  CHECK(mc::match_command("s").name == "show");
  CHECK(mc::match_command("a").name == "add");
  CHECK(mc::match_command("d").name == "del");
  CHECK(mc::match_command("rel").name == "reload");
  CHECK(mc::match_command("rem").name == "remove");
  CHECK(mc::match_command("res").name == "restart");
  CHECK(mc::match_command("kill").name == "kill");
  CHECK(mc::match_command("flush").name == "flush");
  CHECK(mc::match_command("v").name == "version");
  CHECK(mc::match_command("r").error == "ambiguous command 'r': could be reload, remove, restart");
  CHECK(mc::match_command("re").error ==
        "ambiguous command 're': could be reload, remove, restart");
  CHECK(mc::match_command("bogus").error == "unknown command 'bogus'");
  CHECK(command_error({"r"}) == "ambiguous command 'r': could be reload, remove, restart");
}

TEST_CASE("commands: kill and flush take every route away, so they match only in full") {
  CHECK(mc::match_command("k").error ==
        "'k' is not a command: type 'kill' in full to stop the daemon");
  CHECK(mc::match_command("kil").error ==
        "'kil' is not a command: type 'kill' in full to stop the daemon");
  CHECK(mc::match_command("f").error ==
        "'f' is not a command: type 'flush' in full to drop the (*,G) routes");
  CHECK(mc::match_command("flus").error ==
        "'flus' is not a command: type 'flush' in full to drop the (*,G) routes");
  CHECK(mc::parse_command({"k"}, false, true).error ==
        "'k' is not a command: type 'kill' in full to stop the daemon");
  // The abbreviations SMCRoute documents stay: "rem" in its synopsis and
  // batch example, "s g" in its manual.
  CHECK(command({"rem", "a1", "225.1.1.1"}).method == "route.remove");
  CHECK(command({"s", "g"}).method == "group.list");

  FakeDaemon d;
  auto r = invoke(d, {"mfcctl", "k"});
  CHECK(r.code == 64);
  CHECK(d.requests.empty());
  r = invoke(d, {"smcroutectl", "k"});
  CHECK(r.code == 64);
  CHECK(d.requests.empty());
}

TEST_CASE("commands: set replaces mfcctl's OIFs, and matches only in full") {
  auto c = command({"set", "a1", "10.0.0.1", "225.1.1.1", "a2", "a3"});
  CHECK(c.kind == Kind::set);
  CHECK(c.method == "route.set");
  CHECK(c.params == json{{"iif", "a1"},
                         {"source", "10.0.0.1"},
                         {"group", "225.1.1.1"},
                         {"oifs", {"a2", "a3"}},
                         {"owner", "mfcctl"}});
  CHECK(command_error({"set", "a1", "225.1.1.1"}) ==
        "set: missing outbound interface (usage: set IIF [SOURCE[/LEN]] GROUP[/LEN] OIF "
        "[OIF...])");
  CHECK(command_error({"set", "a1", "10.0.0.300", "225.1.1.1", "a2"}) ==
        "set: '10.0.0.300' is not a valid source address (expected an IPv4 or IPv6 address, "
        "optionally with /LEN)");
  // "s" stays show (SMCRoute's manual writes "s g"); a prefix only set has
  // is refused, since set takes OIFs away.
  CHECK(mc::match_command("s").name == "show");
  CHECK(mc::match_command("se").error ==
        "'se' is not a command: type 'set' in full to replace a route's outbound interfaces");
  CHECK(mc::match_command("sh").name == "show");

  FakeDaemon d;
  auto r = invoke(d, {"mfcctl", "se", "a1", "225.1.1.1", "a2"});
  CHECK(r.code == 64);
  CHECK(d.requests.empty());
  // A typo'd OIF is warned about as add warns about it, and -S refuses it.
  const json warning{
      {"interface", "a9"},
      {"role", "outbound"},
      {"message", "interface a9 does not exist; it is added to the route when it appears"}};
  d.answer = [&](const json&) { return ok({{"route", json::object()}, {"warnings", {warning}}}); };
  r = invoke(d, {"mfcctl", "set", "a1", "225.1.1.1", "a9"});
  CHECK(r.code == 0);
  CHECK(r.out.empty());
  CHECK(r.err ==
        "mfcctl: warning: interface a9 does not exist; it is added to the route when it appears\n");
  r = invoke(d, {"mfcctl", "-S", "set", "a1", "225.1.1.1", "a9"});
  CHECK(json::parse(d.requests.back())["params"]["strict"] == true);
}

TEST_CASE("commands: show and its subcommands") {
  auto c = command({});
  CHECK(c.kind == Kind::show);
  CHECK(c.method == "route.list");
  CHECK(c.params == json::object());
  CHECK(command({}, true).params == json{{"detail", true}});

  CHECK(command({"s", "g"}).method == "group.list");
  CHECK(command({"show", "gr"}).show == ShowWhat::groups);
  CHECK(command({"show", "group"}).method == "group.list");
  CHECK(command({"show", "int"}).method == "interface.list");
  CHECK(command({"show", "int"}).show == ShowWhat::interfaces);
  CHECK(command({"show", "pending"}).method == "pending.list");
  CHECK(command({"show", "ro"}).method == "route.list");
  CHECK(command({"show", "p"}).method == "pending.list");
  CHECK(command_error({"show", "foo"}) ==
        "show: unknown table 'foo', expected groups, interfaces, pending or routes");
  CHECK(command_error({"show", "kernel"}) ==
        "show: unknown table 'kernel', expected groups, interfaces, pending or routes");
  CHECK(command_error({"show", "groupsx"}) ==
        "show: unknown table 'groupsx', expected groups, interfaces, pending or routes");
  // SMCRoute reads the first letter only and shows the routes for any word
  // it does not know; under its name, so does mfcctl.
  auto smc = [](std::vector<std::string> words) {
    auto p = mc::parse_command(words, false, true);
    REQUIRE_MESSAGE(p.command.has_value(), p.error);
    return *p.command;
  };
  CHECK(smc({"show", "kernel"}).show == ShowWhat::routes);
  CHECK(smc({"show", "foo"}).method == "route.list");
  CHECK(smc({"show", "gx"}).method == "group.list");
  CHECK(smc({"show", "int"}).method == "interface.list");
  CHECK(command({"show"}, true).params == json{{"detail", true}});
  CHECK(command({"show", "groups"}, true).params == json::object());
  CHECK(command_error({"show", "routes", "extra"}) == "show: unexpected argument 'extra'");
}

TEST_CASE("commands: add with and without source, ranges, IPv6") {
  auto c = command({"add", "eth0", "192.0.2.1", "225.1.1.1", "eth1", "eth2"});
  CHECK(c.kind == Kind::add);
  CHECK(c.method == "route.add");
  CHECK(c.params == json{{"iif", "eth0"},
                         {"source", "192.0.2.1"},
                         {"group", "225.1.1.1"},
                         {"oifs", {"eth1", "eth2"}},
                         {"owner", "mfcctl"}});

  c = command({"a", "eth0", "225.1.2.0/24", "eth1"});
  CHECK(c.params ==
        json{{"iif", "eth0"}, {"group", "225.1.2.0/24"}, {"oifs", {"eth1"}}, {"owner", "mfcctl"}});

  c = command({"add", "a1", "198.51.100.0/24", "225.1.1.1", "a2"});
  CHECK(c.params["source"] == "198.51.100.0/24");

  c = command({"add", "a1", "2001:db8::1", "ff05::114", "a2"});
  CHECK(c.params["source"] == "2001:db8::1");
  CHECK(c.params["group"] == "ff05::114");

  c = command({"add", "a1", "ff04::111", "a2", "a3"});
  CHECK_FALSE(c.params.contains("source"));
  CHECK(c.params["oifs"] == json{"a2", "a3"});

  // 0.0.0.0 is a source spelling of (*,G); the daemon decides what it means.
  c = command({"add", "a1", "0.0.0.0", "225.1.1.1", "a2"});
  CHECK(c.params["source"] == "0.0.0.0");
}

TEST_CASE("commands: add usage errors") {
  CHECK(command_error({"add"}) ==
        "add: missing inbound interface (usage: add IIF [SOURCE[/LEN]] GROUP[/LEN] OIF [OIF...])");
  CHECK(command_error({"add", "eth0"}) ==
        "add: missing group address (usage: add IIF [SOURCE[/LEN]] GROUP[/LEN] OIF [OIF...])");
  CHECK(command_error({"add", "eth0", "225.1.1.1"}) ==
        "add: missing outbound interface (usage: add IIF [SOURCE[/LEN]] GROUP[/LEN] OIF "
        "[OIF...])");
  CHECK(command_error({"add", "eth0", "192.0.2.1", "225.1.1.1"})
            .rfind("add: missing outbound interface", 0) == 0);
  CHECK(command_error({"add", "225.1.1.1", "eth0", "eth1"})
            .rfind("add: '225.1.1.1' is an address, expected the inbound interface first", 0) == 0);
  CHECK(command_error({"add", "eth0", "225.1.1.1", "225.1.1.2", "eth1"})
            .rfind("add: unexpected address '225.1.1.2' where an outbound interface belongs", 0) ==
        0);
  CHECK(
      command_error({"add", "eth0", "eth1", "225.1.1.1"}).rfind("add: missing group address", 0) ==
      0);
}

TEST_CASE("commands: remove, del, join, leave") {
  auto c = command({"remove", "eth0", "192.0.2.1", "225.1.1.1"});
  CHECK(c.method == "route.remove");
  CHECK(
      c.params ==
      json{{"iif", "eth0"}, {"source", "192.0.2.1"}, {"group", "225.1.1.1"}, {"owner", "mfcctl"}});
  c = command({"del", "eth0", "225.1.1.1", "eth2"});
  CHECK(c.kind == Kind::remove);
  CHECK(c.params ==
        json{{"iif", "eth0"}, {"group", "225.1.1.1"}, {"oifs", {"eth2"}}, {"owner", "mfcctl"}});

  c = command({"join", "eth0", "225.1.1.1"});
  CHECK(c.method == "group.join");
  CHECK(c.params == json{{"iif", "eth0"}, {"group", "225.1.1.1"}, {"owner", "mfcctl"}});
  c = command({"j", "eth0", "192.0.2.9", "232.1.1.1"});
  CHECK(
      c.params ==
      json{{"iif", "eth0"}, {"source", "192.0.2.9"}, {"group", "232.1.1.1"}, {"owner", "mfcctl"}});
  c = command({"leave", "eth0", "fc00::2", "ff04::111"});
  CHECK(c.method == "group.leave");
  CHECK(c.params ==
        json{{"iif", "eth0"}, {"source", "fc00::2"}, {"group", "ff04::111"}, {"owner", "mfcctl"}});

  CHECK(command_error({"join", "eth0", "225.1.1.1", "eth1"}) == "join: unexpected argument 'eth1'");
  CHECK(command_error({"leave", "eth0"}).rfind("leave: missing group address", 0) == 0);
  CHECK(command_error({"remove"}).rfind("remove: missing inbound interface", 0) == 0);
}

TEST_CASE("commands: flush, reload, kill, version, help") {
  CHECK(command({"flush"}).method == "cache.flush");
  CHECK(command({"reload"}).method == "config.reload");
  CHECK(command({"reload"}).params == json::object());
  CHECK(command({"restart"}).method == "config.reload");
  auto c = command({"reload", "-n"});
  CHECK(c.dry_run);
  CHECK(c.params == json{{"dry_run", true}});
  CHECK(command({"kill"}).method == "daemon.stop");
  CHECK(command({"version"}).method == "daemon.version");
  CHECK(command({"metrics"}).method == "metrics.get");
  CHECK(command({"help"}).kind == Kind::help);
  CHECK(command({"help"}).method.empty());
  CHECK(command_error({"flush", "now"}) == "flush: unexpected argument 'now'");
  CHECK(command_error({"show", "-n"}) == "show: unexpected option '-n'");
  CHECK(command_error({"reload", "x"}) == "reload: unexpected argument 'x'");
}

TEST_CASE("addresses: unicast, multicast, not an address") {
  CHECK(mc::classify_address("192.0.2.1") == AddrKind::unicast);
  CHECK(mc::classify_address("192.0.2.0/24") == AddrKind::unicast);
  CHECK(mc::classify_address("224.0.0.1") == AddrKind::multicast);
  CHECK(mc::classify_address("239.255.255.255") == AddrKind::multicast);
  CHECK(mc::classify_address("240.0.0.1") == AddrKind::unicast);
  CHECK(mc::classify_address("225.1.0.0/16") == AddrKind::multicast);
  CHECK(mc::classify_address("ff02::1") == AddrKind::multicast);
  CHECK(mc::classify_address("2001:db8::/32") == AddrKind::unicast);
  CHECK(mc::classify_address("::") == AddrKind::unicast);
  CHECK(mc::classify_address("eth0") == AddrKind::none);
  CHECK(mc::classify_address("br0.100") == AddrKind::none);
  CHECK(mc::classify_address("eth+") == AddrKind::none);
  CHECK(mc::classify_address("") == AddrKind::none);
}

TEST_CASE("batch: lines, comments and blanks") {
  std::istringstream in(
      "# routes for the lab\n"
      "\n"
      "add a1 192.0.2.1 225.1.1.1 a2   # first\n"
      "   \t\n"
      "join a1 225.3.3.3\n");
  const auto lines = mc::read_batch(in);
  REQUIRE(lines.size() == 2);
  CHECK(lines[0].line == 3);
  CHECK(lines[0].words == std::vector<std::string>{"add", "a1", "192.0.2.1", "225.1.1.1", "a2"});
  CHECK(lines[1].line == 5);
  CHECK(lines[1].words == std::vector<std::string>{"join", "a1", "225.3.3.3"});
}

// ---- show formatting ----

TEST_CASE("show interfaces: plain, with N/A and long names") {
  const json result = {{"interfaces",
                        {{{"index", 1}, {"name", "lo"}, {"vif", nullptr}, {"mif", nullptr}},
                         {{"index", 2}, {"name", "a1"}, {"vif", 0}, {"mif", 0}},
                         {{"index", 13}, {"name", "a2"}, {"vif", 1}, {"mif", nullptr}}}}};
  CHECK(mc::format_interfaces(result, ShowStyle{Headings::plain, false}) ==
        kEquals + "\n" + " INDEX PHYINT  VIF  MIF\n" + kEquals + "\n" +
            "     1 lo      N/A  N/A\n"
            "     2 a1        0    0\n"
            "    13 a2        1  N/A\n");

  const json wide = {{"interfaces",
                      {{{"index", 2}, {"name", "a1"}, {"vif", 0}, {"mif", 0}},
                       {{"index", 7}, {"name", "verylongif0"}, {"vif", 12}, {"mif", 3}}}}};
  CHECK(mc::format_interfaces(wide, ShowStyle{Headings::none, false}) ==
        "     2 a1             0    0\n"
        "     7 verylongif0   12    3\n");
  CHECK(mc::format_interfaces(wide, ShowStyle{Headings::plain, false})
            .find(" INDEX PHYINT       VIF  MIF\n") != std::string::npos);
}

TEST_CASE("show interfaces -d: mrdisc state after the compat columns") {
  const json result = {
      {"interfaces",
       {{{"index", 2},
         {"name", "a1"},
         {"vif", 0},
         {"mif", 0},
         {"mrdisc", true},
         {"mrdisc_next", 11.6}},
        {{"index", 3},
         {"name", "a2"},
         {"vif", 1},
         {"mif", 1},
         {"mrdisc", true},
         {"mrdisc_next", nullptr}},
        {{"index", 4}, {"name", "a3"}, {"vif", nullptr}, {"mif", nullptr}, {"mrdisc", false}}}}};
  CHECK(mc::format_interfaces(result, ShowStyle{Headings::none, true}) ==
        "     2 a1        0    0  on, next 12s\n"
        "     3 a2        1    1  on\n"
        "     4 a3      N/A  N/A  off\n");
}

TEST_CASE("show groups: (S,G) and (*,G), empty prints nothing") {
  const json result = {
      {"groups",
       {{"conf",
         {{{"source", "10.0.0.11"}, {"group", "225.1.1.1"}, {"iif", "a1"}},
          {{"source", nullptr}, {"group", "225.2.2.2"}, {"iif", "a2"}},
          {{"source", "fc00::2"}, {"group", "ff04::111"}, {"iif", "a3"}},
          {{"source", "198.51.100.0/24"}, {"group", "232.1.1.1/32"}, {"iif", "a1"}}}},
        {"kernel", json::array()}}}};
  CHECK(mc::format_groups(result, ShowStyle{Headings::plain, false}) ==
        kUnderscores + "\n" + "Group Memberships Table\n" + kEquals + "\n" +
            "GROUP (S,G)                                IIF\n" + kEquals + "\n" +
            "(10.0.0.11, 225.1.1.1)                     a1\n"
            "(*, 225.2.2.2)                             a2\n"
            "(fc00::2, ff04::111)                       a3\n"
            "(198.51.100.0/24, 232.1.1.1)               a1\n");

  // What batch.sh compares: the line with all whitespace removed.
  const std::string text = mc::format_groups(result, ShowStyle{Headings::none, false});
  std::string squeezed;
  for (char ch : text.substr(0, text.find('\n'))) {
    if (ch != ' ') squeezed += ch;
  }
  CHECK(squeezed == "(10.0.0.11,225.1.1.1)a1");

  const json none = {{"groups", {{"conf", json::array()}, {"kernel", json::array()}}}};
  CHECK(mc::format_groups(none, ShowStyle{Headings::plain, false}).empty());
}

TEST_CASE("show groups -d adds the kernel memberships") {
  const json result = {
      {"groups",
       {{"conf", {{{"source", nullptr}, {"group", "225.2.2.2"}, {"iif", "a2"}}}},
        {"kernel", {{{"source", nullptr}, {"group", "225.2.2.2"}, {"iif", "a2"}}}}}}};
  CHECK(mc::format_groups(result, ShowStyle{Headings::none, true}) ==
        "(*, 225.2.2.2)                             a2\n"
        "(*, 225.2.2.2)                             a2\n");
  const std::string plain = mc::format_groups(result, ShowStyle{Headings::plain, true});
  CHECK(plain.find("\nKernel Group Membership Table\n") != std::string::npos);
}

namespace {
const json kRoutes = {{"routes",
                       {{"asm",
                         {{{"iif", "a1"},
                           {"source", nullptr},
                           {"group", "225.1.2.0/24"},
                           {"oifs", {"a2"}},
                           {"state", "rule"}}}},
                        {"ssm",
                         {{{"iif", "a1"},
                           {"source", "10.0.0.5"},
                           {"group", "225.4.4.4"},
                           {"oifs", {"a2", "a3"}},
                           {"state", "installed"}}}},
                        {"kernel",
                         {{{"iif", "a1"},
                           {"source", "10.0.0.5"},
                           {"group", "225.4.4.4"},
                           {"oifs", {"a2", "a3"}},
                           {"type", "static"},
                           {"packets", 10},
                           {"bytes", 1000}},
                          {{"iif", "a1"},
                           {"source", "10.0.0.9"},
                           {"group", "225.1.2.3"},
                           {"oifs", {"a2"}},
                           {"type", "dynamic"},
                           {"packets", 1234567},
                           {"bytes", 987654321}}}}}}};
}  // namespace

TEST_CASE("show routes: three sections, plain") {
  const std::string header = "ROUTE (S,G)                                IIF  OIFS";
  const std::string head = kEquals + "\n" + header + "\n" + kEquals + "\n";
  CHECK(mc::format_routes(kRoutes, ShowStyle{Headings::plain, false}) ==
        kUnderscores + "\n(*,G) Template Rules\n" + head +
            "(*, 225.1.2.0/24)                          a1   a2\n" + kUnderscores +
            "\n(S,G) Rules\n" + head + "(10.0.0.5, 225.4.4.4)                      a1   a2 a3\n" +
            kUnderscores + "\nKernel MFC Table\n" + head +
            "(10.0.0.5, 225.4.4.4)                      a1   a2 a3\n"
            "(10.0.0.9, 225.1.2.3)                      a1   a2\n");
}

TEST_CASE("show routes -d: state and counters between IIF and OIFS") {
  CHECK(mc::format_routes(kRoutes, ShowStyle{Headings::none, true}) ==
        "(*, 225.1.2.0/24)                          a1  rule               -          -  a2\n"
        "(10.0.0.5, 225.4.4.4)                      a1  installed          -          -  a2 a3\n"
        "(10.0.0.5, 225.4.4.4)                      a1  static            10       1000  a2 a3\n"
        "(10.0.0.9, 225.1.2.3)                      a1  dynamic      1234567  987654321  a2\n");
  CHECK(
      mc::format_routes(kRoutes, ShowStyle{Headings::plain, true})
          .find("\nROUTE (S,G)                                IIF STATE        PACKETS      BYTES  "
                "OIFS\n") != std::string::npos);
}

TEST_CASE("show routes: empty sections are left out, empty table prints nothing") {
  json only_kernel = kRoutes;
  only_kernel["routes"]["asm"] = json::array();
  only_kernel["routes"]["ssm"] = json::array();
  const std::string text = mc::format_routes(only_kernel, ShowStyle{Headings::plain, false});
  CHECK(text.find("Rules") == std::string::npos);
  CHECK(text.find("Kernel MFC Table") != std::string::npos);

  const json empty = {
      {"routes", {{"asm", json::array()}, {"ssm", json::array()}, {"kernel", json::array()}}}};
  CHECK(mc::format_routes(empty, ShowStyle{Headings::plain, false}).empty());
}

TEST_CASE("show routes: long names and IPv6 widen the columns and stay aligned") {
  const json result = {
      {"routes",
       {{"asm", json::array()},
        {"ssm",
         {{{"iif", "a1"}, {"source", "10.0.0.5"}, {"group", "225.4.4.4"}, {"oifs", {"a2"}}},
          {{"iif", "longname12"},
           {"source", "2001:db8:1234:5678:9abc:def0:1234:5678"},
           {"group", "ff05::1:2:3"},
           {"oifs", {"a2", "veth-recv-1"}}}}},
        {"kernel", json::array()}}}};
  // "(2001:db8:1234:5678:9abc:def0:1234:5678, ff05::1:2:3)" is 53 wide.
  const std::string pad53(53, ' ');
  CHECK(mc::format_routes(result, ShowStyle{Headings::plain, false}) ==
        kUnderscores + "\n(S,G) Rules\n" + kEquals + "\n" + "ROUTE (S,G)" + std::string(42, ' ') +
            " IIF         OIFS\n" + kEquals + "\n" + "(10.0.0.5, 225.4.4.4)" +
            std::string(32, ' ') + " a1          a2\n" +
            "(2001:db8:1234:5678:9abc:def0:1234:5678, ff05::1:2:3) longname12  a2 veth-recv-1\n");
}

TEST_CASE("show headings: rulers grow with a long header, -t drops them, TTY uses escapes") {
  const json result = {{"routes",
                        {{"asm", json::array()},
                         {"ssm",
                          {{{"iif", "an-interface-with-a-very-long-name"},
                            {"source", "10.0.0.5"},
                            {"group", "225.4.4.4"},
                            {"oifs", {"a2"}}}}},
                         {"kernel", json::array()}}}};
  const std::string text = mc::format_routes(result, ShowStyle{Headings::plain, true});
  const std::string header = "ROUTE (S,G)" + std::string(31, ' ') + " IIF" + std::string(31, ' ') +
                             " STATE    PACKETS      BYTES  OIFS";
  CHECK(header.size() > 79);
  CHECK(text.find(std::string(header.size(), '=') + "\n" + header + "\n") != std::string::npos);

  const std::string tty = mc::format_routes(kRoutes, ShowStyle{Headings::terminal, false});
  CHECK(tty.find("\033[") != std::string::npos);
  CHECK(tty.find(kEquals) == std::string::npos);
  CHECK(tty.find("(*,G) Template Rules") != std::string::npos);

  const std::string bare = mc::format_routes(kRoutes, ShowStyle{Headings::none, false});
  CHECK(bare.find("ROUTE") == std::string::npos);
  CHECK(bare.find("Rules") == std::string::npos);
}

TEST_CASE("show pending: empty and non-empty") {
  CHECK(mc::format_pending(json{{"pending", json::array()}}, ShowStyle{}) ==
        "No pending routes or groups\n");
  const json result = {
      {"pending",
       {{{"kind", "mroute"},
         {"iif", "a1"},
         {"source", nullptr},
         {"group", "225.1.2.3"},
         {"oifs", {"a2"}}},
        {{"kind", "mroute"},
         {"iif", "a2"},
         {"source", "10.0.0.1"},
         {"group", "225.7.8.9"},
         {"oifs", {"a3", "a4"}}},
        {{"kind", "mgroup"}, {"iif", "a1"}, {"source", nullptr}, {"group", "225.4.5.6"}}}}};
  CHECK(mc::format_pending(result, ShowStyle{Headings::plain, false}) ==
        "PENDING ROUTES AND GROUPS\n"
        "mroute  from a1 group 225.1.2.3 to a2\n"
        "mroute  from a2 source 10.0.0.1 group 225.7.8.9 to a3 a4\n"
        "mgroup  from a1 group 225.4.5.6\n");
}

TEST_CASE("show pending: why each entry waits, as a comment column") {
  const json result = {{"pending",
                        {{{"kind", "mroute"},
                          {"iif", "nc-in"},
                          {"source", "10.1.0.5"},
                          {"group", "225.9.9.9"},
                          {"oifs", {"nc-out"}},
                          {"reason", "outbound interface nc-out does not exist"}},
                         {{"kind", "mroute"},
                          {"iif", "a1"},
                          {"source", nullptr},
                          {"group", "225.1.2.3"},
                          {"oifs", {"a2"}}},
                         {{"kind", "mgroup"},
                          {"iif", "a9"},
                          {"source", nullptr},
                          {"group", "225.4.5.6"},
                          {"reason", "interface a9 does not exist"}}}}};
  // Aligned after the longest line; a line without a reason is unchanged,
  // so SMCRoute's patterns (^mroute.*from a1.*group ...) still match.
  CHECK(mc::format_pending(result, ShowStyle{Headings::plain, false}) ==
        "PENDING ROUTES AND GROUPS\n"
        "mroute  from nc-in source 10.1.0.5 group 225.9.9.9 to nc-out  "
        "# outbound interface nc-out does not exist\n"
        "mroute  from a1 group 225.1.2.3 to a2\n"
        "mgroup  from a9 group 225.4.5.6                               "
        "# interface a9 does not exist\n");
}

TEST_CASE("show: a result of the wrong shape throws") {
  CHECK_THROWS(mc::format_routes(json{{"routes", {{"asm", 5}}}}, ShowStyle{}));
  CHECK_THROWS(mc::format_interfaces(json{{"interfaces", {{{"index", 1}}}}}, ShowStyle{}));
  CHECK_THROWS(mc::format_groups(json::object(), ShowStyle{}));
}

// ---- whole invocations against a fake daemon ----

TEST_CASE("run: show groups -pu SOCK, the way batch.sh calls it") {
  FakeDaemon d;
  d.answer = [](const json&) {
    return ok({{"groups",
                {{"conf", {{{"source", nullptr}, {"group", "225.2.2.2"}, {"iif", "a2"}}}},
                 {"kernel", json::array()}}}});
  };
  auto r = invoke(d, {"smcroutectl", "-pu", "/tmp/s.sock", "show", "groups"});
  CHECK(r.code == 0);
  CHECK(r.err.empty());
  CHECK(d.sockets == std::vector<std::string>{"/tmp/s.sock"});
  CHECK(json::parse(d.requests.at(0)) == json{{"jsonrpc", "2.0"},
                                              {"id", 1},
                                              {"method", "group.list"},
                                              {"params", {{"limit", 10000}}}});
  CHECK(r.out.find("\n(*, 225.2.2.2)                             a2\n") != std::string::npos);
}

// A whole group.list and interface.list result, and the same cut into pages
// of one item each, every page naming the next ("p1", "p2", ...).
struct PagedListing {
  json whole;
  std::vector<json> pages;
};

PagedListing paged_groups() {
  const json conf =
      json::array({{{"source", nullptr}, {"group", "225.2.2.2"}, {"iif", "a2"}},
                   {{"source", "10.0.0.1"}, {"group", "232.1.1.1"}, {"iif", "a-much-longer"}}});
  const json kernel = json::array({{{"source", nullptr},
                                    {"group", "225.2.2.2"},
                                    {"iif", "a2"},
                                    {"family", "ipv4"},
                                    {"socket", 0}},
                                   {{"source", "10.0.0.1"},
                                    {"group", "232.1.1.1"},
                                    {"iif", "a-much-longer"},
                                    {"family", "ipv4"},
                                    {"socket", 1}}});
  PagedListing l;
  l.whole = {{"groups", {{"conf", conf}, {"kernel", kernel}}}};
  for (const char* section : {"conf", "kernel"}) {
    for (const auto& item : l.whole.at("groups").at(section)) {
      json page{{"groups", {{"conf", json::array()}, {"kernel", json::array()}}}};
      page["groups"][section].push_back(item);
      page["next"] = "p" + std::to_string(l.pages.size() + 1);
      l.pages.push_back(page);
    }
  }
  l.pages.back()["next"] = nullptr;
  return l;
}

PagedListing paged_interfaces() {
  PagedListing l;
  l.whole = {{"interfaces", json::array()}};
  int index = 1;
  for (const char* name : {"lo", "a1", "a-much-longer"}) {
    const json item{
        {"index", index++}, {"name", name},    {"vif", index == 2 ? json() : json(index)},
        {"mif", nullptr},   {"mrdisc", false}, {"mrdisc_next", nullptr}};
    l.whole["interfaces"].push_back(item);
    l.pages.push_back(
        {{"interfaces", json::array({item})}, {"next", "p" + std::to_string(index - 1)}});
  }
  l.pages.back()["next"] = nullptr;
  return l;
}

TEST_CASE("run: show groups and show interfaces page through and print what one reply would") {
  for (const auto& [what, listing] :
       {std::pair{"groups", paged_groups()}, std::pair{"interfaces", paged_interfaces()}}) {
    const std::string shown = what;
    CAPTURE(shown);
    FakeDaemon d;
    d.answer = [&listing = listing](const json& req) {
      const json& p = req.at("params");
      const size_t at =
          p.contains("cursor") ? std::stoul(p.at("cursor").get<std::string>().substr(1)) : 0;
      return ok(listing.pages.at(at));
    };
    FakeDaemon whole;
    whole.answer = [&listing = listing](const json&) { return ok(listing.whole); };
    for (const std::string flag : {"-p", "-d", "-j"}) {
      CAPTURE(flag);
      d.requests.clear();
      auto paged = invoke(d, {"mfcctl", flag, "show", what});
      CHECK(paged.code == 0);
      CHECK(paged.err.empty());
      REQUIRE(d.requests.size() == listing.pages.size());
      for (size_t i = 0; i < d.requests.size(); ++i) {
        const json p = json::parse(d.requests[i]).at("params");
        CHECK(p.at("limit") == 10000);
        CHECK(p.value("cursor", json()) == (i == 0 ? json() : json("p" + std::to_string(i))));
      }
      // The widest name is on the last page, and every line is as wide as
      // it: the same text as from one whole reply.
      auto one = invoke(whole, {"mfcctl", flag, "show", what});
      CHECK(one.code == 0);
      CHECK(paged.out == one.out);
      CHECK(paged.out.find("a-much-longer") != std::string::npos);
    }
    // A daemon that hands back the same cursor would loop: a bad reply.
    d.answer = [&listing = listing](const json&) {
      json page = listing.pages.at(0);
      page["next"] = "p0";
      return ok(page);
    };
    auto looped = invoke(d, {"mfcctl", "show", what});
    CHECK(looped.code == 70);
    CHECK(looped.err.find("next is not a new cursor") != std::string::npos);
    // A daemon from before paging is asked for the whole listing.
    d.answer = [&listing = listing](const json& req) {
      if (req.at("params").contains("limit"))
        return fail(-32602, "Invalid params: limit: unknown parameter",
                    {{"param", "limit"}, {"message", "unknown parameter"}});
      return ok(listing.whole);
    };
    d.requests.clear();
    auto old = invoke(d, {"mfcctl", "-p", "show", what});
    CHECK(old.code == 0);
    REQUIRE(d.requests.size() == 2);
    CHECK(json::parse(d.requests[1]).at("params") == json::object());
    CHECK(old.out == invoke(whole, {"mfcctl", "-p", "show", what}).out);
  }
}

TEST_CASE("run: no command means show routes; not a TTY means plain headings") {
  FakeDaemon d;
  d.answer = [](const json&) { return ok(kRoutes); };
  auto r = invoke(d, {"mfcctl", "-d"});
  CHECK(r.code == 0);
  CHECK(json::parse(d.requests.at(0))["params"] == json{{"detail", true}, {"limit", 10000}});
  CHECK(r.out.rfind(kUnderscores + "\n(*,G) Template Rules\n", 0) == 0);
  CHECK(r.out.find('\033') == std::string::npos);

  auto tty = invoke(d, {"mfcctl"}, "", true);
  CHECK(tty.out.find('\033') != std::string::npos);
  auto tty_plain = invoke(d, {"mfcctl", "-p"}, "", true);
  CHECK(tty_plain.out.find('\033') == std::string::npos);
}

TEST_CASE("run: show pages through route.list and prints what one reply would print, -j too") {
  // kRoutes cut after each of its items: four pages, each naming the next.
  std::vector<json> pages;
  const json& all = kRoutes.at("routes");
  for (const char* section : {"asm", "ssm", "kernel"}) {
    for (const auto& item : all.at(section)) {
      json page{
          {"routes", {{"asm", json::array()}, {"ssm", json::array()}, {"kernel", json::array()}}}};
      page["routes"][section].push_back(item);
      page["next"] = "c" + std::to_string(pages.size() + 1);
      pages.push_back(page);
    }
  }
  pages.back()["next"] = nullptr;
  FakeDaemon d;
  d.answer = [&](const json& req) {
    const json& p = req.at("params");
    const size_t at =
        p.contains("cursor") ? std::stoul(p.at("cursor").get<std::string>().substr(1)) : 0;
    return ok(pages.at(at));
  };
  // (Not -d: its STATE column widens with "installed" on the second page.
  // RoutesPrinter's comment says why that is the trade.)
  // -j joins the pages into the one object a whole listing is.
  for (const char* flag : {"-p", "-t", "-j"}) {
    CAPTURE(flag);
    d.requests.clear();
    auto paged = invoke(d, {"mfcctl", flag, "show"});
    CHECK(paged.code == 0);
    CHECK(paged.err.empty());
    REQUIRE(d.requests.size() == 4);
    for (size_t i = 0; i < 4; ++i) {
      const json p = json::parse(d.requests[i]).at("params");
      CHECK(p.at("limit") == 10000);
      CHECK(p.value("cursor", json()) == (i == 0 ? json() : json("c" + std::to_string(i))));
    }
    FakeDaemon whole;
    whole.answer = [](const json&) { return ok(kRoutes); };
    CHECK(paged.out == invoke(whole, {"mfcctl", flag, "show"}).out);
  }
  // A daemon that hands back the same cursor would loop: a bad reply.
  d.answer = [&](const json&) {
    json page = pages.at(0);
    page["next"] = "c0";
    return ok(page);
  };
  auto looped = invoke(d, {"mfcctl", "show"});
  CHECK(looped.code == 70);
  CHECK(looped.err.find("next is not a new cursor") != std::string::npos);
}

TEST_CASE("run: show asks a daemon from before paging for the whole table") {
  FakeDaemon d;
  d.answer = [](const json& req) {
    if (req.at("params").contains("limit"))
      return fail(-32602, "Invalid params: limit: unknown parameter",
                  {{"param", "limit"}, {"message", "unknown parameter"}});
    return ok(kRoutes);
  };
  FakeDaemon whole;
  whole.answer = [](const json&) { return ok(kRoutes); };
  for (const char* flag : {"-p", "-j"}) {
    CAPTURE(flag);
    d.requests.clear();
    auto r = invoke(d, {"mfcctl", flag, "show"});
    CHECK(r.code == 0);
    CHECK(r.err.empty());
    REQUIRE(d.requests.size() == 2);
    CHECK(json::parse(d.requests[1]).at("params") == json::object());
    CHECK(r.out == invoke(whole, {"mfcctl", flag, "show"}).out);
  }
  // A daemon that still names `limit` once it is gone is not asked again.
  d.answer = [](const json&) {
    return fail(-32602, "Invalid params: limit: unknown parameter",
                {{"param", "limit"}, {"message", "unknown parameter"}});
  };
  d.requests.clear();
  CHECK(invoke(d, {"mfcctl", "show"}).code == 1);
  CHECK(d.requests.size() == 2);
  // Any other refusal is reported as it is.
  d.answer = [](const json&) {
    return fail(-32602, "Invalid params: detail: must be true or false",
                {{"param", "detail"}, {"message", "must be true or false"}});
  };
  d.requests.clear();
  auto r = invoke(d, {"mfcctl", "show"});
  CHECK(r.code == 1);
  CHECK(d.requests.size() == 1);
}

TEST_CASE("run: -j show prints exactly the result object") {
  FakeDaemon d;
  d.answer = [](const json&) { return ok(kRoutes); };
  auto r = invoke(d, {"mfcctl", "-j", "show"});
  CHECK(r.code == 0);
  CHECK(r.out == kRoutes.dump(2) + "\n");
}

TEST_CASE("run: -j prints the result alone for every command, or the error alone") {
  FakeDaemon d;
  d.answer = [](const json&) { return ok({{"route", nullptr}}); };
  auto r = invoke(d, {"mfcctl", "-j", "del", "a1", "225.1.1.1"});
  CHECK(r.code == 0);
  CHECK(json::parse(r.out) == json{{"route", nullptr}});

  const json reloaded = {
      {"dry_run", false},
      {"routes",
       {{"added", json::array()}, {"changed", json::array()}, {"removed", json::array()}}},
      {"groups", {{"joined", json::array()}, {"left", json::array()}}}};
  for (const auto& words : std::vector<std::vector<std::string>>{{"add", "a1", "225.1.1.1", "a2"},
                                                                 {"reload"},
                                                                 {"join", "a1", "225.1.1.1"},
                                                                 {"flush"},
                                                                 {"version"},
                                                                 {"show", "pending"}}) {
    FakeDaemon each;
    each.answer = [&](const json&) { return ok(reloaded); };
    std::vector<std::string> argv{"mfcctl", "-j"};
    argv.insert(argv.end(), words.begin(), words.end());
    auto e = invoke(each, argv);
    CHECK_MESSAGE(e.code == 0, words[0]);
    CHECK_MESSAGE(json::parse(e.out) == reloaded, words[0]);
  }

  FakeDaemon refusing;
  refusing.answer = [](const json&) {
    return fail(-32001, "Unknown interface", {{"interface", "eth9"}});
  };
  r = invoke(refusing, {"mfcctl", "-j", "add", "eth9", "225.1.1.1", "a2"});
  CHECK(r.code == 1);
  CHECK(json::parse(r.out) == json{{"error",
                                    {{"code", -32001},
                                     {"message", "Unknown interface"},
                                     {"data", {{"interface", "eth9"}}}}}});
  CHECK(r.err == "mfcctl: Unknown interface (interface eth9)\n");

  // -b -j: one element per command sent, in line order, each as above.
  FakeDaemon batch;
  batch.answer = [](const json& req) {
    if (req["params"].value("iif", "") == "eth9") return fail(-32001, "Unknown interface");
    return ok({{"route", json::object()}});
  };
  r = invoke(batch, {"mfcctl", "-bj"}, "add eth9 225.1.1.2 a2\nadd a1 225.1.1.1 a2\n");
  CHECK(r.code == 1);
  CHECK(json::parse(r.out) ==
        json::array({json{{"error", {{"code", -32001}, {"message", "Unknown interface"}}}},
                     json{{"route", json::object()}}}));
}

TEST_CASE("run: a successful add is silent and carries the owner") {
  FakeDaemon d;
  d.answer = [](const json&) { return ok({{"route", json::object()}}); };
  auto r = invoke(d, {"mfcctl", "add", "a1", "192.0.2.1", "225.1.1.1", "a2"});
  CHECK(r.code == 0);
  CHECK(r.out.empty());
  CHECK(r.err.empty());
  CHECK(json::parse(d.requests.at(0))["params"]["owner"] == "mfcctl");
}

TEST_CASE("run: daemon errors are plain text with their detail, exit 1") {
  FakeDaemon d;
  d.answer = [](const json&) { return fail(-32001, "Unknown interface", {{"interface", "eth9"}}); };
  auto r = invoke(d, {"mfcctl", "add", "eth9", "225.1.1.1", "a2"});
  CHECK(r.code == 1);
  CHECK(r.out.empty());
  CHECK(r.err == "mfcctl: Unknown interface (interface eth9)\n");

  d.answer = [](const json&) {
    return fail(-32004, "Configuration errors",
                {{"errors",
                  {{{"file", "/etc/mfcd.conf"}, {"line", 3}, {"column", 7}, {"message", "bad"}},
                   {{"file", "/etc/mfcd.d/x.conf"},
                    {"line", 1},
                    {"column", 1},
                    {"message", "unknown directive 'foo'"}}}}});
  };
  r = invoke(d, {"mfcctl", "reload"});
  CHECK(r.code == 1);
  CHECK(r.err ==
        "mfcctl: Configuration errors\n"
        "mfcctl: /etc/mfcd.conf:3:7: bad\n"
        "mfcctl: /etc/mfcd.d/x.conf:1:1: unknown directive 'foo'\n");

  d.answer = [](const json&) { return fail(-32601, "Method not found"); };
  r = invoke(d, {"mfcctl", "flush"});
  CHECK(r.code == 1);
  CHECK(r.err == "mfcctl: Method not found (cache.flush is not supported by this daemon)\n");

  d.answer = [](const json&) {
    return fail(
        -32000, "Kernel refused",
        {{"op", "add_mfc (10.0.0.1, 225.1.1.1)"}, {"errno", 22}, {"strerror", "Invalid argument"}});
  };
  r = invoke(d, {"mfcctl", "add", "a1", "10.0.0.1", "225.1.1.1", "a2"});
  CHECK(r.err == "mfcctl: Kernel refused (add_mfc (10.0.0.1, 225.1.1.1): Invalid argument)\n");

  d.answer = [](const json&) {
    return fail(-32602, "Invalid params", {{"param", "group"}, {"message", "not multicast"}});
  };
  // One address is the group, whatever it is; the daemon judges it.
  r = invoke(d, {"mfcctl", "join", "a1", "10.0.0.1"});
  CHECK(r.code == 1);
  CHECK(json::parse(d.requests.back())["params"]["group"] == "10.0.0.1");
  CHECK(r.err == "mfcctl: Invalid params (parameter 'group': not multicast)\n");

  // -j: the error reply on stdout as well, the message on stderr.
  r = invoke(d, {"mfcctl", "-j", "join", "a1", "192.0.2.1", "10.0.0.1"});
  CHECK(json::parse(r.out)["error"]["code"] == -32602);
  CHECK_FALSE(r.err.empty());
}

TEST_CASE("run: exit codes for usage, no daemon, bad replies") {
  FakeDaemon d;
  auto r = invoke(d, {"mfcctl", "re"});
  CHECK(r.code == 64);
  CHECK(r.err ==
        "mfcctl: ambiguous command 're': could be reload, remove, restart\nTry 'mfcctl help'.\n");
  CHECK(d.requests.empty());

  r = invoke(d, {"mfcctl", "-q"});
  CHECK(r.code == 64);

  d.status = Exchange::Status::cannot_connect;
  r = invoke(d, {"smcroutectl", "show"});
  CHECK(r.code == 69);
  CHECK(r.err.find("/run/smcroute.sock") != std::string::npos);
  CHECK(r.err.find("running") != std::string::npos);

  d.status = Exchange::Status::timeout;
  r = invoke(d, {"mfcctl", "show"});
  CHECK(r.code == 69);
  CHECK(r.err.find("within 10 s") != std::string::npos);

  d.status = Exchange::Status::ok;
  d.raw_reply = "this is not json";
  r = invoke(d, {"mfcctl", "show"});
  CHECK(r.code == 70);
  d.raw_reply = R"({"jsonrpc":"2.0","id":1})";
  r = invoke(d, {"mfcctl", "show"});
  CHECK(r.code == 70);
  d.raw_reply = R"({"jsonrpc":"2.0","id":1,"result":{"routes":{"asm":3}}})";
  r = invoke(d, {"mfcctl", "show"});
  CHECK(r.code == 70);
}

TEST_CASE("run: help, -v and version") {
  FakeDaemon d;
  auto r = invoke(d, {"mfcctl", "help"});
  CHECK(r.code == 0);
  CHECK(r.out.rfind("Usage: mfcctl ", 0) == 0);
  CHECK(d.requests.empty());
  r = invoke(d, {"mfcctl", "-v"});
  CHECK(r.out.rfind("mfcctl ", 0) == 0);
  CHECK(d.requests.empty());

  d.answer = [](const json&) { return ok({{"name", "mfcd"}, {"version", "0.1.0"}}); };
  r = invoke(d, {"mfcctl", "ver"});
  CHECK(r.code == 0);
  CHECK(r.out.find("\nmfcd 0.1.0\n") != std::string::npos);
  CHECK(json::parse(d.requests.at(0))["method"] == "daemon.version");
}

TEST_CASE("run: metrics prints the text as it is, and nothing else") {
  FakeDaemon d;
  const std::string text = "# HELP mfcd_x x\n# TYPE mfcd_x gauge\nmfcd_x{a=\"\\\"\"} 1\n";
  d.answer = [&](const json&) {
    return ok(
        {{"format", "prometheus-text-0.0.4"}, {"content_type", "text/plain"}, {"text", text}});
  };
  auto r = invoke(d, {"mfcctl", "metrics"});
  CHECK(r.code == 0);
  CHECK(r.out == text);
  CHECK(r.err.empty());
  CHECK(json::parse(d.requests.at(0))["method"] == "metrics.get");
  CHECK(invoke(d, {"mfcctl", "metrics", "now"}).code == 64);
  d.answer = [](const json&) { return ok({{"format", "prometheus-text-0.0.4"}}); };
  CHECK(invoke(d, {"mfcctl", "metrics"}).code != 0);  // no text: a bad reply
}

TEST_CASE("run: show with an unknown table is a usage error naming it") {
  FakeDaemon d;
  auto r = invoke(d, {"mfcctl", "show", "foo"});
  CHECK(r.code == 64);
  CHECK(r.out.empty());
  CHECK(r.err ==
        "mfcctl: show: unknown table 'foo', expected groups, interfaces, pending or routes\n"
        "Try 'mfcctl help'.\n");
  CHECK(d.requests.empty());
  // As SMCRoute: the routes.
  d.answer = [](const json&) { return ok(kRoutes); };
  r = invoke(d, {"smcroutectl", "show", "foo"});
  CHECK(r.code == 0);
  CHECK(json::parse(d.requests.at(0))["method"] == "route.list");
}

TEST_CASE("help names the default socket of the program name") {
  FakeDaemon d;
  auto r = invoke(d, {"mfcctl", "-h"});
  CHECK(r.code == 0);
  CHECK(r.out.find("-u, --socket=FILE    the daemon's control socket (default /run/mfcd.sock)") !=
        std::string::npos);
  r = invoke(d, {"/usr/sbin/smcroutectl", "-h"});
  CHECK(r.out.rfind("Usage: smcroutectl ", 0) == 0);
  CHECK(r.out.find("(default /run/smcroute.sock)") != std::string::npos);
  CHECK(r.out.find("/run/mfcd.sock") == std::string::npos);
  CHECK(d.requests.empty());
}

TEST_CASE("run: reload prints its summary; under SMCRoute's name it is silent") {
  FakeDaemon d;
  const json route = {{"iif", "a1"},    {"source", "10.0.0.1"}, {"group", "225.1.1.1"},
                      {"oifs", {"a2"}}, {"family", "ipv4"},     {"state", "installed"}};
  json result = {{"dry_run", false},
                 {"routes", {{"added", {route}}, {"changed", json::array()}, {"removed", {route}}}},
                 {"groups", {{"joined", json::array()}, {"left", json::array()}}}};
  d.answer = [&](const json&) { return ok(result); };
  auto r = invoke(d, {"mfcctl", "reload"});
  CHECK(r.code == 0);
  CHECK(r.out == "Reloaded: 1 added, 0 changed, 1 removed\n");
  CHECK(r.err.empty());

  r = invoke(d, {"smcroutectl", "reload"});
  CHECK(r.code == 0);
  CHECK(r.out.empty());

  result["routes"]["added"] = json::array();
  result["routes"]["removed"] = json::array();
  r = invoke(d, {"mfcctl", "restart"});
  CHECK(r.out == "Nothing changed\n");
}

TEST_CASE("run: reload -n prints the planned changes") {
  FakeDaemon d;
  const json route = {{"iif", "a1"},    {"source", "10.0.0.1"}, {"group", "225.1.1.1"},
                      {"oifs", {"a2"}}, {"family", "ipv4"},     {"state", "installed"}};
  const json star = {{"iif", "a1"},    {"source", nullptr}, {"group", "225.2.0.0/16"},
                     {"oifs", {"a3"}}, {"family", "ipv4"},  {"state", "rule"}};
  const json join = {{"iif", "a1"}, {"source", nullptr}, {"group", "225.9.9.9"}};
  d.answer = [&](const json& req) {
    CHECK(req["params"] == json{{"dry_run", true}});
    return ok({{"dry_run", true},
               {"routes", {{"added", {route}}, {"changed", {star}}, {"removed", json::array()}}},
               {"groups", {{"joined", json::array()}, {"left", {join}}}}});
  };
  auto r = invoke(d, {"mfcctl", "reload", "-n"});
  CHECK(r.code == 0);
  CHECK(r.out ==
        "+ mroute from a1 source 10.0.0.1 group 225.1.1.1 to a2\n"
        "~ mroute from a1 group 225.2.0.0/16 to a3  (rule)\n"
        "- mgroup from a1 group 225.9.9.9\n"
        "Dry run: 1 to add, 1 to change, 0 to remove, 1 groups to leave\n");

  const json empty = {
      {"dry_run", true},
      {"routes",
       {{"added", json::array()}, {"changed", json::array()}, {"removed", json::array()}}},
      {"groups", {{"joined", json::array()}, {"left", json::array()}}}};
  CHECK(mc::format_reload_plan(empty) == "No changes\n");
  json done = empty;
  done["dry_run"] = false;
  CHECK(mc::format_reload_plan(done) == "Nothing changed\n");
}

TEST_CASE("run: -b sends one batch and reports failures per line") {
  FakeDaemon d;
  d.answer = [](const json& req) {
    if (req["params"].value("iif", "") == "eth9") {
      return fail(-32001, "Unknown interface", {{"interface", "eth9"}});
    }
    return ok({{"route", json::object()}});
  };
  auto r = invoke(d, {"mfcctl", "-b", "-u", "/tmp/b.sock"},
                  "# batch\n"
                  "add a1 192.0.2.1 225.1.1.1 a2\n"
                  "add eth9 225.1.1.2 a2\n"
                  "\n"
                  "bogus\n"
                  "join a1 225.3.3.3\n");
  CHECK(r.code == 1);
  REQUIRE(d.requests.size() == 1);
  const json batch = json::parse(d.requests[0]);
  REQUIRE(batch.is_array());
  REQUIRE(batch.size() == 3);
  CHECK(batch[0]["id"] == 2);
  CHECK(batch[0]["method"] == "route.add");
  CHECK(batch[1]["id"] == 3);
  CHECK(batch[2]["id"] == 6);
  CHECK(batch[2]["method"] == "group.join");
  CHECK(r.err ==
        "mfcctl: line 5: unknown command 'bogus'\n"
        "mfcctl: line 3: Unknown interface (interface eth9)\n");

  FakeDaemon good;
  r = invoke(good, {"mfcctl", "-b"}, "join a1 225.3.3.3\nleave a1 225.3.3.3\n");
  CHECK(r.code == 0);
  CHECK(r.err.empty());
  CHECK(json::parse(good.requests.at(0)).size() == 2);

  FakeDaemon idle;
  r = invoke(idle, {"mfcctl", "-b"}, "# nothing\n\n");
  CHECK(r.code == 0);
  CHECK(idle.requests.empty());
}

TEST_CASE("run: a batch waits 10 s plus 250 ms per command, and says so when it times out") {
  using std::chrono::milliseconds;
  std::string lines;
  for (int i = 0; i < 60; ++i)
    lines += "join a1 225.3.3." + std::to_string(i) + "\n";
  FakeDaemon d;
  auto r = invoke(d, {"mfcctl", "-b"}, lines);
  CHECK(r.code == 0);
  REQUIRE(d.timeouts.size() == 1);
  CHECK(d.timeouts[0] == milliseconds(25'000));

  // One command alone keeps the plain deadline.
  FakeDaemon one;
  r = invoke(one, {"mfcctl", "join", "a1", "225.3.3.3"});
  REQUIRE(one.timeouts.size() == 1);
  CHECK(one.timeouts[0] == milliseconds(10'000));

  FakeDaemon slow;
  slow.status = Exchange::Status::timeout;
  slow.status_error = "timed out waiting for the reply";
  r = invoke(slow, {"mfcctl", "-b"}, lines);
  CHECK(r.code == 69);
  CHECK(r.err.find("within 25 s (timed out waiting for the reply)") != std::string::npos);
}

TEST_CASE("run: -b with show lines prints their tables in line order") {
  FakeDaemon d;
  d.answer = [](const json& req) {
    if (req["method"] == "pending.list") return ok({{"pending", json::array()}});
    return ok({{"route", json::object()}});
  };
  auto r = invoke(d, {"mfcctl", "-bp"}, "add a1 225.1.1.1 a2\nshow pending\n");
  CHECK(r.code == 0);
  CHECK(r.out == "No pending routes or groups\n");
}

TEST_CASE("run: -b when the daemon refuses the whole batch") {
  FakeDaemon d;
  d.raw_reply =
      R"({"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"Invalid Request"}})";
  auto r = invoke(d, {"mfcctl", "-b"}, "join a1 225.3.3.3\n");
  CHECK(r.code == 1);
  CHECK(r.err == "mfcctl: Invalid Request\n");
}

TEST_CASE("errors: details the message already says are not repeated") {
  using mfcd::rpc::RpcError;
  CHECK(
      mc::describe_error(RpcError{-32601, "Method not found: group.list", nullptr}, "group.list") ==
      std::vector<std::string>{"Method not found: group.list"});
  CHECK(mc::describe_error(
            RpcError{-32602,
                     "Invalid params: group: prefix length 33 out of range 0..32",
                     {{"param", "group"}, {"message", "prefix length 33 out of range 0..32"}}},
            "route.add") ==
        std::vector<std::string>{"Invalid params: group: prefix length 33 out of range 0..32"});
  CHECK(mc::describe_error(RpcError{-32001,
                                    "unknown interface eth9",
                                    {{"interface", "eth9"}, {"message", "unknown interface eth9"}}},
                           "route.add") == std::vector<std::string>{"unknown interface eth9"});
  CHECK(
      mc::describe_error(
          RpcError{
              -32003,
              "Not found",
              {{"what", "route"}, {"iif", "a1"}, {"source", "192.0.2.7"}, {"group", "225.9.9.9"}}},
          "route.remove") ==
      std::vector<std::string>{"Not found (route from a1 (192.0.2.7, 225.9.9.9))"});
  CHECK(mc::describe_error(
            RpcError{-32006, "Limit exceeded", {{"limit", "clients"}, {"value", 64}}},
            "route.list") == std::vector<std::string>{"Limit exceeded (limit clients = 64)"});
  CHECK(mc::describe_error(RpcError{-32005, "", {{"uid", 1000}}}, "route.add") ==
        std::vector<std::string>{"error -32005 (uid 1000)"});
}

TEST_CASE("run: a refused write names the group that would do; a refused connection too") {
  FakeDaemon d;
  d.raw_reply =
      R"({"jsonrpc":"2.0","id":1,"error":{"code":-32005,"message":"permission denied: route.add )"
      R"(changes the daemon; it needs root or membership of group \"mfcadmin\"","data":{"uid":)"
      R"(1000,"method":"route.add","access":"write","needs":{"uid":0,"group":{"name":)"
      R"("mfcadmin","gid":998}}}}})";
  auto r = invoke(d, {"mfcctl", "add", "a1", "225.1.1.1", "a2"});
  CHECK(r.code == 1);
  CHECK(r.err ==
        "mfcctl: permission denied: route.add changes the daemon; it needs root or membership of "
        "group \"mfcadmin\" (uid 1000)\n");
  d.status = Exchange::Status::cannot_connect;
  d.status_error = "Permission denied";
  r = invoke(d, {"mfcctl", "show"});
  CHECK(r.code == 69);
  CHECK(r.err ==
        "mfcctl: cannot connect to the daemon at /run/mfcd.sock: Permission denied (the socket "
        "admits root and the members of its group: mfcd --socket-group)\n");
}

// --- addresses that are not addresses (issue 15, item 2) -----------------------

TEST_CASE("commands: a bad address names the word and what that place expects") {
  const std::string expected_source = "(expected an IPv4 or IPv6 address, optionally with /LEN)";
  const std::string expected_group =
      "(expected a multicast IPv4 or IPv6 address, optionally with /LEN)";
  CHECK(command_error({"add", "nc-in", "10.1.0.300", "225.9.9.9", "nc-out"}) ==
        "add: '10.1.0.300' is not a valid source address " + expected_source);
  CHECK(command_error({"add", "nc-in", "225.9.9.300", "nc-out"}) ==
        "add: '225.9.9.300' is not a valid group address " + expected_group);
  CHECK(command_error({"add", "nc-in", "10.1.0.5", "225.9.9", "nc-out"}) ==
        "add: '225.9.9' is not a valid group address " + expected_group);
  CHECK(command_error({"add", "nc-in", "2001:db8::1", "ff0e::zz", "nc-out"}) ==
        "add: 'ff0e::zz' is not a valid group address " + expected_group);
  CHECK(command_error({"join", "nc-in", "10.1.0.300", "232.1.1.1"}) ==
        "join: '10.1.0.300' is not a valid source address " + expected_source);
  CHECK(command_error({"remove", "nc-in", "225.1.1.x/24"}) ==
        "remove: '225.1.1.x/24' is not a valid group address " + expected_group);
  // A bad address where an outbound interface belongs is not taken for one.
  CHECK(command_error({"add", "a1", "225.1.1.1", "a2", "10.0.0.300"})
            .rfind("add: unexpected address '10.0.0.300' where an outbound interface belongs", 0) ==
        0);
  // Interface names with digits and dots (VLANs) are still interfaces.
  auto c = command({"add", "eth0.100", "225.1.1.1", "eth1.200", "br0"});
  CHECK(c.params["iif"] == "eth0.100");
  CHECK(c.params["oifs"] == json{"eth1.200", "br0"});
}

TEST_CASE("addresses: which words were meant as addresses") {
  for (const char* yes : {"10.1.0.300", "225.9.9", "ff0e::zz", "10.0.0.1/33", "a/b", "1.2"})
    CHECK_MESSAGE(mc::meant_as_address(yes), yes);
  for (const char* no : {"eth0", "eth0.100", "wg0", "123", "", "nc-out", "br-lan.5"})
    CHECK_MESSAGE(!mc::meant_as_address(no), no);
}

// --- interfaces that do not exist (issue 15, item 1) --------------------------

TEST_CASE("options: -S and --strict") {
  CHECK(options({"-S", "add"}).strict);
  CHECK(options({"--strict"}).strict);
  CHECK(options({"-jS"}).strict);
  CHECK_FALSE(options({"add"}).strict);
  CHECK(option_error({"--strict=yes"}) == "unknown option '--strict=yes'");
}

TEST_CASE("commands: strictness is asked for add, join and reload") {
  auto strict_of = [](std::vector<std::string> words, bool strict, bool smcroute) {
    auto c = command(std::move(words));
    mc::set_strictness(c, strict, smcroute);
    return c.params.contains("strict") ? c.params["strict"] : json("absent");
  };
  const std::vector<std::string> add = {"add", "a1", "225.1.1.1", "a2"};
  const std::vector<std::string> join = {"join", "a1", "225.1.1.1"};
  const std::vector<std::string> reload = {"reload"};
  const std::vector<std::string> remove = {"remove", "a1", "225.1.1.1"};
  // mfcctl: nothing by default (the daemon keeps it pending and warns).
  CHECK(strict_of(add, false, false) == "absent");
  CHECK(strict_of(join, false, false) == "absent");
  CHECK(strict_of(reload, false, false) == "absent");
  // -S: every missing interface is an error.
  CHECK(strict_of(add, true, false) == true);
  CHECK(strict_of(join, true, false) == true);
  CHECK(strict_of(reload, true, false) == true);
  CHECK(strict_of(remove, true, false) == "absent");
  CHECK(strict_of({"set", "a1", "225.1.1.1", "a2"}, true, false) == true);
  CHECK(strict_of({"set", "a1", "225.1.1.1", "a2"}, false, true) == "iif");
  // smcroutectl: a missing inbound interface is an error, as in SMCRoute.
  CHECK(strict_of(add, false, true) == "iif");
  CHECK(strict_of(join, false, true) == "iif");
  CHECK(strict_of(reload, false, true) == "absent");
  CHECK(strict_of(add, true, true) == true);
}

namespace {

json missing_warning(const std::string& name, const std::string& role, const std::string& what) {
  return {{"interface", name},
          {"role", role},
          {"message", "interface " + name + " does not exist; " + what}};
}

}  // namespace

TEST_CASE("run: add naming a missing interface succeeds with a warning on stderr") {
  FakeDaemon d;
  const json warning =
      missing_warning("nc-ot", "outbound",
                      "the route has no outbound interface and drops the flow until it appears");
  d.answer = [&](const json&) { return ok({{"route", json::object()}, {"warnings", {warning}}}); };
  auto r = invoke(d, {"mfcctl", "add", "nc-in", "10.1.0.5", "225.9.9.9", "nc-ot"});
  CHECK(r.code == 0);
  CHECK(r.out.empty());
  CHECK(r.err ==
        "mfcctl: warning: interface nc-ot does not exist; the route has no outbound interface "
        "and drops the flow until it appears\n");
  CHECK_FALSE(json::parse(d.requests.at(0))["params"].contains("strict"));

  // -j: the result holds the warnings, and stderr says them too.
  r = invoke(d, {"mfcctl", "-j", "add", "nc-in", "10.1.0.5", "225.9.9.9", "nc-ot"});
  CHECK(r.code == 0);
  CHECK(json::parse(r.out).at("warnings") == json{warning});
  CHECK(r.err.find("warning: interface nc-ot does not exist") != std::string::npos);

  // join says it the same way.
  d.answer = [&](const json&) {
    return ok({{"group", json::object()},
               {"warnings",
                {missing_warning("nc-zz", "join", "the join stays pending until it appears")}}});
  };
  r = invoke(d, {"mfcctl", "join", "nc-zz", "225.5.5.5"});
  CHECK(r.code == 0);
  CHECK(r.err ==
        "mfcctl: warning: interface nc-zz does not exist; the join stays pending until it "
        "appears\n");

  // -b: per line.
  r = invoke(d, {"mfcctl", "-b"}, "join nc-zz 225.5.5.5\n");
  CHECK(r.code == 0);
  CHECK(r.err ==
        "mfcctl: line 1: warning: interface nc-zz does not exist; the join stays pending until it "
        "appears\n");
}

TEST_CASE("run: -S makes a missing interface an error; smcroutectl refuses a missing inbound") {
  FakeDaemon d;
  const std::string message = "outbound interface nc-ot does not exist; nothing changed";
  d.answer = [&](const json& req) {
    if (!req["params"].contains("strict")) return ok({{"route", json::object()}});
    return fail(-32001, message,
                {{"interface", "nc-ot"}, {"interfaces", {"nc-ot"}}, {"message", message}});
  };
  auto r = invoke(d, {"mfcctl", "-S", "add", "nc-in", "10.1.0.5", "225.9.9.9", "nc-ot"});
  CHECK(r.code == 1);
  CHECK(r.err == "mfcctl: " + message + "\n");
  CHECK(json::parse(d.requests.back())["params"]["strict"] == true);

  r = invoke(d, {"smcroutectl", "add", "nc-inn", "10.1.0.5", "225.9.9.9", "nc-out"});
  CHECK(r.code == 1);
  CHECK(json::parse(d.requests.back())["params"]["strict"] == "iif");
  r = invoke(d, {"smcroutectl", "join", "nc-zz", "225.5.5.5"});
  CHECK(json::parse(d.requests.back())["params"]["strict"] == "iif");
}

TEST_CASE("run: reload prints its summary and the file's warnings at their lines") {
  FakeDaemon d;
  json warning =
      missing_warning("nc-oot", "outbound",
                      "the route has no outbound interface and drops the flow until it appears");
  warning.update({{"file", "/etc/mfcd.conf"}, {"line", 3}, {"column", 1}});
  const json route = {{"iif", "nc-in"},     {"source", "10.1.0.5"}, {"group", "225.9.9.9"},
                      {"oifs", {"nc-oot"}}, {"family", "ipv4"},     {"state", "installed"}};
  const json result = {
      {"dry_run", false},
      {"routes", {{"added", {route}}, {"changed", json::array()}, {"removed", json::array()}}},
      {"groups", {{"joined", json::array()}, {"left", json::array()}}},
      {"failures", json::array()},
      {"warnings", {warning}}};
  d.answer = [&](const json&) { return ok(result); };
  const std::string line =
      "/etc/mfcd.conf:3:1: warning: interface nc-oot does not exist; the route has no outbound "
      "interface and drops the flow until it appears\n";
  auto r = invoke(d, {"mfcctl", "reload"});
  CHECK(r.code == 0);
  CHECK(r.out == "Reloaded: 1 added, 0 changed, 0 removed\n");
  CHECK(r.err == "mfcctl: " + line);
  // smcroutectl: stdout and exit status as SMCRoute's, the warning still said.
  r = invoke(d, {"smcroutectl", "reload"});
  CHECK(r.code == 0);
  CHECK(r.out.empty());
  CHECK(r.err == "smcroutectl: " + line);
}

TEST_CASE("errors: a strict reload names each missing interface at its line") {
  using mfcd::rpc::RpcError;
  const json missing = {{"interface", "nc-oot"},
                        {"role", "outbound"},
                        {"message", "interface nc-oot does not exist; nothing is forwarded"},
                        {"file", "/etc/mfcd.conf"},
                        {"line", 3},
                        {"column", 1}};
  const std::string message = "outbound interface nc-oot does not exist; nothing changed";
  CHECK(mc::describe_error(RpcError{-32001,
                                    message,
                                    {{"interface", "nc-oot"},
                                     {"interfaces", {"nc-oot"}},
                                     {"missing", {missing}},
                                     {"message", message}}},
                           "config.reload") ==
        std::vector<std::string>{
            message, "/etc/mfcd.conf:3:1: interface nc-oot does not exist; nothing is forwarded"});
}

// --- monitor ------------------------------------------------------------------------

namespace {

// A daemon for `monitor`: answers the subscription with `reply`, then
// sends `events` and closes (or, with `overflow`, ends with one).
struct StreamDaemon {
  json reply = ok({{"subscribed", true}, {"kinds", json::array()}});
  std::vector<json> events;
  std::vector<std::string> requests;

  mc::StreamTransport transport() {
    return [this](const std::string&, const std::string& request, const mc::LineHandler& on_line) {
      requests.push_back(request);
      json r = reply;
      r["jsonrpc"] = "2.0";
      r["id"] = 1;
      Exchange e;
      if (!on_line(r.dump())) return e;
      for (const auto& params : events) {
        const json note = {{"jsonrpc", "2.0"}, {"method", "event"}, {"params", params}};
        if (!on_line(note.dump())) return e;
      }
      e.status = Exchange::Status::no_reply;
      e.error = "the daemon closed the connection";
      return e;
    };
  }
};

Invocation monitor(StreamDaemon& d, std::vector<std::string> argv) {
  FakeDaemon unused;
  std::istringstream input;
  std::ostringstream out, err;
  mc::Io io{input, out, err, false};
  Invocation r;
  r.code = mc::run(argv, io, unused.transport(), d.transport());
  r.out = out.str();
  r.err = err.str();
  CHECK(unused.requests.empty());
  return r;
}

const json kInstalled = {{"seq", 1},
                         {"time", "2026-12-06T19:30:00.123Z"},
                         {"kind", "route.installed"},
                         {"family", "ipv4"},
                         {"source", "10.0.0.1"},
                         {"group", "225.1.1.1"},
                         {"iif", "a1"},
                         {"oifs", {"a2", "a3"}},
                         {"route", "a1 (10.0.0.1, 225.1.1.1)"},
                         {"origin", {"api"}},
                         {"owners", json::array()}};

}  // namespace

TEST_CASE("monitor: subscribes to the kinds given; any prefix of the word will do") {
  auto c = mc::parse_command({"mon", "route", "interface.up"}, false);
  REQUIRE(c.command);
  CHECK(c.command->kind == mc::Kind::monitor);
  CHECK(c.command->method == "events.subscribe");
  CHECK(c.command->params == json{{"kinds", {"route", "interface.up"}}});
  auto all = mc::parse_command({"monitor"}, false);
  REQUIRE(all.command);
  CHECK(all.command->params == json::object());
}

TEST_CASE("monitor: one line per event, members that say what first, lists with commas") {
  CHECK(mc::format_event(kInstalled) ==
        "1 2026-12-06T19:30:00.123Z route.installed family=ipv4 source=10.0.0.1 group=225.1.1.1 "
        "iif=a1 oifs=a2,a3 route=\"a1 (10.0.0.1, 225.1.1.1)\" origin=api owners=-");
  const json refused = {{"seq", 4},
                        {"time", "2026-12-06T19:30:01.000Z"},
                        {"kind", "reload.refused"},
                        {"file", "/etc/mfcd.conf"},
                        {"errors",
                         {{{"file", "/etc/mfcd.conf"},
                           {"line", 2},
                           {"column", 12},
                           {"message", "expected a group"}}}}};
  CHECK(mc::format_event(refused) ==
        "4 2026-12-06T19:30:01.000Z reload.refused file=/etc/mfcd.conf errors=1 "
        "\"/etc/mfcd.conf:2:12: expected a group\"");
  const json applied = {
      {"seq", 5},
      {"time", "2026-12-06T19:30:02.000Z"},
      {"kind", "reload.applied"},
      {"file", "/etc/mfcd.conf"},
      {"routes", {{"added", {1, 2}}, {"changed", json::array()}, {"removed", {3}}}},
      {"groups", json::object()},
      {"failures", json::array()},
      {"warnings", {1}}};
  CHECK(mc::format_event(applied) ==
        "5 2026-12-06T19:30:02.000Z reload.applied file=/etc/mfcd.conf added=2 changed=0 "
        "removed=1 failures=0 warnings=1");
}

TEST_CASE("monitor: prints each event as it comes; -j prints each as one JSON line") {
  StreamDaemon d;
  d.events = {kInstalled};
  auto r = monitor(d, {"mfcctl", "monitor", "route"});
  CHECK(json::parse(d.requests.at(0)).at("params") == json{{"kinds", {"route"}}});
  CHECK(r.out == mc::format_event(kInstalled) + "\n");
  CHECK(r.err == "mfcctl: the daemon at /run/mfcd.sock closed the connection\n");
  CHECK(r.code == mc::kExitUnavailable);
  auto j = monitor(d, {"mfcctl", "-j", "monitor"});
  CHECK(json::parse(j.out) == kInstalled);
}

TEST_CASE("monitor: a refused subscription, and being dropped for reading too slowly") {
  StreamDaemon d;
  d.reply =
      fail(-32602, "Invalid params: kinds: unknown event kind \"bogus\" (see docs/api.md)",
           {{"param", "kinds"}, {"message", "unknown event kind \"bogus\" (see docs/api.md)"}});
  auto r = monitor(d, {"mfcctl", "monitor", "bogus"});
  CHECK(r.code == mc::kExitRefused);
  CHECK(r.out == "");
  CHECK(r.err.find("unknown event kind \"bogus\"") != std::string::npos);
  StreamDaemon slow;
  slow.events = {kInstalled, {{"seq", 2}, {"time", "t"}, {"kind", "overflow"}, {"reason", "r"}}};
  auto o = monitor(slow, {"mfcctl", "monitor"});
  CHECK(o.code == mc::kExitUnavailable);
  CHECK(o.err == "mfcctl: the daemon dropped this monitor: it read events too slowly\n");
}

// --- explain ------------------------------------------------------------------

namespace {

const json kExplained = {{"flow",
                          {{"source", "198.51.100.2"},
                           {"group", "233.252.0.1"},
                           {"iif", "r-in"},
                           {"iif_given", false},
                           {"family", "ipv4"}}},
                         {"covered_by",
                          {{"kind", "route"},
                           {"route",
                            {{"iif", "r-in"},
                             {"source", "198.51.100.2"},
                             {"group", "233.252.0.1"},
                             {"oifs", {"r-out"}}}}}},
                         {"kernel",
                          {{"iif", "r-in"},
                           {"oifs", {{{"interface", "r-out"}, {"ttl", 1}}}},
                           {"type", "static"},
                           {"resolved", true},
                           {"packets", 12},
                           {"bytes", 1200},
                           {"wrong_if", 0},
                           {"change", {{"packets", 5}, {"bytes", 500}, {"wrong_if", 0}}}}},
                         {"checks",
                          {{{"check", "route"},
                            {"ok", true},
                            {"looked_at", "mfcd's routes and rules"},
                            {"detail", "the route covers the flow"},
                            {"blocking", true}},
                           {{"check", "rp_filter"},
                            {"ok", false},
                            {"looked_at", "/proc/sys/net/ipv4/conf/r-in/rp_filter = 1"},
                            {"detail", "strict reverse path filtering"},
                            {"blocking", false},
                            {"interface", "r-in"}}}},
                         {"verdict", "forwarding, but: strict reverse path filtering"}};

}  // namespace

TEST_CASE("commands: explain SOURCE GROUP [IIF]") {
  auto c = command({"explain", "198.51.100.2", "233.252.0.1"});
  CHECK(c.kind == Kind::explain);
  CHECK(c.method == "route.explain");
  CHECK(c.params == json{{"source", "198.51.100.2"}, {"group", "233.252.0.1"}});
  c = command({"e", "2001:db8::2", "ff0e::db8:1", "r-in"});
  CHECK(c.params == json{{"source", "2001:db8::2"}, {"group", "ff0e::db8:1"}, {"iif", "r-in"}});
  CHECK(mc::match_command("e").name == "explain");
  CHECK(command_error({"explain"}) ==
        "explain: missing source address (usage: explain SOURCE GROUP [IIF])");
  CHECK(command_error({"explain", "198.51.100.2"}) ==
        "explain: missing group address (usage: explain SOURCE GROUP [IIF])");
  CHECK(command_error({"explain", "233.252.0.1", "198.51.100.2"}) ==
        "explain: '233.252.0.1' is not a unicast source address (usage: explain SOURCE GROUP "
        "[IIF])");
  CHECK(command_error({"explain", "198.51.100.2", "198.51.100.3"}) ==
        "explain: '198.51.100.3' is not a multicast group address (usage: explain SOURCE GROUP "
        "[IIF])");
  CHECK(command_error({"explain", "198.51.100.2", "233.252.0.1", "10.0.0.1"}) ==
        "explain: '10.0.0.1' is an address, expected the inbound interface (usage: explain "
        "SOURCE GROUP [IIF])");
  CHECK(command_error({"explain", "198.51.100.2", "233.252.0.1", "a", "b"}) ==
        "explain: unexpected argument 'b' (usage: explain SOURCE GROUP [IIF])");
}

TEST_CASE("run: explain in plain words, and -j as the result") {
  FakeDaemon d;
  d.answer = [](const json&) { return ok(kExplained); };
  auto r = invoke(d, {"mfcctl", "explain", "198.51.100.2", "233.252.0.1"});
  CHECK(r.code == 0);
  CHECK(r.out ==
        "Flow (198.51.100.2, 233.252.0.1) arriving on r-in\n"
        "Covered by: route r-in (198.51.100.2, 233.252.0.1) to r-out\n"
        "Kernel entry: from r-in to r-out (ttl 1)\n"
        "  12 packets (+5), 1200 bytes (+500), 0 on the wrong interface (+0)\n"
        "Checks:\n"
        "  ok    the route covers the flow\n"
        "  WARN  strict reverse path filtering\n"
        "        looked at /proc/sys/net/ipv4/conf/r-in/rp_filter = 1\n"
        "Verdict: forwarding, but: strict reverse path filtering\n");
  CHECK(json::parse(d.requests.at(0))["method"] == "route.explain");
  r = invoke(d, {"mfcctl", "-j", "explain", "198.51.100.2", "233.252.0.1"});
  CHECK(json::parse(r.out) == kExplained);

  json none = kExplained;
  none["kernel"] = nullptr;
  none["covered_by"] = {{"kind", "none"}, {"route", nullptr}};
  d.answer = [&](const json&) { return ok(none); };
  r = invoke(d, {"mfcctl", "explain", "198.51.100.2", "233.252.0.1"});
  CHECK(r.out.find("Covered by: nothing\nKernel entry: none\n") != std::string::npos);
}
