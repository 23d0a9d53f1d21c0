// The daemon's log sinks. spdlog's own syslog sink maps info to LOG_INFO
// and debug to LOG_DEBUG, which puts every line of mfcd's one step below
// the level it was logged for (a "notice" event arrived as info, and
// `journalctl -p notice` hid it). So the priority comes from one table
// here, used by the syslog sink and by the stderr tag alike. Both sinks
// escape control characters in the text (escape_controls), once, here.
#include "service/logging.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <syslog.h>

#include <mutex>
#include <utility>

namespace mfcd {
namespace {

template <typename Out>
void append_escaped(std::string_view text, Out& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  size_t clean = 0;  // start of the run of bytes that need no escape
  auto flush = [&](size_t end) { out.append(text.data() + clean, text.data() + end); };
  for (size_t i = 0; i < text.size(); ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte >= 0x20 && byte != 0x7f) continue;
    flush(i);
    clean = i + 1;
    char escaped[4] = {'\\', 0, 0, 0};
    size_t length = 2;
    switch (byte) {
      case '\n':
        escaped[1] = 'n';
        break;
      case '\r':
        escaped[1] = 'r';
        break;
      case '\t':
        escaped[1] = 't';
        break;
      default:
        escaped[1] = 'x';
        escaped[2] = kHex[byte >> 4];
        escaped[3] = kHex[byte & 0xf];
        length = 4;
    }
    out.append(escaped, escaped + length);
  }
  flush(text.size());
}

struct Mapping {
  int priority;
  std::string_view tag;
};

Mapping mapping(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::critical:
      return {LOG_CRIT, "crit"};
    case spdlog::level::err:
      return {LOG_ERR, "err"};
    case spdlog::level::warn:
      return {LOG_WARNING, "warning"};
    case spdlog::level::info:
      return {LOG_NOTICE, "notice"};
    case spdlog::level::debug:
      return {LOG_INFO, "info"};
    case spdlog::level::trace:
    case spdlog::level::off:
    case spdlog::level::n_levels:
      break;
  }
  return {LOG_DEBUG, "debug"};
}

// Each line to a writer with the priority of its level; the text is the
// message alone (syslog adds time, ident and PID).
class SyslogSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit SyslogSink(SyslogWriter write) : write_(std::move(write)) {}

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    write_(syslog_priority(msg.level),
           escape_controls(std::string_view(msg.payload.data(), msg.payload.size())));
  }
  void flush_() override {}

 private:
  SyslogWriter write_;
};

// "%*" in a pattern: the line's syslog level name.
class TagFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    const auto tag = level_tag(msg.level);
    dest.append(tag.data(), tag.data() + tag.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<TagFlag>();
  }
};

// "%&" in a pattern: the message, escaped (stands for spdlog's "%v").
class EscapedTextFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    append_escaped(std::string_view(msg.payload.data(), msg.payload.size()), dest);
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<EscapedTextFlag>();
  }
};

}  // namespace

std::string escape_controls(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  append_escaped(text, out);
  return out;
}

spdlog::level::level_enum spdlog_threshold(LogLevel level) {
  switch (level) {
    case LogLevel::none:
      return spdlog::level::off;
    case LogLevel::err:
      return spdlog::level::err;
    case LogLevel::notice:
      return spdlog::level::info;
    case LogLevel::info:
      return spdlog::level::debug;
    case LogLevel::debug:
      return spdlog::level::trace;
  }
  return spdlog::level::info;
}

int syslog_priority(spdlog::level::level_enum level) {
  return mapping(level).priority;
}

std::string_view level_tag(spdlog::level::level_enum level) {
  return mapping(level).tag;
}

std::shared_ptr<spdlog::logger> make_syslog_logger(const std::string& ident, LogLevel level,
                                                   SyslogWriter write) {
  auto logger =
      std::make_shared<spdlog::logger>(ident, std::make_shared<SyslogSink>(std::move(write)));
  logger->set_level(spdlog_threshold(level));
  logger->flush_on(spdlog::level::trace);
  return logger;
}

std::shared_ptr<spdlog::logger> make_text_logger(const std::string& ident, LogLevel level,
                                                 std::shared_ptr<spdlog::sinks::sink> sink) {
  auto logger = std::make_shared<spdlog::logger>(ident, std::move(sink));
  auto formatter = std::make_unique<spdlog::pattern_formatter>();
  formatter->add_flag<TagFlag>('*').add_flag<EscapedTextFlag>('&').set_pattern(
      "%Y-%m-%d %H:%M:%S.%e " + ident + "[%P]: %*: %&");
  logger->set_formatter(std::move(formatter));
  logger->set_level(spdlog_threshold(level));
  logger->flush_on(spdlog::level::trace);
  return logger;
}

void setup_logging(const Options& o, bool to_syslog) {
  std::shared_ptr<spdlog::logger> logger;
  if (to_syslog) {
    // openlog keeps the pointer: the ident must live as long as the process.
    static std::string ident;
    ident = o.identity;
    ::openlog(ident.c_str(), LOG_PID, LOG_DAEMON);
    logger = make_syslog_logger(o.identity, o.log_level, [](int priority, std::string_view text) {
      ::syslog(priority, "%.*s", static_cast<int>(text.size()), text.data());
    });
  } else {
    logger = make_text_logger(o.identity, o.log_level,
                              std::make_shared<spdlog::sinks::stderr_sink_mt>());
  }
  spdlog::set_default_logger(logger);
}

}  // namespace mfcd
