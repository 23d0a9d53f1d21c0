// A hash map for the core's big keyed tables (the kernel entries mfcd
// installed, the route statuses): an open-addressed index of small slots
// over one dense array of elements.
//
// Why this shape:
//   - Memory. A slot is 8 bytes (which element, and 32 bits of its key's
//     hash); the elements (about 150-200 bytes here) sit side by side with
//     no gaps. Keeping the elements in the probed array itself left every
//     empty slot an element's size: between two doublings that array is
//     44-88% full, so a table of 250,000 entries held 524,288 slots of 200
//     bytes. The dense array grows by doubling too, but the part of it not
//     yet used is never written, and the kernel gives a large allocation
//     its pages only when they are first touched: it costs address space,
//     not resident memory.
//   - Cache misses. std::unordered_map keeps every element in its own node:
//     a lookup in a table that is not in cache costs three dependent misses
//     (bucket, the node before, the node). Here it costs two (the slot,
//     then the element), and prefetch() starts the first for a whole batch
//     of keys before the first is needed: a reload that changes 100 routes
//     of 10,000 spent most of its non-syscall time waiting on such misses.
//   - Iteration walks the dense array.
//
// Linear probing with backward-shift deletion, at most 7/8 full. Erasing
// moves the last element into the erased one's place, and growing moves
// them all: pointers and iterators into the map are valid only until its
// next change. Iteration order is unspecified.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <new>
#include <stdexcept>
#include <utility>

namespace mfcd::core {

template <typename K, typename V, typename Hash, typename Eq = std::equal_to<K>>
class FlatMap {
 public:
  using key_type = K;
  using mapped_type = V;
  using value_type = std::pair<const K, V>;

  template <bool Const>
  class Iter {
   public:
    using Map = std::conditional_t<Const, const FlatMap, FlatMap>;
    using reference = std::conditional_t<Const, const value_type&, value_type&>;
    using pointer = std::conditional_t<Const, const value_type*, value_type*>;
    Iter() = default;
    Iter(Map* map, size_t at) : map_(map), at_(at) {}
    operator Iter<true>() const { return Iter<true>(map_, at_); }  // NOLINT: as std's
    reference operator*() const { return map_->item(at_); }
    pointer operator->() const { return &map_->item(at_); }
    Iter& operator++() {
      ++at_;
      return *this;
    }
    bool operator==(const Iter& o) const { return at_ == o.at_; }

   private:
    Map* map_ = nullptr;
    size_t at_ = 0;
  };
  using iterator = Iter<false>;
  using const_iterator = Iter<true>;

  FlatMap() = default;
  FlatMap(const FlatMap& other) { *this = other; }
  FlatMap(FlatMap&& other) noexcept { swap(other); }
  FlatMap& operator=(const FlatMap& other) {
    if (this == &other) return *this;
    clear();
    reserve(other.size_);
    for (const auto& [k, v] : other)
      try_emplace(k, v);
    return *this;
  }
  FlatMap& operator=(FlatMap&& other) noexcept {
    FlatMap gone(std::move(*this));
    swap(other);
    return *this;
  }
  ~FlatMap() { clear(); }

  void swap(FlatMap& other) noexcept {
    std::swap(slots_, other.slots_);
    std::swap(items_, other.items_);
    std::swap(capacity_, other.capacity_);
    std::swap(item_capacity_, other.item_capacity_);
    std::swap(size_, other.size_);
  }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  iterator begin() { return iterator(this, 0); }
  iterator end() { return iterator(this, size_); }
  const_iterator begin() const { return const_iterator(this, 0); }
  const_iterator end() const { return const_iterator(this, size_); }

  void clear() {
    for (size_t i = 0; i < size_; ++i)
      item(i).~value_type();
    if (slots_) std::fill(slots_.get(), slots_.get() + capacity_, Slot{});
    size_ = 0;
  }

  // Room for `n` elements without growing. The element array still grows
  // at least twofold: callers reserve one change's worth at a time
  // (apply() reserves its adds), and growing to exactly that made every
  // small change copy the whole table.
  void reserve(size_t n) {
    size_t want = 16;
    while (want / 8 * 7 < n)
      want *= 2;
    if (want > capacity_) rehash(want);
    if (n > item_capacity_) grow_items(std::max(n, item_capacity_ * 2));
  }

  // Starts loading the slot a lookup of `key` reads first; for batches of
  // keys whose lookups would otherwise wait on memory one after the other.
  void prefetch(const K& key) const {
    if (capacity_ != 0) __builtin_prefetch(&slots_[Hash{}(key) & (capacity_ - 1)]);
  }

  iterator find(const K& key) { return iterator(this, locate(key)); }
  const_iterator find(const K& key) const { return const_iterator(this, locate(key)); }
  size_t count(const K& key) const { return locate(key) != size_ ? 1 : 0; }
  V& at(const K& key) { return const_cast<V&>(std::as_const(*this).at(key)); }
  const V& at(const K& key) const {
    const size_t at = locate(key);
    if (at == size_) throw std::out_of_range("FlatMap::at");
    return item(at).second;
  }

