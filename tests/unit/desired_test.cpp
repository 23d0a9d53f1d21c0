// Desired state: which interfaces get VIFs and in what order, which routes
// become kernel entries, and why the others do not.
#include "core/desired.hpp"
#include "budget.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <set>

#include "fakes.hpp"
#include "rng.hpp"

namespace mfcd::core {
namespace {

using test::apply;

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
  CHECK(e->oifs == Names{"a2", "a3", "a1"});  // its own iif named: a hairpin
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
  CHECK(s.reason == "outbound interfaces b7, b8 do not exist");
}

TEST_CASE("a route's reason names every interface it waits for, and why") {
  const Desired d = desired(
      "phyint a3 disable\n"
      "mroute from a1 source 10.0.0.1 group 225.1.1.1 to a2 b7\n"
      "mroute from b9 source 10.0.0.2 group 225.1.1.2 to a3 wg+ b7\n"
      "mroute from a1 group 225.1.1.3 to a3 a4\n"
      "mroute from a2 source 10.0.0.1 group 225.1.1.1 to a4\n",
      kLinks);
  CHECK(status_of(d, key_of("a1", "10.0.0.1", "225.1.1.1")).reason ==
        "outbound interface b7 does not exist");
  CHECK(status_of(d, key_of("b9", "10.0.0.2", "225.1.1.2")).reason ==
        "inbound interface b9 does not exist; outbound interface b7 does not exist; "
        "outbound interface a3 is disabled; no interface matches outbound wg+");
  CHECK(status_of(d, key_of("a1", "", "225.1.1.3")).reason ==
        "(*,G) rule: (S,G) entries are added as traffic arrives; outbound interface a3 is "
        "disabled");
  // Nothing missing: only what there was to say before.
  CHECK(status_of(d, key_of("a2", "10.0.0.1", "225.1.1.1")).reason ==
        "(10.0.0.1, 225.1.1.1) is already routed by a1 (10.0.0.1, 225.1.1.1)");
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

using test::apply;

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
                    (use.pinned ? " pinned" : "") + " in " + std::to_string(use.inbound));
  std::sort(out.begin(), out.end());
  return out;
}

using test::Rng;

}  // namespace

TEST_CASE("update_desired and make_plan_for give what the full path gives, on random changes" *
          doctest::test_suite("randomized")) {
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
  const int rounds = test::scaled(3000);
  for (int round = 0; round < rounds; ++round) {
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
  CHECK(incremental > rounds / 6);
  CHECK(vif_changes > rounds / 60);
  MESSAGE("incremental " << incremental << ", full " << full << ", VIF changes " << vif_changes);
}

}  // namespace mfcd::core

