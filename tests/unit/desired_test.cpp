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

namespace mfcd::core {
namespace {

std::string status_text(const RouteStatus& s) {
  std::string out = std::string(route_state_name(s.state)) + " [" + s.reason + "] missing:";
  for (const auto& m : s.missing_oifs)
    out += " " + m;
  return out;
}

std::vector<std::string> status_lines(const Desired& d) {
  std::vector<std::string> out;
  for (const auto& [key, status] : d.status)
    out.push_back(key.str() + ": " + status_text(status));
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> use_lines(const Desired& d) {
  std::vector<std::string> out;
  for (size_t f = 0; f < 2; ++f)
    for (const auto& [name, use] : d.uses[f])
      out.push_back(std::to_string(f) + " " + name + " " + std::to_string(use.routes) +
                    (use.pinned ? " pinned" : ""));
  std::sort(out.begin(), out.end());
  return out;
}

// A tiny deterministic generator, so that a failure repeats exactly.
struct Rng {
  uint64_t state;
  uint64_t next() {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  }
  size_t below(size_t n) { return static_cast<size_t>(next() % n); }
};

}  // namespace

TEST_CASE("update_desired and make_plan_for give what the full path gives, on random changes") {
  // a6 exists but its phyint line disables it; nx does not exist. Only a1
  // and a2 are held by phyint lines, so changes can add and release VIFs.
  const Links links{{"a1", 2}, {"a2", 3}, {"a3", 4}, {"a4", 5}, {"a5", 6}, {"a6", 7}};
  const Names ifnames{"a1", "a2", "a3", "a4", "a5", "a6", "nx"};
  Config config = test::config_from(
      "phyint a1 enable\nphyint a2 enable\nphyint a6 disable\n"
      "mroute from a1 source 10.0.0.1 group 225.1.1.1 to a2 a3\n"
      "mroute from a2 source 10.0.0.1 group 225.1.1.1 to a3\n"
      "mroute from a1 source 10.0.0.2 group 225.1.1.2 to a2\n"
      "mroute from a3 source 10.0.0.2 group 225.1.1.2 to a4 a5\n"
      "mroute from a1 group 225.9.9.9 to a2\n");
  Intent intent;
  intent.load_config(config);
  test::FakeKernel kernel;
  Installed installed;
  Desired last = compute_desired(intent, links);
  (void)apply(kernel, installed, make_plan(installed, last));
  (void)intent.take_changes();

  Rng rng{0x9e3779b97f4a7c15ULL};
  int incremental = 0, full = 0, vif_changes = 0;
  for (int round = 0; round < 3000; ++round) {
    const int changes = 1 + static_cast<int>(rng.below(3));
    for (int c = 0; c < changes; ++c) {
      RouteRequest req;
      const std::string source = "10.0.0." + std::to_string(1 + rng.below(2));
      const std::string group = "225.1.1." + std::to_string(1 + rng.below(2));
      req.key = key_of(ifnames[rng.below(ifnames.size())], source, group);
      req.owner = rng.below(2) ? "api" : "other";
      for (size_t i = 0, n = rng.below(3); i < n; ++i)
        req.oifs.push_back(ifnames[rng.below(ifnames.size())]);
      switch (rng.below(6)) {
        case 0:
          intent.add_route(req);
          break;
        case 1:
          intent.set_route(req);
          break;
        default:
          // Mostly whole shares, so that routes come and go (and VIFs too).
          if (rng.below(4) != 0) req.oifs.clear();
          (void)intent.remove_route(req);
          break;
      }
    }
    if (round % 20 == 19) {
      // Now and then every route goes, config ones included: VIFs go too.
      for (const RouteIntent* r : intent.routes()) {
        const RouteKey key = r->key;
        while (intent.find_route(key)) {
          const auto* now = intent.find_route(key);
          (void)intent.remove_route(RouteRequest{key, {}, now->shares.begin()->first});
        }
      }
    }
    const Intent::Changes taken = intent.take_changes();
    const Desired want = compute_desired(intent, links);
    const Plan want_plan = make_plan(installed, want);
    const bool vif_change = std::any_of(
        want_plan.ops.begin(), want_plan.ops.end(),
        [](const Op& op) { return op.kind == Op::Kind::add_vif || op.kind == Op::Kind::del_vif; });
    vif_changes += vif_change ? 1 : 0;

    Desired got = last;
    Desired slice;
    auto sgs = update_desired(got, intent, links, taken, slice);
    std::optional<Plan> got_plan;
    if (sgs) got_plan = make_plan_for(installed, slice, *sgs);
    if (got_plan) {
      ++incremental;
      CHECK_FALSE(vif_change);
      INFO("round " << round);
      CHECK(test::op_lines(*got_plan) == test::op_lines(want_plan));
      CHECK(status_lines(got) == status_lines(want));
      CHECK(use_lines(got) == use_lines(want));
      // The same VIFs (their order only matters for VIFs still to be made,
      // and an incremental update never makes one).
      Names got_vifs = vif_names(got, Family::v4), want_vifs = vif_names(want, Family::v4);
      std::sort(got_vifs.begin(), got_vifs.end());
      std::sort(want_vifs.begin(), want_vifs.end());
      CHECK(got_vifs == want_vifs);
      for (const SgKey& sg : *sgs) {
        auto a = slice.mfc.find(sg);
        auto b = want.mfc.find(sg);
        REQUIRE((a == slice.mfc.end()) == (b == want.mfc.end()));
        if (a != slice.mfc.end()) {
          CHECK(a->second.iif == b->second.iif);
          CHECK(a->second.oifs == b->second.oifs);
          CHECK(a->second.route == b->second.route);
        }
      }
      last = std::move(got);
    } else {
      ++full;
      last = want;
    }
    CHECK(apply(kernel, installed, want_plan).empty());
  }
  // Both paths must have been exercised for the comparison to mean much.
  CHECK(incremental > 500);
  CHECK(vif_changes > 50);
  MESSAGE("incremental " << incremental << ", full " << full << ", VIF changes " << vif_changes);
}

}  // namespace mfcd::core
