// Pages of a listing (route.list's `limit` and `cursor`). The tables are
// hash maps, so a page is the `n` smallest keys after the cursor, picked
// in one pass with a heap of `n`: a page costs one walk of the table and
// memory for the page alone, whatever the table's size. Kept free of the
// router so that the picking is tested on its own.
#pragma once

#include <algorithm>
#include <cstddef>
#include <functional>
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

}  // namespace mfcd::api
