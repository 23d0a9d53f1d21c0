// The router's events (router/events.hpp), on the fakes: what each kernel
// change, link change, upcall batch and join turns into, and that nothing
// is built while nobody listens.
#include <doctest/doctest.h>

#include <algorithm>
#include <cerrno>
#include <string>
#include <vector>

#include "router_fixture.hpp"

namespace mfcd::test {
namespace {

// "kind name=value ..." with lists as a,b, in the event's member order.
std::string line_of(const router::Event& e) {
  std::string out = e.kind;
  for (const auto& f : e.fields) {
    out += " " + f.name + "=";
    using Type = router::Event::Field::Type;
    if (f.type == Type::text) out += f.text;
    if (f.type == Type::number) out += std::to_string(f.number);
    if (f.type == Type::list) {
      for (size_t i = 0; i < f.list.size(); ++i)
        out += (i ? "," : "") + f.list[i];
    }
  }
  return out;
}

struct Events : RouterFixture {
  explicit Events(core::Links links_now, const std::string& config)
      : RouterFixture(std::move(links_now)) {
    start(config);
    listener.record_events = true;
    router.start_route_events();
  }
  // The events since the last take, one a line (doctest prints strings).
  std::string take() {
    std::string out;
    for (const auto& e : listener.published)
      out += line_of(e) + "\n";
    listener.published.clear();
    return out;
  }
};

std::string lines(const std::vector<std::string>& all) {
  std::string out;
  for (const auto& l : all)
    out += l + "\n";
  return out;
}

const core::Links kTwo = {{"a1", 2, true, true, false}, {"a2", 3, true, true, false}};

}  // namespace

TEST_CASE("router events: nothing is built while nobody listens") {
  RouterFixture f(kTwo);
  f.start("phyint a1 enable\nmroute from a1 source 10.0.0.1 group 225.1.1.1 to a2\n");
  f.link_added("a3", 4);
  CHECK(f.listener.published.empty());
}

TEST_CASE("router events: an interface that appears brings its VIF and the waiting route") {
  Events f(kTwo, "mroute from a1 source 10.0.0.1 group 225.1.1.1 to a3\n");
  CHECK(f.take() == "");  // start_route_events takes the states as they are
  f.link_added("a3", 4);
  CHECK(f.take() == lines({
                        "interface.added interface=a3 ifindex=4",
                        "interface.up interface=a3 ifindex=4",
                        "vif.added family=ipv4 vif=1 interface=a3",
                        "route.changed family=ipv4 source=10.0.0.1 group=225.1.1.1 iif=a1 oifs=a3 "
                        "route=a1 (10.0.0.1, 225.1.1.1) origin=config owners=",
                    }));
  f.link_removed("a3");
  CHECK(f.take() == lines({
                        "interface.removed interface=a3 ifindex=4",
                        "vif.freed family=ipv4 vif=1 interface=a3",
                        "route.changed family=ipv4 source=10.0.0.1 group=225.1.1.1 iif=a1 oifs= "
                        "route=a1 (10.0.0.1, 225.1.1.1) origin=config owners=",
                    }));
  f.link_removed("a1");
  CHECK(
      f.take() ==
      lines({
          "interface.removed interface=a1 ifindex=2",
          "vif.freed family=ipv4 vif=0 interface=a1",
          "route.removed family=ipv4 source=10.0.0.1 group=225.1.1.1 "
          "route=a1 (10.0.0.1, 225.1.1.1)",
          "route.pending family=ipv4 route=a1 (10.0.0.1, 225.1.1.1) state=pending "
          "missing_oifs=a3 reason=inbound interface a1 does not exist; outbound interface a3 does "
          "not exist",
      }));
}

TEST_CASE("router events: after an overrun, the re-read list tells what the lost messages said") {
  Events f(kTwo, "mroute from a1 source 10.0.0.1 group 225.1.1.1 to a2 a3\n");
  // a2 went away and a3 came while the messages saying so were lost.
  f.kernel.device_gone("a2");
  core::Links now = {{"a1", 2, true, true, false}, {"a3", 4, true, true, false}};
  f.router.replace_links(now);
  CHECK(f.take() == lines({
                        "interface.removed interface=a2 ifindex=3",
                        "vif.freed family=ipv4 vif=1 interface=a2",
                        "interface.added interface=a3 ifindex=4",
                        "interface.up interface=a3 ifindex=4",
                        "vif.added family=ipv4 vif=2 interface=a3",
                        "route.changed family=ipv4 source=10.0.0.1 group=225.1.1.1 iif=a1 oifs=a3 "
                        "route=a1 (10.0.0.1, 225.1.1.1) origin=config owners=",
                    }));
  // The same list again: nothing was lost, nothing is told.
  f.router.replace_links(now);
  CHECK(f.take() == "");
}

TEST_CASE("router events: learned flows, stop filters and their expiry") {
  Events f(kTwo, "phyint a1 enable\nphyint a2 enable\nmroute from a1 group 225.1.1.1 to a2\n");
  f.upcall(core::UpcallType::nocache, 0, "10.0.0.9", "225.1.1.1");
  f.upcall(core::UpcallType::nocache, 0, "10.0.0.9", "225.9.9.9");
  CHECK(f.take() == lines({
                        "flow.learned family=ipv4 source=10.0.0.9 group=225.1.1.1 iif=a1 oifs=a2 "
                        "rule=a1 (*, 225.1.1.1)",
                        "filter.added family=ipv4 source=10.0.0.9 group=225.9.9.9 iif=a1 oifs= "
                        "rule=a1 (10.0.0.9, 225.9.9.9)",
                    }));
  CHECK(f.router.flush() == 2);
  // In the order of the router's table: sorted here.
  auto flushed = f.take();
  std::vector<std::string> sorted;
  for (size_t at = 0, nl; (nl = flushed.find('\n', at)) != std::string::npos; at = nl + 1)
    sorted.push_back(flushed.substr(at, nl - at));
  std::sort(sorted.begin(), sorted.end());
  CHECK(lines(sorted) == lines({
                             "flow.expired family=ipv4 source=10.0.0.9 group=225.1.1.1 "
                             "rule=a1 (*, 225.1.1.1)",
                             "flow.expired family=ipv4 source=10.0.0.9 group=225.9.9.9 "
                             "rule=a1 (10.0.0.9, 225.9.9.9)",
                         }));
}

TEST_CASE("router events: WRONGVIF at most once a second, counting the rest; upcalls lost") {
  Events f(kTwo,
           "phyint a1 enable\nphyint a2 enable\n"
           "mroute from a1 source 10.0.0.1 group 225.1.1.1 to a2\n");
  for (int i = 0; i < 3; ++i)
    f.upcall(core::UpcallType::wrongvif, 1, "10.0.0.1", "225.1.1.1");
  CHECK(f.take() == lines({"wrongvif family=ipv4 source=10.0.0.1 "
                           "group=225.1.1.1 interface=a2 suppressed=0"}));
  f.clock.advance(1000);
  f.kernel.lost[0] = 5;
  f.upcall(core::UpcallType::wrongvif, 1, "10.0.0.1", "225.1.1.2");
  CHECK(f.take() == lines({
                        "upcalls.lost count=5 total=5",
                        "wrongvif family=ipv4 source=10.0.0.1 group=225.1.1.2 interface=a2 "
                        "suppressed=2",
                    }));
}

TEST_CASE("router events: joins taken, waiting and refused") {
  Events f(kTwo, "phyint a1 enable\n");
  core::JoinKey key{"a1", std::nullopt, *core::parse_prefix("225.1.1.1").prefix};
  REQUIRE(f.router.join(key, "api"));
  CHECK(f.take() == lines({"join.active family=ipv4 interface=a1 group=225.1.1.1"}));
  core::JoinKey later{"a9", std::nullopt, *core::parse_prefix("225.1.1.2").prefix};
  REQUIRE(f.router.join(later, "api"));
  const auto waiting = f.take();
  CHECK(waiting.rfind("join.pending family=ipv4 interface=a9 group=225.1.1.2 reason=", 0) == 0);
  f.membership.fail("join a2", EADDRINUSE);
  core::JoinKey refused{"a2", std::nullopt, *core::parse_prefix("225.1.1.3").prefix};
  CHECK(!f.router.join(refused, "api"));
  const auto failed = f.take();
  CHECK(failed.rfind("join.failed family=ipv4 interface=a2 group=225.1.1.3 error=", 0) == 0);
}

TEST_CASE("router events: a join whose interface goes, or that a reload adds for none, waits") {
  Events f(kTwo, "phyint a1 enable\nphyint a2 enable\nmgroup from a2 group 225.1.1.4\n");
  core::JoinKey key{"a1", std::nullopt, *core::parse_prefix("225.1.1.1").prefix};
  REQUIRE(f.router.join(key, "api"));
  f.take();
  f.link_removed("a1");
  const auto removed = f.take();
  CHECK(removed.find("join.pending family=ipv4 interface=a1 group=225.1.1.1 "
                     "reason=interface a1 does not exist\n") != std::string::npos);
  // Only the join that changed: the one on a2 still holds.
  CHECK(removed.find("interface=a2") == std::string::npos);
  f.reload("phyint a2 enable\nmgroup from a2 group 225.1.1.4\nmgroup from a7 group 225.1.1.5\n");
  const auto reloaded = f.take();
  CHECK(reloaded.find("join.pending family=ipv4 interface=a7 group=225.1.1.5 "
                      "reason=interface a7 does not exist\n") != std::string::npos);
  // The API's join on a1 was waiting already: not announced again.
  CHECK(reloaded.find("interface=a1") == std::string::npos);
}

}  // namespace mfcd::test

