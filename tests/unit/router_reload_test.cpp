// Reloads through the Router: what a changed file costs the kernel, call by
// call, and the promise behind it: a reload never touches a flow whose
// lines did not change. The plan is what gets written; a dry run reports
// the same and writes nothing; API routes outlive a reload unless mfcd
// runs under SMCRoute's names; a refused op is named and the state stays
// consistent.
#include <doctest/doctest.h>

#include <cerrno>
#include <string>
#include <vector>

#include "router_fixture.hpp"

namespace mfcd::test {
namespace {

const core::Links kLinks = {{"a1", 2, true, true, false},
                            {"a2", 3, true, true, false},
                            {"a3", 4, true, true, false},
                            {"a4", 5, true, true, false}};

const std::string kPhyints = "phyint a1 enable mrdisc\nphyint a2 enable\nphyint a3 enable\n";

const std::string kRoutes =
    "mroute from a1 source 10.0.0.1 group 225.1.1.1 to a2\n"
    "mroute from a1 source 10.0.0.2 group 225.1.1.2 to a2 a3\n"
    "mroute from a1 source 10.0.0.3 group 225.1.1.3 to a3\n"
    "mroute from a1 group 225.9.9.9 to a2\n";

const std::string kJoins = "mgroup from a2 group 225.7.7.7\n";

const std::string kConfig = kPhyints + kRoutes + kJoins;

const std::vector<std::string> kTable = {
    "mfc 10.0.0.1,225.1.1.1 iif=a1 oifs=a2", "mfc 10.0.0.2,225.1.1.2 iif=a1 oifs=a2,a3",
    "mfc 10.0.0.3,225.1.1.3 iif=a1 oifs=a3", "mfc 10.9.0.1,225.9.9.9 iif=a1 oifs=a2",
    "vif ipv4 0 a1 ifindex=2 ttl=1",         "vif ipv4 1 a2 ifindex=3 ttl=1",
    "vif ipv4 2 a3 ifindex=4 ttl=1",         "vif ipv6 0 a1 ifindex=2 ttl=1",
    "vif ipv6 1 a2 ifindex=3 ttl=1",         "vif ipv6 2 a3 ifindex=4 ttl=1",
};

// Started on kConfig, with one entry learned from the (*,G) rule.
struct Reload : RouterFixture {
  explicit Reload(router::Settings settings = {}, const std::string& config = kConfig)
      : RouterFixture(kLinks, settings) {
    start(config);
    upcall(core::UpcallType::nocache, 0, "10.9.0.1", "225.9.9.9");
    kernel.calls.clear();
    listener.events.clear();
  }
};

core::RouteKey key_of(const std::string& iif, const std::string& source, const std::string& group) {
  return route_request(iif, source, group, {}).key;
}

core::JoinKey join_key(const std::string& iif, const std::string& source,
                       const std::string& group) {
  core::JoinKey key;
  key.iif = iif;
  if (!source.empty()) key.source = core::Prefix::host(*core::Addr::parse(source));
  key.group = *core::parse_prefix(group).prefix;
  return key;
}

// A report as lines, so that two reports compare in one CHECK.
std::vector<std::string> summary(const router::ReloadReport& r) {
  std::vector<std::string> out;
  auto routes = [&](const char* what, const std::vector<router::RouteChange>& list) {
    for (const auto& c : list)
      out.push_back(std::string(what) + " " + c.route.key.str() + " " +
                    std::string(core::route_state_name(c.status.state)));
  };
  routes("added", r.added);
  routes("changed", r.changed);
  routes("removed", r.removed);
  for (const auto& j : r.joined)
    out.push_back("joined " + j.key.str());
  for (const auto& j : r.left)
    out.push_back("left " + j.key.str());
  std::string mrdisc = "mrdisc";
  for (const auto& name : r.mrdisc)
    mrdisc += " " + name;
  out.push_back(mrdisc);
  out.push_back("kernel_ops " + std::to_string(r.kernel_ops));
  out.push_back("warnings " + std::to_string(r.warnings.size()));
  return out;
}

// Every op of a reload plan, in the order apply_reload writes them.
Calls plan_lines(const router::ReloadPlan& plan) {
  Calls out = op_lines(plan.routes.plan);
  for (const auto& m : plan.groups.leave)
    out.push_back("leave " + m.str());
  for (const auto& m : plan.groups.join)
    out.push_back("join " + m.str());
  return out;
}

std::vector<std::string> intent_lines(const router::Router& r) {
  std::vector<std::string> lines;
  for (const auto* route : r.model().intent.routes()) {
    std::string line = route->key.str();
    for (const auto& [owner, oifs] : route->shares) {
      line += " " + owner + "=";
      for (const auto& oif : oifs)
        line += oif + ";";
    }
    lines.push_back(line);
  }
  return lines;
}

}  // namespace

TEST_CASE("router: a reload of the same file writes nothing and reports no change") {
  Reload f;
  REQUIRE(f.kernel.table() == kTable);
  const auto report = f.reload(kConfig);
  CHECK(f.kernel.calls == Calls{});
  CHECK(summary(report) == std::vector<std::string>{"mrdisc a1", "kernel_ops 0", "warnings 0"});
  CHECK(report.failures.empty());
  CHECK(f.listener.events == Calls{"mrdisc a1"});
  CHECK(f.kernel.table() == kTable);
  f.check_consistent();
}

TEST_CASE("router: a reload writes the routes whose lines changed and nothing else") {
  Reload f;
  const auto report = f.reload(kPhyints +
                               "mroute from a1 source 10.0.0.1 group 225.1.1.1 to a2\n"
                               "mroute from a1 source 10.0.0.2 group 225.1.1.2 to a2\n"
                               "mroute from a1 source 10.0.0.4 group 225.1.1.4 to a3\n"
                               "mroute from a1 group 225.9.9.9 to a2\n" +
                               kJoins);
  // No del and add of unchanged entries: the flows of 10.0.0.1 and of the
  // learned entry never notice.
  CHECK(f.kernel.calls == Calls{
                              "add_mfc 10.0.0.2,225.1.1.2 iif=a1 oifs=a2",
                              "add_mfc 10.0.0.4,225.1.1.4 iif=a1 oifs=a3",
                              "del_mfc 10.0.0.3,225.1.1.3",
                          });
  CHECK(summary(report) == std::vector<std::string>{
                               "added a1 (10.0.0.4, 225.1.1.4) installed",
                               "changed a1 (10.0.0.2, 225.1.1.2) installed",
                               "removed a1 (10.0.0.3, 225.1.1.3) installed",
                               "mrdisc a1",
                               "kernel_ops 3",
                               "warnings 0",
                           });
  CHECK(f.router.model().dynamic.size() == 1);
  f.check_consistent();
}

TEST_CASE("router: a reload's plan is exactly what it writes, routes first, then groups") {
  Reload f;
  const auto next = config_from(kPhyints + kRoutes +
                                "mroute from a1 source 10.0.0.5 group 225.1.1.5 to a4\n"
                                "mgroup from a2 group 225.7.7.8\n"
                                "ssmgroup from a3 source 10.0.0.1 group 232.1.1.1\n");
  auto plan = f.router.plan_reload(next);
  const Calls planned = plan_lines(plan);
  CHECK(planned == Calls{
                       "add_vif ipv4 3 a4 ifindex=5 ttl=1",
                       "add_mfc 10.0.0.5,225.1.1.5 iif=a1 oifs=a4",
                       "leave a2 (*, 225.7.7.7)",
                       "join a2 (*, 225.7.7.8)",
                       "join a3 (10.0.0.1, 232.1.1.1)",
                   });
  CHECK(f.kernel.calls == Calls{});  // planning writes nothing

  const auto report = f.router.apply_reload(std::move(plan));
  CHECK(f.kernel.calls == planned);
  CHECK(report.kernel_ops == planned.size());
  CHECK(summary(report) == std::vector<std::string>{
                               "added a1 (10.0.0.5, 225.1.1.5) installed",
                               "joined a2 (*, 225.7.7.8)",
                               "joined a3 (10.0.0.1, 232.1.1.1)",
                               "left a2 (*, 225.7.7.7)",
                               "mrdisc a1",
                               "kernel_ops 5",
                               "warnings 0",
                           });
  f.check_consistent();
}

TEST_CASE("router: a changed phyint line decides everything again, yet rewrites only its own") {
  Reload f;
  SUBCASE("a new phyint: its VIFs, nothing else") {
    f.reload(kPhyints + "phyint a4 enable\n" + kRoutes + kJoins);
    CHECK(f.kernel.calls == Calls{
                                "add_vif ipv4 3 a4 ifindex=5 ttl=1",
                                "add_vif ipv6 3 a4 ifindex=5 ttl=1",
                            });
  }
  SUBCASE("router discovery on one more interface: no kernel call") {
    const auto report = f.reload(
        "phyint a1 enable mrdisc\nphyint a2 enable mrdisc\n"
        "phyint a3 enable\n" +
        kRoutes + kJoins);
    CHECK(f.kernel.calls == Calls{});
    CHECK(report.mrdisc == std::set<std::string>{"a1", "a2"});
    CHECK(f.listener.events == Calls{"mrdisc a1,a2"});
  }
  SUBCASE("router discovery off") {
    const auto report =
        f.reload("phyint a1 enable\nphyint a2 enable\nphyint a3 enable\n" + kRoutes + kJoins);
    CHECK(f.kernel.calls == Calls{});
    CHECK(report.mrdisc.empty());
    CHECK(f.listener.events == Calls{"mrdisc "});
  }
  SUBCASE("a new TTL threshold: the VIF again, and the entries that use it") {
    f.reload("phyint a1 enable mrdisc\nphyint a2 enable\nphyint a3 enable ttl-threshold 5\n" +
             kRoutes + kJoins);
    CHECK(f.kernel.calls == Calls{
                                "del_vif ipv4 2 a3",
                                "del_vif ipv6 2 a3",
                                "add_vif ipv4 2 a3 ifindex=4 ttl=5",
                                "add_vif ipv6 2 a3 ifindex=4 ttl=5",
                                "add_mfc 10.0.0.2,225.1.1.2 iif=a1 oifs=a2,a3:5",
                                "add_mfc 10.0.0.3,225.1.1.3 iif=a1 oifs=a3:5",
                            });
  }
  CHECK(f.router.model().dynamic.size() == 1);
  f.check_consistent();
}

TEST_CASE("router: a dry run reports what the reload will do and changes nothing") {
  Reload f;
  const std::string next = kPhyints + "phyint a4 enable mrdisc\n" +
                           "mroute from a1 source 10.0.0.1 group 225.1.1.1 to a2 a4\n"
                           "mroute from a1 source 10.0.0.6 group 225.1.1.6 to a9\n"
                           "mroute from a1 group 225.9.9.9 to a2\n"
                           "mgroup from a4 group 225.7.7.9\n";
  const auto intent = intent_lines(f.router);
  const auto dry = f.router.dry_run(config_from(next));
  CHECK(f.kernel.calls == Calls{});
  CHECK(f.listener.events == Calls{});
  CHECK(intent_lines(f.router) == intent);
  CHECK(f.router.model().joins.size() == 1);
  CHECK(f.router.route_status(key_of("a1", "10.0.0.6", "225.1.1.6")) == nullptr);
  CHECK(f.kernel.table() == kTable);
  // Twice the same answer: the first left nothing behind.
  CHECK(summary(f.router.dry_run(config_from(next))) == summary(dry));

  const auto real = f.reload(next);
  CHECK(summary(dry) == summary(real));
  CHECK(summary(real) == std::vector<std::string>{
                             "added a1 (10.0.0.6, 225.1.1.6) installed",
                             "changed a1 (10.0.0.1, 225.1.1.1) installed",
                             "removed a1 (10.0.0.2, 225.1.1.2) installed",
                             "removed a1 (10.0.0.3, 225.1.1.3) installed",
                             "joined a4 (*, 225.7.7.9)",
                             "left a2 (*, 225.7.7.7)",
                             "mrdisc a1 a4",
                             "kernel_ops 8",
                             "warnings 0",
                         });
  CHECK(real.kernel_ops == f.kernel.calls.size());
  f.check_consistent();
}

TEST_CASE("router: API routes and joins outlive a reload") {
  Reload f;
  REQUIRE(f.router.add_route(route_request("a1", "10.0.0.8", "225.1.1.8", {"a2"})).index() == 0);
  REQUIRE(f.router.add_route(route_request("a1", "10.0.0.1", "225.1.1.1", {"a3"})).index() == 0);
  REQUIRE(f.router.join(join_key("a3", "", "225.6.6.6"), "alice"));
  f.kernel.calls.clear();

  // The file drops its share of 10.0.0.1; the API's share stays.
  const auto report = f.reload(kPhyints +
                               "mroute from a1 source 10.0.0.2 group 225.1.1.2 to a2 a3\n"
                               "mroute from a1 source 10.0.0.3 group 225.1.1.3 to a3\n"
                               "mroute from a1 group 225.9.9.9 to a2\n" +
                               kJoins);
  CHECK(f.kernel.calls == Calls{"add_mfc 10.0.0.1,225.1.1.1 iif=a1 oifs=a3"});
  CHECK(summary(report) == std::vector<std::string>{
                               "changed a1 (10.0.0.1, 225.1.1.1) installed",
                               "mrdisc a1",
                               "kernel_ops 1",
                               "warnings 0",
                           });
  CHECK(f.router.model().intent.find_route(key_of("a1", "10.0.0.8", "225.1.1.8")));
  CHECK(f.router.model().joins.find(join_key("a3", "", "225.6.6.6")));
  f.check_consistent();
}

TEST_CASE("router: under SMCRoute's names a reload drops every API route and join") {
  router::Settings settings;
  settings.smcroute_names = true;
  Reload f(settings);
  REQUIRE(f.router.add_route(route_request("a1", "10.0.0.8", "225.1.1.8", {"a2"})).index() == 0);
  REQUIRE(f.router.add_route(route_request("a1", "10.0.0.1", "225.1.1.1", {"a3"})).index() == 0);
  REQUIRE(f.router.join(join_key("a3", "", "225.6.6.6"), "alice"));
  REQUIRE(f.router.join(join_key("a2", "", "225.7.7.7"), "bob"));  // the config's too
  f.kernel.calls.clear();

  const auto dry = f.router.dry_run(config_from(kConfig));
  CHECK(f.kernel.calls == Calls{});
  const auto report = f.reload(kConfig);
  CHECK(f.kernel.calls == Calls{
                              "add_mfc 10.0.0.1,225.1.1.1 iif=a1 oifs=a2",
                              "del_mfc 10.0.0.8,225.1.1.8",
                              "leave a3 (*, 225.6.6.6)",
                          });
  CHECK(summary(report) == std::vector<std::string>{
                               "changed a1 (10.0.0.1, 225.1.1.1) installed",
                               "removed a1 (10.0.0.8, 225.1.1.8) installed",
                               "left a3 (*, 225.6.6.6)",
                               "mrdisc a1",
                               "kernel_ops 3",
                               "warnings 0",
                           });
  CHECK(summary(dry) == summary(report));
  CHECK(f.router.model().joins.find(join_key("a2", "", "225.7.7.7"))->owners ==
        std::set<std::string>{"config"});
  CHECK(f.kernel.table() == kTable);
  f.check_consistent();
}

TEST_CASE("router: a kernel refusal in the middle of a reload is named; the rest is written") {
  for (int err : {ENOBUFS, EEXIST, ENOENT, EPERM, ENFILE}) {
    CAPTURE(errno_name(err));
    Reload f;
    const std::string next = kPhyints +
                             "mroute from a1 source 10.0.0.1 group 225.1.1.1 to a2 a3\n"
                             "mroute from a1 source 10.0.0.2 group 225.1.1.2 to a3\n"
                             "mroute from a1 source 10.0.0.4 group 225.1.1.4 to a2\n"
                             "mroute from a1 group 225.9.9.9 to a2\n" +
                             kJoins;
    f.kernel.fail("add_mfc 10.0.0.2,225.1.1.2", err);
    auto plan = f.router.plan_reload(config_from(next));
    const Calls planned = plan_lines(plan);
    REQUIRE(planned == Calls{
                           "add_mfc 10.0.0.1,225.1.1.1 iif=a1 oifs=a2,a3",
                           "add_mfc 10.0.0.2,225.1.1.2 iif=a1 oifs=a3",
                           "add_mfc 10.0.0.4,225.1.1.4 iif=a1 oifs=a2",
                           "del_mfc 10.0.0.3,225.1.1.3",
                       });
    const auto report = f.router.apply_reload(std::move(plan));
    CHECK(f.kernel.calls == Calls{
                                "add_mfc 10.0.0.1,225.1.1.1 iif=a1 oifs=a2,a3",
                                "add_mfc 10.0.0.2,225.1.1.2 iif=a1 oifs=a3 -> " + errno_name(err),
                                "add_mfc 10.0.0.4,225.1.1.4 iif=a1 oifs=a2",
                                "del_mfc 10.0.0.3,225.1.1.3",
                            });
    REQUIRE(report.failures.size() == 1);
    CHECK(report.failures[0].what == "add_mfc (10.0.0.2, 225.1.1.2)");
    CHECK(report.failures[0].op == 1);
    CHECK(report.failures[0].error.sys_errno == err);
    CHECK(report.failures[0].route == key_of("a1", "10.0.0.2", "225.1.1.2"));
    // The old entry forwards on, and is listed as it is.
    CHECK(f.router.route_status(key_of("a1", "10.0.0.2", "225.1.1.2"))->state ==
          core::RouteState::installed);
    f.check_consistent();

    // The next reload tries the refused change again, and only that.
    f.kernel.calls.clear();
    CHECK(f.reload(next).failures.empty());
    CHECK(f.kernel.calls == Calls{"add_mfc 10.0.0.2,225.1.1.2 iif=a1 oifs=a3"});
    f.check_consistent();
  }
}

TEST_CASE("router: a VIF refused in a reload skips the entries that need it, naming both ops") {
  Reload f;
  f.kernel.fail("add_vif ipv4 3 a4", ENOBUFS);
  const auto report = f.reload(kPhyints + "phyint a4 enable\n" + kRoutes +
                               "mroute from a4 source 10.0.0.5 group 225.1.1.5 to a1\n" + kJoins);
  CHECK(f.kernel.calls == Calls{
                              "add_vif ipv4 3 a4 ifindex=5 ttl=1 -> ENOBUFS",
                              "add_vif ipv6 3 a4 ifindex=5 ttl=1",
                          });
  REQUIRE(report.failures.size() == 2);
  CHECK(report.failures[0].what == "add_vif a4 (ipv4)");
  CHECK(report.failures[0].op == 0);
  CHECK(report.failures[1].what == "add_mfc (10.0.0.5, 225.1.1.5)");
  CHECK(report.failures[1].op == 2);
  CHECK(f.router.route_status(key_of("a4", "10.0.0.5", "225.1.1.5"))->state ==
        core::RouteState::pending);
  f.check_consistent();
}

TEST_CASE("router: a delete refused in a reload keeps the entry where both sides see it") {
  Reload f;
  f.kernel.fail("del_mfc 10.0.0.3,225.1.1.3", EPERM);
  const auto next = kPhyints +
                    "mroute from a1 source 10.0.0.1 group 225.1.1.1 to a2\n"
                    "mroute from a1 source 10.0.0.2 group 225.1.1.2 to a2 a3\n"
                    "mroute from a1 group 225.9.9.9 to a2\n" +
                    kJoins;
  const auto report = f.reload(next);
  CHECK(f.kernel.calls == Calls{"del_mfc 10.0.0.3,225.1.1.3 -> EPERM"});
  REQUIRE(report.failures.size() == 1);
  CHECK(report.failures[0].what == "del_mfc (10.0.0.3, 225.1.1.3)");
  CHECK(report.failures[0].op == 0);
  CHECK(f.kernel.table() == kTable);
  f.check_consistent();

  f.kernel.calls.clear();
  f.reload(next);
  CHECK(f.kernel.calls == Calls{"del_mfc 10.0.0.3,225.1.1.3"});
  f.check_consistent();
}

TEST_CASE("router: learned entries follow their rule through a reload") {
  Reload f;
  SUBCASE("the rule gets another OIF: the entry is rewritten in place") {
    const auto report = f.reload(kPhyints +
                                 "mroute from a1 source 10.0.0.1 group 225.1.1.1 to a2\n"
                                 "mroute from a1 source 10.0.0.2 group 225.1.1.2 to a2 a3\n"
                                 "mroute from a1 source 10.0.0.3 group 225.1.1.3 to a3\n"
                                 "mroute from a1 group 225.9.9.9 to a2 a3\n" +
                                 kJoins);
    CHECK(f.kernel.calls == Calls{"add_mfc 10.9.0.1,225.9.9.9 iif=a1 oifs=a2,a3"});
    CHECK(summary(report) == std::vector<std::string>{
                                 "changed a1 (*, 225.9.9.9) rule",
                                 "mrdisc a1",
                                 "kernel_ops 1",
                                 "warnings 0",
                             });
    CHECK(f.router.model().dynamic.size() == 1);
  }
  SUBCASE("the rule goes: its entries go") {
    f.reload(kPhyints +
             "mroute from a1 source 10.0.0.1 group 225.1.1.1 to a2\n"
             "mroute from a1 source 10.0.0.2 group 225.1.1.2 to a2 a3\n"
             "mroute from a1 source 10.0.0.3 group 225.1.1.3 to a3\n" +
             kJoins);
    CHECK(f.kernel.calls == Calls{"del_mfc 10.9.0.1,225.9.9.9"});
    CHECK(f.router.model().dynamic.empty());
  }
  SUBCASE("a static route for the learned (S,G): the route takes the entry") {
    f.reload(kConfig + "mroute from a1 source 10.9.0.1 group 225.9.9.9 to a3\n");
    CHECK(f.kernel.calls == Calls{"add_mfc 10.9.0.1,225.9.9.9 iif=a1 oifs=a3"});
    CHECK(f.router.model().dynamic.empty());
    const core::SgKey learned{*core::Addr::parse("10.9.0.1"), *core::Addr::parse("225.9.9.9")};
    CHECK_FALSE(f.router.installed().mfc.at(learned).dynamic);
  }
  f.check_consistent();
}

TEST_CASE("router: a reload tries config joins the kernel refused again, whatever its routes do") {
  Reload f({}, kPhyints + kRoutes);
  // Refused when the reload makes it, and at the retry that reload makes.
  f.membership.fail("join a2 (*, 225.7.7.7)", ENOBUFS, 2);
  f.reload(kConfig);
  REQUIRE(f.kernel.calls ==
          Calls{"join a2 (*, 225.7.7.7) -> ENOBUFS", "join a2 (*, 225.7.7.7) -> ENOBUFS"});
  const auto* join = f.router.model().joins.find(join_key("a2", "", "225.7.7.7"));
  REQUIRE(join);
  CHECK(f.router.join_state(*join).kind == router::JoinState::Kind::failed);
  f.kernel.calls.clear();

  SUBCASE("routes unchanged") {
    f.reload(kConfig);
    CHECK(f.kernel.calls == Calls{"join a2 (*, 225.7.7.7)"});
  }
  SUBCASE("a phyint changed: every route decided again") {
    f.reload(kPhyints + "phyint a4 enable\n" + kRoutes + kJoins);
    CHECK(f.kernel.calls == Calls{
                                "add_vif ipv4 3 a4 ifindex=5 ttl=1",
                                "add_vif ipv6 3 a4 ifindex=5 ttl=1",
                                "join a2 (*, 225.7.7.7)",
                            });
  }
  join = f.router.model().joins.find(join_key("a2", "", "225.7.7.7"));
  REQUIRE(join);
  CHECK(f.router.join_state(*join).kind == router::JoinState::Kind::joined);
  f.check_consistent();
}

}  // namespace mfcd::test

