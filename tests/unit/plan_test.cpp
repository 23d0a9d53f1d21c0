// The reconcile planner against a fake kernel: each test states the kernel
// calls it expects, then checks that the fake kernel's table is exactly what
// mfcd believes it installed and that planning again changes nothing.
#include "core/plan.hpp"
#include "budget.hpp"

#include <doctest/doctest.h>

#include <chrono>

#include "fakes.hpp"

namespace mfcd::core {
namespace {

using test::apply;

using test::Calls;
using test::desired;
using test::FakeKernel;
using test::state_lines;
using test::sync;

// A router: its kernel, what mfcd installed, and the links that exist.
struct Router {
  FakeKernel kernel;
  Installed installed;
  Links links;

  std::vector<Failure> load(const std::string& config) {
    return sync(kernel, installed, desired(config, links));
  }
  // After every change the kernel must hold what mfcd recorded, and the same
  // input must plan to nothing.
  void check_settled(const std::string& config) {
    CHECK(kernel.table() == state_lines(installed));
    const Plan again = make_plan(installed, desired(config, links));
    CHECK(test::op_lines(again) == Calls{});
    CHECK(again.failures.empty());
  }
};

const std::string kBase =
    "phyint a1 enable\nphyint a2 enable\nphyint a3 enable\n"
    "mroute from a1 source 10.0.0.1 group 225.1.1.1 to a2\n";

}  // namespace

TEST_CASE("a fresh start adds VIFs in phyint order, then the entries") {
  Router r{{}, {}, {{"a3", 4}, {"a2", 3}, {"a1", 2}}};
  CHECK(r.load(kBase).empty());
  CHECK(r.kernel.calls == Calls{
                              "add_vif ipv4 0 a1 ifindex=2 ttl=1",
                              "add_vif ipv4 1 a2 ifindex=3 ttl=1",
                              "add_vif ipv4 2 a3 ifindex=4 ttl=1",
                              "add_vif ipv6 0 a1 ifindex=2 ttl=1",
                              "add_vif ipv6 1 a2 ifindex=3 ttl=1",
                              "add_vif ipv6 2 a3 ifindex=4 ttl=1",
                              "add_mfc 10.0.0.1,225.1.1.1 iif=a1 oifs=a2",
                          });
  CHECK(r.installed.vif_of(Family::v4, "a1") == 0);
  CHECK(r.installed.vif_of(Family::v6, "a3") == 2);
  CHECK_FALSE(r.installed.vif_of(Family::v4, "a9").has_value());
  CHECK(r.installed.vif_count(Family::v4) == 3);
  r.check_settled(kBase);
}

TEST_CASE("reload adding one OIF rewrites only that entry") {
  Router r{{}, {}, {{"a1", 2}, {"a2", 3}, {"a3", 4}}};
  const std::string before = kBase + "mroute from a1 source 10.0.0.1 group 225.1.1.2 to a2\n";
  const std::string after = kBase + "mroute from a1 source 10.0.0.1 group 225.1.1.2 to a2 a3\n";
  REQUIRE(r.load(before).empty());
  r.kernel.calls.clear();

  REQUIRE(r.load(after).empty());
  CHECK(r.kernel.calls == Calls{"add_mfc 10.0.0.1,225.1.1.2 iif=a1 oifs=a2,a3"});
  r.check_settled(after);
}

TEST_CASE("a removed route is deleted, and its unused VIF after it") {
  Router r{{}, {}, {{"a1", 2}, {"a2", 3}, {"a3", 4}}};
  const std::string two =
      "mroute from a1 source 10.0.0.1 group 225.1.1.1 to a2\n"
      "mroute from a3 source 10.0.0.2 group 225.1.1.1 to a2\n";
  const std::string one = "mroute from a1 source 10.0.0.1 group 225.1.1.1 to a2\n";
  REQUIRE(r.load(two).empty());
  CHECK(r.installed.vif_of(Family::v4, "a3") == 2);
  CHECK(r.installed.vif_count(Family::v6) == 0);
  r.kernel.calls.clear();

  REQUIRE(r.load(one).empty());
  CHECK(r.kernel.calls == Calls{"del_mfc 10.0.0.2,225.1.1.1", "del_vif ipv4 2 a3"});
  r.check_settled(one);
}

TEST_CASE("VIF numbers stay put and a freed number is not reused in the same plan") {
  Router r{{}, {}, {{"a1", 2}, {"a2", 3}, {"a3", 4}, {"a4", 5}, {"a5", 6}}};
  const std::string first = "mroute from a1 source 10.0.0.1 group 225.1.1.1 to a2 a3\n";
  const std::string second = "mroute from a1 source 10.0.0.1 group 225.1.1.1 to a3 a4\n";
  const std::string third = "mroute from a1 source 10.0.0.1 group 225.1.1.1 to a3 a4 a5\n";
  REQUIRE(r.load(first).empty());
  r.kernel.calls.clear();

  REQUIRE(r.load(second).empty());
  CHECK(r.kernel.calls == Calls{
                              "add_vif ipv4 3 a4 ifindex=5 ttl=1",
                              "add_mfc 10.0.0.1,225.1.1.1 iif=a1 oifs=a3,a4",
                              "del_vif ipv4 1 a2",
                          });
  r.check_settled(second);
  r.kernel.calls.clear();

  // In the next plan the freed number is the lowest free one again.
  REQUIRE(r.load(third).empty());
  CHECK(r.kernel.calls == Calls{
                              "add_vif ipv4 1 a5 ifindex=6 ttl=1",
                              "add_mfc 10.0.0.1,225.1.1.1 iif=a1 oifs=a5,a3,a4",
                          });
  r.check_settled(third);
}

TEST_CASE("a new interface does not take a number that an entry still names") {
  // a2's device went away: the kernel dropped its VIF (1) but the entry
  // keeps the TTL for it, and so does the record (Installed::forget_vifs_of).
  // In the same plan a4 appears. A VIF at 1 would forward the entry's
  // traffic to a4 until the entry is rewritten, later in the plan, so a4
  // takes 3; once no entry names 1, it is the lowest free number again.
  // MIFs are numbered on their own: no IPv6 entry names MIF 1.
  Router r{{}, {}, {{"a1", 2}, {"a2", 3}, {"a3", 4}}};
  const std::string config =
      "phyint a1 enable\nphyint a2 enable\nphyint a3 enable\nphyint a4 enable\n"
      "phyint a5 enable\n"
      "mroute from a1 source 10.0.0.1 group 225.1.1.1 to a2 a3\n";
  REQUIRE(r.load(config).empty());
  r.kernel.device_gone("a2");
  r.installed.forget_vifs_of(3);
  r.links = {{"a1", 2}, {"a3", 4}, {"a4", 5}};
  r.kernel.calls.clear();
  REQUIRE(r.load(config).empty());
  CHECK(r.kernel.calls == Calls{
                              "add_vif ipv4 3 a4 ifindex=5 ttl=1",
                              "add_vif ipv6 1 a4 ifindex=5 ttl=1",  // no IPv6 entry names 1
                              "add_mfc 10.0.0.1,225.1.1.1 iif=a1 oifs=a3",
                          });
  r.check_settled(config);

  r.links.push_back({"a5", 6});
  r.kernel.calls.clear();
  REQUIRE(r.load(config).empty());
  CHECK(r.kernel.calls == Calls{
                              "add_vif ipv4 1 a5 ifindex=6 ttl=1",
                              "add_vif ipv6 3 a5 ifindex=6 ttl=1",
                          });
  r.check_settled(config);
}

TEST_CASE("a re-created interface gets its VIF back at the same number") {
  Router r{{}, {}, {{"a1", 2}, {"a2", 3}, {"a3", 4}}};
  const std::string config =
      "mroute from a1 source 10.0.0.1 group 225.1.1.1 to a2\n"
      "mroute from a1 source 10.0.0.2 group 225.1.1.1 to a3\n";
  REQUIRE(r.load(config).empty());
  r.kernel.calls.clear();

  // The kernel drops the VIF itself when the device goes; it comes back with
  // a new ifindex. The del finds nothing (fine), the add and the entry using
  // the VIF are redone; the other entry is not touched.
  r.kernel.device_gone("a2");
  r.links = {{"a1", 2}, {"a2", 13}, {"a3", 4}};
  REQUIRE(r.load(config).empty());
  CHECK(r.kernel.calls == Calls{
                              "del_vif ipv4 1 #1 -> EADDRNOTAVAIL",
                              "add_vif ipv4 1 a2 ifindex=13 ttl=1",
                              "add_mfc 10.0.0.1,225.1.1.1 iif=a1 oifs=a2",
                          });
  r.check_settled(config);
}

TEST_CASE("a new ttl-threshold re-adds the VIF and the entries using it") {
  Router r{{}, {}, {{"a1", 2}, {"a2", 3}}};
  const std::string route = "mroute from a1 source 10.0.0.1 group 225.1.1.1 to a2\n";
  REQUIRE(r.load(route).empty());
  r.kernel.calls.clear();

  const std::string config = "phyint a2 enable ttl-threshold 5\n" + route;
  REQUIRE(r.load(config).empty());
  CHECK(r.kernel.calls == Calls{
                              "del_vif ipv4 1 a2",
                              "add_vif ipv4 1 a2 ifindex=3 ttl=5",
                              "add_vif ipv6 0 a2 ifindex=3 ttl=5",
                              "add_mfc 10.0.0.1,225.1.1.1 iif=a1 oifs=a2:5",
                          });
  r.check_settled(config);
}

TEST_CASE("a renamed interface frees its ifindex before the new name uses it") {
  Router r{{}, {}, {{"a1", 2}, {"a2", 3}}};
  const std::string config =
      "phyint a1 enable\nphyint a2 enable\nphyint b2 enable\n"
      "mroute from a1 source 10.0.0.1 group 225.1.1.1 to a2 b2\n";
  REQUIRE(r.load(config).empty());
  r.kernel.calls.clear();

  r.links = {{"a1", 2}, {"b2", 3}};
  REQUIRE(r.load(config).empty());
  CHECK(r.kernel.calls == Calls{
                              "del_vif ipv4 1 a2",
                              "del_vif ipv6 1 a2",
                              "add_vif ipv4 2 b2 ifindex=3 ttl=1",
                              "add_vif ipv6 2 b2 ifindex=3 ttl=1",
                              "add_mfc 10.0.0.1,225.1.1.1 iif=a1 oifs=b2",
                          });
  r.check_settled(config);
}

TEST_CASE("an entry whose only OIF vanishes stays as a stop filter") {
  Router r{{}, {}, {{"a1", 2}, {"a2", 3}}};
  const std::string config = "mroute from a1 source 10.0.0.1 group 225.1.1.1 to a2\n";
  REQUIRE(r.load(config).empty());
  r.kernel.calls.clear();

  r.kernel.device_gone("a2");
  r.links = {{"a1", 2}};
  REQUIRE(r.load(config).empty());
  CHECK(r.kernel.calls == Calls{
                              "add_mfc 10.0.0.1,225.1.1.1 iif=a1 oifs=",
                              "del_vif ipv4 1 #1 -> EADDRNOTAVAIL",
                          });
  CHECK(r.kernel.table() ==
        Calls{"mfc 10.0.0.1,225.1.1.1 iif=a1 oifs=", "vif ipv4 0 a1 ifindex=2 ttl=1"});
  r.check_settled(config);
}

TEST_CASE("the (S,G) moves to the standby route in one in-place add") {
  Router r{{}, {}, {{"a1", 2}, {"a2", 3}, {"a3", 4}}};
  const std::string config =
      "mroute from a1 source 10.0.0.1 group 225.1.1.1 to a3\n"
      "mroute from a2 source 10.0.0.1 group 225.1.1.1 to a3\n";
  REQUIRE(r.load(config).empty());
  r.kernel.calls.clear();

  r.kernel.device_gone("a1");
  r.links = {{"a2", 3}, {"a3", 4}};
  REQUIRE(r.load(config).empty());
  CHECK(r.kernel.calls == Calls{
                              "add_mfc 10.0.0.1,225.1.1.1 iif=a2 oifs=a3",
                              "del_vif ipv4 0 #0 -> EADDRNOTAVAIL",
                          });
  r.check_settled(config);
}

TEST_CASE("IPv6 entries go through MIFs") {
  Router r{{}, {}, {{"a1", 2}, {"a2", 3}}};
  const std::string config = "mroute from a1 source 2001:db8::1 group ff05::1:2 to a2\n";
  REQUIRE(r.load(config).empty());
  CHECK(r.kernel.calls == Calls{
                              "add_vif ipv6 0 a1 ifindex=2 ttl=1",
                              "add_vif ipv6 1 a2 ifindex=3 ttl=1",
                              "add_mfc 2001:db8::1,ff05::1:2 iif=a1 oifs=a2",
                          });
  r.check_settled(config);
}

TEST_CASE("a full VIF table fails the routes that need a VIF, and only those") {
  Router r;
  std::string config;
  for (int i = 0; i <= 33; ++i)
    r.links.push_back(Link{"a" + std::to_string(i), 100 + i});
  for (int i = 1; i <= 33; ++i) {
    config += "mroute from a0 source 10.0.0." + std::to_string(i) + " group 225.1.1.1 to a" +
              std::to_string(i) + "\n";
  }
  const auto failures = r.load(config);
  REQUIRE(failures.size() == 4);
  CHECK(failures[0].what == "add_vif a32 (ipv4)");
  CHECK(failures[0].error.code == Errc::vif_table_full);
  CHECK(failures[0].error.message == "no free VIF for a32: all 32 ipv4 VIFs are in use");
  CHECK(failures[0].ifname == "a32");
  CHECK_FALSE(failures[0].route.has_value());
  CHECK(failures[1].what == "add_vif a33 (ipv4)");

  int route_failures = 0;
  for (size_t i = 2; i < failures.size(); ++i) {
    const Failure& f = failures[i];
    CHECK(f.error.code == Errc::vif_table_full);
    REQUIRE(f.route.has_value());
    if (f.ifname == "a32") {
      CHECK(f.what == "add_mfc (10.0.0.32, 225.1.1.1)");
      CHECK(f.error.message ==
            "route a0 (10.0.0.32, 225.1.1.1) not installed: no free VIF for a32: all 32 ipv4 "
            "VIFs are in use");
      ++route_failures;
    }
  }
  CHECK(route_failures == 1);
  CHECK(r.kernel.mfc_count() == 31);
  CHECK(r.installed.mfc.size() == 31);
  CHECK(r.installed.vif_count(Family::v4) == 32);
  CHECK(r.kernel.table() == state_lines(r.installed));

  // IPv6 has its own table of 32 MIFs.
  Router v6;
  v6.links = r.links;
  const auto mif = v6.load(
      "phyint a0 enable\n"
      "mroute from a1 source 2001:db8::1 group ff05::1 to a2\n");
  CHECK(mif.empty());
}

TEST_CASE("MIF table full says MIF") {
  Router r;
  std::string config;
  for (int i = 0; i <= 32; ++i)
    r.links.push_back(Link{"a" + std::to_string(i), 100 + i});
  for (int i = 1; i <= 32; ++i) {
    config += "mroute from a0 source 2001:db8::" + std::to_string(i) + " group ff05::1 to a" +
              std::to_string(i) + "\n";
  }
  const auto failures = r.load(config);
  REQUIRE(failures.size() == 2);
  CHECK(failures[0].error.message == "no free MIF for a32: all 32 ipv6 MIFs are in use");
  CHECK(failures[1].what == "add_mfc (2001:db8::32, ff05::1)");
  CHECK(r.installed.mfc.size() == 31);
}

TEST_CASE("a refused entry is reported, the others are installed, a re-plan retries it") {
  Router r{{}, {}, {{"a1", 2}, {"a2", 3}}};
  const std::string config =
      "mroute from a1 source 10.0.0.1 group 225.1.1.1 to a2\n"
      "mroute from a1 source 10.0.0.2 group 225.1.1.1 to a2\n"
      "mroute from a1 source 10.0.0.3 group 225.1.1.1 to a2\n";
  r.kernel.fail("add_mfc 10.0.0.2,", ENOBUFS);
  const auto failures = r.load(config);
  REQUIRE(failures.size() == 1);
  CHECK(failures[0].what == "add_mfc (10.0.0.2, 225.1.1.1)");
  CHECK(failures[0].error.code == Errc::kernel);
  CHECK(failures[0].error.sys_errno == ENOBUFS);
  REQUIRE(failures[0].route.has_value());
  CHECK(failures[0].route->str() == "a1 (10.0.0.2, 225.1.1.1)");
  CHECK(r.kernel.calls == Calls{
                              "add_vif ipv4 0 a1 ifindex=2 ttl=1",
                              "add_vif ipv4 1 a2 ifindex=3 ttl=1",
                              "add_mfc 10.0.0.1,225.1.1.1 iif=a1 oifs=a2",
                              "add_mfc 10.0.0.2,225.1.1.1 iif=a1 oifs=a2 -> ENOBUFS",
                              "add_mfc 10.0.0.3,225.1.1.1 iif=a1 oifs=a2",
                          });
  CHECK(r.kernel.table() == state_lines(r.installed));
  r.kernel.calls.clear();

  CHECK(r.load(config).empty());
  CHECK(r.kernel.calls == Calls{"add_mfc 10.0.0.2,225.1.1.1 iif=a1 oifs=a2"});
  r.check_settled(config);
}

TEST_CASE("a refused VIF skips the entries that need it") {
  Router r{{}, {}, {{"a1", 2}, {"a2", 3}, {"a3", 4}}};
  const std::string config =
      "mroute from a1 source 10.0.0.1 group 225.1.1.1 to a2\n"
      "mroute from a1 source 10.0.0.2 group 225.1.1.1 to a3\n";
  r.kernel.fail("add_vif ipv4 2 a3", EPERM);
  const auto failures = r.load(config);
  REQUIRE(failures.size() == 2);
  CHECK(failures[0].what == "add_vif a3 (ipv4)");
  CHECK(failures[0].error.sys_errno == EPERM);
  CHECK(failures[1].what == "add_mfc (10.0.0.2, 225.1.1.1)");
  CHECK(failures[1].error.sys_errno == EPERM);
  CHECK(failures[1].error.message ==
        "route a1 (10.0.0.2, 225.1.1.1) not installed: add_vif: Operation not permitted");
  CHECK(r.kernel.calls == Calls{
                              "add_vif ipv4 0 a1 ifindex=2 ttl=1",
                              "add_vif ipv4 1 a2 ifindex=3 ttl=1",
                              "add_vif ipv4 2 a3 ifindex=4 ttl=1 -> EPERM",
                              "add_mfc 10.0.0.1,225.1.1.1 iif=a1 oifs=a2",
                          });
  CHECK(r.kernel.table() == state_lines(r.installed));
  r.kernel.calls.clear();

  CHECK(r.load(config).empty());
  CHECK(r.kernel.calls == Calls{
                              "add_vif ipv4 2 a3 ifindex=4 ttl=1",
                              "add_mfc 10.0.0.2,225.1.1.1 iif=a1 oifs=a3",
                          });
  r.check_settled(config);
}

TEST_CASE("a refused delete keeps the entry on record until it goes") {
  Router r{{}, {}, {{"a1", 2}, {"a2", 3}}};
  const std::string two =
      "mroute from a1 source 10.0.0.1 group 225.1.1.1 to a2\n"
      "mroute from a1 source 10.0.0.2 group 225.1.1.1 to a2\n";
  const std::string one = "mroute from a1 source 10.0.0.1 group 225.1.1.1 to a2\n";
  REQUIRE(r.load(two).empty());
  r.kernel.fail("del_mfc", EINVAL);
  const auto failures = r.load(one);
  REQUIRE(failures.size() == 1);
  CHECK(failures[0].what == "del_mfc (10.0.0.2, 225.1.1.1)");
  CHECK(r.installed.mfc.size() == 2);
  CHECK(r.kernel.table() == state_lines(r.installed));
  r.kernel.calls.clear();
  CHECK(r.load(one).empty());
  CHECK(r.kernel.calls == Calls{"del_mfc 10.0.0.2,225.1.1.1"});
  r.check_settled(one);
}

TEST_CASE("teardown is one release of everything, and Installed is empty after it") {
  Router r{{}, {}, {{"a1", 2}, {"a2", 3}}};
  REQUIRE(r.load("phyint a1 enable\n"
                 "mroute from a1 source 10.0.0.2 group 225.1.1.1 to a2\n"
                 "mroute from a1 source 10.0.0.1 group 225.1.1.1 to a2\n")
              .empty());
  r.kernel.calls.clear();
  CHECK(apply(r.kernel, r.installed, release_plan()).empty());
  CHECK(r.kernel.calls == Calls{"release_all"});
  CHECK(r.kernel.table().empty());
  CHECK(r.installed.mfc.empty());
  CHECK(r.installed.vif_count(Family::v4) == 0);
  CHECK(r.installed.vif_count(Family::v6) == 0);
}

TEST_CASE("ops print readably") {
  Op op{};
  op.kind = Op::Kind::add_mfc;
  op.mfc.key = SgKey{*Addr::parse("10.0.0.1"), *Addr::parse("225.1.1.1")};
  op.mfc.iif = 3;
  op.mfc.ttls[1] = 1;
  op.mfc.ttls[4] = 2;
  CHECK(op.str() == "add_mfc 10.0.0.1,225.1.1.1 iif=#3 oifs=#1,#4:2");
  auto names = std::make_shared<VifNames>();
  (*names)[3] = "a1";
  (*names)[1] = "a2";
  (*names)[4] = "a5";
  op.names = names;
  CHECK(op.iif_name() == "a1");
  op.dynamic = true;
  CHECK(op.str() == "add_mfc 10.0.0.1,225.1.1.1 iif=a1 oifs=a2,a5:2 dynamic");
  op.kind = Op::Kind::del_mfc;
  CHECK(op.str() == "del_mfc 10.0.0.1,225.1.1.1");
  op.kind = Op::Kind::del_vif;
  op.vif = VifConf{Family::v6, 7, 12, 1, "eth0"};
  CHECK(op.str() == "del_vif ipv6 7 eth0");
}

TEST_CASE("100,000 routes plan and apply quickly, and re-plan to nothing") {
  using Steady = std::chrono::steady_clock;
  constexpr int kRoutes = test::scaled(100000);
  const Links links{{"a1", 2}, {"a2", 3}, {"a3", 4}, {"a4", 5}};
  Intent intent;
  for (int i = 0; i < kRoutes; ++i) {
    const Addr source = Addr::v4(0x0a000000U + static_cast<uint32_t>(i));  // 10.x.y.z
    const Addr group = Addr::v4(0xe1010101U + static_cast<uint32_t>(i % 7));
    const std::vector<std::string> oifs =
        i % 2 ? std::vector<std::string>{"a2", "a3"} : std::vector<std::string>{"a4"};
    intent.add_route(
        RouteRequest{RouteKey{"a1", Prefix::host(source), Prefix::host(group)}, oifs, "bench"});
  }
  FakeKernel kernel;
  kernel.record = false;
  Installed installed;

  const auto t0 = Steady::now();
  const Desired want = compute_desired(intent, links);
  const auto t1 = Steady::now();
  const Plan plan = make_plan(installed, want);
  const auto t2 = Steady::now();
  const auto failures = apply(kernel, installed, plan);
  const auto t3 = Steady::now();
  const Plan again = make_plan(installed, want);
  const auto t4 = Steady::now();

  CHECK(failures.empty());
  CHECK(plan.ops.size() == kRoutes + 4);
  CHECK(kernel.mfc_count() == kRoutes);
  CHECK(again.empty());

  // One route changes: one op, found without rebuilding anything else.
  intent.add_route(RouteRequest{
      RouteKey{"a1", Prefix::host(Addr::v4(0x0a000005U)), Prefix::host(Addr::v4(0xe1010106U))},
      {"a4"},
      "bench"});
  const auto t5 = Steady::now();
  const Plan one = make_plan(installed, compute_desired(intent, links));
  const auto t6 = Steady::now();
  REQUIRE(one.ops.size() == 1);
  CHECK(one.ops[0].str() == "add_mfc 10.0.0.5,225.1.1.6 iif=a1 oifs=a4,a2,a3");

  auto ms = [](auto d) { return std::chrono::duration<double, std::milli>(d).count(); };
  MESSAGE(kRoutes << " routes: desired " << ms(t1 - t0) << " ms, plan " << ms(t2 - t1)
                  << " ms, apply " << ms(t3 - t2) << " ms, re-plan " << ms(t4 - t3)
                  << " ms, one change (desired+plan) " << ms(t6 - t5) << " ms");
}

}  // namespace mfcd::core
