#include "core/mrules.hpp"

#include <cstddef>

namespace mfcd::core {

std::string mr_table_name(uint32_t id) {
  switch (id) {
    case 253:
      return "default";
    case 254:
      return "main";
    case 255:
      return "local";
    default:
      return std::to_string(id);
  }
}

std::string MrRule::str() const {
  std::string s = std::to_string(priority) + ":\t";
  if (invert) s += "not ";
  s += "from all";
  if (!iif.empty()) s += " iif " + iif + (iif_detached ? " [detached]" : "");
  if (!oif.empty()) s += " oif " + oif;
  if (fwmask != 0) {
    s += " fwmark " + std::to_string(fwmark);
    if (fwmask != 0xFFFFFFFFu) s += "/" + std::to_string(fwmask);
  }
  switch (action) {
    case Action::table:
      return s + " lookup " + mr_table_name(table);
    case Action::jump:
      return s + " goto " + std::to_string(jump_to);
    case Action::nop:
      return s + " nop";
    case Action::drop:
    case Action::other:
      return s + " " + (action_name.empty() ? "unknown action" : action_name);
  }
  return s;
}

namespace {

// A received packet: inbound interface `iif`, no firewall mark, no
// outbound interface.
bool matches(const MrRule& r, const std::string& iif) {
  bool m = true;
  if (!r.iif.empty() && (r.iif_detached || r.iif != iif)) m = false;
  if (!r.oif.empty()) m = false;
  if ((r.fwmark & r.fwmask) != 0) m = false;
  return r.invert ? !m : m;
}

}  // namespace

MrLookup mr_lookup(const std::vector<MrRule>& rules, const std::string& iif) {
  // A goto only jumps forward (the kernel refuses others), so each rule
  // is looked at once at most: the walk ends.
  for (size_t i = 0; i < rules.size(); ++i) {
    const MrRule& r = rules[i];
    if (!matches(r, iif)) continue;
    switch (r.action) {
      case MrRule::Action::table:
        return {&r, r.table};
      case MrRule::Action::nop:
        continue;
      case MrRule::Action::jump: {
        // To the rule of exactly that priority; none there: on to the next.
        size_t j = i + 1;
        while (j < rules.size() && rules[j].priority != r.jump_to)
          ++j;
        if (j < rules.size() && rules[j].priority > r.priority) i = j - 1;
        continue;
      }
      case MrRule::Action::drop:
      case MrRule::Action::other:
        return {&r, std::nullopt};
    }
  }
  return {};
}

}  // namespace mfcd::core
