// mfcctl's entry point: the real streams and the real socket handed to
// run(), where everything else lives (and is unit-tested).
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "client/app.hpp"

namespace {

// Terminal headings (reverse video, underline) only on a terminal that can
// show them: not with TERM unset or "dumb" (a log viewer, a pseudo-terminal
// that only exists for line buffering), nor when NO_COLOR asks for none.
bool styled_terminal() {
  if (::isatty(STDOUT_FILENO) != 1) return false;
  const char* term = std::getenv("TERM");
  if (term == nullptr || *term == '\0' || std::strcmp(term, "dumb") == 0) return false;
  const char* no_color = std::getenv("NO_COLOR");
  return no_color == nullptr || *no_color == '\0';
}

}  // namespace

int main(int argc, char** argv) {
  std::ios::sync_with_stdio(false);
  const std::vector<std::string> args(argv, argv + argc);
  mfcd::client::Io io{std::cin, std::cout, std::cerr, styled_terminal()};
  const mfcd::client::Transport transport =
      [](const std::string& socket, const std::string& request, std::chrono::milliseconds timeout) {
        return mfcd::client::exchange(socket, request, timeout);
      };
  const int code = mfcd::client::run(args, io, transport);
  std::cout.flush();
  return code;
}