namespace mfcd::test {
namespace {

// `n` routes a1 -> a2, sources 10.0.x.y from 10.0.0.1 on, group 225.1.1.1.
std::string routes_text(size_t n) {
  std::string text = "phyint a1 enable\nphyint a2 enable\n";
  for (size_t i = 1; i <= n; ++i)
    text += "mroute from a1 source 10.0." + std::to_string(i / 256) + "." +
            std::to_string(i % 256) + " group 225.1.1.1 to a2\n";
  return text;
}

size_t count_kind(const std::vector<router::Event>& events, const std::string& kind) {
  return static_cast<size_t>(
      std::count_if(events.begin(), events.end(), [&](const auto& e) { return e.kind == kind; }));
}

}  // namespace

TEST_CASE("router events: a change of up to a thousand entries and routes is told one by one") {
  Events f(kTwo, "phyint a1 enable\nphyint a2 enable\n");
  f.reload(routes_text(router::kMaxEventsPerChange));
  const auto& got = f.listener.published;
  CHECK(count_kind(got, "route.installed") == router::kMaxEventsPerChange);
  CHECK(count_kind(got, "route.active") == router::kMaxEventsPerChange);
  CHECK(count_kind(got, "bulk") == 0);
}

TEST_CASE(
    "router events: a bigger change makes one bulk event for its entries and one for states") {
  Events f(kTwo, "phyint a1 enable\nphyint a2 enable\n");
  const size_t n = router::kMaxEventsPerChange + 1;
  f.reload(routes_text(n));
  CHECK(f.take() ==
        lines({
            "bulk count=1001 kinds=route.installed reason=1001 events of one change, more than "
            "1000: left out; read the state again (route.list)",
            "bulk count=1001 kinds=route.active reason=1001 events of one change, more than "
            "1000: left out; read the state again (route.list)",
        }));
  // What was left out is still tracked: the next small change is told
  // exactly, and the routes already active are not announced again.
  f.reload(routes_text(n + 1));
  CHECK(f.take() == lines({
                        "route.installed family=ipv4 source=10.0.3.234 group=225.1.1.1 iif=a1 "
                        "oifs=a2 route=a1 (10.0.3.234, 225.1.1.1) origin=config owners=",
                        "route.active family=ipv4 route=a1 (10.0.3.234, 225.1.1.1) state=installed",
                    }));
  // Removed all at once: in bulk; routes that go leave without a state event.
  f.reload("phyint a1 enable\nphyint a2 enable\n");
  CHECK(f.take() == lines({
                        "bulk count=1002 kinds=route.removed reason=1002 events of one change, "
                        "more than 1000: left out; read the state again (route.list)",
                    }));
  f.check_consistent();
}
}  // namespace mfcd::test
