// Rules are the routes matched on demand: (*,G), (*,G/LEN), (S/LEN,G),
// (S,G/LEN) and (S/LEN,G/LEN). None of them is put into the kernel ahead of
// traffic; when the kernel reports a packet it has no entry for, the index
// answers which rule covers (inbound interface, source, group) and the
// caller installs one (S,G) entry with that rule's OIFs.
//
// Match policy: the most specific rule wins, and its OIFs are used alone
// (never merged with other matches):
//   1. the longest group prefix,
//   2. then the longest source prefix ((*,G) counts as source /0),
//   3. then an exact inbound interface over a wildcard one,
//   4. then the oldest rule (creation order).
// Lookup cost: one hash probe per distinct (group length, source length)
// pair present in the family, longest first, so it does not grow with the
// number of rules (100,000 (*,G) rules: one or two probes).
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/addr.hpp"
#include "core/intent.hpp"

namespace mfcd::core {

// True for a route that is matched on demand rather than installed as it is.
bool is_rule(const RouteKey& key);

struct Rule {
  RouteKey key;
  std::vector<std::string> oifs;  // as written: names or wildcards
  uint64_t seq = 0;               // creation order
};

class RuleIndex {
 public:
  RuleIndex() = default;
  // Indexes every rule route of the intent (static (S,G) routes are skipped).
  explicit RuleIndex(const Intent& intent);

  // The rule covering a packet from `source` to `group` arriving on `iif`,
  // or nullptr. The pointer is valid until the index is rebuilt.
  const Rule* match(const std::string& iif, const Addr& source, const Addr& group) const;

  size_t size() const { return rules_.size(); }
  bool empty() const { return rules_.empty(); }

 private:
  struct PairKey {
    Addr group, source;
    bool operator==(const PairKey&) const = default;
  };
  struct PairHash {
    size_t operator()(const PairKey& k) const noexcept {
      const AddrHash h;
      return h(k.group) * 31 + h(k.source);
    }
  };
  // All rules of one (group length, source length) pair, keyed by the masked
  // addresses; each list is ordered by exact iif first, then age.
  struct Level {
    int group_len = 0, source_len = 0;
    std::unordered_map<PairKey, std::vector<uint32_t>, PairHash> rules;
  };

  std::vector<Rule> rules_;
  std::vector<Level> levels_[2];  // per family, most specific first
};

// The route names its own inbound interface as an outbound one, by name
// and not through a wildcard: a hairpin, which the kernel entry keeps
// (traffic goes back out of the interface it came in on, as SMCRoute does).
bool is_hairpin(const std::string& route_iif, const std::vector<std::string>& oifs);

// A rule's OIFs resolved against the interfaces that have a VIF: wildcards
// expanded, the inbound interface `iif` left out unless the rule, whose own
// inbound interface is written `route_iif`, is a hairpin; names without a
// VIF dropped. `with_vif` is in VIF order; so is the result.
std::vector<std::string> resolve_oifs(const std::vector<std::string>& oifs,
                                      const std::vector<std::string>& with_vif,
                                      const std::string& iif, const std::string& route_iif);

}  // namespace mfcd::core
