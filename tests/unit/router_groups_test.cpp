// Group joins through the Router: the config's, the API's with their
// owners, on interfaces that come and go, ranges and their limit,
// source-specific joins, memberships the kernel refuses, and teardown.
// Memberships and kernel calls share one log, so each case reads the
// exact sequence.
#include <doctest/doctest.h>

#include <algorithm>
#include <cerrno>
#include <string>
#include <vector>

#include "router_fixture.hpp"

namespace mfcd::test {
namespace {

const core::Links kLinks = {{"a1", 2, true, true, false}, {"a2", 3, true, true, false}};

const std::string kConfig =
    "phyint a1 enable mrdisc\nphyint a2 enable\n"
    "mgroup from a1 group 225.1.1.1\n"
    "ssmgroup from a2 source 10.0.0.1 group 232.1.1.1\n"
    "mgroup from a9 group 225.9.9.9\n";

struct Groups : RouterFixture {
  explicit Groups(const std::string& config = kConfig, router::Settings settings = {})
      : RouterFixture(kLinks, settings) {
    start(config);
    kernel.calls.clear();
    listener.events.clear();
  }

  router::JoinState state(const core::JoinKey& key) const {
    const auto* join = router.model().joins.find(key);
    REQUIRE(join);
    return router.join_state(*join);
  }

