// The daemon's flags: SMCRoute's spelling, bundling, identity-derived paths,
// and clear errors for bad values.
#include <doctest/doctest.h>

#include "service/options.hpp"

using mfcd::LogLevel;
using mfcd::parse_args;
using Action = mfcd::ParsedArgs::Action;

TEST_CASE("defaults follow the program name") {
  auto ours = parse_args({"/usr/sbin/mfcd"});
  CHECK(ours.action == Action::run);
  CHECK(ours.options.config_file == "/etc/mfcd.conf");
  CHECK(ours.options.socket_path == "/run/mfcd.sock");
  CHECK(ours.options.pid_file == "/run/mfcd.pid");
  CHECK(ours.options.cache_timeout == 60);
  CHECK(ours.options.log_level == LogLevel::notice);

  auto theirs = parse_args({"/usr/sbin/smcrouted"});
  CHECK(theirs.options.smcroute_names);
  CHECK(theirs.options.config_file == "/etc/smcroute.conf");
  CHECK(theirs.options.socket_path == "/run/smcroute.sock");
  CHECK(theirs.options.pid_file == "/run/smcroute.pid");
}

TEST_CASE("a state file by default as mfcd, none as smcrouted, -S \"\" for none") {
  CHECK(parse_args({"mfcd"}).options.state_file == "/var/lib/mfcd/mfcd.state");
  CHECK(parse_args({"mfcd", "-i", "r2"}).options.state_file == "/var/lib/mfcd/r2.state");
  CHECK_FALSE(parse_args({"smcrouted"}).options.state_file.has_value());
  CHECK(parse_args({"smcrouted", "-S", "/tmp/s"}).options.state_file == "/tmp/s");
  CHECK(parse_args({"mfcd", "--state-file=/tmp/t"}).options.state_file == "/tmp/t");
  CHECK_FALSE(parse_args({"mfcd", "-S", ""}).options.state_file.has_value());
}

TEST_CASE("identity names config, socket and PID file; explicit paths win") {
  auto a = parse_args({"mfcd", "-i", "r2"});
  CHECK(a.options.identity == "r2");
  CHECK(a.options.config_file == "/etc/r2.conf");
  CHECK(a.options.socket_path == "/run/r2.sock");
  CHECK(a.options.pid_file == "/run/r2.pid");

  auto b =
      parse_args({"mfcd", "-I", "r3", "-u", "/tmp/x.sock", "-P", "/tmp/x.pid", "-f", "/tmp/c"});
  CHECK(b.options.config_file == "/tmp/c");
  CHECK(b.options.config_explicit);
  CHECK(b.options.socket_path == "/tmp/x.sock");
  CHECK(b.options.pid_file == "/tmp/x.pid");
}

TEST_CASE("short flags bundle and take attached or separate values") {
  auto a = parse_args({"mfcd", "-ns", "-ldebug", "-t", "123", "-c0", "-N"});
  CHECK(a.action == Action::run);
  CHECK(a.options.foreground);
  CHECK(a.options.syslog);
  CHECK(a.options.log_level == LogLevel::debug);
  CHECK(a.options.table == 123);
  CHECK(a.options.cache_timeout == 0);

  auto b = parse_args({"mfcd", "-nF", "/etc/x.conf"});
  REQUIRE(b.options.check_file.has_value());
  CHECK(*b.options.check_file == "/etc/x.conf");
}

TEST_CASE("long options") {
  auto a =
      parse_args({"mfcd", "--foreground", "--config=/tmp/a", "--socket", "/tmp/s", "--table=7"});
  CHECK(a.options.foreground);
  CHECK(a.options.config_file == "/tmp/a");
  CHECK(a.options.socket_path == "/tmp/s");
  CHECK(a.options.table == 7);
  CHECK(parse_args({"mfcd", "--version"}).action == Action::version);
  CHECK(parse_args({"mfcd", "-h"}).action == Action::help);
}

TEST_CASE("bad flags are usage errors that say what is wrong") {
  auto unknown = parse_args({"mfcd", "-x"});
  CHECK(unknown.action == Action::exit_usage);
  CHECK(unknown.error == "unknown option '-x'");

  auto level = parse_args({"mfcd", "-l", "loud"});
  CHECK(level.action == Action::exit_usage);
  CHECK(level.error == "invalid log level 'loud': expected none, err, notice, info or debug");

  auto table = parse_args({"mfcd", "-t", "abc"});
  CHECK(table.error == "invalid number 'abc' for -t");

  auto missing = parse_args({"mfcd", "-f"});
  CHECK(missing.error == "option '-f' needs a value");

  auto mrdisc = parse_args({"mfcd", "-m", "2"});
  CHECK(mrdisc.error == "mrdisc interval must be 4..180 seconds, got 2");

  auto stray = parse_args({"mfcd", "extra"});
  CHECK(stray.error == "unexpected argument 'extra'");
}

TEST_CASE("help shows the defaults of this name and identity") {
  auto ours = parse_args({"mfcd", "-h"});
  CHECK(ours.action == Action::help);
  auto text = mfcd::usage_text(ours.options);
  CHECK(text.find("Usage: mfcd ") == 0);
  CHECK(text.find("(default /etc/mfcd.conf)") != std::string::npos);
  CHECK(text.find("(default /run/mfcd.sock)") != std::string::npos);

  auto theirs = mfcd::usage_text(parse_args({"/usr/sbin/smcrouted", "-h"}).options);
  CHECK(theirs.find("Usage: smcrouted ") == 0);
  CHECK(theirs.find("(default /etc/smcroute.conf)") != std::string::npos);
  CHECK(theirs.find("(default /run/smcroute.pid)") != std::string::npos);
  CHECK(theirs.find("(default /run/smcroute.sock)") != std::string::npos);

  auto named = mfcd::usage_text(parse_args({"mfcd", "-i", "r2", "-h"}).options);
  CHECK(named.find("(default /etc/r2.conf)") != std::string::npos);
}

TEST_CASE("-p keeps USER[:GROUP] as given; -N is accepted") {
  auto a = parse_args({"mfcd", "-p", "nobody:nogroup", "-N"});
  CHECK(a.action == Action::run);
  CHECK(a.options.run_as == "nobody:nogroup");
  CHECK(parse_args({"mfcd", "-p", ""}).error == "-p needs USER[:GROUP]");
}

TEST_CASE("--metrics-listen takes ADDR:PORT or a port, and nothing SMCRoute has") {
  CHECK_FALSE(parse_args({"mfcd"}).options.metrics_listen.has_value());
  auto a = parse_args({"mfcd", "--metrics-listen", "9468"});
  REQUIRE(a.options.metrics_listen.has_value());
  CHECK(a.options.metrics_listen->str() == "127.0.0.1:9468");
  CHECK(parse_args({"mfcd", "--metrics-listen=[::1]:80"}).options.metrics_listen->str() ==
        "[::1]:80");
  auto bad = parse_args({"mfcd", "--metrics-listen", "nowhere"});
  CHECK(bad.action == Action::exit_usage);
  CHECK(bad.error.find("invalid listen address 'nowhere'") == 0);
  CHECK(bad.error.find("for --metrics-listen") != std::string::npos);
  CHECK(parse_args({"mfcd", "--metrics-listen"}).action == Action::exit_usage);
  CHECK(parse_args({"mfcd", "--list-methods"}).options.list_methods);
}
