// The Router's fixture works end to end: a start, an API route, a refusal.
#include <doctest/doctest.h>

#include "router_fixture.hpp"

namespace mfcd::test {
namespace {

TEST_CASE("router: a start writes the config; a route.add writes one entry") {
  RouterFixture f({{"a1", 2, true, true, false}, {"a2", 3, true, true, false}});
  f.start(
      "phyint a1 enable\nphyint a2 enable\n"
      "mroute from a1 source 10.0.0.1 group 225.1.1.1 to a2\n");
  CHECK(f.kernel.table() == std::vector<std::string>{
                                "mfc 10.0.0.1,225.1.1.1 iif=a1 oifs=a2",
                                "vif ipv4 0 a1 ifindex=2 ttl=1",
                                "vif ipv4 1 a2 ifindex=3 ttl=1",
                                "vif ipv6 0 a1 ifindex=2 ttl=1",
                                "vif ipv6 1 a2 ifindex=3 ttl=1",
                            });
  f.check_consistent();
  f.kernel.calls.clear();

  auto out = f.router.add_route(route_request("a1", "10.0.0.1", "225.1.2.2", {"a2"}));
  REQUIRE(std::holds_alternative<std::optional<core::RouteIntent>>(out));
  CHECK(f.kernel.calls == Calls{"add_mfc 10.0.0.1,225.1.2.2 iif=a1 oifs=a2"});
  f.check_consistent();
}

TEST_CASE("router: a refused route.add names its op and leaves everything as it was") {
  RouterFixture f({{"a1", 2, true, true, false}, {"a2", 3, true, true, false}});
  f.start("phyint a1 enable\nphyint a2 enable\n");
  const auto before = f.kernel.table();
  f.kernel.calls.clear();
  f.kernel.fail("add_mfc 10.0.0.1,225.1.2.2", ENOBUFS);
  auto out = f.router.add_route(route_request("a1", "10.0.0.1", "225.1.2.2", {"a2"}));
  REQUIRE(std::holds_alternative<router::Refusal>(out));
  const auto& refusal = std::get<router::Refusal>(out);
  REQUIRE(refusal.failure);
  CHECK(refusal.failure->what == "add_mfc (10.0.0.1, 225.1.2.2)");
  CHECK(refusal.error.sys_errno == ENOBUFS);
  CHECK(f.router.model().intent.route_count() == 0);
  CHECK(f.kernel.table() == before);
  f.check_consistent();
}

}  // namespace
}  // namespace mfcd::test
