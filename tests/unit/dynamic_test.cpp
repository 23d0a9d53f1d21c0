// Dynamic entries in the desired state, expiry from counter sequences and
// the redundant feed switch decision.
#include "core/dynamic.hpp"

#include <doctest/doctest.h>

#include "fakes.hpp"

namespace mfcd::core {
namespace {

const Links kLinks{{"a1", 2}, {"a2", 3}, {"a3", 4}, {"a4", 5}};

SgKey sg(const std::string& s, const std::string& g) {
  return SgKey{*Addr::parse(s), *Addr::parse(g)};
}

struct World {
  Intent intent;
  DynamicMap table;
  explicit World(const std::string& text) { intent.load_config(test::config_from(text)); }
  Desired desired() {
    Desired d = compute_desired(intent, kLinks);
    merge_dynamic(d, table, RuleIndex(intent));
    return d;
  }
};

}  // namespace

TEST_CASE("dynamic entries take the current rule's OIFs; static ones win") {
  World w(
      "phyint a1 enable\nphyint a2 enable\nphyint a3 enable\n"
      "mroute from a1 group 225.1.0.0/16 to a2 a3\n"
      "mroute from a1 source 10.0.0.9 group 225.1.1.9 to a3\n");
  w.table[sg("10.0.0.1", "225.1.1.1")] =
      DynamicEntry{"a1", std::nullopt, 0, 0};  // was a stop filter
  w.table[sg("10.0.0.2", "225.9.1.1")] = DynamicEntry{"a2", std::nullopt, 0, 0};
  w.table[sg("10.0.0.9", "225.1.1.9")] = DynamicEntry{"a1", std::nullopt, 0, 0};
  test::FakeKernel kernel;
  Installed installed;
  CHECK(test::sync(kernel, installed, w.desired()).empty());
  CHECK(kernel.table() == std::vector<std::string>{
                              "mfc 10.0.0.1,225.1.1.1 iif=a1 oifs=a2,a3",
                              "mfc 10.0.0.2,225.9.1.1 iif=a2 oifs=",
                              "mfc 10.0.0.9,225.1.1.9 iif=a1 oifs=a3",
                              "vif ipv4 0 a1 ifindex=2 ttl=1",
                              "vif ipv4 1 a2 ifindex=3 ttl=1",
                              "vif ipv4 2 a3 ifindex=4 ttl=1",
                              "vif ipv6 0 a1 ifindex=2 ttl=1",
                              "vif ipv6 1 a2 ifindex=3 ttl=1",
                              "vif ipv6 2 a3 ifindex=4 ttl=1",
                          });
  CHECK(w.table.size() == 2);  // the static route took over 10.0.0.9
  CHECK(w.table.at(sg("10.0.0.1", "225.1.1.1")).rule.has_value());
  CHECK(installed.mfc.at(sg("10.0.0.1", "225.1.1.1")).dynamic);

  SUBCASE("a new rule converts a stop filter at once") {
    RouteRequest req{RouteKey{"a2", std::nullopt, *parse_prefix("225.9.0.0/16").prefix}, {"a1"}};
    w.intent.add_route(req);
    kernel.calls.clear();
    CHECK(test::sync(kernel, installed, w.desired()).empty());
    CHECK(kernel.calls == test::Calls{"add_mfc 10.0.0.2,225.9.1.1 iif=a2 oifs=a1"});
  }
  SUBCASE("a removed rule takes its entries with it") {
    (void)w.intent.remove_route(RouteRequest{
        RouteKey{"a1", std::nullopt, *parse_prefix("225.1.0.0/16").prefix}, {}, "config"});
    kernel.calls.clear();
    CHECK(test::sync(kernel, installed, w.desired()).empty());
    CHECK(kernel.calls == test::Calls{"del_mfc 10.0.0.1,225.1.1.1"});
    CHECK(w.table.size() == 1);
  }
  SUBCASE("a changed rule changes its entries' OIFs") {
    RouteRequest req{
        RouteKey{"a1", std::nullopt, *parse_prefix("225.1.0.0/16").prefix}, {"a2"}, "config"};
    w.intent.set_route(req);
    kernel.calls.clear();
    CHECK(test::sync(kernel, installed, w.desired()).empty());
    CHECK(kernel.calls == test::Calls{"add_mfc 10.0.0.1,225.1.1.1 iif=a1 oifs=a2"});
  }
}

TEST_CASE("expiry: an entry whose counter stands still for the timeout is idle") {
  DynamicEntry e{"a1", std::nullopt, 0, 1000};
  // timeout 2000 ms; samples every 500 ms.
  CHECK_FALSE(idle_after_sample(e, 0, 1500, 2000));
  CHECK_FALSE(idle_after_sample(e, 5, 2000, 2000));  // moved: restart
  CHECK_FALSE(idle_after_sample(e, 5, 3500, 2000));
  CHECK(idle_after_sample(e, 5, 4000, 2000));
  DynamicEntry busy{"a1", std::nullopt, 0, 0};
  for (uint64_t t = 500, n = 10; t <= 10000; t += 500, n += 10)
    CHECK_FALSE(idle_after_sample(busy, n, t, 2000));
  DynamicEntry recreated{"a1", std::nullopt, 100, 0};
  CHECK_FALSE(idle_after_sample(recreated, 3, 5000, 2000));  // went backwards: moved
}

TEST_CASE("a redundant feed switches only after the installed one is quiet") {
  FeedWatch w{RouteKey{}, 100, 0};
  CHECK(feed_sample(w, 100, 500) == FeedVerdict::wait);
  CHECK(feed_sample(w, 100, 1999) == FeedVerdict::wait);
  CHECK(feed_sample(w, 100, 2000) == FeedVerdict::switch_now);
  FeedWatch alive{RouteKey{}, 100, 0};
  CHECK(feed_sample(alive, 150, 500) == FeedVerdict::keep);
}

TEST_CASE("an active feed override installs the standby route") {
  Intent intent;
  intent.load_config(
      test::config_from("mroute from a1 source 10.0.0.1 group 225.1.1.1 to a3\n"
                        "mroute from a2 source 10.0.0.1 group 225.1.1.1 to a3 a4\n"));
  Desired d = compute_desired(intent, kLinks);
  const RouteKey second{"a2", *parse_prefix("10.0.0.1").prefix, *parse_prefix("225.1.1.1").prefix};
  const RouteKey first{"a1", second.source, second.group};
  CHECK(d.status.at(second).state == RouteState::standby);
  ActiveFeeds feeds{{sg("10.0.0.1", "225.1.1.1"), second}};
  apply_active_feeds(d, intent, feeds);
  CHECK(d.status.at(second).state == RouteState::installed);
  CHECK(d.status.at(first).state == RouteState::standby);
  const auto& e = d.mfc.at(sg("10.0.0.1", "225.1.1.1"));
  CHECK(e.iif == "a2");
  CHECK(e.oifs == std::vector<std::string>{"a3", "a4"});
  CHECK(feeds.size() == 1);
}

}  // namespace mfcd::core
