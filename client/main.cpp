// mfcctl's entry point: the real streams and the real socket handed to
// run(), where everything else lives (and is unit-tested).
#include <unistd.h>

#include <iostream>
#include <string>
#include <vector>

#include "client/app.hpp"

int main(int argc, char** argv) {
  std::ios::sync_with_stdio(false);
  const std::vector<std::string> args(argv, argv + argc);
  mfcd::client::Io io{std::cin, std::cout, std::cerr, ::isatty(STDOUT_FILENO) == 1};
  const mfcd::client::Transport transport = [](const std::string& socket,
                                               const std::string& request) {
    return mfcd::client::exchange(socket, request);
  };
  const int code = mfcd::client::run(args, io, transport);
  std::cout.flush();
  return code;
}
