// route.add, route.set and route.remove through the Router, on the fake
// kernel. Each case states a rule of the API and checks the exact kernel
// calls it costs. The second half injects kernel failures at every kind of
// plan step: a refused change names the op that failed and leaves the
// intent and the kernel exactly as they were.
#include <doctest/doctest.h>

#include <cerrno>
#include <string>
#include <vector>

#include "router_fixture.hpp"

namespace mfcd::test {
namespace {

using Outcome = router::Router::RouteOutcome;

// a1 and a2 hold VIFs through their phyint lines; a3 exists without one.
const core::Links kLinks = {
    {"a1", 2, true, true, false}, {"a2", 3, true, true, false}, {"a3", 4, true, true, false}};

const std::string kConfig =
    "phyint a1 enable\nphyint a2 enable\n"
    "mroute from a1 source 10.0.0.1 group 225.1.1.1 to a2\n";

const std::vector<std::string> kTable = {
    "mfc 10.0.0.1,225.1.1.1 iif=a1 oifs=a2", "vif ipv4 0 a1 ifindex=2 ttl=1",
    "vif ipv4 1 a2 ifindex=3 ttl=1",         "vif ipv6 0 a1 ifindex=2 ttl=1",
    "vif ipv6 1 a2 ifindex=3 ttl=1",
};

// A started router with its call log and listener cleared.
struct Routes : RouterFixture {
  explicit Routes(const std::string& config = kConfig, core::Links l = kLinks)
      : RouterFixture(std::move(l)) {
    start(config);
    kernel.calls.clear();
    listener.events.clear();
  }
};

core::RouteKey key_of(const std::string& iif, const std::string& source, const std::string& group) {
  return route_request(iif, source, group, {}).key;
}

// Both return copies: the outcome is usually a temporary.
core::RouteIntent accepted(const Outcome& out) {
  REQUIRE(std::holds_alternative<std::optional<core::RouteIntent>>(out));
  const auto route = std::get<std::optional<core::RouteIntent>>(out);
  REQUIRE(route.has_value());
  return *route;
}

bool removed(const Outcome& out) {
  return std::holds_alternative<std::optional<core::RouteIntent>>(out) &&
         !std::get<std::optional<core::RouteIntent>>(out).has_value();
}

router::Refusal refused(const Outcome& out) {
  REQUIRE(std::holds_alternative<router::Refusal>(out));
  return std::get<router::Refusal>(out);
}

// Every route of the intent with its creation number and each owner's OIFs.
std::vector<std::string> intent_lines(const router::Router& r) {
  std::vector<std::string> lines;
  for (const auto* route : r.model().intent.routes()) {
    std::string line = route->key.str() + " #" + std::to_string(route->seq);
    for (const auto& [owner, oifs] : route->shares) {
      line += " " + owner + "=";
      for (size_t i = 0; i < oifs.size(); ++i)
        line += (i ? "," : "") + oifs[i];
    }
    lines.push_back(line);
  }
  return lines;
}

std::string state_of(const router::Router& r, const core::RouteKey& key) {
  const auto* st = r.route_status(key);
  return st ? std::string(core::route_state_name(st->state)) : "none";
}

// The failure injected, as the fake kernel writes it after a refused call.
std::string with_errno(const std::string& call, int err) {
  return call + " -> " + errno_name(err);
}

const int kErrnos[] = {ENOBUFS, EEXIST, ENOENT, EPERM, ENFILE};

}  // namespace

// --- accepted changes ---------------------------------------------------------

TEST_CASE("router: a route on a missing inbound interface is accepted as pending, with no call") {
  Routes f;
  const auto route =
      accepted(f.router.add_route(route_request("a9", "10.0.0.1", "225.1.2.2", {"a2"})));
  CHECK(route.oifs() == std::vector<std::string>{"a2"});
  CHECK(f.kernel.calls == Calls{});
  const auto* st = f.router.route_status(key_of("a9", "10.0.0.1", "225.1.2.2"));
  REQUIRE(st);
  CHECK(st->state == core::RouteState::pending);
  CHECK(st->reason == "inbound interface a9 does not exist");
  CHECK(f.kernel.table() == kTable);
  f.check_consistent();
}

TEST_CASE("router: a missing outbound interface is left out of the entry and listed") {
  Routes f;
  accepted(f.router.add_route(route_request("a1", "10.0.0.1", "225.1.2.2", {"a9", "a2"})));
  CHECK(f.kernel.calls == Calls{"add_mfc 10.0.0.1,225.1.2.2 iif=a1 oifs=a2"});
  const auto* st = f.router.route_status(key_of("a1", "10.0.0.1", "225.1.2.2"));
  REQUIRE(st);
  CHECK(st->state == core::RouteState::installed);
  CHECK(st->missing_oifs == std::vector<std::string>{"a9"});
  f.check_consistent();
}

TEST_CASE("router: a route naming an interface without a VIF adds the VIF first, then the entry") {
  Routes f;
  accepted(f.router.add_route(route_request("a1", "10.0.0.1", "225.1.2.2", {"a3"})));
  CHECK(f.kernel.calls == Calls{
                              "add_vif ipv4 2 a3 ifindex=4 ttl=1",
                              "add_mfc 10.0.0.1,225.1.2.2 iif=a1 oifs=a3",
                          });
  f.check_consistent();
}

TEST_CASE("router: route.add merges into the owner's OIFs; route.set makes them exactly so") {
  Routes f;
  accepted(f.router.add_route(route_request("a1", "10.0.0.1", "225.1.2.2", {"a2"})));
  f.kernel.calls.clear();

  const auto merged =
      accepted(f.router.add_route(route_request("a1", "10.0.0.1", "225.1.2.2", {"a3", "a2"})));
  CHECK(merged.shares.at("api") == std::vector<std::string>{"a2", "a3"});
  CHECK(f.kernel.calls == Calls{
                              "add_vif ipv4 2 a3 ifindex=4 ttl=1",
                              "add_mfc 10.0.0.1,225.1.2.2 iif=a1 oifs=a2,a3",
                          });
  f.kernel.calls.clear();

  const auto set =
      accepted(f.router.set_route(route_request("a1", "10.0.0.1", "225.1.2.2", {"a3"})));
  CHECK(set.shares.at("api") == std::vector<std::string>{"a3"});
  CHECK(f.kernel.calls == Calls{"add_mfc 10.0.0.1,225.1.2.2 iif=a1 oifs=a3"});
  f.kernel.calls.clear();

  // Setting the same OIFs again costs nothing.
  accepted(f.router.set_route(route_request("a1", "10.0.0.1", "225.1.2.2", {"a3"})));
  CHECK(f.kernel.calls == Calls{});

  // The last route on a3 gone from the entry: its VIF goes after the entry changed.
  accepted(f.router.set_route(route_request("a1", "10.0.0.1", "225.1.2.2", {"a2"})));
  CHECK(f.kernel.calls == Calls{
                              "add_mfc 10.0.0.1,225.1.2.2 iif=a1 oifs=a2",
                              "del_vif ipv4 2 a3",
                          });
  f.check_consistent();
}

TEST_CASE("router: route.set to no OIFs keeps the route as a stop filter") {
  Routes f;
  accepted(f.router.add_route(route_request("a1", "10.0.0.1", "225.1.2.2", {"a2"})));
  f.kernel.calls.clear();
  const auto route = accepted(f.router.set_route(route_request("a1", "10.0.0.1", "225.1.2.2", {})));
  CHECK(route.oifs().empty());
  CHECK(f.kernel.calls == Calls{"add_mfc 10.0.0.1,225.1.2.2 iif=a1 oifs="});
  CHECK(state_of(f.router, route.key) == "installed");
  f.check_consistent();
}

TEST_CASE("router: owners' shares make one entry; each owner's removal takes only its share") {
  Routes f;
  accepted(f.router.add_route(route_request("a1", "10.0.0.1", "225.1.2.2", {"a2"}, "alice")));
  const auto both =
      accepted(f.router.add_route(route_request("a1", "10.0.0.1", "225.1.2.2", {"a3"}, "bob")));
  CHECK(both.api_owners() == std::vector<std::string>{"alice", "bob"});
  CHECK(both.oifs() == std::vector<std::string>{"a2", "a3"});
  f.kernel.calls.clear();

  const auto left =
      accepted(f.router.remove_route(route_request("a1", "10.0.0.1", "225.1.2.2", {}, "alice")));
  CHECK(left.api_owners() == std::vector<std::string>{"bob"});
  CHECK(f.kernel.calls == Calls{"add_mfc 10.0.0.1,225.1.2.2 iif=a1 oifs=a3"});
  f.kernel.calls.clear();

  CHECK(removed(f.router.remove_route(route_request("a1", "10.0.0.1", "225.1.2.2", {}, "bob"))));
  CHECK(f.kernel.calls == Calls{"del_mfc 10.0.0.1,225.1.2.2", "del_vif ipv4 2 a3"});
  CHECK(f.router.route_status(key_of("a1", "10.0.0.1", "225.1.2.2")) == nullptr);
  CHECK(f.kernel.table() == kTable);
  f.check_consistent();
}

TEST_CASE("router: route.remove with OIFs takes only those from the share") {
  Routes f;
  accepted(f.router.add_route(route_request("a1", "10.0.0.1", "225.1.2.2", {"a2", "a3"})));
  f.kernel.calls.clear();
  const auto route =
      accepted(f.router.remove_route(route_request("a1", "10.0.0.1", "225.1.2.2", {"a2"})));
  CHECK(route.oifs() == std::vector<std::string>{"a3"});
  CHECK(f.kernel.calls == Calls{"add_mfc 10.0.0.1,225.1.2.2 iif=a1 oifs=a3"});
  f.check_consistent();
}

TEST_CASE("router: a removal nobody can make is not_found, with no call and no change") {
  Routes f;
  accepted(f.router.add_route(route_request("a1", "10.0.0.1", "225.1.2.2", {"a2"}, "alice")));
  f.kernel.calls.clear();
  const auto before = intent_lines(f.router);

  SUBCASE("no such route") {
    const auto r = refused(f.router.remove_route(route_request("a1", "10.0.0.9", "225.1.2.2", {})));
    CHECK(r.error.code == core::Errc::not_found);
    CHECK_FALSE(r.failure.has_value());
  }
  SUBCASE("another owner's route") {
    const auto r =
        refused(f.router.remove_route(route_request("a1", "10.0.0.1", "225.1.2.2", {}, "bob")));
    CHECK(r.error.code == core::Errc::not_found);
    CHECK(r.error.message.find("alice") != std::string::npos);
  }
  SUBCASE("an OIF the owner does not have") {
    const auto r = refused(
        f.router.remove_route(route_request("a1", "10.0.0.1", "225.1.2.2", {"a3"}, "alice")));
    CHECK(r.error.code == core::Errc::not_found);
  }
  CHECK(f.kernel.calls == Calls{});
  CHECK(intent_lines(f.router) == before);
  // The refused request leaves nothing behind for the next change to write.
  accepted(f.router.add_route(route_request("a1", "10.0.0.1", "225.1.3.3", {"a2"})));
  CHECK(f.kernel.calls == Calls{"add_mfc 10.0.0.1,225.1.3.3 iif=a1 oifs=a2"});
  f.check_consistent();
}

TEST_CASE("router: removing a config route over the API lasts until the next reload") {
  Routes f;
  CHECK(removed(f.router.remove_route(route_request("a1", "10.0.0.1", "225.1.1.1", {}))));
  CHECK(f.kernel.calls == Calls{"del_mfc 10.0.0.1,225.1.1.1"});
  CHECK(f.router.model().intent.route_count() == 0);
  f.kernel.calls.clear();

  f.reload(kConfig);
  CHECK(f.kernel.calls == Calls{"add_mfc 10.0.0.1,225.1.1.1 iif=a1 oifs=a2"});
  CHECK(f.kernel.table() == kTable);
  f.check_consistent();
}

TEST_CASE("router: removing the API's share of a config route leaves the config's OIFs") {
  Routes f;
  const auto both =
      accepted(f.router.add_route(route_request("a1", "10.0.0.1", "225.1.1.1", {"a3"})));
  CHECK(both.from_config());
  CHECK(both.oifs() == std::vector<std::string>{"a2", "a3"});
  f.kernel.calls.clear();

  const auto config_only =
      accepted(f.router.remove_route(route_request("a1", "10.0.0.1", "225.1.1.1", {})));
  CHECK_FALSE(config_only.from_api());
  CHECK(f.kernel.calls == Calls{
                              "add_mfc 10.0.0.1,225.1.1.1 iif=a1 oifs=a2",
                              "del_vif ipv4 2 a3",
                          });
  CHECK(f.kernel.table() == kTable);
  f.check_consistent();
}

TEST_CASE("router: a (*,G) route is a rule: no entry, but its interfaces get VIFs") {
  Routes f;
  const auto rule = accepted(f.router.add_route(route_request("a1", "", "225.3.3.3", {"a3"})));
  CHECK(rule.key.is_asm());
  CHECK(f.kernel.calls == Calls{"add_vif ipv4 2 a3 ifindex=4 ttl=1"});
  CHECK(state_of(f.router, rule.key) == "rule");
  f.kernel.calls.clear();

  // 0.0.0.0 as the source names the same rule.
  CHECK(removed(f.router.remove_route(route_request("a1", "0.0.0.0", "225.3.3.3", {}))));
  CHECK(f.kernel.calls == Calls{"del_vif ipv4 2 a3"});
  f.check_consistent();
}

TEST_CASE("router: a second route for an (S,G) waits as standby and takes over in place") {
  Routes f;
  const auto standby =
      accepted(f.router.add_route(route_request("a2", "10.0.0.1", "225.1.1.1", {"a1"})));
  CHECK(f.kernel.calls == Calls{});
  CHECK(state_of(f.router, standby.key) == "standby");
  CHECK(state_of(f.router, key_of("a1", "10.0.0.1", "225.1.1.1")) == "installed");

  CHECK(removed(f.router.remove_route(route_request("a1", "10.0.0.1", "225.1.1.1", {}))));
  // One ADD replaces the entry: the flow never sees it missing.
  CHECK(f.kernel.calls == Calls{"add_mfc 10.0.0.1,225.1.1.1 iif=a2 oifs=a1"});
  CHECK(state_of(f.router, standby.key) == "installed");
  f.check_consistent();
}

TEST_CASE("router: an IPv6 route uses the MIFs of its own family") {
  Routes f;
  accepted(f.router.add_route(route_request("a1", "fc00::1", "ff05::1:2", {"a2", "a3"})));
  CHECK(f.kernel.calls == Calls{
                              "add_vif ipv6 2 a3 ifindex=4 ttl=1",
                              "add_mfc fc00::1,ff05::1:2 iif=a1 oifs=a2,a3",
                          });
  f.check_consistent();
}

// --- refused changes ------------------------------------------------------------

TEST_CASE("router: a refused add_vif refuses the route.add that needed it, and nothing is left") {
  for (int err : kErrnos) {
    CAPTURE(errno_name(err));
    Routes f;
    const auto intent = intent_lines(f.router);
    f.kernel.fail("add_vif ipv4 2 a3", err);
    const auto r =
        refused(f.router.add_route(route_request("a1", "10.0.0.1", "225.1.2.2", {"a2", "a3"})));
    REQUIRE(r.failure);
    CHECK(r.failure->what == "add_vif a3 (ipv4)");
    CHECK(r.failure->op == 0);
    CHECK(r.failure->ifname == "a3");
    CHECK(r.error.code == core::Errc::kernel);
    CHECK(r.error.sys_errno == err);
    CHECK(r.error.message.rfind("a3: ", 0) == 0);
    // The entry needing the VIF is never sent; the undo has nothing to do.
    CHECK(f.kernel.calls == Calls{with_errno("add_vif ipv4 2 a3 ifindex=4 ttl=1", err)});
    CHECK(intent_lines(f.router) == intent);
    CHECK(f.router.route_status(key_of("a1", "10.0.0.1", "225.1.2.2")) == nullptr);
    CHECK(f.kernel.table() == kTable);
    f.check_consistent();
  }
}

TEST_CASE("router: a refused add_mfc refuses the route.add and leaves everything as it was") {
  for (int err : kErrnos) {
    CAPTURE(errno_name(err));
    Routes f;
    const auto intent = intent_lines(f.router);
    f.kernel.fail("add_mfc 10.0.0.1,225.1.2.2", err);
    const auto r =
        refused(f.router.add_route(route_request("a1", "10.0.0.1", "225.1.2.2", {"a2"})));
    REQUIRE(r.failure);
    CHECK(r.failure->what == "add_mfc (10.0.0.1, 225.1.2.2)");
    CHECK(r.failure->op == 0);
    CHECK(r.failure->route == key_of("a1", "10.0.0.1", "225.1.2.2"));
    CHECK(r.error.sys_errno == err);
    CHECK(f.kernel.calls == Calls{with_errno("add_mfc 10.0.0.1,225.1.2.2 iif=a1 oifs=a2", err)});
    CHECK(intent_lines(f.router) == intent);
    CHECK(f.router.route_status(key_of("a1", "10.0.0.1", "225.1.2.2")) == nullptr);
    CHECK(f.kernel.table() == kTable);
    f.check_consistent();
  }
}

TEST_CASE("router: a refused add_mfc after its new VIF went in takes the VIF out again") {
  for (int err : kErrnos) {
    CAPTURE(errno_name(err));
    Routes f;
    const auto intent = intent_lines(f.router);
    f.kernel.fail("add_mfc 10.0.0.1,225.1.2.2", err);
    const auto r =
        refused(f.router.add_route(route_request("a1", "10.0.0.1", "225.1.2.2", {"a3"})));
    REQUIRE(r.failure);
    CHECK(r.failure->what == "add_mfc (10.0.0.1, 225.1.2.2)");
    CHECK(r.failure->op == 1);
    CHECK(f.kernel.calls == Calls{
                                "add_vif ipv4 2 a3 ifindex=4 ttl=1",
                                with_errno("add_mfc 10.0.0.1,225.1.2.2 iif=a1 oifs=a3", err),
                                "del_vif ipv4 2 a3",
                            });
    CHECK(intent_lines(f.router) == intent);
    CHECK(f.kernel.table() == kTable);
    f.check_consistent();
  }
}

TEST_CASE("router: a refused route.set keeps the route's old OIFs in the intent and the kernel") {
  for (int err : kErrnos) {
    CAPTURE(errno_name(err));
    Routes f;
    accepted(f.router.add_route(route_request("a1", "10.0.0.1", "225.1.2.2", {"a2"})));
    f.kernel.calls.clear();
    const auto intent = intent_lines(f.router);
    const auto table = f.kernel.table();
    f.kernel.fail("add_mfc 10.0.0.1,225.1.2.2", err);
    const auto r = refused(f.router.set_route(route_request("a1", "10.0.0.1", "225.1.2.2", {})));
    REQUIRE(r.failure);
    CHECK(r.failure->what == "add_mfc (10.0.0.1, 225.1.2.2)");
    CHECK(r.failure->op == 0);
    CHECK(f.kernel.calls == Calls{with_errno("add_mfc 10.0.0.1,225.1.2.2 iif=a1 oifs=", err)});
    CHECK(intent_lines(f.router) == intent);
    CHECK(state_of(f.router, key_of("a1", "10.0.0.1", "225.1.2.2")) == "installed");
    CHECK(f.kernel.table() == table);
    f.check_consistent();
  }
}

TEST_CASE("router: a refused del_mfc refuses the route.remove; the route and its entry stay") {
  for (int err : {ENOBUFS, EEXIST, EPERM, ENFILE}) {
    CAPTURE(errno_name(err));
    Routes f;
    accepted(f.router.add_route(route_request("a1", "10.0.0.1", "225.1.2.2", {"a2"})));
    f.kernel.calls.clear();
    const auto intent = intent_lines(f.router);
    const auto table = f.kernel.table();
    f.kernel.fail("del_mfc 10.0.0.1,225.1.2.2", err);
    const auto r = refused(f.router.remove_route(route_request("a1", "10.0.0.1", "225.1.2.2", {})));
    REQUIRE(r.failure);
    CHECK(r.failure->what == "del_mfc (10.0.0.1, 225.1.2.2)");
    CHECK(r.failure->op == 0);
    CHECK(r.error.sys_errno == err);
    CHECK(f.kernel.calls == Calls{with_errno("del_mfc 10.0.0.1,225.1.2.2", err)});
    CHECK(intent_lines(f.router) == intent);
    CHECK(state_of(f.router, key_of("a1", "10.0.0.1", "225.1.2.2")) == "installed");
    CHECK(f.kernel.table() == table);
    f.check_consistent();
  }
}

// core::apply keeps the VIFs of an entry the kernel refused to change or
// delete: the plan's late del_vif would otherwise cut the OIF out of the
// entry the kernel still holds.
TEST_CASE("router: a refused del_mfc keeps the VIF the entry uses, though the removal freed it") {
  for (int err : {ENOBUFS, EEXIST, EPERM, ENFILE}) {
    CAPTURE(errno_name(err));
    Routes f;
    accepted(f.router.add_route(route_request("a1", "10.0.0.1", "225.1.2.2", {"a3"})));
    f.kernel.calls.clear();
    const auto intent = intent_lines(f.router);
    const auto table = f.kernel.table();
    f.kernel.fail("del_mfc 10.0.0.1,225.1.2.2", err);
    const auto r = refused(f.router.remove_route(route_request("a1", "10.0.0.1", "225.1.2.2", {})));
    REQUIRE(r.failure);
    CHECK(r.failure->what == "del_mfc (10.0.0.1, 225.1.2.2)");
    CHECK(r.failure->op == 0);
    CHECK(intent_lines(f.router) == intent);
    CHECK(f.kernel.table() == table);
    f.check_consistent();
    // And the route works on: its next change is one call.
    f.kernel.calls.clear();
    accepted(f.router.set_route(route_request("a1", "10.0.0.1", "225.1.2.2", {"a2", "a3"})));
    CHECK(f.kernel.calls == Calls{"add_mfc 10.0.0.1,225.1.2.2 iif=a1 oifs=a2,a3"});
    f.check_consistent();
  }
}

TEST_CASE(
    "router: a refused route.set keeps the VIF its old OIFs use, though the change freed it") {
  for (int err : {ENOBUFS, EEXIST, EPERM, ENFILE}) {
    CAPTURE(errno_name(err));
    Routes f;
    accepted(f.router.add_route(route_request("a1", "10.0.0.1", "225.1.2.2", {"a2", "a3"})));
    f.kernel.calls.clear();
    const auto intent = intent_lines(f.router);
    const auto table = f.kernel.table();
    f.kernel.fail("add_mfc 10.0.0.1,225.1.2.2", err);
    const auto r =
        refused(f.router.set_route(route_request("a1", "10.0.0.1", "225.1.2.2", {"a2"})));
    REQUIRE(r.failure);
    CHECK(r.failure->what == "add_mfc (10.0.0.1, 225.1.2.2)");
    CHECK(r.failure->op == 0);
    CHECK(intent_lines(f.router) == intent);
    CHECK(f.kernel.table() == table);
    f.check_consistent();
  }
}

TEST_CASE("router: an entry already gone from the kernel (ENOENT) counts as removed") {
  Routes f;
  accepted(f.router.add_route(route_request("a1", "10.0.0.1", "225.1.2.2", {"a2"})));
  // Someone else deleted it behind mfcd's back.
  const core::SgKey sg{*core::Addr::parse("10.0.0.1"), *core::Addr::parse("225.1.2.2")};
  REQUIRE(f.kernel.del_mfc(sg));
  f.kernel.calls.clear();
  CHECK(removed(f.router.remove_route(route_request("a1", "10.0.0.1", "225.1.2.2", {}))));
  CHECK(f.kernel.calls == Calls{"del_mfc 10.0.0.1,225.1.2.2 -> ENOENT"});
  CHECK(f.kernel.table() == kTable);
  f.check_consistent();
}

TEST_CASE(
    "router: a refused del_vif does not refuse the removal; the VIF goes at the next full sync") {
  for (int err : kErrnos) {
    CAPTURE(errno_name(err));
    Routes f;
    accepted(f.router.add_route(route_request("a1", "10.0.0.1", "225.1.2.2", {"a3"})));
    f.kernel.calls.clear();
    f.kernel.fail("del_vif ipv4 2 a3", err);
    // The entry is gone from the kernel: that is what the caller asked.
    CHECK(removed(f.router.remove_route(route_request("a1", "10.0.0.1", "225.1.2.2", {}))));
    CHECK(f.kernel.calls == Calls{
                                "del_mfc 10.0.0.1,225.1.2.2",
                                with_errno("del_vif ipv4 2 a3", err),
                            });
    auto table = kTable;
    table.push_back("vif ipv4 2 a3 ifindex=4 ttl=1");
    std::sort(table.begin(), table.end());
    CHECK(f.kernel.table() == table);
    f.check_consistent();

    // A reload of the same file decides everything again after a failure.
    f.kernel.calls.clear();
    f.reload(kConfig);
    CHECK(f.kernel.calls == Calls{"del_vif ipv4 2 a3"});
    CHECK(f.kernel.table() == kTable);
    f.check_consistent();
  }
}

TEST_CASE("router: with every VIF in use a route needing one more is refused before any call") {
  core::Links links;
  std::string config;
  for (int i = 0; i <= core::kMaxVifs; ++i) {
    links.push_back({"e" + std::to_string(i), 10 + i, true, true, false});
    if (i < core::kMaxVifs) config += "phyint e" + std::to_string(i) + " enable\n";
  }
  Routes f(config, links);
  REQUIRE(f.router.installed().vif_count(core::Family::v4) == core::kMaxVifs);
  const auto table = f.kernel.table();

  const auto r = refused(f.router.add_route(route_request("e0", "10.0.0.1", "225.1.2.2", {"e32"})));
  REQUIRE(r.failure);
  CHECK(r.failure->what == "add_vif e32 (ipv4)");
  CHECK(r.failure->op == core::kNoOp);
  CHECK(r.error.code == core::Errc::vif_table_full);
  CHECK(f.kernel.calls == Calls{});
  CHECK(f.router.model().intent.route_count() == 0);
  CHECK(f.kernel.table() == table);
  f.check_consistent();

  // Routes on the interfaces that have VIFs still go in.
  accepted(f.router.add_route(route_request("e0", "10.0.0.1", "225.1.2.2", {"e31"})));
  CHECK(f.kernel.calls == Calls{"add_mfc 10.0.0.1,225.1.2.2 iif=e0 oifs=e31"});
  f.check_consistent();
}

TEST_CASE("router: another route's failure, retried by a full sync, does not refuse this one") {
  RouterFixture f(kLinks);
  // The config's entry is refused at start-up and at every try after.
  f.kernel.fail("add_mfc 10.0.0.1,225.1.1.1", EPERM, -1);
  f.start(kConfig);
  REQUIRE(state_of(f.router, key_of("a1", "10.0.0.1", "225.1.1.1")) == "pending");
  f.kernel.calls.clear();

  // A new VIF takes this route.add down the full path, which tries the
  // other route again.
  accepted(f.router.add_route(route_request("a1", "10.0.0.2", "225.1.2.2", {"a3"})));
  CHECK(f.kernel.calls == Calls{
                              "add_vif ipv4 2 a3 ifindex=4 ttl=1",
                              "add_mfc 10.0.0.1,225.1.1.1 iif=a1 oifs=a2 -> EPERM",
                              "add_mfc 10.0.0.2,225.1.2.2 iif=a1 oifs=a3",
                          });
  CHECK(state_of(f.router, key_of("a1", "10.0.0.2", "225.1.2.2")) == "installed");
  const auto* st = f.router.route_status(key_of("a1", "10.0.0.1", "225.1.1.1"));
  REQUIRE(st);
  CHECK(st->state == core::RouteState::pending);
  CHECK(st->reason.find("Operation not permitted") != std::string::npos);
  f.check_consistent();
}

}  // namespace mfcd::test