  template <typename KeyArg, typename... Args>
  std::pair<iterator, bool> try_emplace(KeyArg&& key, Args&&... args) {
    const size_t h = Hash{}(key);
    size_t at = capacity_ ? probe(key, h) : 0;
    if (capacity_ && slots_[at].item != 0) return {iterator(this, slots_[at].item - 1), false};
    if ((size_ + 1) * 8 > capacity_ * 7) {
      rehash(capacity_ ? capacity_ * 2 : 16);
      at = probe(key, h);
    }
    if (size_ == item_capacity_) grow_items(std::max<size_t>(16, item_capacity_ * 2));
    ::new (&items_[size_])
        value_type(std::piecewise_construct, std::forward_as_tuple(std::forward<KeyArg>(key)),
                   std::forward_as_tuple(std::forward<Args>(args)...));
    slots_[at] = Slot{static_cast<uint32_t>(size_ + 1), static_cast<uint32_t>(h)};
    return {iterator(this, size_++), true};
  }
  template <typename KeyArg, typename Value>
  std::pair<iterator, bool> emplace(KeyArg&& key, Value&& value) {
    return try_emplace(std::forward<KeyArg>(key), std::forward<Value>(value));
  }
  template <typename KeyArg, typename Value>
  std::pair<iterator, bool> insert_or_assign(KeyArg&& key, Value&& value) {
    auto result = try_emplace(std::forward<KeyArg>(key), std::forward<Value>(value));
    if (!result.second) result.first->second = std::forward<Value>(value);
    return result;
  }
  V& operator[](const K& key) { return try_emplace(key).first->second; }

  size_t erase(const K& key) {
    if (size_ == 0) return 0;
    size_t hole = probe(key, Hash{}(key));
    if (slots_[hole].item == 0) return 0;
    const size_t gone = slots_[hole].item - 1;
    slots_[hole] = Slot{};
    // Backward shift: pull later slots of the run into the hole when their
    // home slot lies at or before it, so no lookup ever stops early.
    const size_t mask = capacity_ - 1;
    for (size_t at = (hole + 1) & mask; slots_[at].item != 0; at = (at + 1) & mask) {
      const size_t home = slots_[at].hash & mask;
      const bool stays = hole <= at ? (hole < home && home <= at) : (hole < home || home <= at);
      if (stays) continue;
      slots_[hole] = slots_[at];
      slots_[at] = Slot{};
      hole = at;
    }
    // The last element fills the gap, and its slot follows it.
    item(gone).~value_type();
    const size_t last = size_ - 1;
    if (gone != last) {
      ::new (&items_[gone]) value_type(std::move(item(last)));
      item(last).~value_type();
      size_t at = Hash{}(item(gone).first) & mask;
      while (slots_[at].item != last + 1)
        at = (at + 1) & mask;
      slots_[at].item = static_cast<uint32_t>(gone + 1);
    }
    --size_;
    return 1;
  }

 private:
  // Where an element is: its position in items_ plus one (0: an empty
  // slot), and the low 32 bits of its key's hash, which give its home slot
  // (capacity_ stays far below 2^32) and spare most key comparisons.
  struct Slot {
    uint32_t item = 0;
    uint32_t hash = 0;
  };
  struct alignas(value_type) Item {
    unsigned char bytes[sizeof(value_type)];
  };

  value_type& item(size_t i) { return *std::launder(reinterpret_cast<value_type*>(&items_[i])); }
  const value_type& item(size_t i) const {
    return *std::launder(reinterpret_cast<const value_type*>(&items_[i]));
  }

  // The slot holding `key`, or the empty slot where it would go. Only
  // called with an index that has room to spare.
  size_t probe(const K& key, size_t h) const {
    const size_t mask = capacity_ - 1;
    const auto h32 = static_cast<uint32_t>(h);
    size_t at = h & mask;
    while (slots_[at].item != 0 &&
           !(slots_[at].hash == h32 && Eq{}(item(slots_[at].item - 1).first, key)))
      at = (at + 1) & mask;
    return at;
  }

  // The position of `key`'s element, or size_.
  size_t locate(const K& key) const {
    if (size_ == 0) return size_;
    const Slot& s = slots_[probe(key, Hash{}(key))];
    return s.item != 0 ? s.item - 1 : size_;
  }

  // A new index of `capacity` slots (a power of two) over the same elements.
  void rehash(size_t capacity) {
    auto grown = std::make_unique<Slot[]>(capacity);
    const size_t mask = capacity - 1;
    for (size_t i = 0; i < capacity_; ++i) {
      if (slots_[i].item == 0) continue;
      size_t at = slots_[i].hash & mask;
      while (grown[at].item != 0)
        at = (at + 1) & mask;
      grown[at] = slots_[i];
    }
    slots_ = std::move(grown);
    capacity_ = capacity;
  }

  // Room for `n` elements in the dense array. Left uninitialised: pages
  // past the last element are not touched until elements reach them.
  void grow_items(size_t n) {
    auto grown = std::make_unique_for_overwrite<Item[]>(n);
    for (size_t i = 0; i < size_; ++i) {
      ::new (&grown[i]) value_type(std::move(item(i)));
      item(i).~value_type();
    }
    items_ = std::move(grown);
    item_capacity_ = n;
  }

  std::unique_ptr<Slot[]> slots_;
  std::unique_ptr<Item[]> items_;
  size_t capacity_ = 0;       // slots: 0 or a power of two
  size_t item_capacity_ = 0;  // elements items_ has room for
  size_t size_ = 0;
};

}  // namespace mfcd::core
