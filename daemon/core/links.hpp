// The interfaces that exist right now, as the kernel layer reports them.
// A plain value so that the core can resolve intent against it without I/O.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace mfcd::core {

struct Link {
  std::string name;
  int ifindex = 0;
  bool up = false;
  bool multicast = false;
  bool loopback = false;
  bool operator==(const Link&) const = default;
};

using Links = std::vector<Link>;

const Link* find_link(const Links& links, std::string_view name);

// A change the kernel announced: a link appeared or changed (flags, name,
// an address), or went away.
struct LinkEvent {
  enum class Kind { added_or_changed, removed } kind = Kind::added_or_changed;
  Link link;
};

}  // namespace mfcd::core
