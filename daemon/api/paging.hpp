// Pages of a listing (route.list's `limit` and `cursor`). The tables are
// hash maps, so a page is the `n` smallest keys after the cursor, picked
// in one pass with a heap of `n`: a page costs one walk of the table and
// memory for the page alone, whatever the table's size. Kept free of the
// router so that the picking is tested on its own.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>
#include <vector>

namespace mfcd::api {

template <class Item, class Less = std::less<Item>>
class Smallest {
 public:
  explicit Smallest(size_t n, Less less = Less{}) : n_(n), less_(less) { heap_.reserve(n); }

  void offer(const Item& item) {
    if (n_ == 0) return;
    if (heap_.size() < n_) {
      heap_.push_back(item);
      std::push_heap(heap_.begin(), heap_.end(), less_);
    } else if (less_(item, heap_.front())) {
      std::pop_heap(heap_.begin(), heap_.end(), less_);
      heap_.back() = item;
      std::push_heap(heap_.begin(), heap_.end(), less_);
    }
  }

  // The items kept, smallest first.
  std::vector<Item> take() && {
    std::sort_heap(heap_.begin(), heap_.end(), less_);
    return std::move(heap_);
  }

 private:
  size_t n_;
  Less less_;
  std::vector<Item> heap_;  // a max-heap: its front is the first to go
};

// A listing's page limits, the same for every list that pages.
inline constexpr int64_t kMaxPage = 10000;     // a bigger `limit` is refused
inline constexpr int64_t kDefaultPage = 1000;  // a cursor without a limit

// The digits of a cursor's sequence number ("asm:17" -> 17): at most 19, so
// that any of them fits in 64 bits; nullopt for anything else.
inline std::optional<uint64_t> parse_seq(std::string_view digits) {
  if (digits.empty() || digits.size() > 19) return std::nullopt;
  uint64_t v = 0;
  for (char ch : digits) {
    if (ch < '0' || ch > '9') return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(ch - '0');
  }
  return v;
}

// The first `n` of `items` (pointers, or anything `seq_of` takes) that
// `keep` admits, with a sequence number above `after`, in sequence order.
template <class Item, class Range, class Keep, class SeqOf>
std::vector<Item> first_after(const Range& items, uint64_t after, size_t n, Keep keep,
                              SeqOf seq_of) {
  auto by_seq = [&](const Item& a, const Item& b) { return seq_of(a) < seq_of(b); };
  Smallest<Item, decltype(by_seq)> pick(n, by_seq);
  for (const Item& item : items)
    if (seq_of(item) > after && keep(item)) pick.offer(item);
  return std::move(pick).take();
}

}  // namespace mfcd::api
