// A hash map in two flat arrays, for the core's big keyed tables (the
// kernel entries mfcd installed, the route statuses). std::unordered_map
// keeps every element in its own node: a lookup in a table that is not in
// cache costs three dependent misses (bucket, the node before, the node).
// Here a lookup reads one slot of the hash array and, usually, the element
// in the same position of the element array; both addresses follow from
// the key's hash, so prefetch() can start them for a whole batch of keys
// before the first is needed. A reload that changes 100 routes of 10,000
// spent most of its non-syscall time waiting on such misses.
//
// Open addressing with linear probing and backward-shift deletion, at most
// 7/8 full: the elements are large, and a sparser array cost more memory
// than std::unordered_map's nodes (50,000 entries would take 131,072
// slots). Probing reads the hash array, 8 slots per cache line.
// Unlike std::unordered_map, inserting or erasing moves elements: pointers
// and iterators into the map are valid only until its next change.
// Iteration order is unspecified.
#pragma once

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
    Iter(Map* map, size_t at) : map_(map), at_(at) { skip_empty(); }
    operator Iter<true>() const { return Iter<true>(map_, at_); }  // NOLINT: as std's
    reference operator*() const { return map_->slot(at_); }
    pointer operator->() const { return &map_->slot(at_); }
    Iter& operator++() {
      ++at_;
      skip_empty();
      return *this;
    }
    bool operator==(const Iter& o) const { return at_ == o.at_; }

   private:
    void skip_empty() {
      while (at_ < map_->capacity_ && map_->hashes_[at_] == 0)
        ++at_;
    }
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
    std::swap(hashes_, other.hashes_);
    std::swap(slots_, other.slots_);
    std::swap(capacity_, other.capacity_);
    std::swap(size_, other.size_);
  }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  iterator begin() { return iterator(this, 0); }
  iterator end() { return iterator(this, capacity_); }
  const_iterator begin() const { return const_iterator(this, 0); }
  const_iterator end() const { return const_iterator(this, capacity_); }

  void clear() {
    for (size_t i = 0; i < capacity_; ++i) {
      if (hashes_[i]) {
        slot(i).~value_type();
        hashes_[i] = 0;
      }
    }
    size_ = 0;
  }

  // Room for `n` elements without growing.
  void reserve(size_t n) {
    size_t want = 16;
    while (want / 8 * 7 < n)
      want *= 2;
    if (want > capacity_) rehash(want);
  }

  // Starts loading what a lookup of `key` reads first; for batches of keys
  // whose lookups would otherwise wait on memory one after the other.
  void prefetch(const K& key) const {
    if (capacity_ == 0) return;
    const size_t at = hash_of(key) & (capacity_ - 1);
    __builtin_prefetch(&hashes_[at]);
    const auto* bytes = reinterpret_cast<const char*>(&slots_[at]);
    for (size_t line = 0; line < sizeof(Slot); line += 64)
      __builtin_prefetch(bytes + line);
  }

  iterator find(const K& key) { return iterator(this, locate(key)); }
  const_iterator find(const K& key) const { return const_iterator(this, locate(key)); }
  size_t count(const K& key) const { return locate(key) != capacity_ ? 1 : 0; }
  V& at(const K& key) { return const_cast<V&>(std::as_const(*this).at(key)); }
  const V& at(const K& key) const {
    const size_t at = locate(key);
    if (at == capacity_) throw std::out_of_range("FlatMap::at");
    return slot(at).second;
  }

  template <typename KeyArg, typename... Args>
  std::pair<iterator, bool> try_emplace(KeyArg&& key, Args&&... args) {
    const size_t h = hash_of(key);
    size_t at = probe(key, h);
    if (hashes_ && hashes_[at]) return {iterator(this, at), false};
    if ((size_ + 1) * 8 > capacity_ * 7) {
      rehash(capacity_ ? capacity_ * 2 : 16);
      at = probe(key, h);
    }
    ::new (&slots_[at])
        value_type(std::piecewise_construct, std::forward_as_tuple(std::forward<KeyArg>(key)),
                   std::forward_as_tuple(std::forward<Args>(args)...));
    hashes_[at] = h;
    ++size_;
    return {iterator(this, at), true};
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
    size_t hole = locate(key);
    if (hole == capacity_) return 0;
    slot(hole).~value_type();
    hashes_[hole] = 0;
    --size_;
    // Backward shift: pull later elements of the run into the hole when
    // their home slot lies at or before it, so no lookup ever stops early.
    const size_t mask = capacity_ - 1;
    for (size_t at = (hole + 1) & mask; hashes_[at]; at = (at + 1) & mask) {
      const size_t home = hashes_[at] & mask;
      const bool stays = hole <= at ? (hole < home && home <= at) : (hole < home || home <= at);
      if (stays) continue;
      ::new (&slots_[hole]) value_type(std::move(slot(at)));
      hashes_[hole] = hashes_[at];
      slot(at).~value_type();
      hashes_[at] = 0;
      hole = at;
    }
    return 1;
  }

 private:
  struct alignas(value_type) Slot {
    unsigned char bytes[sizeof(value_type)];
  };

  value_type& slot(size_t i) { return *std::launder(reinterpret_cast<value_type*>(&slots_[i])); }
  const value_type& slot(size_t i) const {
    return *std::launder(reinterpret_cast<const value_type*>(&slots_[i]));
  }

  // Never 0: a zero hash marks an empty slot.
  static size_t hash_of(const K& key) {
    const size_t h = Hash{}(key);
    return h ? h : 1;
  }

  // The slot holding `key`, or the empty slot where it would go. Only
  // called with room to spare (or no array yet: then 0).
  size_t probe(const K& key, size_t h) const {
    if (capacity_ == 0) return 0;
    const size_t mask = capacity_ - 1;
    size_t at = h & mask;
    while (hashes_[at] && !(hashes_[at] == h && Eq{}(slot(at).first, key)))
      at = (at + 1) & mask;
    return at;
  }

  // The slot holding `key`, or capacity_.
  size_t locate(const K& key) const {
    if (size_ == 0) return capacity_;
    const size_t at = probe(key, hash_of(key));
    return hashes_[at] ? at : capacity_;
  }

  void rehash(size_t capacity) {
    FlatMap grown;
    grown.hashes_ = std::make_unique<size_t[]>(capacity);  // zeroed: all empty
    grown.slots_ = std::make_unique_for_overwrite<Slot[]>(capacity);
    grown.capacity_ = capacity;
    for (size_t i = 0; i < capacity_; ++i) {
      if (!hashes_[i]) continue;
      const size_t at = grown.probe(slot(i).first, hashes_[i]);
      ::new (&grown.slots_[at]) value_type(std::move(slot(i)));
      grown.hashes_[at] = hashes_[i];
      ++grown.size_;
    }
    swap(grown);
  }

  std::unique_ptr<size_t[]> hashes_;
  std::unique_ptr<Slot[]> slots_;
  size_t capacity_ = 0;  // 0 or a power of two
  size_t size_ = 0;
};

}  // namespace mfcd::core
