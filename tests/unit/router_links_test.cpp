// Link events through the Router: interfaces that appear, go, come back
// with a new ifindex, or only go up and down, and the whole list again
// after a netlink overrun. Each case states what the kernel must see, call
// by call: a link event rewrites only what that link changes.
#include <doctest/doctest.h>

#include <algorithm>
#include <cerrno>
#include <string>
#include <vector>

#include "router_fixture.hpp"

namespace mfcd::test {
namespace {

// a1 and a2 exist from the start; a3 comes later. One route waits for a3
// as an outbound interface, the other as its inbound one.
const core::Links kLinks = {{"a1", 2, true, true, false}, {"a2", 3, true, true, false}};

const std::string kConfig =
    "phyint a1 enable mrdisc\nphyint a2 enable\n"
    "mroute from a1 source 10.0.0.1 group 225.1.1.1 to a2 a3\n"
    "mroute from a3 source 10.0.0.2 group 225.1.1.2 to a1\n"
    "mroute from a2 source 10.0.0.3 group 225.1.1.3 to a1\n";

const std::vector<std::string> kTableWithoutA3 = {
    "mfc 10.0.0.1,225.1.1.1 iif=a1 oifs=a2", "mfc 10.0.0.3,225.1.1.3 iif=a2 oifs=a1",
    "vif ipv4 0 a1 ifindex=2 ttl=1",         "vif ipv4 1 a2 ifindex=3 ttl=1",
    "vif ipv6 0 a1 ifindex=2 ttl=1",         "vif ipv6 1 a2 ifindex=3 ttl=1",
};

const std::vector<std::string> kTableWithA3 = {
    "mfc 10.0.0.1,225.1.1.1 iif=a1 oifs=a2,a3",
    "mfc 10.0.0.2,225.1.1.2 iif=a3 oifs=a1",
    "mfc 10.0.0.3,225.1.1.3 iif=a2 oifs=a1",
    "vif ipv4 0 a1 ifindex=2 ttl=1",
    "vif ipv4 1 a2 ifindex=3 ttl=1",
    "vif ipv4 2 a3 ifindex=4 ttl=1",
    "vif ipv6 0 a1 ifindex=2 ttl=1",
    "vif ipv6 1 a2 ifindex=3 ttl=1",
};

struct Links : RouterFixture {
  explicit Links(const std::string& config = kConfig, core::Links l = kLinks)
      : RouterFixture(std::move(l)) {
    start(config);
    kernel.calls.clear();
    listener.events.clear();
  }

