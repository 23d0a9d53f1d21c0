// How an error message quotes what it was given. Messages go to the log, to
// a terminal and into JSON-RPC replies, and the input they quote may be any
// bytes of any file or request: a 10 MB token, an escape sequence that
// repaints a terminal, a newline that forges a log line. So a quote is cut
// short and its control characters are escaped, and the message stays one
// readable line whatever the input.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace mfcd::core {

// The most bytes of the input one quote shows. Longer than any name or
// address a config or a request holds, short enough to keep a message one
// line.
inline constexpr size_t kMaxQuotedBytes = 64;
// A path is quoted whole up to PATH_MAX: a path cut short names no file,
// and one that long could not have been opened anyway.
inline constexpr size_t kMaxQuotedPathBytes = 4096;

// `text` made safe to print: at most `max_bytes` of it, then "…" if it
// was longer (cut where a UTF-8 character starts, so the cut does not break
// one); a control character (below 0x20, and 0x7f) as \xNN and a backslash
// as \\, so that every escaped text reads back unambiguously.
inline std::string escaped_cut(std::string_view text, size_t max_bytes = kMaxQuotedBytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  size_t keep = text.size();
  if (keep > max_bytes) {
    keep = max_bytes;
    // A UTF-8 continuation byte (10xxxxxx) is the middle of a character.
    while (keep > 0 && (static_cast<unsigned char>(text[keep]) & 0xc0) == 0x80)
      --keep;
  }
  std::string out;
  out.reserve(keep + 4);
  for (size_t i = 0; i < keep; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c == 0x7f) {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    } else if (c == '\\') {
      out += "\\\\";
    } else {
      out += static_cast<char>(c);
    }
  }
  if (keep < text.size()) out += "\u2026";
  return out;
}

// escaped_cut in single quotes: "'eth0'".
inline std::string quote(std::string_view text, size_t max_bytes = kMaxQuotedBytes) {
  return "'" + escaped_cut(text, max_bytes) + "'";
}

// A path in single quotes, escaped, cut only past kMaxQuotedPathBytes.
inline std::string quote_path(std::string_view path) {
  return quote(path, kMaxQuotedPathBytes);
}

}  // namespace mfcd::core
