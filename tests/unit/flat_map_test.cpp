// FlatMap against std::unordered_map: the same random inserts, assignments
// and erases must leave the same contents, through growth, wrap-around at
// the array's end and the backward shifts that erasing does.
#include <doctest/doctest.h>

#include <map>
#include <string>
#include <unordered_map>

#include "core/flat_map.hpp"
#include "rng.hpp"

using mfcd::core::FlatMap;

namespace {

// Few distinct hash values, so that runs of neighbours form, wrap around
// the end of the array and get shifted back when one of them is erased.
struct CrowdedHash {
  size_t operator()(const std::string& s) const { return std::hash<std::string>{}(s) % 7 * 3; }
};

template <typename Map>
std::map<std::string, std::string> contents(const Map& m) {
  std::map<std::string, std::string> out;
  for (const auto& [k, v] : m)
    out.emplace(k, v);
  return out;
}

template <typename Hash>
void compare_with_std(uint64_t seed, size_t keys) {
  mfcd::test::Rng rng{seed};
  FlatMap<std::string, std::string, Hash> flat;
  std::unordered_map<std::string, std::string> ref;
  for (int step = 0; step < 4000; ++step) {
    const std::string key = "key" + std::to_string(rng.below(keys));
    const std::string value = "a value long enough to live on the heap " + std::to_string(step);
    switch (rng.below(5)) {
      case 0: {
        auto [it, fresh] = flat.try_emplace(key, value);
        CHECK(fresh == ref.try_emplace(key, value).second);
        CHECK(it->first == key);
        break;
      }
      case 1:
        flat.insert_or_assign(key, value);
        ref.insert_or_assign(key, value);
        break;
      case 2:
      case 3:
        CHECK(flat.erase(key) == ref.erase(key));
        break;
      default: {
        auto it = flat.find(key);
        auto want = ref.find(key);
        REQUIRE((it == flat.end()) == (want == ref.end()));
        if (want != ref.end()) CHECK(it->second == want->second);
        CHECK(flat.count(key) == ref.count(key));
      }
    }
    REQUIRE(flat.size() == ref.size());
    if (step % 97 == 0) REQUIRE(contents(flat) == contents(ref));
  }
  REQUIRE(contents(flat) == contents(ref));
  // Every key the reference holds is found, and no other.
  for (size_t k = 0; k < keys; ++k) {
    const std::string key = "key" + std::to_string(k);
    CHECK(flat.count(key) == ref.count(key));
  }
}

}  // namespace

TEST_CASE("FlatMap keeps the same contents as std::unordered_map" *
          doctest::test_suite("randomized")) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    CAPTURE(seed);
    compare_with_std<std::hash<std::string>>(seed, 300);
    compare_with_std<CrowdedHash>(seed, 12);
  }
}

TEST_CASE("FlatMap copies, moves, clears and throws like the std maps") {
  FlatMap<std::string, int, std::hash<std::string>> m;
  CHECK(m.empty());
  CHECK(m.find("x") == m.end());
  CHECK(m.erase("x") == 0);
  CHECK_THROWS_AS(m.at("x"), std::out_of_range);
  for (int i = 0; i < 100; ++i)
    m["k" + std::to_string(i)] = i;
  m.prefetch("k5");
  CHECK(m.size() == 100);
  CHECK(m.at("k42") == 42);

  auto copy = m;
  copy.erase("k1");
  CHECK(m.size() == 100);
  CHECK(copy.size() == 99);
  CHECK(copy.count("k1") == 0);
  CHECK(m.count("k1") == 1);

  auto moved = std::move(copy);
  CHECK(moved.size() == 99);
  copy = moved;  // a moved-from map takes a new value
  CHECK(copy.size() == 99);

  m.clear();
  CHECK(m.empty());
  CHECK(m.begin() == m.end());
  m.emplace("again", 1);
  CHECK(m.at("again") == 1);
  size_t seen = 0;
  for (const auto& [k, v] : m) {
    CHECK(k == "again");
    ++seen;
  }
  CHECK(seen == 1);
}

namespace {

// A value that counts how often elements are moved or copied.
struct Counted {
  static inline size_t moves = 0;
  int v = 0;
  Counted() = default;
  explicit Counted(int x) : v(x) {}
  Counted(const Counted& o) : v(o.v) { ++moves; }
  Counted(Counted&& o) noexcept : v(o.v) { ++moves; }
  Counted& operator=(const Counted&) = default;
  Counted& operator=(Counted&&) = default;
};

}  // namespace

TEST_CASE("FlatMap grows its elements geometrically, also when reserved one at a time") {
  // apply() reserves room for each plan's adds: one route.add at a time on
  // a big table must not copy the table every time.
  FlatMap<int, Counted, std::hash<int>> m;
  Counted::moves = 0;
  constexpr int kN = 5000;
  for (int i = 0; i < kN; ++i) {
    m.reserve(m.size() + 1);
    m.try_emplace(i, i);
  }
  CHECK(m.size() == kN);
  CHECK(Counted::moves < 2 * kN);  // about kN in all; one copy a time would be kN^2/2
  // Erasing moves one element at most (the last, into the gap).
  Counted::moves = 0;
  for (int i = 0; i < kN; i += 2)
    CHECK(m.erase(i) == 1);
  CHECK(Counted::moves <= kN / 2);
  for (int i = 0; i < kN; ++i)
    CHECK(m.count(i) == (i % 2 == 1 ? 1u : 0u));
  for (const auto& [k, c] : m)
    CHECK(c.v == k);
}
