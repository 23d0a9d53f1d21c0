// The daemon's log levels: each -l level lets through exactly the lines of
// the syslog priority of the same name and above, and each line carries
// that priority to syslog and its name as the tag on stderr. Control
// characters in a line's text are escaped by both sinks.
#include <doctest/doctest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <syslog.h>

#include <algorithm>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "service/logging.hpp"

using mfcd::LogLevel;

namespace {

// What one daemon run logs: one line per kind, from the most to the least
// severe, with the spdlog call each kind uses.
void log_each_kind(spdlog::logger& log) {
  log.critical("start-up failed");
  log.error("route refused");
  log.warn("look at this");
  log.info("reloaded");          // an operator-visible event: notice
  log.debug("kernel: add_mfc");  // a kernel operation: info
  log.trace("upcall");           // per-upcall detail: debug
}

using Lines = std::vector<std::pair<int, std::string>>;

Lines syslog_lines(LogLevel level) {
  Lines lines;
  auto log = mfcd::make_syslog_logger("t", level, [&](int priority, std::string_view text) {
    lines.emplace_back(priority, std::string(text));
  });
  log_each_kind(*log);
  return lines;
}

}  // namespace

TEST_CASE("each -l level is the syslog priority of the same name") {
  // The least severe line a level lets through has that level's priority.
  CHECK(mfcd::syslog_priority(mfcd::spdlog_threshold(LogLevel::err)) == LOG_ERR);
  CHECK(mfcd::syslog_priority(mfcd::spdlog_threshold(LogLevel::notice)) == LOG_NOTICE);
  CHECK(mfcd::syslog_priority(mfcd::spdlog_threshold(LogLevel::info)) == LOG_INFO);
  CHECK(mfcd::syslog_priority(mfcd::spdlog_threshold(LogLevel::debug)) == LOG_DEBUG);
  CHECK(mfcd::spdlog_threshold(LogLevel::none) == spdlog::level::off);
}

TEST_CASE("syslog gets each line with its own priority, down to the level asked for") {
  CHECK(syslog_lines(LogLevel::notice) == Lines{{LOG_CRIT, "start-up failed"},
                                                {LOG_ERR, "route refused"},
                                                {LOG_WARNING, "look at this"},
                                                {LOG_NOTICE, "reloaded"}});
  CHECK(syslog_lines(LogLevel::info).back() ==
        std::pair<int, std::string>{LOG_INFO, "kernel: add_mfc"});
  CHECK(syslog_lines(LogLevel::debug).back() == std::pair<int, std::string>{LOG_DEBUG, "upcall"});
  CHECK(syslog_lines(LogLevel::err).size() == 2);
  CHECK(syslog_lines(LogLevel::none).empty());
}

TEST_CASE("the tag on stderr names the syslog priority") {
  std::ostringstream out;
  auto log = mfcd::make_text_logger("mfcd", LogLevel::debug,
                                    std::make_shared<spdlog::sinks::ostream_sink_mt>(out));
  log_each_kind(*log);
  std::istringstream in(out.str());
  std::vector<std::string> tails;
  for (std::string line; std::getline(in, line);) {
    // "2026-01-01 10:00:00.000 mfcd[42]: notice: reloaded"
    const auto ident = line.find(" mfcd[");
    REQUIRE(ident != std::string::npos);
    tails.push_back(line.substr(line.find("]: ", ident) + 3));
  }
  CHECK(tails == std::vector<std::string>{"crit: start-up failed", "err: route refused",
                                          "warning: look at this", "notice: reloaded",
                                          "info: kernel: add_mfc", "debug: upcall"});
}

TEST_CASE("control characters are escaped, everything else is kept") {
  CHECK(mfcd::escape_controls("eth0") == "eth0");
  CHECK(mfcd::escape_controls("a\nb\rc\td") == "a\\nb\\rc\\td");
  CHECK(mfcd::escape_controls(std::string("\x01\x1b[31m\x7f", 7)) == "\\x01\\x1b[31m\\x7f");
  CHECK(mfcd::escape_controls(std::string("nul\0end", 7)) == "nul\\x00end");
  CHECK(mfcd::escape_controls("caf\xc3\xa9 \\ \"q\"") == "caf\xc3\xa9 \\ \"q\"");
  CHECK(mfcd::escape_controls("") == "");
}

TEST_CASE("an interface name with a newline cannot forge a log line") {
  const std::string name = "eth0\n2026-01-01 10:00:00.000 mfcd[1]: notice: forged";

  std::ostringstream out;
  auto text = mfcd::make_text_logger("mfcd", LogLevel::notice,
                                     std::make_shared<spdlog::sinks::ostream_sink_mt>(out));
  text->info("interface {} appeared", name);
  const std::string line = out.str();
  CHECK(std::count(line.begin(), line.end(), '\n') == 1);
  CHECK(line.find("notice: interface eth0\\n2026-01-01 10:00:00.000 mfcd[1]: notice: forged "
                  "appeared\n") != std::string::npos);

  Lines lines;
  auto sys = mfcd::make_syslog_logger("t", LogLevel::notice, [&](int priority, std::string_view t) {
    lines.emplace_back(priority, std::string(t));
  });
  sys->warn("bad name {}", name);
  CHECK(lines ==
        Lines{{LOG_WARNING, "bad name eth0\\n2026-01-01 10:00:00.000 mfcd[1]: notice: forged"}});
}
