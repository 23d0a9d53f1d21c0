// core::explain from made-up facts: each check fails for its own reason
// and names what it looked at; the verdict takes the first blocking
// failure. Also the /proc/net/ip_mr_cache parser and the counter memory.
#include <doctest/doctest.h>

#include <algorithm>
#include <string>

#include "core/explain.hpp"

namespace mfcd::core {
namespace {

Addr addr(const char* text) {
  return *Addr::parse(text);
}

IfaceFacts healthy(const std::string& name, bool inbound) {
  IfaceFacts i;
  i.name = name;
  i.inbound = inbound;
  i.present = i.up = i.multicast = i.has_vif = true;
  i.carrier = true;
  i.mc_forwarding = 1;
  if (inbound) i.rp_filter = i.rp_filter_all = 0;
  return i;
}

// A covered IPv4 flow, installed, on two healthy interfaces.
ExplainFacts good() {
  ExplainFacts f;
  f.flow = SgKey{addr("198.51.100.2"), addr("233.252.0.1")};
  f.iif = "r-in";
  f.coverage = Coverage::route;
  f.covered_by = "r-in (198.51.100.2, 233.252.0.1)";
  f.installed = true;
  f.proc_path = "/proc/net/ip_mr_cache";
  f.proc_iif = 0;
  f.vifs_used = 2;
  f.ifaces = {healthy("r-in", true), healthy("r-out", false)};
  return f;
}

const Check& find(const Explanation& e, const std::string& id, const std::string& iface = {}) {
  auto it = std::find_if(e.checks.begin(), e.checks.end(), [&](const Check& c) {
    return c.check == id && (iface.empty() || c.interface == iface);
  });
  REQUIRE_MESSAGE(it != e.checks.end(), "no check " << id << " " << iface);
  return *it;
}

TEST_CASE("explain: a healthy installed flow passes every check and is forwarding") {
  const Explanation e = explain(good());
  for (const auto& c : e.checks) {
    CAPTURE(c.check);
    CHECK(c.ok);
    CHECK(!c.looked_at.empty());
  }
  CHECK(e.verdict == "forwarding");
  CHECK(find(e, "rp_filter").looked_at ==
        "/proc/sys/net/ipv4/conf/all/rp_filter = 0; /proc/sys/net/ipv4/conf/r-in/rp_filter = 0 "
        "(effective 0)");
}

TEST_CASE("explain: covered but not yet installed would be forwarded") {
  ExplainFacts f = good();
  f.installed = false;
  f.coverage = Coverage::rule;
  f.proc_iif.reset();
  const Explanation e = explain(f);
  CHECK(e.verdict == "would be forwarded");
  CHECK(find(e, "unresolved").looked_at == "/proc/net/ip_mr_cache: not listed");
}

TEST_CASE("explain: no route, a stop filter, a learned stop filter") {
  ExplainFacts f = good();
  f.coverage = Coverage::none;
  f.covered_by.clear();
  auto e = explain(f);
  CHECK(!find(e, "route").ok);
  CHECK(e.verdict == "dropped: no route or rule covers the flow: the kernel drops it");
  f.coverage = Coverage::stop_filter;
  f.covered_by = "r-in (198.51.100.2, 233.252.0.1)";
  e = explain(f);
  CHECK(e.verdict ==
        "dropped: the route r-in (198.51.100.2, 233.252.0.1) has no outbound interfaces: a stop "
        "filter drops the flow");
  f.coverage = Coverage::learned_stop;
  e = explain(f);
  CHECK(!find(e, "route").ok);
}

TEST_CASE("explain: an interface that is missing is not asked about further") {
  ExplainFacts f = good();
  f.ifaces[1] = IfaceFacts{};
  f.ifaces[1].name = "r-gone";
  const auto e = explain(f);
  const Check& c = find(e, "interface_present", "r-gone");
  CHECK(!c.ok);
  CHECK(c.looked_at == "link table: r-gone absent");
  CHECK(e.verdict == "dropped: outbound interface r-gone does not exist");
  CHECK(std::count_if(e.checks.begin(), e.checks.end(),
                      [](const Check& x) { return x.interface == "r-gone"; }) == 1);
}

TEST_CASE("explain: down, no carrier, no MULTICAST flag") {
  ExplainFacts f = good();
  f.ifaces[0].up = false;
  auto e = explain(f);
  CHECK(e.verdict == "dropped: inbound interface r-in is down (not IFF_UP)");
  f = good();
  f.ifaces[1].carrier = false;
  e = explain(f);
  CHECK(find(e, "interface_up", "r-out").looked_at ==
        "link table: r-out UP; /sys/class/net/r-out/carrier = 0");
  CHECK(e.verdict == "dropped: outbound interface r-out has no carrier");
  f = good();
  f.ifaces[1].multicast = false;
  e = explain(f);
  CHECK(!find(e, "multicast_capable", "r-out").ok);
}

TEST_CASE("explain: no VIF, and no VIF because the table is full") {
  ExplainFacts f = good();
  f.ifaces[1].has_vif = false;
  auto e = explain(f);
  CHECK(!find(e, "vif", "r-out").ok);
  f.vifs_used = 32;
  e = explain(f);
  const Check& c = find(e, "vif_table_full", "r-out");
  CHECK(!c.ok);
  CHECK(c.detail == "outbound interface r-out has no VIF: all 32 ipv4 VIFs are in use");
  CHECK(c.looked_at == "mfcd's VIF table (ipv4): 32 of 32 used, r-out has none");
}

TEST_CASE("explain: rp_filter is the larger of all and the interface, IPv4 inbound only") {
  ExplainFacts f = good();
  f.ifaces[0].rp_filter_all = 2;
  f.ifaces[0].rp_filter = 1;
  auto e = explain(f);
  const Check& c = find(e, "rp_filter", "r-in");
  CHECK(!c.ok);
  CHECK(!c.blocking);
  CHECK(c.looked_at ==
        "/proc/sys/net/ipv4/conf/all/rp_filter = 2; /proc/sys/net/ipv4/conf/r-in/rp_filter = 1 "
        "(effective 2)");
  CHECK(e.verdict.rfind("forwarding, but: loose reverse path filtering", 0) == 0);
  f.ifaces[0].rp_filter_all = 0;
  e = explain(f);
  CHECK(find(e, "rp_filter").detail.rfind("strict", 0) == 0);

  ExplainFacts six = good();
  six.flow = SgKey{addr("2001:db8::2"), addr("ff0e::db8:1")};
  e = explain(six);
  CHECK(std::none_of(e.checks.begin(), e.checks.end(),
                     [](const Check& x) { return x.check == "rp_filter"; }));
  CHECK(find(e, "mc_forwarding", "r-in").looked_at ==
        "/proc/sys/net/ipv6/conf/r-in/mc_forwarding = 1");
}

TEST_CASE("explain: mc_forwarding off, or unreadable") {
  ExplainFacts f = good();
  f.ifaces[0].mc_forwarding = 0;
  auto e = explain(f);
  CHECK(!find(e, "mc_forwarding", "r-in").ok);
  f.ifaces[0].mc_forwarding.reset();
  e = explain(f);
  CHECK(find(e, "mc_forwarding", "r-in").ok);
  CHECK(find(e, "mc_forwarding", "r-in").looked_at ==
        "/proc/sys/net/ipv4/conf/r-in/mc_forwarding = (unreadable)");
}

TEST_CASE("explain: link-local groups are never routed") {
  for (const char* g : {"224.0.0.251", "ff02::fb", "ff01::1", "ff32::1"}) {
    CAPTURE(g);
    CHECK(is_link_local_group(addr(g)));
  }
  for (const char* g : {"224.0.1.1", "233.252.0.1", "ff05::1", "ff0e::1", "ff3e::1"}) {
    CAPTURE(g);
    CHECK(!is_link_local_group(addr(g)));
  }
  ExplainFacts f = good();
  f.flow.group = addr("224.0.0.251");
  CHECK(explain(f).verdict ==
        "dropped: group 224.0.0.251 is link-local: the kernel never routes it");
}

TEST_CASE("explain: an OIF's TTL threshold above 1 is named with its value") {
  ExplainFacts f = good();
  f.ifaces[1].ttl_threshold = 8;
  const auto e = explain(f);
  const Check& c = find(e, "ttl_threshold", "r-out");
  CHECK(!c.ok);
  CHECK(c.looked_at == "mfcd's VIF for r-out: TTL threshold 8");
  CHECK(c.detail ==
        "packets arriving with TTL 8 or less are not sent out of r-out (its TTL threshold is 8)");
  CHECK(e.verdict == "forwarding, but: " + c.detail);
}

TEST_CASE("explain: a family whose table another daemon holds") {
  ExplainFacts f = good();
  f.family_routed = false;
  f.family_note = "MRT_INIT: Address in use (another multicast routing daemon holds this table)";
  const auto e = explain(f);
  CHECK(!find(e, "mroute_table").ok);
  CHECK(e.verdict ==
        "dropped: mfcd does not hold the ipv4 multicast routing table: MRT_INIT: Address in use "
        "(another multicast routing daemon holds this table)");
}

TEST_CASE("explain: the multicast routing rules send the flow to another table, or nowhere") {
  ExplainFacts f = good();
  f.table = 253;

  // Rules that could not be read say why, and do not fail the flow.
  f.mrules_note = "none: this kernel has one multicast routing table";
  auto e = explain(f);
  CHECK(find(e, "mroute_rule").ok);
  CHECK(find(e, "mroute_rule").looked_at ==
        "ip mrule: none: this kernel has one multicast routing table");

  MrRule ours;
  ours.priority = 32767;
  ours.table = 253;
  MrRule other;
  other.priority = 100;
  other.table = 10;
  other.iif = "r-in";

  f.mrules = std::vector<MrRule>{ours};
  e = explain(f);
  CHECK(find(e, "mroute_rule").ok);
  CHECK(find(e, "mroute_rule").detail ==
        "packets entering r-in are routed by mfcd's table (default)");
  CHECK(e.verdict == "forwarding");

  f.mrules = std::vector<MrRule>{other, ours};
  e = explain(f);
  const Check& c = find(e, "mroute_rule");
  CHECK(!c.ok);
  CHECK(c.blocking);
  CHECK(c.looked_at == "ip mrule: 2 rule(s) (rule \"100:\tfrom all iif r-in lookup 10\")");
  CHECK(e.verdict ==
        "dropped: packets entering r-in are routed by table 10, not by mfcd's (default): whoever "
        "holds table 10 decides, another daemon or, if no one made that table, the rules after it");

  // mfcd on table 10: the same rule is its own.
  f.table = 10;
  CHECK(find(explain(f), "mroute_rule").ok);
  f.table = 253;

  MrRule drop = other;
  drop.action = MrRule::Action::drop;
  drop.action_name = "blackhole";
  f.mrules = std::vector<MrRule>{drop, ours};
  CHECK(explain(f).verdict == "dropped: a rule drops packets entering r-in before any table");

  f.mrules = std::vector<MrRule>{};
  CHECK(explain(f).verdict ==
        "dropped: no multicast routing rule matches packets entering r-in: the kernel drops them");

  // IPv6 names ip -6 mrule; no inbound interface known: not asked.
  f.flow = SgKey{addr("2001:db8::2"), addr("ff0e::1")};
  f.table = 254;
  ours.table = 254;
  f.mrules = std::vector<MrRule>{ours};
  CHECK(find(explain(f), "mroute_rule").detail ==
        "packets entering r-in are routed by mfcd's table (main)");
  CHECK(find(explain(f), "mroute_rule").looked_at.rfind("ip -6 mrule: ", 0) == 0);
  f.iif.clear();
  e = explain(f);
  CHECK(std::none_of(e.checks.begin(), e.checks.end(),
                     [](const Check& k) { return k.check == "mroute_rule"; }));
}

TEST_CASE("explain: a snooping bridge without querier") {
  ExplainFacts f = good();
  f.ifaces[1].bridge = true;
  f.ifaces[1].snooping = 1;
  f.ifaces[1].querier = 0;
  auto e = explain(f);
  const Check& c = find(e, "bridge_querier", "r-out");
  CHECK(!c.ok);
  CHECK(c.looked_at ==
        "/sys/class/net/r-out/bridge/multicast_snooping = 1; "
        "/sys/class/net/r-out/bridge/multicast_querier = 0");
  f.ifaces[1].querier = 1;
  CHECK(find(explain(f), "bridge_querier", "r-out").ok);
}

TEST_CASE("explain: an SSM group covered by a rule without source") {
  CHECK(is_ssm_group(addr("232.1.2.3")));
  CHECK(is_ssm_group(addr("ff3e::1234")));
  CHECK(!is_ssm_group(addr("ff3e:40:2001:db8::1")));
  CHECK(!is_ssm_group(addr("233.252.0.1")));
  ExplainFacts f = good();
  f.flow.group = addr("232.1.2.3");
  f.coverage = Coverage::rule;
  f.covered_by = "r-in (*, 232.1.2.3)";
  f.covered_by_asm = true;
  auto e = explain(f);
  CHECK(!find(e, "ssm_rule").ok);
  f.covered_by_asm = false;
  CHECK(find(explain(f), "ssm_rule").ok);
}

TEST_CASE("explain: asked about another inbound interface than the entry's") {
  ExplainFacts f = good();
  f.entry_iif = "r-in";
  const auto quiet = explain(f);  // no iif asked: nothing to compare
  CHECK(std::none_of(quiet.checks.begin(), quiet.checks.end(),
                     [](const Check& c) { return c.check == "wrong_iif"; }));
  f.iif_given = true;
  CHECK(find(explain(f), "wrong_iif").ok);
  f.iif = "r-other";
  const auto e = explain(f);
  const Check& c = find(e, "wrong_iif");
  CHECK(!c.ok);
  CHECK(c.looked_at == "mfcd's kernel entry for the flow: inbound interface r-in");
  CHECK(e.verdict ==
        "dropped: the kernel entry expects the flow on r-in, so packets arriving on r-other count "
        "as wrong-interface and are dropped");
}

TEST_CASE("explain: an unresolved kernel entry") {
  ExplainFacts f = good();
  f.installed = false;
  f.proc_iif = -1;
  const auto e = explain(f);
  const Check& c = find(e, "unresolved");
  CHECK(!c.ok);
  CHECK(c.looked_at == "/proc/net/ip_mr_cache: Iif -1");
}

TEST_CASE("explain: /proc/net/ip_mr_cache and ip6_mr_cache lines") {
  // 198.51.100.2 -> 233.252.0.1, read as native integers on little endian.
  const std::string v4 =
      "Group    Origin   Iif     Pkts    Bytes    Wrong Oifs\n"
      "0100FCE9 026433C6 0         12     1200        3  1:1\n"
      "0200FCE9 026433C6 -1         0        0        0\n";
  const auto got = parse_mr_cache(v4, Family::v4);
  REQUIRE(got.size() == 2);
  CHECK(got[0].key.group == addr("233.252.0.1"));
  CHECK(got[0].key.source == addr("198.51.100.2"));
  CHECK(got[0].iif == 0);
  CHECK(got[0].packets == 12);
  CHECK(got[0].bytes == 1200);
  CHECK(got[0].wrong_if == 3);
  CHECK(got[1].iif == -1);
  const std::string v6 =
      "Group                            Origin                           Iif      Pkts  Bytes     "
      "Wr Oifs\n"
      "ff0e:0000:0000:0000:0000:0000:0db8:0001 2001:0db8:0000:0000:0000:0000:0000:0002 1    5 "
      "500 0  2:1\n";
  const auto six = parse_mr_cache(v6, Family::v6);
  REQUIRE(six.size() == 1);
  CHECK(six[0].key.group == addr("ff0e::db8:1"));
  CHECK(six[0].key.source == addr("2001:db8::2"));
  CHECK(six[0].packets == 5);
}

TEST_CASE("explain: the counter memory gives the last counters and forgets the oldest") {
  CounterMemory m(2);
  const SgKey a{addr("198.51.100.1"), addr("233.252.0.1")};
  const SgKey b{addr("198.51.100.2"), addr("233.252.0.1")};
  const SgKey c{addr("198.51.100.3"), addr("233.252.0.1")};
  CHECK(!m.exchange(a, {1, 10, 0}));
  CHECK(m.exchange(a, {5, 50, 1})->packets == 1);
  CHECK(m.exchange(a, {6, 60, 1})->packets == 5);
  CHECK(!m.exchange(b, {1, 1, 0}));
  CHECK(m.exchange(a, {7, 70, 1})->packets == 6);  // a is now the most recent
  CHECK(!m.exchange(c, {1, 1, 0}));                // b goes, the least recent
  CHECK(m.size() == 2);
  CHECK(!m.exchange(b, {2, 2, 0}));
  CHECK(!m.exchange(a, {8, 80, 1}));  // a went when b came back
}

}  // namespace
}  // namespace mfcd::core