  std::vector<std::string> held() const {
    std::vector<std::string> out;
    for (const auto& h : router.held_memberships())
      out.push_back(h.membership.str());
    return out;
  }
};

core::JoinKey join_key(const std::string& iif, const std::string& source,
                       const std::string& group) {
  core::JoinKey key;
  key.iif = iif;
  if (!source.empty()) key.source = *core::parse_prefix(source).prefix;
  key.group = *core::parse_prefix(group).prefix;
  return key;
}

}  // namespace

TEST_CASE("router: config joins are made on the interfaces present, after the VIFs") {
  RouterFixture f(kLinks);
  f.start(kConfig);
  CHECK(f.kernel.calls == Calls{
                              "add_vif ipv4 0 a1 ifindex=2 ttl=1",
                              "add_vif ipv4 1 a2 ifindex=3 ttl=1",
                              "add_vif ipv6 0 a1 ifindex=2 ttl=1",
                              "add_vif ipv6 1 a2 ifindex=3 ttl=1",
                              "join a1 (*, 225.1.1.1)",
                              "join a2 (10.0.0.1, 232.1.1.1)",
                          });
  const auto* ssm = f.router.model().joins.find(join_key("a2", "10.0.0.1", "232.1.1.1"));
  REQUIRE(ssm);
  CHECK(ssm->from_config());
  CHECK(f.router.join_state(*ssm).kind == router::JoinState::Kind::joined);
  CHECK(f.router.join_state(*ssm).memberships == 1);
  f.check_consistent();
}

TEST_CASE("router: a config join on a missing interface waits, and joins when it appears") {
  Groups f;
  const auto st = f.state(join_key("a9", "", "225.9.9.9"));
  CHECK(st.kind == router::JoinState::Kind::pending);
  CHECK(st.reason == "interface a9 does not exist");
  CHECK(f.held() == std::vector<std::string>{"a1 (*, 225.1.1.1)", "a2 (10.0.0.1, 232.1.1.1)"});

  f.link_added("a9", 9);
  CHECK(f.kernel.calls == Calls{"join a9 (*, 225.9.9.9)"});
  CHECK(f.state(join_key("a9", "", "225.9.9.9")).kind == router::JoinState::Kind::joined);
  f.check_consistent();

  f.kernel.calls.clear();
  f.link_removed("a9");
  CHECK(f.kernel.calls == Calls{"leave a9 (*, 225.9.9.9)"});
  CHECK(f.state(join_key("a9", "", "225.9.9.9")).kind == router::JoinState::Kind::pending);

  // Back with another ifindex: joined there.
  f.kernel.calls.clear();
  f.link_added("a9", 19);
  CHECK(f.kernel.calls == Calls{"join a9 (*, 225.9.9.9)"});
  CHECK(f.router.installed().memberships.begin()->ifindex == 2);
  CHECK(f.router.installed().memberships.rbegin()->ifindex == 19);
  f.check_consistent();
}

TEST_CASE("router: API joins are shared by owners; the membership goes with the last one") {
  Groups f;
  const auto key = join_key("a1", "", "225.2.2.2");
  REQUIRE(f.router.join(key, "alice"));
  CHECK(f.kernel.calls == Calls{"join a1 (*, 225.2.2.2)"});
  f.kernel.calls.clear();

  REQUIRE(f.router.join(key, "bob"));
  REQUIRE(f.router.join(key, "alice"));  // again: nothing new
  CHECK(f.kernel.calls == Calls{});
  CHECK(f.router.model().joins.find(key)->owners == std::set<std::string>{"alice", "bob"});

  REQUIRE(f.router.leave(key, "alice"));
  CHECK(f.kernel.calls == Calls{});
  REQUIRE(f.router.leave(key, "bob"));
  CHECK(f.kernel.calls == Calls{"leave a1 (*, 225.2.2.2)"});
  CHECK(f.router.model().joins.find(key) == nullptr);

  auto again = f.router.leave(key, "bob");
  REQUIRE_FALSE(again);
  CHECK(again.error().code == core::Errc::not_found);
  f.check_consistent();
}

TEST_CASE("router: an API join of what the config joins costs nothing; the config's share stays") {
  Groups f;
  const auto key = join_key("a1", "", "225.1.1.1");
  REQUIRE(f.router.join(key, "alice"));
  CHECK(f.kernel.calls == Calls{});
  REQUIRE(f.router.leave(key, "alice"));
  CHECK(f.kernel.calls == Calls{});
  CHECK(f.router.model().joins.find(key)->owners == std::set<std::string>{"config"});
  f.check_consistent();
}

TEST_CASE("router: leaving a config join over the API lasts until the next reload") {
  Groups f;
  const auto key = join_key("a1", "", "225.1.1.1");
  REQUIRE(f.router.leave(key, "alice"));
  CHECK(f.kernel.calls == Calls{"leave a1 (*, 225.1.1.1)"});
  CHECK(f.router.model().joins.find(key) == nullptr);
  f.kernel.calls.clear();
  f.reload(kConfig);
  CHECK(f.kernel.calls == Calls{"join a1 (*, 225.1.1.1)"});
  f.check_consistent();
}

TEST_CASE("router: an API join on a missing interface waits for it, as a route does") {
  Groups f;
  const auto key = join_key("a9", "", "225.2.2.2");
  REQUIRE(f.router.join(key, "alice"));
  CHECK(f.kernel.calls == Calls{});
  CHECK(f.state(key).kind == router::JoinState::Kind::pending);
  CHECK(f.state(key).reason == "interface a9 does not exist");

  // The interface appears: the config's join and this one are made.
  f.link_added("a9", 9);
  CHECK(std::count(f.kernel.calls.begin(), f.kernel.calls.end(), "join a9 (*, 225.2.2.2)") == 1);
  CHECK(f.state(key).kind == router::JoinState::Kind::joined);
  f.kernel.calls.clear();

  auto r = f.router.join(join_key("a1", "", "10.0.0.1"), "alice");  // not a group
  REQUIRE_FALSE(r);
  CHECK(r.error().code == core::Errc::invalid_argument);
  CHECK(f.kernel.calls == Calls{});
  f.check_consistent();
}

TEST_CASE("router: a source-specific join is one membership per (source, group)") {
  Groups f;
  REQUIRE(f.router.join(join_key("a1", "10.0.0.1", "232.2.2.2"), "alice"));
  REQUIRE(f.router.join(join_key("a1", "10.0.0.2", "232.2.2.2"), "alice"));
  // Source 0.0.0.0 means any source.
  REQUIRE(f.router.join(join_key("a1", "0.0.0.0", "225.2.2.2"), "alice"));
  CHECK(f.kernel.calls == Calls{
                              "join a1 (10.0.0.1, 232.2.2.2)",
                              "join a1 (10.0.0.2, 232.2.2.2)",
                              "join a1 (*, 225.2.2.2)",
                          });
  CHECK(f.router.model().joins.find(join_key("a1", "", "225.2.2.2")));
  f.kernel.calls.clear();
  REQUIRE(f.router.leave(join_key("a1", "10.0.0.1", "232.2.2.2"), "alice"));
  CHECK(f.kernel.calls == Calls{"leave a1 (10.0.0.1, 232.2.2.2)"});
  f.check_consistent();
}

TEST_CASE("router: a range join is every group it covers; overlapping joins share memberships") {
  router::Settings settings;
  settings.join_range_limit = 4;
  Groups f(kConfig, settings);
  REQUIRE(f.router.join(join_key("a1", "", "225.3.3.0/30"), "alice"));
  CHECK(f.kernel.calls == Calls{
                              "join a1 (*, 225.3.3.0)",
                              "join a1 (*, 225.3.3.1)",
                              "join a1 (*, 225.3.3.2)",
                              "join a1 (*, 225.3.3.3)",
                          });
  f.kernel.calls.clear();
  REQUIRE(f.router.join(join_key("a1", "", "225.3.3.1"), "bob"));
  CHECK(f.kernel.calls == Calls{});
  REQUIRE(f.router.leave(join_key("a1", "", "225.3.3.0/30"), "alice"));
  CHECK(f.kernel.calls == Calls{
                              "leave a1 (*, 225.3.3.0)",
                              "leave a1 (*, 225.3.3.2)",
                              "leave a1 (*, 225.3.3.3)",
                          });
  f.check_consistent();
}

TEST_CASE("router: a range beyond the join range limit is refused, or listed as failed") {
  router::Settings settings;
  settings.join_range_limit = 4;
  Groups f(kConfig + "mgroup from a1 group 225.4.4.0/29\n", settings);
  CHECK(f.held() == std::vector<std::string>{"a1 (*, 225.1.1.1)", "a2 (10.0.0.1, 232.1.1.1)"});
  const auto st = f.state(join_key("a1", "", "225.4.4.0/29"));
  CHECK(st.kind == router::JoinState::Kind::failed);
  CHECK(st.reason.find("covers 8 memberships, more than the limit of 4") != std::string::npos);

  auto r = f.router.join(join_key("a2", "", "225.5.5.0/29"), "alice");
  REQUIRE_FALSE(r);
  CHECK(r.error().code == core::Errc::limit);
  CHECK(f.kernel.calls == Calls{});
  CHECK(f.router.model().joins.find(join_key("a2", "", "225.5.5.0/29")) == nullptr);
  f.check_consistent();
}

TEST_CASE("router: an API join the kernel refuses is taken back whole and reports the refusal") {
  Groups f;
  SUBCASE("one group") {
    f.membership.fail("join a1 (*, 225.2.2.2)", ENOBUFS);
    auto r = f.router.join(join_key("a1", "", "225.2.2.2"), "alice");
    REQUIRE_FALSE(r);
    CHECK(r.error().code == core::Errc::kernel);
    CHECK(r.error().sys_errno == ENOBUFS);
    CHECK(f.kernel.calls == Calls{
                                "join a1 (*, 225.2.2.2) -> ENOBUFS",
                            });
    CHECK(f.router.model().joins.find(join_key("a1", "", "225.2.2.2")) == nullptr);
    CHECK(f.held() == std::vector<std::string>{"a1 (*, 225.1.1.1)", "a2 (10.0.0.1, 232.1.1.1)"});
  }
  SUBCASE("part of a range: the memberships made are left again, the refused ones not") {
    f.membership.fail("join a1 (*, 225.3.3.2)", EPERM);
    f.membership.fail("join a1 (*, 225.3.3.3)", EPERM);
    auto r = f.router.join(join_key("a1", "", "225.3.3.0/30"), "alice");
    REQUIRE_FALSE(r);
    CHECK(r.error().sys_errno == EPERM);
    CHECK(r.error().message.find("(and 1 more refused)") != std::string::npos);
    CHECK(f.kernel.calls == Calls{
                                "join a1 (*, 225.3.3.0)",
                                "join a1 (*, 225.3.3.1)",
                                "join a1 (*, 225.3.3.2) -> EPERM",
                                "join a1 (*, 225.3.3.3) -> EPERM",
                                "leave a1 (*, 225.3.3.0)",
                                "leave a1 (*, 225.3.3.1)",
                            });
    CHECK(f.router.model().joins.find(join_key("a1", "", "225.3.3.0/30")) == nullptr);
    CHECK(f.held() == std::vector<std::string>{"a1 (*, 225.1.1.1)", "a2 (10.0.0.1, 232.1.1.1)"});
  }
  SUBCASE("an owner joining again what it holds keeps its share") {
    const auto key = join_key("a1", "", "225.2.2.2");
    REQUIRE(f.router.join(key, "alice"));
    f.kernel.calls.clear();
    REQUIRE(f.router.join(key, "alice"));
    CHECK(f.kernel.calls == Calls{});
    CHECK(f.router.model().joins.find(key)->owners == std::set<std::string>{"alice"});
  }
  f.check_consistent();
}

TEST_CASE("router: a config join the kernel refuses is listed as failed and tried again") {
  RouterFixture f(kLinks);
  // Refused when the link is first seen, and at the retry right after.
  f.membership.fail("join a1 (*, 225.1.1.1)", ENOBUFS, 2);
  f.start(kConfig);
  CHECK(std::count(f.kernel.calls.begin(), f.kernel.calls.end(),
                   "join a1 (*, 225.1.1.1) -> ENOBUFS") == 2);
  const auto key = join_key("a1", "", "225.1.1.1");
  const auto* join = f.router.model().joins.find(key);
  REQUIRE(join);
  auto st = f.router.join_state(*join);
  CHECK(st.kind == router::JoinState::Kind::failed);
  CHECK(st.reason.find("No buffer space available") != std::string::npos);
  CHECK(st.memberships == 0);
  f.check_consistent();
  f.kernel.calls.clear();

  SUBCASE("when the interfaces change") {
    f.link_added("b1", 7);
    CHECK(f.kernel.calls == Calls{"join a1 (*, 225.1.1.1)"});
  }
  SUBCASE("when an API client joins it too") {
    REQUIRE(f.router.join(key, "alice"));
    CHECK(f.kernel.calls == Calls{"join a1 (*, 225.1.1.1)"});
  }
  join = f.router.model().joins.find(key);
  REQUIRE(join);
  CHECK(f.router.join_state(*join).kind == router::JoinState::Kind::joined);
  f.check_consistent();
}

TEST_CASE("router: an API join of a refused config join, refused again, leaves the config's") {
  RouterFixture f(kLinks);
  f.membership.fail("join a1 (*, 225.1.1.1)", ENOBUFS, 3);
  f.start(kConfig);
  f.kernel.calls.clear();
  const auto key = join_key("a1", "", "225.1.1.1");
  auto r = f.router.join(key, "alice");
  REQUIRE_FALSE(r);
  CHECK(r.error().sys_errno == ENOBUFS);
  // Only the config's membership is tried, and nothing is left behind for
  // the config's share to lose.
  CHECK(f.kernel.calls == Calls{"join a1 (*, 225.1.1.1) -> ENOBUFS"});
  const auto* join = f.router.model().joins.find(key);
  REQUIRE(join);
  CHECK(join->owners == std::set<std::string>{"config"});
  CHECK(f.router.join_state(*join).kind == router::JoinState::Kind::failed);
  f.check_consistent();
}

TEST_CASE("router: a leave the kernel refuses still ends the join; the membership stays listed") {
  Groups f;
  const auto key = join_key("a1", "", "225.2.2.2");
  REQUIRE(f.router.join(key, "alice"));
  f.kernel.calls.clear();
  f.membership.fail("leave a1 (*, 225.2.2.2)", EPERM);
  REQUIRE(f.router.leave(key, "alice"));
  CHECK(f.kernel.calls == Calls{"leave a1 (*, 225.2.2.2) -> EPERM"});
  CHECK(f.router.model().joins.find(key) == nullptr);
  // What the kernel holds and what mfcd lists agree.
  CHECK(f.held() == std::vector<std::string>{"a1 (*, 225.1.1.1)", "a1 (*, 225.2.2.2)",
                                             "a2 (10.0.0.1, 232.1.1.1)"});
  f.check_consistent();
}

TEST_CASE("router: teardown releases every VIF, entry and membership at once") {
  Groups f(kConfig +
           "mroute from a1 source 10.0.0.1 group 225.1.1.1 to a2\n"
           "mroute from a1 group 225.8.8.8 to a2\n");
  REQUIRE(f.router.join(join_key("a2", "", "225.2.2.2"), "alice"));
  f.upcall(core::UpcallType::nocache, 0, "10.0.0.9", "225.8.8.8");
  REQUIRE(f.router.installed().mfc.size() == 2);
  REQUIRE(f.membership.memberships().size() == 3);
  f.kernel.calls.clear();
  f.listener.events.clear();

  f.router.teardown();
  CHECK(f.kernel.calls == Calls{"release_all"});
  CHECK(f.kernel.table().empty());
  CHECK(f.membership.memberships().empty());
  CHECK(f.router.installed().mfc.empty());
  CHECK(f.router.installed().memberships.empty());
  CHECK(f.router.installed().vif_count(core::Family::v4) == 0);
  CHECK(f.router.installed().vif_count(core::Family::v6) == 0);
  CHECK(f.router.held_memberships().empty());
  CHECK(f.router.model().joins.size() == 0);
  CHECK(f.router.model().dynamic.empty());
  CHECK_FALSE(f.router.next_tick_ms().has_value());
  // Router discovery stops.
  CHECK(f.listener.events == Calls{"mrdisc "});
  f.check_consistent();
}

}  // namespace mfcd::test
