// Desired state: which interfaces get VIFs and in what order, which routes
// become kernel entries, and why the others do not.
#include "core/desired.hpp"

#include <doctest/doctest.h>

#include "fake_kernel.hpp"

namespace mfcd::core {
namespace {

using test::desired;
using Names = std::vector<std::string>;

Names vif_names(const Desired& d, Family f) {
  Names out;
  for (const auto& v : d.vifs[family_index(f)])
    out.push_back(v.ifname);
  return out;
}

RouteKey key_of(const std::string& iif, const std::string& source, const std::string& group) {
  return RouteKey{iif, source.empty() ? std::nullopt : parse_prefix(source).prefix,
                  *parse_prefix(group).prefix};
}

const RouteStatus& status_of(const Desired& d, const RouteKey& key) {
  auto it = d.status.find(key);
  REQUIRE_MESSAGE(it != d.status.end(), key.str());
  return it->second;
}

const DesiredMfc* entry(const Desired& d, const std::string& source, const std::string& group) {
  auto it = d.mfc.find(SgKey{*Addr::parse(source), *Addr::parse(group)});
  return it == d.mfc.end() ? nullptr : &it->second;
}

const Links kLinks{{"a1", 2}, {"a2", 3}, {"a3", 4}, {"a4", 5}};

}  // namespace

TEST_CASE("phyints come first, in config order, in both families") {
  const Desired d = desired(
      "phyint a3 enable\n"
      "phyint a9 enable\n"  // does not exist: no VIF
      "phyint a1 enable ttl-threshold 5\n"
      "mroute from a2 source 10.0.0.1 group 225.1.1.1 to a4 a1\n"
      "mroute from a4 source 2001:db8::1 group ff05::1 to a2\n",
      kLinks);
  CHECK(vif_names(d, Family::v4) == Names{"a3", "a1", "a2", "a4"});
  CHECK(vif_names(d, Family::v6) == Names{"a3", "a1", "a4", "a2"});
  CHECK(d.vifs[0][1].ttl_threshold == 5);
  CHECK(d.vifs[0][1].ifindex == 2);
  CHECK(d.vifs[0][0].ttl_threshold == 1);
  CHECK(d.warnings.empty());
}

TEST_CASE("an (S,G) route with its interfaces present is installed") {
  const Desired d = desired("mroute from a1 source 10.0.0.1 group 225.1.1.1 to a2 a3 a1\n", kLinks);
  const DesiredMfc* e = entry(d, "10.0.0.1", "225.1.1.1");
  REQUIRE(e);
  CHECK(e->iif == "a1");
  CHECK(e->oifs == Names{"a2", "a3"});  // never its own iif
  CHECK(e->route == key_of("a1", "10.0.0.1", "225.1.1.1"));
  CHECK_FALSE(e->dynamic);
  const RouteStatus& s = status_of(d, e->route);
  CHECK(s.state == RouteState::installed);
  CHECK(s.missing_oifs.empty());
  CHECK(route_state_name(s.state) == "installed");
}

TEST_CASE("a missing inbound interface makes the route pending") {
  const Desired d = desired("mroute from wg0 source 10.0.0.1 group 225.1.1.1 to a2\n", kLinks);
  CHECK(d.mfc.empty());
  const RouteStatus& s = status_of(d, key_of("wg0", "10.0.0.1", "225.1.1.1"));
  CHECK(s.state == RouteState::pending);
  CHECK(s.reason == "inbound interface wg0 does not exist");
  // Its OIFs still get their VIFs, so numbering does not shift when wg0 comes.
  CHECK(vif_names(d, Family::v4) == Names{"a2"});
}

TEST_CASE("missing OIFs are left out and listed") {
  const Desired d = desired("mroute from a1 source 10.0.0.1 group 225.1.1.1 to b7 a2 b8\n", kLinks);
  const DesiredMfc* e = entry(d, "10.0.0.1", "225.1.1.1");
  REQUIRE(e);
  CHECK(e->oifs == Names{"a2"});
  const RouteStatus& s = status_of(d, e->route);
  CHECK(s.state == RouteState::installed);
  CHECK(s.missing_oifs == Names{"b7", "b8"});
}

TEST_CASE("the same (S,G) from two inbound interfaces: the older route wins") {
  Intent intent;
  intent.load_config(
      test::config_from("mroute from a1 source 10.0.0.1 group 225.1.1.1 to a3\n"
                        "mroute from a2 source 10.0.0.1 group 225.1.1.1 to a4\n"));
  Desired d = compute_desired(intent, kLinks);
  REQUIRE(d.mfc.size() == 1);
  CHECK(entry(d, "10.0.0.1", "225.1.1.1")->iif == "a1");
  CHECK(status_of(d, key_of("a1", "10.0.0.1", "225.1.1.1")).state == RouteState::installed);
  const RouteStatus& standby = status_of(d, key_of("a2", "10.0.0.1", "225.1.1.1"));
  CHECK(standby.state == RouteState::standby);
  CHECK(standby.reason == "(10.0.0.1, 225.1.1.1) is already routed by a1 (10.0.0.1, 225.1.1.1)");

  // When the winner's interface goes away, the standby takes over.
  const Links without_a1{{"a2", 3}, {"a3", 4}, {"a4", 5}};
  d = compute_desired(intent, without_a1);
  REQUIRE(entry(d, "10.0.0.1", "225.1.1.1"));
  CHECK(entry(d, "10.0.0.1", "225.1.1.1")->iif == "a2");
  CHECK(status_of(d, key_of("a1", "10.0.0.1", "225.1.1.1")).state == RouteState::pending);
}

TEST_CASE("(*,G) and range routes are rules, not entries, but their interfaces get VIFs") {
  const Desired d = desired(
      "mroute from a1 group 225.1.1.1 to a2\n"
      "mroute from a3 source 10.0.0.0/24 group 225.1.1.2 to a4\n"
      "mroute from a3 source 10.0.0.1 group 225.2.0.0/16 to a2\n",
      kLinks);
  CHECK(d.mfc.empty());
  CHECK(status_of(d, key_of("a1", "", "225.1.1.1")).state == RouteState::rule);
  CHECK(status_of(d, key_of("a3", "10.0.0.0/24", "225.1.1.2")).state == RouteState::rule);
  CHECK(status_of(d, key_of("a3", "10.0.0.1", "225.2.0.0/16")).state == RouteState::rule);
  CHECK(vif_names(d, Family::v4) == Names{"a1", "a2", "a3", "a4"});
  CHECK(vif_names(d, Family::v6).empty());
}

TEST_CASE("wildcards resolve against the links that exist") {
  const Links links{{"lan0", 2}, {"eth1", 3}, {"eth0", 4}, {"eth2", 5}};
  SUBCASE("a wildcard OIF is every match except the iif") {
    const Desired d =
        desired("mroute from eth0 source 10.0.0.1 group 225.1.1.1 to eth+ lan0\n", links);
    CHECK(entry(d, "10.0.0.1", "225.1.1.1")->oifs == Names{"eth1", "eth2", "lan0"});
    CHECK(vif_names(d, Family::v4) == Names{"eth0", "eth1", "eth2", "lan0"});
  }
  SUBCASE("a wildcard iif takes the first match in link order") {
    const Desired d =
        desired("mroute from eth+ source 10.0.0.1 group 225.1.1.1 to lan0 e+\n", links);
    const DesiredMfc* e = entry(d, "10.0.0.1", "225.1.1.1");
    REQUIRE(e);
    CHECK(e->iif == "eth1");
    CHECK(e->oifs == Names{"lan0", "eth0", "eth2"});
    CHECK(vif_names(d, Family::v4) == Names{"eth1", "eth0", "eth2", "lan0"});
  }
  SUBCASE("a wildcard that matches nothing") {
    const Desired d = desired(
        "mroute from wg+ source 10.0.0.1 group 225.1.1.1 to lan0\n"
        "mroute from lan0 source 10.0.0.2 group 225.1.1.1 to wg+\n",
        links);
    const RouteStatus& s = status_of(d, key_of("wg+", "10.0.0.1", "225.1.1.1"));
    CHECK(s.state == RouteState::pending);
    CHECK(s.reason == "no interface matches inbound wg+");
    CHECK(status_of(d, key_of("lan0", "10.0.0.2", "225.1.1.1")).missing_oifs == Names{"wg+"});
  }
  SUBCASE("a wildcard phyint enables every match") {
    const Desired d = desired("phyint eth+ enable ttl-threshold 3\nphyint eth0 disable\n", links);
    CHECK(vif_names(d, Family::v4) == Names{"eth1", "eth2"});
    CHECK(d.vifs[0][0].ttl_threshold == 3);
  }
}

TEST_CASE("a disabled phyint never gets a VIF and routes naming it are told") {
  const Desired d = desired(
      "phyint a2 disable\n"
      "phyint a1 enable\n"
      "mroute from a2 source 10.0.0.1 group 225.1.1.1 to a3\n"
      "mroute from a1 source 10.0.0.2 group 225.1.1.1 to a2 a3\n",
      kLinks);
  CHECK(vif_names(d, Family::v4) == Names{"a1", "a3"});
  CHECK(vif_names(d, Family::v6) == Names{"a1"});
  const RouteStatus& in = status_of(d, key_of("a2", "10.0.0.1", "225.1.1.1"));
  CHECK(in.state == RouteState::pending);
  CHECK(in.reason == "inbound interface a2 is disabled");
  const RouteStatus& out = status_of(d, key_of("a1", "10.0.0.2", "225.1.1.1"));
  CHECK(out.state == RouteState::installed);
  CHECK(out.missing_oifs == Names{"a2"});
  CHECK(entry(d, "10.0.0.2", "225.1.1.1")->oifs == Names{"a3"});
  REQUIRE(d.warnings.size() == 2);
  CHECK(d.warnings[0].warning);
  CHECK(d.warnings[0].pos.line == 3);
  CHECK(d.warnings[0].message ==
        "route a2 (10.0.0.1, 225.1.1.1) names interface a2, which is disabled by its phyint "
        "line; treated as absent");
}

TEST_CASE("IPv6 routes use MIFs of their own family only") {
  const Desired d = desired("mroute from a1 source 2001:db8::1 group ff05::1 to a2\n", kLinks);
  CHECK(vif_names(d, Family::v4).empty());
  CHECK(vif_names(d, Family::v6) == Names{"a1", "a2"});
  REQUIRE(entry(d, "2001:db8::1", "ff05::1"));
  CHECK(entry(d, "2001:db8::1", "ff05::1")->oifs == Names{"a2"});
}

}  // namespace mfcd::core
