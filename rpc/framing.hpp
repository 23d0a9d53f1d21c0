// Newline-delimited framing: bytes as they come off a stream socket in, whole
// lines out. One JSON text per line is the transport (docs/api.md), which is
// what lets `echo '{...}' | socat - UNIX-CONNECT:...` work.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace mfcd::rpc {

class LineFramer {
 public:
  // `max_line` bounds a line's length without its "\n" (and what is kept
  // while waiting for one), so a client cannot make the daemon buffer
  // without end.
  explicit LineFramer(size_t max_line = 1 << 20);

  // Appends bytes; returns the lines they complete, in order, without the
  // '\n', a trailing '\r' stripped; lines that are empty or only blanks
  // are skipped. Once a line exceeds max_line, overflowed() becomes true,
  // that line's bytes are dropped and every later feed returns nothing: the
  // caller replies an error (-32600, id null) and closes. Lines completed
  // before the long one in the same feed are still returned.
  std::vector<std::string> feed(std::string_view bytes);

  bool overflowed() const { return overflowed_; }

  // The bytes after the last newline (for a peer that half-closed without
  // a final '\n'), '\r' stripped, and clears them. Empty after an overflow.
  std::string take_rest();

  size_t buffered() const { return partial_.size(); }

 private:
  void finish_line(std::vector<std::string>& out);

  size_t max_line_;
  std::string partial_;
  bool overflowed_ = false;
};

}  // namespace mfcd::rpc
