// One pass over the phyint lines, keeping the most specific match seen so
// far; ">=" lets a later line of the same specificity take over. A router
// has a handful of phyint lines, so a scan per interface costs less than
// any index would.
#include "core/phyint.hpp"

namespace mfcd::core {

namespace {

// How closely `pattern` names `ifname`: 0 no match, else higher is more
// specific. An exact name outranks every wildcard, whose rank is the length
// of its stem plus one ("+" matches everything and ranks 1).
size_t specificity(std::string_view pattern, std::string_view ifname) {
  if (!is_wildcard(pattern)) return pattern == ifname ? std::string_view::npos : 0;
  const std::string_view stem = pattern.substr(0, pattern.size() - 1);
  return ifname.substr(0, stem.size()) == stem ? stem.size() + 1 : 0;
}

}  // namespace

PhyintSettings resolve_phyint(const std::vector<PhyintConf>& phyints, std::string_view ifname) {
  const PhyintConf* best = nullptr;
  size_t best_rank = 0;
  for (const auto& p : phyints) {
    const size_t rank = specificity(p.ifname, ifname);
    if (rank != 0 && rank >= best_rank) {
      best = &p;
      best_rank = rank;
    }
  }
  PhyintSettings s;
  if (!best) return s;
  s.enabled = best->enabled;
  s.ttl_threshold = best->ttl_threshold;
  s.mrdisc = best->enabled && best->mrdisc;
  s.line = best;
  return s;
}

}  // namespace mfcd::core
