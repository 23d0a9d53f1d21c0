// The heap's trimming (service/heap.hpp): free blocks between live ones
// count as slack, and a trim hands their pages back. Under AddressSanitizer
// its own allocator serves malloc and glibc's heap stays empty, so the
// figures are checked on the plain build only.
#include <doctest/doctest.h>

#include <memory>
#include <vector>

#include "budget.hpp"
#include "service/heap.hpp"

using mfcd::test::kSanitized;

TEST_CASE("freed blocks between live ones are the heap's slack, and a trim keeps them usable") {
  if (kSanitized) return;
  // 2 MiB in 8 KiB blocks (below the mmap threshold, so on the heap), then
  // every other one freed: 1 MiB of holes that glibc cannot give back by
  // itself. (Some blocks may fill holes other tests left, and one freed
  // block may border the heap's top: hence 900 KiB, not 1 MiB.)
  std::vector<std::unique_ptr<char[]>> blocks;
  for (int i = 0; i < 256; ++i) {
    blocks.emplace_back(new char[8192]);
    blocks.back()[0] = 1;  // touched, so resident
  }
  const size_t allocated = mfcd::heap_slack_bytes();
  for (size_t i = 0; i < blocks.size(); i += 2)
    blocks[i].reset();
  const size_t freed = mfcd::heap_slack_bytes();
  CHECK(freed >= allocated + 900 * 1024);
  mfcd::trim_heap();
  // Trimming hands back pages, not blocks: they stay free for reuse.
  CHECK(mfcd::heap_slack_bytes() == freed);
  for (size_t i = 0; i < blocks.size(); i += 2)
    blocks[i].reset(new char[8192]);
  CHECK(mfcd::heap_slack_bytes() + 900 * 1024 <= freed);
}
