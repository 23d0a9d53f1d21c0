// core::mr_lookup: which table the kernel's multicast rules pick for a
// packet received on an interface, walked the way net/core/fib_rules.c
// walks them for ipmr and ip6mr.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "core/mrules.hpp"

namespace mfcd::core {
namespace {

MrRule lookup(uint32_t priority, uint32_t table, std::string iif = {}) {
  MrRule r;
  r.priority = priority;
  r.table = table;
  r.iif = std::move(iif);
  return r;
}

// What a kernel with multiple tables starts with: one rule to the default.
const MrRule kDefaultRule = lookup(32767, kDefaultMrTable);

TEST_CASE("mrules: table names and ip's words for a rule") {
  CHECK(kernel_mr_table(Family::v4, 0) == 253);
  CHECK(kernel_mr_table(Family::v6, 0) == 254);
  CHECK(kernel_mr_table(Family::v6, 10) == 10);
  CHECK(mr_table_name(253) == "default");
  CHECK(mr_table_name(254) == "main");
  CHECK(mr_table_name(10) == "10");
  CHECK(kDefaultRule.str() == "32767:\tfrom all lookup default");
  MrRule r = lookup(100, 10, "eth0");
  r.invert = true;
  r.fwmark = 5;
  r.fwmask = 0xFF;
  CHECK(r.str() == "100:\tnot from all iif eth0 fwmark 5/255 lookup 10");
  r = MrRule{};
  r.priority = 7;
  r.action = MrRule::Action::drop;
  r.action_name = "blackhole";
  CHECK(r.str() == "7:\tfrom all blackhole");
}

TEST_CASE("mrules: the first matching rule decides; its table or none") {
  const std::vector<MrRule> rules = {lookup(100, 10, "eth1"), kDefaultRule};
  MrLookup l = mr_lookup(rules, "eth0");
  REQUIRE(l.rule == &rules[1]);
  CHECK(l.table == kDefaultMrTable);
  l = mr_lookup(rules, "eth1");
  REQUIRE(l.rule == &rules[0]);
  CHECK(l.table == 10u);

  // No rule at all, or none that matches: the lookup fails.
  CHECK(mr_lookup({}, "eth0").rule == nullptr);
  CHECK(!mr_lookup({lookup(100, 10, "eth1")}, "eth0").table);
}

TEST_CASE("mrules: what a received packet never matches, and inversion") {
  MrRule oif = lookup(10, 20);
  oif.oif = "eth0";
  MrRule marked = lookup(11, 21);
  marked.fwmark = 1;
  marked.fwmask = 0xFFFFFFFF;
  MrRule detached = lookup(12, 22, "eth0");
  detached.iif_detached = true;
  const std::vector<MrRule> rules = {oif, marked, detached, kDefaultRule};
  CHECK(mr_lookup(rules, "eth0").table == kDefaultMrTable);

  // "not iif eth1": everything but eth1.
  MrRule inverted = lookup(10, 30, "eth1");
  inverted.invert = true;
  const std::vector<MrRule> with_not = {inverted, kDefaultRule};
  CHECK(mr_lookup(with_not, "eth0").table == 30u);
  CHECK(mr_lookup(with_not, "eth1").table == kDefaultMrTable);

  // A mark of 0 under a mask: every unmarked packet matches.
  MrRule zero_mark = lookup(10, 40);
  zero_mark.fwmask = 0xF0;
  CHECK(mr_lookup({zero_mark, kDefaultRule}, "eth0").table == 40u);
}

TEST_CASE("mrules: nop goes on, goto jumps forward, a drop rule ends the lookup") {
  MrRule nop = lookup(5, 0);
  nop.action = MrRule::Action::nop;
  MrRule jump = lookup(10, 0);
  jump.action = MrRule::Action::jump;
  jump.jump_to = 30;
  const std::vector<MrRule> rules = {nop, jump, lookup(20, 20), lookup(30, 30, "eth9"),
                                     lookup(40, 40)};
  // The goto lands on 30, which does not match eth0, and goes on from there.
  CHECK(mr_lookup(rules, "eth0").table == 40u);
  CHECK(mr_lookup(rules, "eth9").table == 30u);

  // A goto to a priority no rule has is passed over.
  jump.jump_to = 25;
  CHECK(mr_lookup({jump, lookup(20, 20), lookup(40, 40)}, "eth0").table == 20u);

  MrRule drop = lookup(50, 0, "eth0");
  drop.action = MrRule::Action::drop;
  drop.action_name = "prohibit";
  const std::vector<MrRule> dropping = {drop, kDefaultRule};
  const MrLookup l = mr_lookup(dropping, "eth0");
  REQUIRE(l.rule == &dropping[0]);
  CHECK(!l.table);
  CHECK(mr_lookup(dropping, "eth1").table == kDefaultMrTable);
}

}  // namespace
}  // namespace mfcd::core
