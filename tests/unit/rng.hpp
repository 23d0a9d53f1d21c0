// A tiny deterministic generator (xorshift64) for the randomized tests, so
// that a failing round repeats exactly. Seed it with `Rng rng{seed}`.
#pragma once

#include <cstddef>
#include <cstdint>

namespace mfcd::test {

struct Rng {
  uint64_t state = 0x9e3779b97f4a7c15ULL;
  uint64_t next() {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  }
  size_t below(size_t n) { return static_cast<size_t>(next() % n); }
};

}  // namespace mfcd::test
