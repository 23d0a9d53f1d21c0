// Links are a short list (tens of interfaces at most on a router), so a
// linear search is the simplest correct lookup; code that resolves many
// names at once builds its own index.
#include "core/links.hpp"

namespace mfcd::core {

const Link* find_link(const Links& links, std::string_view name) {
  for (const auto& link : links) {
    if (link.name == name) return &link;
  }
  return nullptr;
}

}  // namespace mfcd::core
