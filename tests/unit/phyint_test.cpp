// Several phyint lines matching one interface: core::resolve_phyint's rule,
// and every place that reads phyint lines following it. The issue's case,
// "phyint eth0 enable mrdisc" then "phyint eth+ disable", once used to give
// eth0 a VIF but no router discovery, and interface.list called it disabled;
// each view is checked on it here.
#include "core/phyint.hpp"

#include <doctest/doctest.h>

#include <set>
#include <string>

#include "api_fixture.hpp"
#include "core/desired.hpp"
#include "core/quick_start.hpp"
#include "router/reload.hpp"

namespace mfcd::test {
namespace {

// The issue's two lines, with a longer wildcard between them: eth0 is named
// exactly, eth1 by the more specific wildcard, eth2 only by "eth+", and
// wan0 by nothing.
const std::string kIssue =
    "phyint eth0 enable mrdisc\n"
    "phyint eth1+ enable mrdisc ttl-threshold 3\n"
    "phyint eth+ disable\n";
const std::string kRoute = "mroute from wan0 source 10.0.0.1 group 225.1.1.1 to eth0 eth1 eth2\n";
const core::Links kEth = {{"eth0", 2, true, true, false},
                          {"eth1", 3, true, true, false},
                          {"eth2", 4, true, true, false},
                          {"wan0", 5, true, true, false}};

// Who decides for `ifname`: "file:line", or "-" for no line.
std::string decider(const std::string& text, const std::string& ifname) {
  const core::Config config = config_from(text);
  const core::PhyintSettings s = core::resolve_phyint(config, ifname);
  return s.line ? std::to_string(s.line->pos.line) : "-";
}

std::vector<std::string> vif_names(const core::Desired& desired, size_t family) {
  std::vector<std::string> out;
  for (const auto& vif : desired.vifs[family])
    out.push_back(vif.ifname);
  return out;
}

}  // namespace

TEST_CASE("phyint rule: the most specific line decides; among equals the later one") {
  // Exact beats wildcard, in either order.
  CHECK(decider("phyint eth0 enable\nphyint eth+ disable\n", "eth0") == "1");
  CHECK(decider("phyint eth+ disable\nphyint eth0 enable\n", "eth0") == "2");
  // A longer stem beats a shorter one, in either order.
  CHECK(decider("phyint eth1+ enable\nphyint eth+ disable\nphyint + disable\n", "eth10") == "1");
  CHECK(decider("phyint + disable\nphyint eth+ disable\nphyint eth1+ enable\n", "eth10") == "3");
  CHECK(decider("phyint eth1+ enable\nphyint eth+ disable\n", "eth2") == "2");
  // Equals: the later line.
  CHECK(decider("phyint eth0 enable\nphyint eth0 disable\n", "eth0") == "2");
  CHECK(decider("phyint eth+ enable\nphyint eth+ disable\n", "eth3") == "2");
  // No match: the defaults.
  CHECK(decider("phyint eth+ disable\n", "wan0") == "-");
  const core::PhyintSettings none =
      core::resolve_phyint(config_from("phyint eth+ disable\n"), "wan0");
  CHECK(none.enabled);
  CHECK(none.ttl_threshold == 1);
  CHECK_FALSE(none.mrdisc);
}

TEST_CASE("phyint rule: one line decides alone; router discovery needs the interface enabled") {
  const core::Config config = config_from(
      "phyint eth+ enable ttl-threshold 9 mrdisc\nphyint eth0 enable\nphyint eth1 disable "
      "mrdisc\n");
  const core::PhyintSettings eth0 = core::resolve_phyint(config, "eth0");
  CHECK(eth0.enabled);
  CHECK(eth0.ttl_threshold == 1);  // not merged with the wildcard's 9
  CHECK_FALSE(eth0.mrdisc);
  CHECK_FALSE(core::resolve_phyint(config, "eth1").mrdisc);
  const core::PhyintSettings eth2 = core::resolve_phyint(config, "eth2");
  CHECK(eth2.ttl_threshold == 9);
  CHECK(eth2.mrdisc);
}

TEST_CASE("phyint rule, the issue's case: the VIF decision follows it") {
  core::Intent intent;
  intent.load_config(config_from(kIssue + kRoute));
  const core::Desired desired = core::compute_desired(intent, kEth);
  CHECK(vif_names(desired, 0) == std::vector<std::string>{"eth0", "eth1", "wan0"});
  CHECK(vif_names(desired, 1) == std::vector<std::string>{"eth0", "eth1"});
  CHECK(desired.vifs[0][1].ttl_threshold == 3);
  const core::RouteStatus& st = desired.status.begin()->second;
  CHECK(st.missing_oifs == std::vector<std::string>{"eth2"});
}

TEST_CASE("phyint rule, the issue's case: the quick start numbers the VIFs as the regular path") {
  const core::Config config = config_from(kIssue + kRoute);
  const auto quick = core::plan_quick_start(config, kEth, true);
  REQUIRE(quick);
  std::vector<std::string> vifs;
  for (const auto& vif : quick->vifs)
    vifs.push_back(std::string(core::family_name(vif.family)) + " " + std::to_string(vif.vif) +
                   " " + vif.ifname + " ttl=" + std::to_string(vif.ttl_threshold));
  CHECK(vifs == std::vector<std::string>{"ipv4 0 eth0 ttl=1", "ipv4 1 eth1 ttl=3",
                                         "ipv4 2 wan0 ttl=1", "ipv6 0 eth0 ttl=1",
                                         "ipv6 1 eth1 ttl=3"});
  REQUIRE(quick->entries.size() == 1);
  CHECK(quick->entries[0].oifs == 0b11u);  // eth0 and eth1, not eth2
}

TEST_CASE("phyint rule, the issue's case: router discovery runs where it says mrdisc") {
  RouterFixture f(kEth);
  f.start(kIssue);
  CHECK(router::mrdisc_interfaces(f.router.model()) == std::set<std::string>{"eth0", "eth1"});
  CHECK(f.listener.events == Calls{"mrdisc eth0,eth1"});
}

TEST_CASE("phyint rule, the issue's case: interface.list says what the VIF decision does") {
  ApiFixture f(kEth);
  f.start(kIssue);
  const nlohmann::json list = f.result("interface.list").at("interfaces");
  std::vector<std::string> rows;
  for (const auto& i : list)
    rows.push_back(i.at("name").get<std::string>() + " enabled=" + i.at("enabled").dump() +
                   " ttl=" + i.at("ttl_threshold").dump() + " vif=" + i.at("vif").dump());
  CHECK(rows == std::vector<std::string>{
                    "eth0 enabled=true ttl=1 vif=0", "eth1 enabled=true ttl=3 vif=1",
                    "eth2 enabled=false ttl=1 vif=null", "wan0 enabled=true ttl=1 vif=null"});
}

}  // namespace mfcd::test
