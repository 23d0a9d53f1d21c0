// The daemon's log: where lines go (stderr or syslog) and what priority
// each carries. mfcd's levels are syslog's names (-l err, notice, info,
// debug), and a line logged for one of them carries that syslog priority
// and that name as its tag, so that `-l notice` and `journalctl -p notice`
// select the same lines.
//
// spdlog has no "notice", so its calls stand one step down from their
// names, everywhere in the daemon:
//
//   spdlog::critical  crit     start-up failed
//   spdlog::error     err      a route the kernel refused, a reload refused
//   spdlog::warn      warning  something the operator should look at
//   spdlog::info      notice   one line per operator-visible event
//   spdlog::debug     info     each kernel operation, resolved settings
//   spdlog::trace     debug    per-upcall detail
#pragma once

#include <spdlog/logger.h>

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "service/options.hpp"

namespace mfcd {

// Every line's text, on stderr and to syslog alike, goes through this in
// the sinks, so no call site can forget it: control characters in what a
// client, a file or the kernel supplied (an interface name with "\n" and a
// forged line after it) cannot start a line of their own or drive a
// terminal. "\n", "\r" and "\t" become those two characters, any other C0
// character and DEL become "\xNN"; everything else is kept.
std::string escape_controls(std::string_view text);

// The least severe spdlog level that `-l level` lets through.
spdlog::level::level_enum spdlog_threshold(LogLevel level);

// The syslog priority (LOG_NOTICE, ...) of a line logged at `level`.
int syslog_priority(spdlog::level::level_enum level);

// The tag of such a line on stderr: syslog's name of that priority.
std::string_view level_tag(spdlog::level::level_enum level);

// Where a syslog line goes: ::syslog() in the daemon, a recorder in tests.
using SyslogWriter = std::function<void(int priority, std::string_view text)>;

// A logger at `level` that hands each line to `write` with its priority.
std::shared_ptr<spdlog::logger> make_syslog_logger(const std::string& ident, LogLevel level,
                                                   SyslogWriter write);

// A logger at `level` that writes "TIME IDENT[PID]: TAG: TEXT" lines to
// `sink` (stderr in the daemon).
std::shared_ptr<spdlog::logger> make_text_logger(const std::string& ident, LogLevel level,
                                                 std::shared_ptr<spdlog::sinks::sink> sink);

// Makes the default logger: to syslog (facility daemon, ident = the
// identity) when `to_syslog`, else to stderr.
void setup_logging(const Options& options, bool to_syslog);

}  // namespace mfcd
