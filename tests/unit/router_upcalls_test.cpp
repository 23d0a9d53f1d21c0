// Upcalls through the Router: what a NOCACHE or WRONGVIF from the kernel
// turns into, how learned entries expire (in slices, on the fake clock),
// cache.flush, and kernel refusals of learned entries. IPv4 and IPv6.
#include <doctest/doctest.h>

#include <algorithm>
#include <cerrno>
#include <string>
#include <vector>

#include "router_fixture.hpp"

namespace mfcd::test {
namespace {

// VIF (and MIF) numbers: a1 0, a2 1, a3 2, a4 3. The rules cover a1; a4
// is covered only by a narrower IPv4 rule.
const core::Links kLinks = {{"a1", 2, true, true, false},
                            {"a2", 3, true, true, false},
                            {"a3", 4, true, true, false},
                            {"a4", 5, true, true, false}};

const std::string kConfig =
    "phyint a1 enable\nphyint a2 enable\nphyint a3 enable\nphyint a4 enable\n"
    "mroute from a1 group 225.1.1.1 to a2 a3\n"
    "mroute from a4 group 225.1.1.1 to a2\n"
    "mroute from a1 group ff05::1 to a2\n"
    "mroute from a1 source 10.0.0.5 group 225.5.5.5 to a3\n"
    "mroute from a2 source 10.0.0.5 group 225.5.5.5 to a3\n";

constexpr core::VifIndex kA1 = 0, kA2 = 1, kA3 = 2, kA4 = 3;

struct Upcalls : RouterFixture {
  explicit Upcalls(router::Settings settings = {}, const std::string& config = kConfig)
      : RouterFixture(kLinks, settings) {
    start(config);
    kernel.calls.clear();
    listener.events.clear();
    t0 = clock.now;
  }

  void nocache(core::VifIndex vif, const std::string& s, const std::string& g) {
    upcall(core::UpcallType::nocache, vif, s, g);
  }
  void wrongvif(core::VifIndex vif, const std::string& s, const std::string& g) {
    upcall(core::UpcallType::wrongvif, vif, s, g);
  }

  // Moves the clock to when the router has work next, and does it.
  // False when it has none.
  bool next_tick() {
    auto next = router.next_tick_ms();
    if (!next) return false;
    clock.now = std::max(clock.now, *next);
    router.tick();
    return true;
  }

  // Ticks as the service would until the kernel sees a call (or the
  // router has nothing left to do); returns when, from t0.
  uint64_t tick_until_call(uint64_t limit_ms = 600'000) {
    while (kernel.calls.empty() && clock.now - t0 < limit_ms && next_tick()) {
    }
    return clock.now - t0;
  }

