// How the unit tests size their heavy cases and bound their work.
//
// The shipped tree (build/) runs the randomized and large-table cases at
// full size. Under the sanitizers every memory access is instrumented, five
// to ten times slower, and that tree is there to find memory errors, not to
// cover more random cases: there those cases run a quarter of their rounds
// (`scaled`), still enough to reach every branch the full run reaches.
//
// A few cases guard an algorithm's complexity (a 10 MB line refused in
// linear time, one join among 50,000 that looks at nothing else). They
// measure processor time (`CpuTimer`), so a busy machine's waits do not
// count, against a bound far above the linear cost and far below the
// quadratic one they guard against; under the sanitizers the bound is
// `kSanitizerSlowdown` times wider (`budget_ms`). Speed itself is measured
// by the benchmarks (tests/bench/), not here.
#pragma once

#include <ctime>

namespace mfcd::test {

#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kSanitized = true;
#else
inline constexpr bool kSanitized = false;
#endif

inline constexpr int kSanitizerSlowdown = 10;

/// `n` rounds in the shipped tree, a quarter of them under the sanitizers.
constexpr int scaled(int n) {
  return kSanitized ? n / 4 : n;
}

/// A processor-time bound: `ms`, or `kSanitizerSlowdown` times it.
constexpr double budget_ms(double ms) {
  return kSanitized ? ms * kSanitizerSlowdown : ms;
}

/// Processor time this process spent since construction, in milliseconds.
class CpuTimer {
 public:
  double ms() const { return 1000.0 * double(std::clock() - start_) / CLOCKS_PER_SEC; }

 private:
  std::clock_t start_ = std::clock();
};

}  // namespace mfcd::test
