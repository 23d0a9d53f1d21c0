// Explaining one flow is a list of questions asked in the order a packet
// meets them: does mfcd hold the table, may the group be routed at all, does
// a route cover it, can each interface take part (present, up, multicast, a
// VIF, the kernel's forwarding flag, reverse path filtering, a snooping
// bridge without querier, the TTL threshold), and has the kernel resolved
// the entry. Each answer names what it was read from, so an operator can
// look again by hand. A check that cannot be answered (a file that could
// not be read) passes and says so: explain reports losses it can show.
#include "core/explain.hpp"

#include <bit>
#include <charconv>
#include <sstream>

namespace mfcd::core {

namespace {

std::string value_text(const std::optional<int>& v) {
  return v ? std::to_string(*v) : std::string("(unreadable)");
}

std::string looked(const std::string& path, const std::optional<int>& v) {
  return path + " = " + value_text(v);
}

Check make(std::string id, bool ok, std::string looked_at, std::string detail,
           std::string iface = {}, bool blocking = true) {
  return Check{std::move(id),    ok,      std::move(looked_at), std::move(detail),
               std::move(iface), blocking};
}

std::string role(const IfaceFacts& i) {
  return (i.inbound ? "inbound interface " : "outbound interface ") + i.name;
}

Check presence_check(const IfaceFacts& i, const std::string& r) {
  return make("interface_present", i.present,
              "link table: " + i.name + (i.present ? " present" : " absent"),
              i.present ? r + " exists" : r + " does not exist", i.name);
}

// An unreadable carrier does not fail the check: only IFF_UP is known then.
Check up_check(const IfaceFacts& i, const std::string& r) {
  const std::string carrier = i.carrier ? (*i.carrier ? "1" : "0") : "(unreadable)";
  const bool running = i.up && i.carrier.value_or(true);
  std::string down_why = !i.up ? " is down (not IFF_UP)" : " has no carrier";
  return make("interface_up", running,
              "link table: " + i.name + (i.up ? " UP" : " not UP") + "; " +
                  sysfs_path(i.name, "carrier") + " = " + carrier,
              running ? r + " is up" : r + down_why, i.name);
}

// Checked on the test bed: the kernel takes a VIF on such an interface
// and mfcd gives it one, so only IGMP/MLD and joins suffer.
Check multicast_check(const IfaceFacts& i, const std::string& r) {
  return make("multicast_capable", i.multicast,
              "link table: " + i.name + (i.multicast ? " MULTICAST" : " no MULTICAST flag"),
              i.multicast ? r + " has the MULTICAST flag"
                          : r + " lacks the MULTICAST flag: IGMP/MLD and group joins do "
                                "not work there, so receivers may never be seen",
              i.name, false);
}

// A full VIF table gets its own id: the cure is to free a VIF, not to ask
// for one.
Check vif_check(const ExplainFacts& f, const IfaceFacts& i, const std::string& r) {
  const Family fam = f.flow.group.family;
  const bool full = !i.has_vif && f.vifs_used >= static_cast<size_t>(kMaxVifs);
  std::string vif_detail = r + " has a VIF";
  if (!i.has_vif) {
    vif_detail = full ? r + " has no VIF: all " + std::to_string(kMaxVifs) + " " +
                            std::string(family_name(fam)) + " VIFs are in use"
                      : r + " has no VIF (no enabled phyint or route asks for one)";
  }
  return make(full ? "vif_table_full" : "vif", i.has_vif,
              "mfcd's VIF table (" + std::string(family_name(fam)) +
                  "): " + std::to_string(f.vifs_used) + " of " + std::to_string(kMaxVifs) +
                  " used, " + i.name + (i.has_vif ? " has one" : " has none"),
              vif_detail, i.name);
}

Check mc_forwarding_check(Family fam, const IfaceFacts& i) {
  const std::string mcf = conf_path(fam, i.name, "mc_forwarding");
  const bool mcf_ok = !i.mc_forwarding || *i.mc_forwarding != 0;
  return make("mc_forwarding", mcf_ok, looked(mcf, i.mc_forwarding),
              !i.mc_forwarding ? "could not read " + mcf
              : mcf_ok         ? "the kernel forwards multicast on " + i.name
                               : "the kernel does not forward multicast on " + i.name +
                             " (mc_forwarding is 0: no VIF holds it)",
              i.name);
}

// The kernel applies the larger of conf/all and the interface's own value.
Check rp_filter_check(const ExplainFacts& f, const IfaceFacts& i) {
  const Family fam = f.flow.group.family;
  const std::string all = conf_path(fam, "all", "rp_filter");
  const std::string own = conf_path(fam, i.name, "rp_filter");
  const int eff = std::max(i.rp_filter_all.value_or(0), i.rp_filter.value_or(0));
  std::string detail = "reverse path filtering is off on " + i.name;
  if (eff == 1) {
    detail = "strict reverse path filtering (rp_filter 1) on " + i.name +
             " drops the flow unless the route back to " + f.flow.source.str() + " goes out of " +
             i.name;
  } else if (eff >= 2) {
    detail = "loose reverse path filtering (rp_filter 2) on " + i.name +
             " drops the flow if there is no route back to " + f.flow.source.str();
  }
  return make("rp_filter", eff == 0,
              looked(all, i.rp_filter_all) + "; " + looked(own, i.rp_filter) + " (effective " +
                  std::to_string(eff) + ")",
              detail, i.name, false);
}

Check bridge_querier_check(const IfaceFacts& i) {
  const std::string sn = sysfs_path(i.name, "bridge/multicast_snooping");
  const std::string qu = sysfs_path(i.name, "bridge/multicast_querier");
  const bool bad = i.snooping.value_or(0) == 1 && i.querier.value_or(1) == 0;
  return make("bridge_querier", !bad, looked(sn, i.snooping) + "; " + looked(qu, i.querier),
              bad ? "bridge " + i.name +
                        " snoops multicast but has no querier: once its group "
                        "memberships time out, it stops passing the group"
                  : "bridge " + i.name + " does not snoop without a querier",
              i.name, false);
}

Check ttl_threshold_check(const IfaceFacts& i) {
  const bool high = i.ttl_threshold > 1;
  return make("ttl_threshold", !high,
              "mfcd's VIF for " + i.name + ": TTL threshold " + std::to_string(i.ttl_threshold),
              high ? "packets arriving with TTL " + std::to_string(i.ttl_threshold) +
                         " or less are not sent out of " + i.name + " (its TTL threshold is " +
                         std::to_string(i.ttl_threshold) + ")"
                   : "any packet with TTL above 1 goes out of " + i.name,
              i.name, false);
}

// An absent interface has nothing more to check. rp_filter acts where the
// flow comes in, TTL thresholds where it goes out; both only for IPv4.
void interface_checks(const ExplainFacts& f, const IfaceFacts& i, std::vector<Check>& out) {
  const Family fam = f.flow.group.family;
  const std::string r = role(i);
  out.push_back(presence_check(i, r));
  if (!i.present) return;
  out.push_back(up_check(i, r));
  out.push_back(multicast_check(i, r));
  out.push_back(vif_check(f, i, r));
  out.push_back(mc_forwarding_check(fam, i));
  if (i.inbound && fam == Family::v4) out.push_back(rp_filter_check(f, i));
  if (i.bridge) out.push_back(bridge_querier_check(i));
  if (!i.inbound && fam == Family::v4 && i.has_vif) out.push_back(ttl_threshold_check(i));
}

std::string coverage_detail(const ExplainFacts& f) {
  switch (f.coverage) {
    case Coverage::route:
      return "the route " + f.covered_by + " covers the flow";
    case Coverage::rule:
      return "the rule " + f.covered_by + " covers the flow; its first packet installs an entry";
    case Coverage::stop_filter:
      return "the route " + f.covered_by +
             " has no outbound interfaces: a stop filter drops the flow";
    case Coverage::learned_stop:
      return "no route or rule covered the flow's first packet, so a stop filter drops it";
    case Coverage::none:
      break;
  }
  return "no route or rule covers the flow: the kernel drops it";
}

Check mroute_table_check(const ExplainFacts& f) {
  const std::string fname(family_name(f.flow.group.family));
  return make(
      "mroute_table", f.family_routed, "mfcd's " + fname + " mroute socket (MRT_INIT at start)",
      f.family_routed
          ? "mfcd holds the " + fname + " multicast routing table"
          : "mfcd does not hold the " + fname + " multicast routing table: " + f.family_note);
}

// With several multicast routing tables, the rules decide which one routes
// the packets entering the flow's inbound interface; only mfcd's own
// forwards them the way mfcd says. Asked when the inbound interface is known.
Check mroute_rule_check(const ExplainFacts& f) {
  const bool v6 = f.flow.group.family == Family::v6;
  const std::string tool = v6 ? "ip -6 mrule" : "ip mrule";
  const std::string ours = mr_table_name(f.table);
  if (!f.mrules) {
    return make("mroute_rule", true, tool + ": " + f.mrules_note,
                "the kernel's multicast routing rules could not be read (" + f.mrules_note +
                    "); with one table, every packet is routed by mfcd's");
  }
  const std::string looked_at = tool + ": " + std::to_string(f.mrules->size()) + " rule(s)";
  const std::string packets = "packets entering " + f.iif;
  const MrLookup lookup = mr_lookup(*f.mrules, f.iif);
  if (!lookup.rule) {
    return make("mroute_rule", false, looked_at,
                "no multicast routing rule matches " + packets + ": the kernel drops them");
  }
  const std::string rule = " (rule \"" + lookup.rule->str() + "\")";
  if (!lookup.table) {
    return make("mroute_rule", false, looked_at + rule,
                "a rule drops " + packets + " before any table");
  }
  if (*lookup.table == f.table) {
    return make("mroute_rule", true, looked_at + rule,
                packets + " are routed by mfcd's table (" + ours + ")");
  }
  return make("mroute_rule", false, looked_at + rule,
              packets + " are routed by table " + mr_table_name(*lookup.table) +
                  ", not by mfcd's (" + ours + "): whoever holds table " +
                  mr_table_name(*lookup.table) +
                  " decides, another daemon or, if no one made that table, the rules after it");
}

Check link_local_check(const ExplainFacts& f) {
  const bool ll = is_link_local_group(f.flow.group);
  return make("link_local", !ll, "group " + f.flow.group.str(),
              ll ? "group " + f.flow.group.str() + " is link-local: the kernel never routes it"
                 : "group " + f.flow.group.str() + " is routable");
}

// A stop filter "covers" the flow too, but only to drop it.
bool routed(const ExplainFacts& f) {
  return f.coverage == Coverage::route || f.coverage == Coverage::rule;
}

Check route_check(const ExplainFacts& f) {
  return make(
      "route", routed(f),
      "mfcd's routes and rules" + (f.covered_by.empty() ? std::string() : ": " + f.covered_by),
      coverage_detail(f));
}

// Asked only when the caller named the interface: otherwise the flow is
// taken to come in where the entry expects it.
Check wrong_iif_check(const ExplainFacts& f) {
  const bool same = f.entry_iif == f.iif;
  return make(
      "wrong_iif", same, "mfcd's kernel entry for the flow: inbound interface " + f.entry_iif,
      same ? "the kernel entry expects the flow on " + f.iif
           : "the kernel entry expects the flow on " + f.entry_iif + ", so packets arriving on " +
                 f.iif + " count as wrong-interface and are dropped");
}

Check ssm_rule_check(const ExplainFacts& f) {
  const bool bad = routed(f) && f.covered_by_asm;
  return make("ssm_rule", !bad, "group " + f.flow.group.str() + " in the SSM range",
              bad ? "group " + f.flow.group.str() + " is in the SSM range but " + f.covered_by +
                        " has no source: SSM receivers and their switches expect "
                        "(S,G) routes"
                  : "the SSM group is routed by source",
              {}, false);
}

// The questions about the flow itself, before any interface's.
void flow_checks(const ExplainFacts& f, std::vector<Check>& out) {
  out.push_back(mroute_table_check(f));
  if (f.family_routed && !f.iif.empty()) out.push_back(mroute_rule_check(f));
  out.push_back(link_local_check(f));
  out.push_back(route_check(f));
  if (f.iif_given && !f.entry_iif.empty()) out.push_back(wrong_iif_check(f));
  if (is_ssm_group(f.flow.group)) out.push_back(ssm_rule_check(f));
}

// Asked only when /proc/net/ip(6)_mr_cache could be read.
Check unresolved_check(const ExplainFacts& f) {
  const bool unresolved = f.proc_iif && *f.proc_iif < 0;
  std::string seen =
      *f.proc_path + ": " +
      (f.proc_iif ? "Iif " + std::to_string(*f.proc_iif) : std::string("not listed"));
  std::string detail = "the kernel has no entry yet: the first packet asks mfcd";
  if (unresolved)
    detail =
        "the kernel holds the flow unresolved (no inbound VIF, no OIFs): mfcd has not "
        "answered its upcall";
  else if (f.proc_iif)
    detail = "the kernel entry is resolved";
  return make("unresolved", !unresolved, std::move(seen), std::move(detail));
}

// The first failing blocking check decides; else the first failing
// non-blocking one qualifies the forwarding.
std::string verdict(const ExplainFacts& f, const std::vector<Check>& checks) {
  const Check* blocking = nullptr;
  const Check* limit = nullptr;
  for (const auto& c : checks) {
    if (c.ok) continue;
    if (c.blocking && !blocking) blocking = &c;
    if (!c.blocking && !limit) limit = &c;
  }
  if (blocking) return "dropped: " + blocking->detail;
  std::string v = f.installed ? "forwarding" : "would be forwarded";
  if (limit) v += ", but: " + limit->detail;
  return v;
}

}  // namespace

std::string_view coverage_name(Coverage c) {
  switch (c) {
    case Coverage::route:
      return "route";
    case Coverage::rule:
      return "rule";
    case Coverage::stop_filter:
      return "stop_filter";
    case Coverage::learned_stop:
      return "learned_stop_filter";
    case Coverage::none:
      break;
  }
  return "none";
}

bool is_link_local_group(const Addr& g) {
  if (g.family == Family::v4) return g.bytes[0] == 224 && g.bytes[1] == 0 && g.bytes[2] == 0;
  return g.bytes[0] == 0xff && (g.bytes[1] & 0x0f) <= 2;
}

bool is_ssm_group(const Addr& g) {
  if (g.family == Family::v4) return g.bytes[0] == 232;
  return g.bytes[0] == 0xff && (g.bytes[1] & 0xf0) == 0x30 && g.bytes[2] == 0 && g.bytes[3] == 0;
}

std::string conf_path(Family family, const std::string& ifname, const std::string& leaf) {
  return std::string("/proc/sys/net/") + (family == Family::v4 ? "ipv4" : "ipv6") + "/conf/" +
         ifname + "/" + leaf;
}

std::string sysfs_path(const std::string& ifname, const std::string& leaf) {
  return "/sys/class/net/" + ifname + "/" + leaf;
}

std::string mr_cache_path(Family family) {
  return family == Family::v4 ? "/proc/net/ip_mr_cache" : "/proc/net/ip6_mr_cache";
}

Explanation explain(const ExplainFacts& f) {
  Explanation e;
  flow_checks(f, e.checks);
  for (const auto& i : f.ifaces)
    interface_checks(f, i, e.checks);
  if (f.proc_path) e.checks.push_back(unresolved_check(f));
  e.verdict = verdict(f, e.checks);
  return e;
}

namespace {

std::optional<Addr> proc_addr(std::string_view word, Family family) {
  if (family == Family::v4) {
    uint32_t raw = 0;
    if (word.size() != 8) return std::nullopt;
    auto [p, ec] = std::from_chars(word.data(), word.data() + word.size(), raw, 16);
    if (ec != std::errc() || p != word.data() + word.size()) return std::nullopt;
    // The kernel prints the address's four bytes read as one native integer.
    Addr a;
    for (int b = 0; b < 4; ++b) {
      const int shift = std::endian::native == std::endian::little ? 8 * b : 8 * (3 - b);
      a.bytes[static_cast<size_t>(b)] = static_cast<uint8_t>(raw >> shift);
    }
    return a;
  }
  // IPv6: the full form with colons (%pI6), or 32 hex digits without.
  if (word.find(':') != std::string_view::npos) return Addr::parse(word);
  if (word.size() != 32) return std::nullopt;
  std::string text;
  for (size_t i = 0; i < 32; i += 4) {
    if (i) text += ':';
    text += word.substr(i, 4);
  }
  return Addr::parse(text);
}

}  // namespace

std::vector<ProcMfc> parse_mr_cache(std::string_view text, Family family) {
  std::vector<ProcMfc> out;
  std::istringstream in{std::string(text)};
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string group, origin;
    ProcMfc m;
    if (!(words >> group >> origin >> m.iif)) continue;
    auto g = proc_addr(group, family);
    auto s = proc_addr(origin, family);
    if (!g || !s) continue;
    m.key = SgKey{*s, *g};
    words >> m.packets >> m.bytes >> m.wrong_if;
    out.push_back(m);
  }
  return out;
}

std::optional<Counters> CounterMemory::exchange(const SgKey& key, const Counters& now) {
  auto it = seen_.find(key);
  if (it != seen_.end()) {
    Counters before = it->second.counters;
    it->second.counters = now;
    order_.splice(order_.end(), order_, it->second.at);
    return before;
  }
  if (capacity_ == 0) return std::nullopt;
  if (seen_.size() >= capacity_) {
    seen_.erase(order_.front());
    order_.pop_front();
  }
  order_.push_back(key);
  seen_.emplace(key, Seen{now, std::prev(order_.end())});
  return std::nullopt;
}

}  // namespace mfcd::core
