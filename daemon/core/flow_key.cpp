#include "core/flow_key.hpp"

#include <functional>

namespace mfcd::core {

namespace {

void hash_combine(size_t& seed, size_t value) {
  seed ^= value + 0x9e3779b97f4a7c15ULL + (seed << 6) + (seed >> 2);
}

}  // namespace

std::string FlowKey::str() const {
  return iif + " (" + (source ? source->str() : std::string("*")) + ", " + group.str() + ")";
}

size_t FlowKeyHash::operator()(const FlowKey& k) const {
  size_t seed = std::hash<std::string>{}(k.iif);
  hash_combine(seed, AddrHash{}(k.group.addr));
  hash_combine(seed, k.group.len);
  if (k.source) {
    hash_combine(seed, AddrHash{}(k.source->addr));
    hash_combine(seed, k.source->len);
  } else {
    hash_combine(seed, 0xa5a5);
  }
  return seed;
}

FlowKey normalized(FlowKey key) {
  if (is_any_source(key.source)) key.source.reset();
  return key;
}

Result<void> validate_flow_key(const FlowKey& key) {
  if (key.iif.empty()) return make_error(Errc::invalid_argument, "interface name missing");
  return validate_source_group(key.source, key.group);
}

}  // namespace mfcd::core