  // One link event for a link the router knows, changed by `edit`.
  template <typename Edit>
  void link_changed(const std::string& name, Edit edit) {
    for (auto& l : links) {
      if (l.name != name) continue;
      edit(l);
      router.on_link_events({core::LinkEvent{core::LinkEvent::Kind::added_or_changed, l}});
      return;
    }
    FAIL("no link " << name);
  }
};

core::RouteKey key_of(const std::string& iif, const std::string& source, const std::string& group) {
  return route_request(iif, source, group, {}).key;
}

std::string state_of(const router::Router& r, const core::RouteKey& key) {
  const auto* st = r.route_status(key);
  return st ? std::string(core::route_state_name(st->state)) : "none";
}

}  // namespace

TEST_CASE("router: routes wait for a missing interface as pending, or without that OIF") {
  Links f;
  CHECK(f.kernel.table() == kTableWithoutA3);
  CHECK(state_of(f.router, key_of("a3", "10.0.0.2", "225.1.1.2")) == "pending");
  const auto* st = f.router.route_status(key_of("a1", "10.0.0.1", "225.1.1.1"));
  REQUIRE(st);
  CHECK(st->state == core::RouteState::installed);
  CHECK(st->missing_oifs == std::vector<std::string>{"a3"});
  f.check_consistent();
}

TEST_CASE("router: an interface that appears gets its VIF, then its routes' entries") {
  Links f;
  f.link_added("a3", 4);
  CHECK(f.kernel.calls == Calls{
                              "add_vif ipv4 2 a3 ifindex=4 ttl=1",
                              "add_mfc 10.0.0.1,225.1.1.1 iif=a1 oifs=a2,a3",
                              "add_mfc 10.0.0.2,225.1.1.2 iif=a3 oifs=a1",
                          });
  CHECK(f.kernel.table() == kTableWithA3);
  CHECK(state_of(f.router, key_of("a3", "10.0.0.2", "225.1.1.2")) == "installed");
  CHECK(f.router.route_status(key_of("a1", "10.0.0.1", "225.1.1.1"))->missing_oifs.empty());
  // Router discovery is told the links again.
  CHECK(f.listener.events == Calls{"mrdisc a1"});
  f.check_consistent();
}

TEST_CASE("router: an interface that goes takes its VIF along; its routes wait again") {
  Links f;
  f.link_added("a3", 4);
  f.kernel.calls.clear();

  f.link_removed("a3");
  // The kernel dropped the VIF itself: mfcd deletes no VIF, only fixes the
  // entries that named it.
  CHECK(f.kernel.calls == Calls{
                              "add_mfc 10.0.0.1,225.1.1.1 iif=a1 oifs=a2",
                              "del_mfc 10.0.0.2,225.1.1.2",
                          });
  CHECK(f.kernel.table() == kTableWithoutA3);
  CHECK(state_of(f.router, key_of("a3", "10.0.0.2", "225.1.1.2")) == "pending");
  CHECK(f.router.installed().vif_of(core::Family::v4, "a3") == std::nullopt);
  f.check_consistent();

  // The freed VIF number goes to the next interface that needs one.
  f.kernel.calls.clear();
  f.link_added("b1", 9);
  CHECK(f.kernel.calls == Calls{});  // no route names b1
  REQUIRE(f.router.add_route(route_request("a1", "10.0.0.7", "225.1.1.7", {"b1"})).index() == 0);
  CHECK(f.kernel.calls == Calls{
                              "add_vif ipv4 2 b1 ifindex=9 ttl=1",
                              "add_mfc 10.0.0.7,225.1.1.7 iif=a1 oifs=b1",
                          });
  f.check_consistent();
}

TEST_CASE("router: a route whose interface is deleted says which one it waits for") {
  // The case: `ip link del` of a route's only OIF, then of an
  // inbound interface. Before, the reason was empty (null in JSON).
  Links f;
  f.link_removed("a2");
  const auto* out = f.router.route_status(key_of("a1", "10.0.0.1", "225.1.1.1"));
  REQUIRE(out);
  CHECK(out->state == core::RouteState::installed);
  CHECK(out->missing_oifs == std::vector<std::string>{"a2", "a3"});
  CHECK(out->reason == "outbound interfaces a2, a3 do not exist");
  const auto* in = f.router.route_status(key_of("a2", "10.0.0.3", "225.1.1.3"));
  REQUIRE(in);
  CHECK(in->state == core::RouteState::pending);
  CHECK(in->reason == "inbound interface a2 does not exist");

  // It comes back: nothing left to explain for the outbound side.
  f.link_added("a2", 13);
  CHECK(f.router.route_status(key_of("a1", "10.0.0.1", "225.1.1.1"))->reason ==
        "outbound interface a3 does not exist");
  CHECK(f.router.route_status(key_of("a2", "10.0.0.3", "225.1.1.3"))->reason.empty());
  f.check_consistent();
}

TEST_CASE("router: an interface re-created with a new ifindex gets its VIF again") {
  Links f;
  f.link_added("a3", 4);
  f.link_removed("a3");
  f.kernel.calls.clear();

  f.link_added("a3", 14);
  CHECK(f.kernel.calls == Calls{
                              "add_vif ipv4 2 a3 ifindex=14 ttl=1",
                              "add_mfc 10.0.0.1,225.1.1.1 iif=a1 oifs=a2,a3",
                              "add_mfc 10.0.0.2,225.1.1.2 iif=a3 oifs=a1",
                          });
  CHECK(f.router.installed().vifs[0][2]->ifindex == 14);
  f.check_consistent();
}

// Deleted and re-created between two reads of the netlink socket: both
// events come in one batch, and the plan sees the same routes before and
// after. The kernel kept the old VIF's TTLs in the entries when the device
// went (docs/kernel.md), so the VIF added again at the same index is all it
// takes for the entries to forward to the new device: nothing else may be
// written, and the kernel must forward exactly as before. (Found by
// tests/fuzz/fuzz_netlink against a fake that cleared those TTLs.)
TEST_CASE("router: an interface deleted and re-created in one batch of events is an OIF again") {
  Links f;
  f.link_added("a3", 4);
  const auto before = f.kernel.table();
  f.kernel.calls.clear();

  f.kernel.device_gone("a3");
  f.links.back().ifindex = 14;
  f.router.on_link_events(
      {core::LinkEvent{core::LinkEvent::Kind::removed, {"a3", 4, true, true, false}},
       core::LinkEvent{core::LinkEvent::Kind::added_or_changed, {"a3", 14, true, true, false}}});
  CHECK(f.kernel.calls == Calls{"add_vif ipv4 2 a3 ifindex=14 ttl=1"});
  auto expected = before;
  for (auto& line : expected)
    if (line == "vif ipv4 2 a3 ifindex=4 ttl=1") line = "vif ipv4 2 a3 ifindex=14 ttl=1";
  CHECK(f.kernel.table() == expected);
  f.check_consistent();
}

// Deleted, and another interface added, in one batch: the entries still
// name the deleted VIF's number with a TTL, and the rewrites come after the
// VIF adds in a plan, so the new interface must not take that number (it
// would get the old interface's traffic meanwhile).
TEST_CASE("router: a new interface does not take the number of one deleted in the same batch") {
  Links f(kConfig + "mroute from a1 source 10.0.0.4 group 225.1.1.4 to a4\n");
  f.link_added("a3", 4);
  f.kernel.calls.clear();

  f.kernel.device_gone("a3");
  f.links.pop_back();
  f.links.push_back({"a4", 5, true, true, false});
  f.router.on_link_events(
      {core::LinkEvent{core::LinkEvent::Kind::removed, {"a3", 4, true, true, false}},
       core::LinkEvent{core::LinkEvent::Kind::added_or_changed, {"a4", 5, true, true, false}}});
  const auto& calls = f.kernel.calls;
  CHECK(std::count(calls.begin(), calls.end(), "add_vif ipv4 3 a4 ifindex=5 ttl=1") == 1);
  CHECK(std::none_of(calls.begin(), calls.end(),
                     [](const std::string& c) { return c.starts_with("add_vif ipv4 2 "); }));
  f.check_consistent();
}

TEST_CASE("router: a link that only goes down or up writes nothing") {
  Links f;
  f.link_added("a3", 4);
  f.kernel.calls.clear();
  f.listener.events.clear();

  f.link_changed("a2", [](core::Link& l) { l.up = false; });
  CHECK(f.kernel.calls == Calls{});
  CHECK(f.listener.events == Calls{"mrdisc a1"});
  f.link_changed("a2", [](core::Link& l) { l.up = true; });
  CHECK(f.kernel.calls == Calls{});
  CHECK(f.kernel.table() == kTableWithA3);
  // The router still knows the link as it is now.
  CHECK(f.router.model().links == f.links);
  f.check_consistent();
}

TEST_CASE("router: an event that changes nothing about a link does nothing at all") {
  Links f;
  f.link_changed("a2", [](core::Link&) {});
  CHECK(f.kernel.calls == Calls{});
  CHECK(f.listener.events == Calls{});
}

TEST_CASE("router: a link's other flags changing decides again but rewrites no entry") {
  Links f;
  f.link_changed("a2", [](core::Link& l) { l.multicast = false; });
  CHECK(f.kernel.calls == Calls{});
  CHECK(f.kernel.table() == kTableWithoutA3);
  f.check_consistent();
}

TEST_CASE("router: a new link a wildcard phyint covers gets its VIFs and touches no entry") {
  Links f("phyint a+ enable\nmroute from a1 source 10.0.0.1 group 225.1.1.1 to a+\n");
  CHECK(f.kernel.table() == std::vector<std::string>{
                                "mfc 10.0.0.1,225.1.1.1 iif=a1 oifs=a2",
                                "vif ipv4 0 a1 ifindex=2 ttl=1",
                                "vif ipv4 1 a2 ifindex=3 ttl=1",
                                "vif ipv6 0 a1 ifindex=2 ttl=1",
                                "vif ipv6 1 a2 ifindex=3 ttl=1",
                            });
  f.link_added("b1", 8);  // not covered: nothing
  CHECK(f.kernel.calls == Calls{});
  f.link_added("a4", 9);
  CHECK(f.kernel.calls == Calls{
                              "add_vif ipv4 2 a4 ifindex=9 ttl=1",
                              "add_vif ipv6 2 a4 ifindex=9 ttl=1",
                              "add_mfc 10.0.0.1,225.1.1.1 iif=a1 oifs=a2,a4",
                          });
  f.check_consistent();
}

TEST_CASE("router: a renamed interface keeps its VIF only if its new name is wanted") {
  Links f;
  f.link_changed("a2", [](core::Link& l) { l.name = "b2"; });
  // a2 is gone as far as the config knows: its entries change, its VIFs go.
  CHECK(f.kernel.calls == Calls{
                              "add_mfc 10.0.0.1,225.1.1.1 iif=a1 oifs=",
                              "del_mfc 10.0.0.3,225.1.1.3",
                              "del_vif ipv4 1 a2",
                              "del_vif ipv6 1 a2",
                          });
  CHECK(state_of(f.router, key_of("a2", "10.0.0.3", "225.1.1.3")) == "pending");
  f.check_consistent();
}

TEST_CASE("router: after an overrun, the whole link list replaces the old one") {
  Links f;
  f.link_added("a3", 4);
  f.kernel.calls.clear();

  SUBCASE("the same list changes nothing") {
    f.router.replace_links(f.links);
    CHECK(f.kernel.calls == Calls{});
    CHECK(f.kernel.table() == kTableWithA3);
  }
  SUBCASE("a link missed while gone: its VIF is forgotten and its routes wait") {
    f.kernel.device_gone("a3");
    f.links.pop_back();
    f.router.replace_links(f.links);
    CHECK(f.kernel.calls == Calls{
                                "add_mfc 10.0.0.1,225.1.1.1 iif=a1 oifs=a2",
                                "del_mfc 10.0.0.2,225.1.1.2",
                            });
    CHECK(f.kernel.table() == kTableWithoutA3);
  }
  SUBCASE("a link missed while it appeared") {
    f.links.push_back({"a4", 5, true, true, false});
    f.router.replace_links(f.links);
    CHECK(f.kernel.calls == Calls{});
    REQUIRE(f.router.add_route(route_request("a4", "10.0.0.4", "225.1.1.4", {"a1"})).index() == 0);
    CHECK(f.kernel.calls == Calls{
                                "add_vif ipv4 3 a4 ifindex=5 ttl=1",
                                "add_mfc 10.0.0.4,225.1.1.4 iif=a4 oifs=a1",
                            });
  }
  CHECK(f.router.model().links == f.links);
  f.check_consistent();
}

TEST_CASE("router: a VIF refused while its link appears leaves the routes pending, tried again") {
  for (int err : {ENOBUFS, EEXIST, ENOENT, EPERM, ENFILE}) {
    CAPTURE(errno_name(err));
    Links f;
    f.kernel.fail("add_vif ipv4 2 a3", err);
    f.link_added("a3", 4);
    // The entries that need a3 are not sent; the one that can do without
    // a3 waits for it too, unchanged.
    CHECK(f.kernel.calls == Calls{"add_vif ipv4 2 a3 ifindex=4 ttl=1 -> " + errno_name(err)});
    CHECK(f.kernel.table() == kTableWithoutA3);
    const auto* st = f.router.route_status(key_of("a3", "10.0.0.2", "225.1.1.2"));
    REQUIRE(st);
    CHECK(st->state == core::RouteState::pending);
    CHECK(st->reason.find(std::strerror(err)) != std::string::npos);
    f.check_consistent();

    // Up and down decide nothing, so they retry nothing.
    f.kernel.calls.clear();
    f.link_changed("a3", [](core::Link& l) { l.up = false; });
    CHECK(f.kernel.calls == Calls{});

    // The next full sync does.
    f.link_added("b1", 9);
    CHECK(f.kernel.calls == Calls{
                                "add_vif ipv4 2 a3 ifindex=4 ttl=1",
                                "add_mfc 10.0.0.1,225.1.1.1 iif=a1 oifs=a2,a3",
                                "add_mfc 10.0.0.2,225.1.1.2 iif=a3 oifs=a1",
                            });
    CHECK(f.kernel.table() == kTableWithA3);
    f.check_consistent();
  }
}

TEST_CASE("router: an entry refused while its link appears is pending with the kernel's reason") {
  Links f;
  f.kernel.fail("add_mfc 10.0.0.2,225.1.1.2", ENOBUFS);
  f.link_added("a3", 4);
  CHECK(f.kernel.calls == Calls{
                              "add_vif ipv4 2 a3 ifindex=4 ttl=1",
                              "add_mfc 10.0.0.1,225.1.1.1 iif=a1 oifs=a2,a3",
                              "add_mfc 10.0.0.2,225.1.1.2 iif=a3 oifs=a1 -> ENOBUFS",
                          });
  const auto* st = f.router.route_status(key_of("a3", "10.0.0.2", "225.1.1.2"));
  REQUIRE(st);
  CHECK(st->state == core::RouteState::pending);
  CHECK(st->reason == "add_mfc: No buffer space available");
  f.check_consistent();

  // A reload of the same file tries again.
  f.kernel.calls.clear();
  f.reload(kConfig);
  CHECK(f.kernel.calls == Calls{"add_mfc 10.0.0.2,225.1.1.2 iif=a3 oifs=a1"});
  CHECK(state_of(f.router, key_of("a3", "10.0.0.2", "225.1.1.2")) == "installed");
  CHECK(f.kernel.table() == kTableWithA3);
  f.check_consistent();
}

TEST_CASE("router: a learned entry goes with the link it came in on") {
  Links f(kConfig + "mroute from a2 group 225.9.9.9 to a1\n");
  f.upcall(core::UpcallType::nocache, 1, "10.9.9.9", "225.9.9.9");
  REQUIRE(f.kernel.calls == Calls{"add_mfc 10.9.9.9,225.9.9.9 iif=a2 oifs=a1"});
  f.kernel.calls.clear();

  f.kernel.device_gone("a2");
  f.links.erase(f.links.begin() + 1);
  f.router.on_link_events(
      {core::LinkEvent{core::LinkEvent::Kind::removed, {"a2", 3, true, true, false}}});
  CHECK(f.kernel.calls == Calls{
                              "add_mfc 10.0.0.1,225.1.1.1 iif=a1 oifs=",
                              "del_mfc 10.0.0.3,225.1.1.3",
                              "del_mfc 10.9.9.9,225.9.9.9",
                          });
  CHECK(f.router.model().dynamic.empty());
  f.check_consistent();
}

}  // namespace mfcd::test
