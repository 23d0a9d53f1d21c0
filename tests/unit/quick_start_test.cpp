// The quick start must leave the kernel exactly as the regular start would,
// and for a config without two lines for one (S,G) the reconcile after it
// must find nothing to do: that is what makes it a pure speed-up.
#include "core/quick_start.hpp"
#include "budget.hpp"

#include <doctest/doctest.h>

#include <set>

#include "fakes.hpp"
#include "rng.hpp"

namespace mfcd::core {
namespace {

using test::apply;

struct Started {
  test::FakeKernel kernel;
  Installed installed;
  size_t quick_writes = 0;  // entries the quick start wrote
  test::Calls reconcile;    // what the regular reconcile did afterwards
  bool quick = false;       // the config got a quick start
};

// Service::start's order: quick start, then the regular reconcile.
Started start(const Config& config, const Links& links, bool with_v6 = true) {
  Started s;
  if (auto quick = plan_quick_start(config, links, with_v6)) {
    s.quick = true;
    const Plan plan = quick_start_plan(config, *quick);
    (void)apply(s.kernel, s.installed, plan);
    s.quick_writes = s.kernel.mfc_count();
  }
  Intent intent;
  intent.load_config(config);
  const Plan plan = make_plan(s.installed, compute_desired(intent, links));
  s.reconcile = test::op_lines(plan);
  (void)apply(s.kernel, s.installed, plan);
  return s;
}

// The regular start alone.
test::FakeKernel regular(const Config& config, const Links& links) {
  test::FakeKernel kernel;
  Installed installed;
  Intent intent;
  intent.load_config(config);
  (void)apply(kernel, installed, make_plan(installed, compute_desired(intent, links)));
  return kernel;
}

const Links kLinks{{"a1", 2}, {"a2", 3}, {"a3", 4}, {"a4", 5}};

using test::Rng;

}  // namespace

TEST_CASE("quick start: static routes written straight from the file, nothing left to reconcile") {
  const Config config = test::config_from(
      "phyint a3 enable ttl-threshold 5\n"
      "mroute from a1 source 10.0.0.1 group 225.1.1.1 to a2 a3\n"
      "mroute from a2 source 2001:db8::1 group ff05::1 to a1\n"
      "mroute from a1 source 10.0.0.2 group 225.1.1.2 to a4\n");
  Started s = start(config, kLinks);
  CHECK(s.quick);
  CHECK(s.quick_writes == 3);
  // VIFs: the phyint line first (both families), then first use in file order.
  CHECK(s.kernel.calls == test::Calls{
                              "add_vif ipv4 0 a3 ifindex=4 ttl=5",
                              "add_vif ipv4 1 a1 ifindex=2 ttl=1",
                              "add_vif ipv4 2 a2 ifindex=3 ttl=1",
                              "add_vif ipv4 3 a4 ifindex=5 ttl=1",
                              "add_vif ipv6 0 a3 ifindex=4 ttl=5",
                              "add_vif ipv6 1 a2 ifindex=3 ttl=1",
                              "add_vif ipv6 2 a1 ifindex=2 ttl=1",
                              "add_mfc 10.0.0.1,225.1.1.1 iif=a1 oifs=a3:5,a2",
                              "add_mfc 2001:db8::1,ff05::1 iif=a2 oifs=a1",
                              "add_mfc 10.0.0.2,225.1.1.2 iif=a1 oifs=a4",
                          });
  CHECK(s.reconcile.empty());
  CHECK(test::state_lines(s.installed) == s.kernel.table());
  CHECK(s.kernel.table() == regular(config, kLinks).table());
}

TEST_CASE("quick start: pending routes, rules, missing and disabled interfaces") {
  // a4 is disabled; nx does not exist. The rule and the pending routes write
  // nothing but still claim their interfaces' VIFs, in file order.
  const Config config = test::config_from(
      "phyint a4 disable\n"
      "mroute from nx source 10.0.0.1 group 225.1.1.1 to a3\n"
      "mroute from a2 group 225.2.0.0/16 to a1\n"
      "mroute from a4 source 10.0.0.3 group 225.1.1.3 to a1\n"
      "mroute from a1 source 10.0.0.4 group 225.1.1.4 to nx a4 a2\n"
      "mroute from a1 source 0.0.0.0 group 225.1.1.5 to a2\n");
  Started s = start(config, kLinks);
  CHECK(s.quick);
  CHECK(s.quick_writes == 1);
  CHECK(s.reconcile.empty());
  CHECK(s.kernel.table() == regular(config, kLinks).table());
}

TEST_CASE("quick start: two lines for one (S,G) are set right by the reconcile") {
  const Config config = test::config_from(
      "mroute from a1 source 10.0.0.1 group 225.1.1.1 to a2\n"
      "mroute from a3 source 10.0.0.1 group 225.1.1.1 to a4\n");
  Started s = start(config, kLinks);
  CHECK(s.quick);
  // The second line won in the kernel for a moment; the first route is the
  // one installed (the second waits as standby), as without a quick start.
  CHECK(s.reconcile == test::Calls{"add_mfc 10.0.0.1,225.1.1.1 iif=a1 oifs=a2"});
  CHECK(s.kernel.table() == regular(config, kLinks).table());
  CHECK(test::state_lines(s.installed) == s.kernel.table());
}

TEST_CASE("quick start: configs it cannot number are left to the regular path") {
  CHECK_FALSE(plan_quick_start(
      test::config_from("mroute from a+ source 10.0.0.1 group 225.1.1.1 to a2\n"), kLinks, true));
  CHECK_FALSE(plan_quick_start(
      test::config_from("mroute from a1 source 10.0.0.1 group 225.1.1.1 to a+\n"), kLinks, true));
  // One route written on two lines: its OIFs all count at the first line.
  CHECK_FALSE(plan_quick_start(test::config_from("mroute from a1 group 225.1.1.1 to a2\n"
                                                 "mroute from a3 group 225.1.1.3 to a4\n"
                                                 "mroute from a1 source 0.0.0.0 group "
                                                 "225.1.1.1 to a4\n"),
                               kLinks, true));
  Links many;
  std::string text;
  for (int i = 0; i < 33; ++i) {
    many.push_back(Link{"e" + std::to_string(i), 10 + i});
    text += "phyint e" + std::to_string(i) + " enable\n";
  }
  CHECK_FALSE(plan_quick_start(test::config_from(text), many, true));
}

TEST_CASE("quick start: without IPv6 multicast routing, IPv6 lines are left alone") {
  const Config config = test::config_from(
      "phyint a1 enable\n"
      "mroute from a2 source 2001:db8::1 group ff05::1 to a1\n"
      "mroute from a1 source 10.0.0.1 group 225.1.1.1 to a2\n");
  auto quick = plan_quick_start(config, kLinks, false);
  REQUIRE(quick);
  CHECK(quick->entries.size() == 1);
  for (const auto& vif : quick->vifs)
    CHECK(vif.family == Family::v4);
}

TEST_CASE("quick start: a refused write is left for the reconcile to retry and report") {
  const Config config = test::config_from(
      "mroute from a1 source 10.0.0.1 group 225.1.1.1 to a2\n"
      "mroute from a1 source 10.0.0.2 group 225.1.1.2 to a2\n");
  auto quick = plan_quick_start(config, kLinks, true);
  REQUIRE(quick);

  test::FakeKernel kernel;
  Installed installed;
  kernel.fail("add_mfc 10.0.0.1,225.1.1.1", ENOBUFS);
  const auto failures = apply(kernel, installed, quick_start_plan(config, *quick));
  REQUIRE(failures.size() == 1);
  CHECK(failures[0].what == "add_mfc (10.0.0.1, 225.1.1.1)");
  CHECK(kernel.mfc_count() == 1);
  CHECK(test::state_lines(installed) == kernel.table());

  // A refused VIF: the entries that need it are not sent to the kernel.
  test::FakeKernel no_vifs;
  Installed none;
  no_vifs.fail("add_vif ipv4 1", EPERM);
  (void)apply(no_vifs, none, quick_start_plan(config, *quick));
  CHECK(no_vifs.mfc_count() == 0);
  CHECK(test::state_lines(none) == no_vifs.table());
}

TEST_CASE("quick start: random configs end where the regular start ends" *
          doctest::test_suite("randomized")) {
  const Links links{{"a1", 2}, {"a2", 3}, {"a3", 4}, {"a4", 5}, {"a5", 6}, {"a6", 7}};
  const std::vector<std::string> ifnames{"a1", "a2", "a3", "a4", "a5", "a6", "nx"};
  Rng rng{0x2545f4914f6cdd1dULL};
  int quick_starts = 0, clean = 0;
  const int rounds = test::scaled(500);
  for (int round = 0; round < rounds; ++round) {
    std::string text;
    for (size_t i = 0, n = rng.below(4); i < n; ++i) {
      text += "phyint " + ifnames[rng.below(ifnames.size())] +
              (rng.below(4) == 0 ? " disable" : " enable");
      if (rng.below(3) == 0) text += " ttl-threshold " + std::to_string(1 + rng.below(9));
      text += "\n";
    }
    std::set<std::pair<std::string, std::string>> sgs;
    std::set<std::string> keys;
    bool repeats = false, same_route = false;
    for (size_t i = 0, n = 1 + rng.below(12); i < n; ++i) {
      const bool v6 = rng.below(4) == 0;
      std::string source, group;
      switch (rng.below(8)) {
        case 0:
          source = v6 ? "::" : "0.0.0.0";
          break;
        case 1:
          break;  // (*,G)
        default:
          source = (v6 ? "2001:db8::" : "10.0.0.") + std::to_string(1 + rng.below(3));
      }
      group = (v6 ? "ff05::" : "225.1.1.") + std::to_string(1 + rng.below(4));
      if (!source.empty() && source != "::" && source != "0.0.0.0")
        repeats |= !sgs.emplace(source, group).second;
      // The parser wants at least one OIF other than the inbound one.
      const std::string iif = ifnames[rng.below(ifnames.size())];
      const bool any = source.empty() || source == "::" || source == "0.0.0.0";
      same_route |= !keys.insert(iif + " " + (any ? "*" : source) + " " + group).second;
      text += "mroute from " + iif;
      if (!source.empty()) text += " source " + source;
      text += " group " + group + " to";
      std::set<std::string> oifs;
      while (oifs.empty()) {
        for (size_t k = 0, m = 1 + rng.below(3); k < m; ++k)
          oifs.insert(ifnames[rng.below(ifnames.size())]);
        oifs.erase(iif);
      }
      for (const auto& oif : oifs)
        text += " " + oif;
      text += "\n";
    }
    INFO("round " << round << ":\n" << text);
    const Config config = test::config_from(text);
    Started s = start(config, links);
    CHECK(s.quick == !same_route);
    quick_starts += s.quick ? 1 : 0;
    CHECK(s.kernel.table() == regular(config, links).table());
    CHECK(test::state_lines(s.installed) == s.kernel.table());
    if (s.quick && !repeats) {
      CHECK(s.reconcile.empty());
      ++clean;
    }
  }
  CHECK(quick_starts > rounds * 2 / 5);
  CHECK(clean > rounds / 5);
}

TEST_CASE("quick start: mixed exact and wildcard phyint lines resolve as on the regular path" *
          doctest::test_suite("randomized")) {
  // Patterns of every specificity over links a1..a3, b1, b12: exact names,
  // stems of two lengths, "+", and names that match nothing; the routes
  // only name exact interfaces, so every config gets a quick start.
  const Links links{{"a1", 2}, {"a2", 3}, {"a3", 4}, {"b1", 5}, {"b12", 6}};
  const std::vector<std::string> patterns{"a1",  "a2", "b1", "b12", "a+", "b+",
                                          "b1+", "+",  "nx", "nx+", "a3"};
  const std::vector<std::string> ifnames{"a1", "a2", "a3", "b1", "b12", "nx"};
  Rng rng{0x9e3779b97f4a7c15ULL};
  int clean = 0;
  const int rounds = test::scaled(500);
  for (int round = 0; round < rounds; ++round) {
    std::string text;
    for (size_t i = 0, n = 1 + rng.below(5); i < n; ++i) {
      text += "phyint " + patterns[rng.below(patterns.size())] +
              (rng.below(3) == 0 ? " disable" : " enable");
      if (rng.below(2) == 0) text += " ttl-threshold " + std::to_string(1 + rng.below(9));
      text += "\n";
    }
    for (size_t i = 0, n = rng.below(4); i < n; ++i) {
      const std::string iif = ifnames[rng.below(ifnames.size())];
      std::string oif = ifnames[rng.below(ifnames.size())];
      if (oif == iif) oif = iif == "a1" ? "b12" : "a1";
      text += "mroute from " + iif + " source 10.0.0." + std::to_string(i + 1) + " group 225.1.1." +
              std::to_string(1 + rng.below(4)) + " to " + oif + "\n";
    }
    INFO("round " << round << ":\n" << text);
    const Config config = test::config_from(text);
    Started s = start(config, links);
    REQUIRE(s.quick);
    CHECK(s.reconcile.empty());
    CHECK(s.kernel.table() == regular(config, links).table());
    CHECK(test::state_lines(s.installed) == s.kernel.table());
    clean += s.reconcile.empty() ? 1 : 0;
  }
  CHECK(clean == rounds);
}

}  // namespace mfcd::core