namespace mfcd::test {
namespace {

std::vector<std::string> missing_lines(const router::ReloadReport& r) {
  std::vector<std::string> out;
  for (const auto& m : r.missing)
    out.push_back(m.pos.str() + " " + m.message());
  return out;
}

}  // namespace

TEST_CASE("router: a reload names every interface the file names that does not exist") {
  Reload f;
  const std::string typos = kPhyints +
                            "mroute from a1 source 10.1.0.5 group 225.9.9.1 to a2oot\n"
                            "mgroup from a2x group 225.7.7.8\n"
                            "mroute from a1+ group 225.9.9.2 to b+\n"  // patterns are never missing
                            "mroute from a9 source 10.1.0.6 group 225.9.9.3 to a2 a3x\n";
  const std::vector<std::string> expected = {
      "test.conf:4:1 interface a2oot does not exist; the route has no outbound interface and drops "
      "the flow until it appears",
      "test.conf:5:1 interface a2x does not exist; the join stays pending until it appears",
      "test.conf:7:1 interface a9 does not exist; the route stays pending and forwards nothing "
      "until "
      "it appears",
      "test.conf:7:1 interface a3x does not exist; nothing is forwarded to it until it appears"};
  CHECK(missing_lines(f.router.dry_run(config_from(typos))) == expected);
  const auto report = f.reload(typos);
  CHECK(missing_lines(report) == expected);
  // Lines that did not change are still named: the typo is still there.
  CHECK(missing_lines(f.reload(typos)) == expected);
  // The interface appears, or the line is fixed: nothing more to say.
  f.link_added("a2oot", 30);
  CHECK(missing_lines(f.reload(typos)).size() == 3);
  CHECK(f.reload(kConfig).missing.empty());
  f.check_consistent();
}

TEST_CASE("router: missing interfaces of a request, in the words mfcd -F uses") {
  const core::Links links = {{"a1", 2, true, true, false}, {"a2", 3, true, true, false}};
  auto lines = [](const std::vector<router::MissingInterface>& list) {
    std::vector<std::string> out;
    for (const auto& m : list)
      out.push_back(m.name + " " + std::to_string(static_cast<int>(m.role)) + " " +
                    (m.drops_flow ? "drops" : "-"));
    return out;
  };
  CHECK(router::missing_route_interfaces("a1", {"a2"}, links).empty());
  CHECK(lines(router::missing_route_interfaces("a1", {"x1", "x2"}, links)) ==
        std::vector<std::string>{"x1 1 drops", "x2 1 drops"});
  CHECK(lines(router::missing_route_interfaces("a1", {"x1", "a2"}, links)) ==
        std::vector<std::string>{"x1 1 -"});
  // With no inbound interface nothing flows anyway: not "drops".
  CHECK(lines(router::missing_route_interfaces("x0", {"x1"}, links)) ==
        std::vector<std::string>{"x0 0 -", "x1 1 -"});
  CHECK(lines(router::missing_join_interface("x0", links)) == std::vector<std::string>{"x0 2 -"});
  CHECK(router::missing_join_interface("a+", links).empty());
}

}  // namespace mfcd::test