  uint64_t t0 = 0;
};

core::SgKey sg(const std::string& s, const std::string& g) {
  return core::SgKey{*core::Addr::parse(s), *core::Addr::parse(g)};
}

core::RouteKey key_of(const std::string& iif, const std::string& source, const std::string& group) {
  return route_request(iif, source, group, {}).key;
}

size_t count_prefix(const Calls& calls, const std::string& prefix) {
  return static_cast<size_t>(std::count_if(
      calls.begin(), calls.end(), [&](const std::string& c) { return c.rfind(prefix, 0) == 0; }));
}

}  // namespace

// --- NOCACHE --------------------------------------------------------------------

TEST_CASE("router: a NOCACHE a (*,G) rule covers installs the (S,G) with the rule's OIFs, once") {
  Upcalls f;
  f.nocache(kA1, "10.0.0.9", "225.1.1.1");
  CHECK(f.kernel.calls == Calls{"add_mfc 10.0.0.9,225.1.1.1 iif=a1 oifs=a2,a3"});
  CHECK(f.listener.events == Calls{"install 10.0.0.9,225.1.1.1"});
  const auto& learned = f.router.model().dynamic;
  REQUIRE(learned.count(sg("10.0.0.9", "225.1.1.1")));
  CHECK(learned.at(sg("10.0.0.9", "225.1.1.1")).rule == key_of("a1", "", "225.1.1.1"));
  CHECK(f.router.installed().mfc.at(sg("10.0.0.9", "225.1.1.1")).dynamic);

  // An upcall queued before the entry went in changes nothing.
  f.kernel.calls.clear();
  f.nocache(kA1, "10.0.0.9", "225.1.1.1");
  CHECK(f.kernel.calls == Calls{});
  CHECK(f.listener.events.size() == 1);
  CHECK(f.router.upcall_stats().nocache == 2);
  CHECK(f.router.upcall_stats().installed == 1);
  CHECK(f.router.upcall_stats().ignored == 1);
  f.check_consistent();
}

TEST_CASE("router: a batch of upcalls is one plan; the same (S,G) twice in it is installed once") {
  Upcalls f;
  const auto s1 = *core::Addr::parse("10.0.0.9");
  const auto s2 = *core::Addr::parse("10.0.0.8");
  const auto g = *core::Addr::parse("225.1.1.1");
  const std::vector<core::Upcall> batch = {
      {core::Family::v4, core::UpcallType::nocache, kA1, s1, g},
      {core::Family::v4, core::UpcallType::nocache, kA1, s1, g},
      {core::Family::v4, core::UpcallType::nocache, kA1, s2, g},
  };
  f.router.on_upcalls(batch);
  CHECK(f.kernel.calls == Calls{
                              "add_mfc 10.0.0.9,225.1.1.1 iif=a1 oifs=a2,a3",
                              "add_mfc 10.0.0.8,225.1.1.1 iif=a1 oifs=a2,a3",
                          });
  CHECK(f.listener.events == Calls{"install 10.0.0.9,225.1.1.1", "install 10.0.0.8,225.1.1.1"});
  CHECK(f.router.upcall_stats().ignored == 1);
  f.check_consistent();
}

TEST_CASE("router: the most specific rule for the inbound interface gives the OIFs") {
  Upcalls f;
  f.nocache(kA4, "10.0.0.9", "225.1.1.1");
  CHECK(f.kernel.calls == Calls{"add_mfc 10.0.0.9,225.1.1.1 iif=a4 oifs=a2"});
  CHECK(f.router.model().dynamic.at(sg("10.0.0.9", "225.1.1.1")).rule ==
        key_of("a4", "", "225.1.1.1"));
  f.check_consistent();
}

TEST_CASE("router: a NOCACHE no rule covers installs a stop filter, and the script hears nothing") {
  Upcalls f;
  f.nocache(kA2, "10.0.0.9", "225.1.1.1");
  CHECK(f.kernel.calls == Calls{"add_mfc 10.0.0.9,225.1.1.1 iif=a2 oifs="});
  CHECK(f.listener.events == Calls{});
  const auto& learned = f.router.model().dynamic;
  REQUIRE(learned.count(sg("10.0.0.9", "225.1.1.1")));
  CHECK_FALSE(learned.at(sg("10.0.0.9", "225.1.1.1")).rule.has_value());
  CHECK(f.router.upcall_stats().stop_filters == 1);
  CHECK(f.router.upcall_stats().installed == 0);
  f.check_consistent();
}

TEST_CASE("router: an upcall on a VIF mfcd did not make, or of another kind, is ignored") {
  Upcalls f;
  f.nocache(9, "10.0.0.9", "225.1.1.1");
  f.upcall(core::UpcallType::wholepkt, kA1, "10.0.0.9", "225.1.1.1");
  f.wrongvif(kA2, "10.0.0.9", "225.1.1.1");  // no entry to move
  CHECK(f.kernel.calls == Calls{});
  CHECK(f.listener.events == Calls{});
  CHECK(f.router.upcall_stats().ignored == 3);
  CHECK(f.router.model().dynamic.empty());
}

TEST_CASE("router: an IPv6 NOCACHE on a rule installs the (S,G) in the IPv6 table") {
  Upcalls f;
  f.nocache(kA1, "fc00::9", "ff05::1");
  CHECK(f.kernel.calls == Calls{"add_mfc fc00::9,ff05::1 iif=a1 oifs=a2"});
  CHECK(f.listener.events == Calls{"install fc00::9,ff05::1"});
  // No IPv6 rule covers a3: a stop filter on MIF 2.
  f.kernel.calls.clear();
  f.nocache(kA3, "fc00::8", "ff05::1");
  CHECK(f.kernel.calls == Calls{"add_mfc fc00::8,ff05::1 iif=a3 oifs="});
  f.check_consistent();
}

TEST_CASE(
    "router: a learned entry the kernel refuses is not recorded; the next upcall tries again") {
  for (int err : {ENOBUFS, EEXIST, ENOENT, EPERM, ENFILE}) {
    CAPTURE(errno_name(err));
    Upcalls f;
    f.kernel.fail("add_mfc 10.0.0.9,225.1.1.1", err);
    const auto s1 = *core::Addr::parse("10.0.0.9");
    const auto s2 = *core::Addr::parse("10.0.0.8");
    const auto g = *core::Addr::parse("225.1.1.1");
    const std::vector<core::Upcall> batch = {
        {core::Family::v4, core::UpcallType::nocache, kA1, s1, g},
        {core::Family::v4, core::UpcallType::nocache, kA1, s2, g},
    };
    f.router.on_upcalls(batch);
    CHECK(f.kernel.calls ==
          Calls{
              "add_mfc 10.0.0.9,225.1.1.1 iif=a1 oifs=a2,a3 -> " + errno_name(err),
              "add_mfc 10.0.0.8,225.1.1.1 iif=a1 oifs=a2,a3",
          });
    CHECK(f.listener.events == Calls{"install 10.0.0.8,225.1.1.1"});
    CHECK(f.router.upcall_stats().failed == 1);
    CHECK(f.router.upcall_stats().installed == 1);
    CHECK_FALSE(f.router.model().dynamic.count(sg("10.0.0.9", "225.1.1.1")));
    f.check_consistent();

    f.kernel.calls.clear();
    f.nocache(kA1, "10.0.0.9", "225.1.1.1");
    CHECK(f.kernel.calls == Calls{"add_mfc 10.0.0.9,225.1.1.1 iif=a1 oifs=a2,a3"});
    f.check_consistent();
  }
}

TEST_CASE("router: a full sync leaves learned entries alone; a static route takes one over") {
  Upcalls f;
  f.nocache(kA1, "10.0.0.9", "225.1.1.1");
  f.nocache(kA2, "10.0.0.7", "225.1.1.1");
  f.kernel.calls.clear();
  f.listener.events.clear();

  // A route.add down the full path (a new link, so a new VIF).
  f.link_added("a5", 6);
  REQUIRE(f.kernel.calls == Calls{});
  auto out = f.router.add_route(route_request("a1", "10.0.0.1", "225.2.2.2", {"a5"}));
  REQUIRE(out.index() == 0);
  CHECK(f.kernel.calls == Calls{
                              "add_vif ipv4 4 a5 ifindex=6 ttl=1",
                              "add_mfc 10.0.0.1,225.2.2.2 iif=a1 oifs=a5",
                          });
  CHECK(f.router.model().dynamic.size() == 2);
  f.kernel.calls.clear();

  out = f.router.add_route(route_request("a1", "10.0.0.9", "225.1.1.1", {"a2"}));
  REQUIRE(out.index() == 0);
  CHECK(f.kernel.calls == Calls{"add_mfc 10.0.0.9,225.1.1.1 iif=a1 oifs=a2"});
  CHECK_FALSE(f.router.model().dynamic.count(sg("10.0.0.9", "225.1.1.1")));
  CHECK_FALSE(f.router.installed().mfc.at(sg("10.0.0.9", "225.1.1.1")).dynamic);
  CHECK(count_prefix(f.listener.events, "install ") == 0);
  f.check_consistent();
}

// --- WRONGVIF ---------------------------------------------------------------------

TEST_CASE("router: a stop filter moves at once to a side a rule covers") {
  Upcalls f;
  f.nocache(kA2, "10.0.0.9", "225.1.1.1");
  f.kernel.calls.clear();
  f.wrongvif(kA1, "10.0.0.9", "225.1.1.1");
  CHECK(f.kernel.calls == Calls{"add_mfc 10.0.0.9,225.1.1.1 iif=a1 oifs=a2,a3"});
  CHECK(f.listener.events == Calls{"install 10.0.0.9,225.1.1.1"});
  CHECK(f.router.upcall_stats().moved == 1);
  CHECK(f.router.model().dynamic.at(sg("10.0.0.9", "225.1.1.1")).iif == "a1");
  f.check_consistent();
}

TEST_CASE("router: a WRONGVIF from a side no rule covers is ignored") {
  Upcalls f;
  f.nocache(kA1, "10.0.0.9", "225.1.1.1");
  f.kernel.calls.clear();
  f.wrongvif(kA3, "10.0.0.9", "225.1.1.1");
  CHECK(f.kernel.calls == Calls{});
  CHECK(f.router.upcall_stats().ignored == 1);
  // Nothing to watch: the next work is the expiry scan.
  f.router.tick();
  CHECK(f.kernel.calls == Calls{});
}

TEST_CASE("router: a learned flow moves to another covered side once its feed stays quiet") {
  Upcalls f;
  const auto key = sg("10.0.0.9", "225.1.1.1");
  f.nocache(kA1, "10.0.0.9", "225.1.1.1");
  f.kernel.calls.clear();
  f.listener.events.clear();
  f.wrongvif(kA4, "10.0.0.9", "225.1.1.1");
  CHECK(f.kernel.calls == Calls{});
  REQUIRE(f.router.next_tick_ms().has_value());
  CHECK(*f.router.next_tick_ms() <= f.clock.now);  // the first expiry round is due

  SUBCASE("the old feed stays quiet: switched after the quiet window") {
    CHECK(f.tick_until_call() == core::kFeedQuietMs);
    CHECK(f.kernel.calls == Calls{"add_mfc 10.0.0.9,225.1.1.1 iif=a4 oifs=a2"});
    CHECK(f.listener.events == Calls{"install 10.0.0.9,225.1.1.1"});
    CHECK(f.router.model().dynamic.at(key).rule == key_of("a4", "", "225.1.1.1"));
    CHECK(f.router.upcall_stats().moved == 1);
  }
  SUBCASE("the old feed still carries packets: the flow stays") {
    f.next_tick();
    f.kernel.traffic(key, 5);
    CHECK(f.tick_until_call(10'000) >= 10'000);
    CHECK(f.kernel.calls == Calls{});
    CHECK(f.router.model().dynamic.at(key).iif == "a1");
  }
  f.check_consistent();
}

TEST_CASE("router: a static flow moves to its standby route once its feed stays quiet") {
  Upcalls f;
  const auto active = key_of("a1", "10.0.0.5", "225.5.5.5");
  const auto standby = key_of("a2", "10.0.0.5", "225.5.5.5");
  REQUIRE(f.router.route_status(standby)->state == core::RouteState::standby);
  f.wrongvif(kA2, "10.0.0.5", "225.5.5.5");
  CHECK(f.kernel.calls == Calls{});
  REQUIRE(f.router.next_tick_ms().has_value());

  CHECK(f.tick_until_call() == core::kFeedQuietMs);
  CHECK(f.kernel.calls == Calls{"add_mfc 10.0.0.5,225.5.5.5 iif=a2 oifs=a3"});
  CHECK(f.router.route_status(standby)->state == core::RouteState::installed);
  CHECK(f.router.route_status(active)->state == core::RouteState::standby);
  // No learned entry: the script is not told of a static route.
  CHECK(f.listener.events == Calls{"mrdisc "});
  CHECK(f.router.upcall_stats().moved == 1);
  f.check_consistent();

  // The switch sticks through later full syncs.
  f.kernel.calls.clear();
  f.link_added("a5", 6);
  CHECK(f.kernel.calls == Calls{});
}

// --- expiry and flush ---------------------------------------------------------------

TEST_CASE("router: an idle learned entry expires after the cache timeout, at the next scan") {
  Upcalls f;
  f.nocache(kA1, "10.0.0.9", "225.1.1.1");
  f.kernel.calls.clear();
  // Scans run every timeout / 4, at most every 5 s: one at exactly 60 s.
  CHECK(f.tick_until_call() == 60'000);
  CHECK(f.kernel.calls == Calls{"del_mfc 10.0.0.9,225.1.1.1"});
  CHECK(f.router.model().dynamic.empty());
  CHECK(f.router.upcall_stats().expired == 1);
  CHECK_FALSE(f.router.next_tick_ms().has_value());
  f.check_consistent();
}

TEST_CASE("router: an entry with traffic is kept; its idle time starts when the traffic stops") {
  Upcalls f;
  const auto key = sg("10.0.0.9", "225.1.1.1");
  f.nocache(kA1, "10.0.0.9", "225.1.1.1");
  f.kernel.calls.clear();
  while (f.clock.now - f.t0 < 30'000)
    REQUIRE(f.next_tick());
  f.kernel.traffic(key, 10);  // seen by the scan at 35 s
  CHECK(f.tick_until_call() == 95'000);
  CHECK(f.kernel.calls == Calls{"del_mfc 10.0.0.9,225.1.1.1"});
  f.check_consistent();
}

TEST_CASE("router: with cache timeout 0 learned entries never expire") {
  router::Settings settings;
  settings.cache_timeout = 0;
  Upcalls f(settings);
  f.nocache(kA1, "10.0.0.9", "225.1.1.1");
  CHECK_FALSE(f.router.next_tick_ms().has_value());
  f.clock.advance(24 * 3600 * 1000ULL);
  f.router.tick();
  CHECK(f.kernel.calls == Calls{"add_mfc 10.0.0.9,225.1.1.1 iif=a1 oifs=a2,a3"});
}

TEST_CASE("router: expiry looks at a bounded slice of the learned entries per tick") {
  Upcalls f;
  const size_t n = router::kTickBudget + 88;
  std::vector<core::Upcall> batch;
  const auto g = *core::Addr::parse("225.1.1.1");
  for (size_t i = 0; i < n; ++i) {
    const auto s =
        *core::Addr::parse("10.1." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1));
    batch.push_back({core::Family::v4, core::UpcallType::nocache, kA1, s, g});
  }
  f.router.on_upcalls(batch);
  REQUIRE(f.router.model().dynamic.size() == n);
  f.kernel.calls.clear();

  f.clock.advance(60'000);
  f.router.tick();
  CHECK(count_prefix(f.kernel.calls, "del_mfc ") == router::kTickBudget);
  CHECK(f.kernel.calls.size() == router::kTickBudget);
  // The round goes on at once.
  CHECK(f.router.next_tick_ms() == f.clock.now);
  f.kernel.calls.clear();
  f.router.tick();
  CHECK(count_prefix(f.kernel.calls, "del_mfc ") == 88);
  CHECK(f.router.model().dynamic.empty());
  CHECK(f.router.upcall_stats().expired == n);
  CHECK_FALSE(f.router.next_tick_ms().has_value());
  f.check_consistent();
}

TEST_CASE("router: an expiry the kernel refuses is deleted again by the next full sync") {
  Upcalls f;
  f.nocache(kA1, "10.0.0.9", "225.1.1.1");
  f.kernel.calls.clear();
  f.kernel.fail("del_mfc 10.0.0.9,225.1.1.1", EPERM);
  CHECK(f.tick_until_call() == 60'000);
  CHECK(f.kernel.calls == Calls{"del_mfc 10.0.0.9,225.1.1.1 -> EPERM"});
  f.check_consistent();

  f.kernel.calls.clear();
  f.link_added("a5", 6);
  CHECK(f.kernel.calls == Calls{"del_mfc 10.0.0.9,225.1.1.1"});
  f.check_consistent();
}

TEST_CASE("router: cache.flush removes every learned entry and no static one") {
  Upcalls f;
  f.nocache(kA1, "10.0.0.9", "225.1.1.1");
  f.nocache(kA2, "10.0.0.8", "225.1.1.1");
  f.nocache(kA1, "fc00::9", "ff05::1");
  f.kernel.calls.clear();

  CHECK(f.router.flush() == 3);
  auto calls = f.kernel.calls;
  std::sort(calls.begin(), calls.end());
  CHECK(calls == Calls{
                     "del_mfc 10.0.0.8,225.1.1.1",
                     "del_mfc 10.0.0.9,225.1.1.1",
                     "del_mfc fc00::9,ff05::1",
                 });
  CHECK(f.router.model().dynamic.empty());
  CHECK(f.router.upcall_stats().flushed == 3);
  CHECK(f.router.installed().mfc.size() == 1);  // the static route
  CHECK_FALSE(f.router.next_tick_ms().has_value());
  f.check_consistent();

  // The next packet asks again.
  f.kernel.calls.clear();
  f.nocache(kA1, "10.0.0.9", "225.1.1.1");
  CHECK(f.kernel.calls == Calls{"add_mfc 10.0.0.9,225.1.1.1 iif=a1 oifs=a2,a3"});
  CHECK(f.router.flush() == 1);
  CHECK(f.router.flush() == 0);
}

TEST_CASE("router: upcalls the kernel dropped are counted across both families") {
  Upcalls f;
  CHECK(f.router.upcalls_lost() == 0);
  f.kernel.lost[0] = 3;
  f.kernel.lost[1] = 4;
  CHECK(f.router.upcalls_lost() == 7);
}

}  // namespace mfcd::test
