// Which phyint line speaks for an interface. Several lines may match one
// name (an exact "phyint eth0" and a wildcard "phyint eth+", or the same
// name twice after an include); every place that asks what the config says
// about an interface (its VIF, its ttl-threshold, router discovery, the
// listings) goes through resolve_phyint, so they cannot disagree.
#pragma once

#include <string_view>
#include <vector>

#include "core/config.hpp"

namespace mfcd::core {

// What the config means for one interface. An interface no line matches
// has the defaults: enabled, threshold 1, no router discovery.
struct PhyintSettings {
  bool enabled = true;
  int ttl_threshold = 1;
  bool mrdisc = false;               // announce here: only ever true when enabled
  const PhyintConf* line = nullptr;  // the deciding line, null when none matches
};

// The rule: the most specific matching line decides, alone (its options are
// not merged with other lines'). A line naming the interface exactly is the
// most specific; a wildcard is the more specific the longer its stem, so
// "eth1+" beats "eth+", which beats "+". Among equally specific lines the
// later one wins, as a later line in a file overrides an earlier one. So
// "phyint eth0 enable mrdisc" then "phyint eth+ disable" leaves eth0
// enabled with router discovery, and every other eth interface disabled.
PhyintSettings resolve_phyint(const std::vector<PhyintConf>& phyints, std::string_view ifname);
inline PhyintSettings resolve_phyint(const Config& config, std::string_view ifname) {
  return resolve_phyint(config.phyints, ifname);
}

}  // namespace mfcd::core
