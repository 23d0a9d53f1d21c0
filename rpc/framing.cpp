// Line framing. Each byte is looked at once: new bytes are scanned for '\n'
// and appended to the partial line, never re-scanning what was buffered, so
// a line trickling in one byte per read costs no more than one read of it.
// The size cap is checked as bytes arrive, before a newline is seen, so an
// endless line is cut at max_line bytes, not at memory exhaustion.
#include "rpc/framing.hpp"

namespace mfcd::rpc {

namespace {

bool blank(std::string_view line) {
  return line.find_first_not_of(" \t") == std::string_view::npos;
}

}  // namespace

LineFramer::LineFramer(size_t max_line) : max_line_(max_line) {}

void LineFramer::finish_line(std::vector<std::string>& out) {
  if (!partial_.empty() && partial_.back() == '\r') partial_.pop_back();
  if (!blank(partial_)) out.push_back(std::move(partial_));
  partial_.clear();
}

std::vector<std::string> LineFramer::feed(std::string_view bytes) {
  std::vector<std::string> out;
  while (!overflowed_ && !bytes.empty()) {
    const auto nl = bytes.find('\n');
    const auto piece = bytes.substr(0, nl);
    // A "\r" just before the "\n" is not part of the line, so it does not
    // count against the cap.
    size_t length = partial_.size() + piece.size();
    if (nl != std::string_view::npos && length > 0 &&
        (piece.empty() ? partial_.back() : piece.back()) == '\r') {
      --length;
    }
    // Without a newline yet, one more byte may still be a '\r' to strip.
    const size_t cap = nl == std::string_view::npos ? max_line_ + 1 : max_line_;
    if (length > cap) {
      overflowed_ = true;
      partial_.clear();
      partial_.shrink_to_fit();
      break;
    }
    partial_.append(piece);
    if (nl == std::string_view::npos) break;
    finish_line(out);
    bytes.remove_prefix(nl + 1);
  }
  return out;
}

std::string LineFramer::take_rest() {
  if (!partial_.empty() && partial_.back() == '\r') partial_.pop_back();
  std::string rest = std::move(partial_);
  partial_.clear();
  if (rest.size() > max_line_) {
    overflowed_ = true;
    return {};
  }
  return rest;
}

}  // namespace mfcd::rpc