namespace mfcd::core {
namespace {

using test::apply;

// A route line of the config the reload test edits.
struct Line {
  std::string iif;
  int source = 1, group = 1;  // 10.0.0.S, 225.1.1.G
  Names oifs;
};

std::string text_of(const std::string& phyints, const std::vector<Line>& lines) {
  std::string text = phyints;
  for (const Line& l : lines) {
    if (l.iif.empty()) {
      text += "# a line that only moves the others\n";
      continue;
    }
    text += "mroute from " + l.iif + " source 10.0.0." + std::to_string(l.source) +
            " group 225.1.1." + std::to_string(l.group) + " to";
    for (const auto& oif : l.oifs)
      text += " " + oif;
    text += "\n";
  }
  return text;
}

// Each route's config share, to tell which ones a reload really changed.
std::map<std::string, Names> config_shares(const Intent& intent) {
  std::map<std::string, Names> out;
  for (const RouteIntent* r : intent.routes()) {
    if (auto it = r->shares.find(kConfigOwner); it != r->shares.end())
      out[r->key.str()] = it->second;
  }
  return out;
}

std::vector<std::string> route_lines(const Intent& intent) {
  std::vector<std::string> out;
  for (const RouteIntent* r : intent.routes()) {
    std::string line = r->key.str() + " seq " + std::to_string(r->seq) + " pos " +
                       (r->pos ? r->pos->str() : "-") + " oifs";
    for (const auto& [owner, share] : r->shares) {
      line += " " + owner + ":";
      for (const auto& oif : share)
        line += oif + ",";
    }
    out.push_back(line);
  }
  return out;
}

}  // namespace

TEST_CASE("a reload's incremental path ends where the full path does, on random edits" *
          doctest::test_suite("randomized")) {
  // As in the test above: a6 is disabled by its phyint line, nx does not
  // exist, only a1 and a2 are held by phyint lines. Few sources and groups,
  // so routes share (S,G)s (standby) and lines name the same route twice.
  const Links links{{"a1", 2}, {"a2", 3}, {"a3", 4}, {"a4", 5}, {"a5", 6}, {"a6", 7}};
  const Names ifnames{"a1", "a2", "a3", "a4", "a5", "a6", "nx"};
  const std::vector<std::string> phyint_sets{
      "phyint a1 enable\nphyint a2 enable\nphyint a6 disable\n",
      "phyint a1 enable\nphyint a2 enable\nphyint a6 disable\nphyint a3 enable ttl-threshold 3\n",
      "phyint a1 enable\nphyint a2 enable\n"};
  Rng rng{0x2545f4914f6cdd1dULL};
  // Config lines name one OIF at least, never their own inbound interface.
  auto random_oifs = [&](const std::string& iif) {
    Names oifs;
    for (size_t i = 0, n = 1 + rng.below(3); i < n; ++i) {
      const std::string& oif = ifnames[rng.below(ifnames.size())];
      if (oif != iif && std::find(oifs.begin(), oifs.end(), oif) == oifs.end()) oifs.push_back(oif);
    }
    if (oifs.empty()) oifs.push_back(iif == "a5" ? "a4" : "a5");
    return oifs;
  };
  auto random_line = [&] {
    Line l;
    l.iif = ifnames[rng.below(ifnames.size())];
    l.source = 1 + static_cast<int>(rng.below(4));
    l.group = 1 + static_cast<int>(rng.below(4));
    l.oifs = random_oifs(l.iif);
    return l;
  };
  std::vector<Line> lines;
  for (int i = 0; i < 12; ++i)
    lines.push_back(random_line());
  size_t phyints = 0;

  Intent intent;
  intent.load_config(test::config_from(text_of(phyint_sets[phyints], lines)));
  test::FakeKernel kernel;
  Installed installed;
  Desired last = compute_desired(intent, links);
  REQUIRE(apply(kernel, installed, make_plan(installed, last)).empty());
  (void)intent.take_changes();

  int incremental = 0, full = 0, quiet = 0, writes = 0;
  const int rounds = test::scaled(2000);
  for (int round = 0; round < rounds; ++round) {
    INFO("round " << round);
    // Now and then an API client changes a route in between, applied the
    // way the service does.
    if (rng.below(4) == 0) {
      Line l = random_line();
      RouteRequest req{RouteKey{l.iif, *parse_prefix("10.0.0." + std::to_string(l.source)).prefix,
                                *parse_prefix("225.1.1." + std::to_string(l.group)).prefix},
                       l.oifs, "api"};
      if (rng.below(2) == 0)
        intent.add_route(req);
      else
        (void)intent.remove_route(RouteRequest{req.key, {}, rng.below(2) ? "api" : "mfcctl"});
      (void)intent.take_changes();
      last = compute_desired(intent, links);
      CHECK(apply(kernel, installed, make_plan(installed, last)).empty());
    }

    // Edit the file: remove, add, re-point, move and duplicate lines.
    for (size_t e = 0, n = rng.below(4); e < n; ++e) {
      switch (rng.below(7)) {
        case 0:
          if (!lines.empty())
            lines.erase(lines.begin() + static_cast<long>(rng.below(lines.size())));
          break;
        case 1:
          lines.insert(lines.begin() + static_cast<long>(rng.below(lines.size() + 1)),
                       random_line());
          break;
        case 2:
        case 3:
          if (!lines.empty()) {
            Line& l = lines[rng.below(lines.size())];
            l.oifs = random_oifs(l.iif);
          }
          break;
        case 4:
          if (!lines.empty()) {
            const size_t from = rng.below(lines.size());
            Line l = lines[from];
            lines.erase(lines.begin() + static_cast<long>(from));
            lines.insert(lines.begin() + static_cast<long>(rng.below(lines.size() + 1)), l);
          }
          break;
        case 5:
          if (!lines.empty()) {  // the same route once more, other OIFs
            Line l = lines[rng.below(lines.size())];
            l.oifs = random_oifs(l.iif);
            lines.insert(lines.begin() + static_cast<long>(rng.below(lines.size() + 1)), l);
          }
          break;
        default:
          lines.insert(lines.begin() + static_cast<long>(rng.below(lines.size() + 1)), Line{});
          break;
      }
    }
    if (rng.below(25) == 0) phyints = rng.below(phyint_sets.size());
    const Config config = test::config_from(text_of(phyint_sets[phyints], lines));

    // The dry run's way: a copy, every line looked up.
    Intent copy = intent;
    Intent::LoadReport copy_report;
    copy.load_config(config, &copy_report);

    const auto shares_before = config_shares(intent);
    Intent::LoadReport report;
    intent.load_config(config, &report);
    const Intent::Changes changes = intent.take_changes();
    CHECK(route_lines(intent) == route_lines(copy));

    // Precise: what is noted is exactly what changed in the config shares.
    const auto shares_after = config_shares(intent);
    std::set<std::string> really;
    for (const auto& [key, share] : shares_before) {
      auto it = shares_after.find(key);
      if (it == shares_after.end() || it->second != share) really.insert(key);
    }
    for (const auto& [key, share] : shares_after)
      if (!shares_before.count(key)) really.insert(key);
    std::set<std::string> reported, copy_reported;
    for (const auto& t : report.touched)
      reported.insert(t.key.str());
    for (const auto& t : copy_report.touched)
      copy_reported.insert(t.key.str());
    CHECK(reported == really);
    CHECK(copy_reported == really);
    if (!changes.all) {
      std::set<std::string> noted;
      for (const auto& c : changes.list)
        noted.insert(c.key.str());
      CHECK(noted == really);
    }

    const Desired want = compute_desired(intent, links);
    const Plan want_plan = make_plan(installed, want);
    writes += static_cast<int>(want_plan.ops.size());
    if (!changes.all && changes.list.empty()) {
      // Nothing to do, and the full path agrees: no kernel write at all.
      ++quiet;
      CHECK(want_plan.ops.empty());
      CHECK(status_lines(last) == status_lines(want));
    } else {
      Desired got = last;
      Desired slice;
      std::optional<Plan> got_plan;
      if (!changes.all) {
        if (auto sgs = update_desired(got, intent, links, changes, slice))
          got_plan = make_plan_for(installed, slice, *sgs);
      }
      if (got_plan) {
        ++incremental;
        CHECK(test::op_lines(*got_plan) == test::op_lines(want_plan));
        CHECK(status_lines(got) == status_lines(want));
        CHECK(use_lines(got) == use_lines(want));
        last = std::move(got);
      } else {
        ++full;
        last = want;
      }
    }
    CHECK(apply(kernel, installed, want_plan).empty());
    CHECK(kernel.table() == test::state_lines(installed));
  }
  CHECK(incremental > rounds * 3 / 20);
  CHECK(full > rounds * 3 / 200);
  CHECK(quiet > rounds / 40);
  MESSAGE("reloads: incremental " << incremental << ", full " << full << ", nothing to do " << quiet
                                  << "; kernel writes " << writes);
}

TEST_CASE("a reload of a big table with a hundred changes takes the incremental path") {
  const Links links{{"a1", 2}, {"a2", 3}, {"a3", 4}};
  auto text = [](int removed_every, int changed_every, int added) {
    std::string out = "phyint a1 enable\nphyint a2 enable\nphyint a3 enable\n";
    for (int i = 0; i < 4000; ++i) {
      if (removed_every && i % removed_every == 1) continue;
      out += "mroute from a1 source 10.0." + std::to_string(i / 250) + "." +
             std::to_string(i % 250 + 1) + " group 225.1.1.1 to " +
             (changed_every && i % changed_every == 2 ? "a3" : "a2") + "\n";
    }
    for (int i = 0; i < added; ++i)
      out += "mroute from a1 source 10.1.0." + std::to_string(i + 1) + " group 225.1.1.1 to a3\n";
    return out;
  };
  Intent intent;
  intent.load_config(test::config_from(text(0, 0, 0)));
  test::FakeKernel kernel;
  kernel.record = false;
  Installed installed;
  Desired last = compute_desired(intent, links);
  REQUIRE(apply(kernel, installed, make_plan(installed, last)).empty());
  (void)intent.take_changes();

  // 34 removed, 34 re-pointed, 32 new: 100 of 4,000.
  intent.load_config(test::config_from(text(120, 120, 32)));
  const Intent::Changes changes = intent.take_changes();
  REQUIRE_FALSE(changes.all);
  CHECK(changes.list.size() == 100);
  Desired slice;
  auto sgs = update_desired(last, intent, links, changes, slice);
  REQUIRE(sgs.has_value());
  auto plan = make_plan_for(installed, slice, *sgs);
  REQUIRE(plan.has_value());
  const Desired want = compute_desired(intent, links);
  const Plan want_plan = make_plan(installed, want);
  CHECK(test::op_lines(*plan) == test::op_lines(want_plan));
  CHECK(plan->ops.size() == 100);
  CHECK(status_lines(last) == status_lines(want));
}

}  // namespace mfcd::core
