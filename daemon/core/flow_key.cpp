#include "core/flow_key.hpp"

#include <functional>

#include "core/quote.hpp"

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

Result<void> validate_ifname(std::string_view name) {
  if (is_valid_ifname(name)) return {};
  const auto refuse = [name](const std::string& why) {
    return make_error(Errc::invalid_argument, "interface name " + quote(name) + " " + why);
  };
  if (name.empty()) return make_error(Errc::invalid_argument, "interface name is empty");
  if (name.size() > kMaxIfnameLen)
    return refuse("is longer than " + std::to_string(kMaxIfnameLen) + " characters");
  if (name == "." || name == "..") return refuse("is not a name an interface can have");
  if (name.find('/') != std::string_view::npos) return refuse("contains '/'");
  if (name.find(' ') != std::string_view::npos) return refuse("contains a space");
  return refuse("contains a control character");
}

Result<void> validate_oif_count(size_t count) {
  if (count <= kMaxOifNames) return {};
  return make_error(Errc::invalid_argument, std::to_string(count) +
                                                " output interfaces; a route names at most " +
                                                std::to_string(kMaxOifNames));
}

Result<void> validate_owner(std::string_view owner) {
  if (owner.empty()) return make_error(Errc::invalid_argument, "owner is empty");
  if (owner.size() > kMaxOwnerLen) {
    return make_error(Errc::invalid_argument, "owner " + quote(owner) + " is longer than " +
                                                  std::to_string(kMaxOwnerLen) + " characters");
  }
  for (const char ch : owner) {
    const auto c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c >= 0x7f) {
      return make_error(
          Errc::invalid_argument,
          "owner " + quote(owner) + " may hold only printable ASCII characters, no space");
    }
  }
  return {};
}

Result<void> validate_flow_key(const FlowKey& key) {
  if (auto ok = validate_ifname(key.iif); !ok) return ok;
  return validate_source_group(key.source, key.group);
}

}  // namespace mfcd::core
