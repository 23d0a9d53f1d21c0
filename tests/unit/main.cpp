// The unit tests' entry point. The router logs through spdlog as the daemon
// does; the tests keep it quiet unless MFCD_TEST_LOG is set (then every
// line goes to stderr, which helps when a test about a failure fails).
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>
#include <spdlog/spdlog.h>

#include <cstdlib>

int main(int argc, char** argv) {
  if (std::getenv("MFCD_TEST_LOG") == nullptr) spdlog::set_level(spdlog::level::off);
  doctest::Context context(argc, argv);
  return context.run();
}
