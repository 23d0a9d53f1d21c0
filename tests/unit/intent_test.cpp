// Intent: owners' shares of routes, how add/set/remove change them, and how a
// config reload replaces only the config's shares.
#include "core/intent.hpp"

#include <doctest/doctest.h>

#include <algorithm>

#include "fakes.hpp"

namespace mfcd::core {
namespace {

using test::config_from;
using Names = std::vector<std::string>;

Prefix pfx(const std::string& text) {
  auto parsed = parse_prefix(text);
  REQUIRE_MESSAGE(parsed.prefix.has_value(), parsed.error);
  return *parsed.prefix;
}

RouteKey sg(const std::string& iif, const std::string& source, const std::string& group) {
  return RouteKey{iif, source.empty() ? std::nullopt : std::optional<Prefix>(pfx(source)),
                  pfx(group)};
}

RouteRequest req(const RouteKey& key, Names oifs, std::string owner = "api") {
  return RouteRequest{key, std::move(oifs), std::move(owner)};
}

Names keys_of(const Intent& intent) {
  Names out;
  for (const auto* r : intent.routes())
    out.push_back(r->key.str());
  return out;
}

}  // namespace

TEST_CASE("route key prints as iif (S, G)") {
  CHECK(sg("a1", "10.0.0.1", "225.1.1.1").str() == "a1 (10.0.0.1, 225.1.1.1)");
  CHECK(sg("a1", "", "225.1.0.0/16").str() == "a1 (*, 225.1.0.0/16)");
  CHECK(sg("a1", "2001:db8::1", "ff05::1").str() == "a1 (2001:db8::1, ff05::1)");
}

TEST_CASE("add merges OIFs into the owner's share; owners add up") {
  Intent intent;
  const auto key = sg("a1", "10.0.0.1", "225.1.1.1");
  const uint64_t g0 = intent.generation();
  intent.add_route(req(key, {"a2"}));
  intent.add_route(req(key, {"a3", "a2"}));
  CHECK(intent.generation() > g0);
  const RouteIntent* r = intent.find_route(key);
  REQUIRE(r);
  CHECK(r->shares.at("api") == Names{"a2", "a3"});
  CHECK(r->from_api());
  CHECK_FALSE(r->from_config());

  intent.add_route(req(key, {"a4", "a2"}, "orchestrator"));
  CHECK(intent.find_route(key)->oifs() == Names{"a2", "a3", "a4"});
  CHECK(intent.find_route(key)->api_owners() == Names{"api", "orchestrator"});
  CHECK(intent.route_count() == 1);
}

TEST_CASE("set makes the owner's share exact and leaves other owners alone") {
  Intent intent;
  const auto key = sg("a1", "10.0.0.1", "225.1.1.1");
  intent.add_route(req(key, {"a2", "a3"}));
  intent.add_route(req(key, {"a5"}, "other"));
  intent.set_route(req(key, {"a4", "a4"}));
  CHECK(intent.find_route(key)->shares.at("api") == Names{"a4"});
  CHECK(intent.find_route(key)->oifs() == Names{"a4", "a5"});
  // An empty set is a stop filter for that owner: the route stays.
  intent.set_route(req(key, {}));
  CHECK(intent.find_route(key)->shares.at("api").empty());
  CHECK(intent.find_route(key)->oifs() == Names{"a5"});
}

TEST_CASE("remove without OIFs drops the owner's share; the last share drops the route") {
  Intent intent;
  const auto key = sg("a1", "10.0.0.1", "225.1.1.1");
  intent.add_route(req(key, {"a2"}, "one"));
  intent.add_route(req(key, {"a3"}, "two"));

  auto after = intent.remove_route(req(key, {}, "one"));
  REQUIRE(after.has_value());
  REQUIRE(after->has_value());
  CHECK((*after)->oifs() == Names{"a3"});

  after = intent.remove_route(req(key, {}, "two"));
  REQUIRE(after.has_value());
  CHECK_FALSE(after->has_value());
  CHECK(intent.find_route(key) == nullptr);
  CHECK(intent.route_count() == 0);
}

TEST_CASE("remove with OIFs removes only those") {
  Intent intent;
  const auto key = sg("a1", "10.0.0.1", "225.1.1.1");
  intent.add_route(req(key, {"a2", "a3", "a4"}));
  auto after = intent.remove_route(req(key, {"a3", "a9"}));
  REQUIRE(after.has_value());
  CHECK((*after)->oifs() == Names{"a2", "a4"});
  // Removing every OIF leaves a stop filter, not nothing.
  after = intent.remove_route(req(key, {"a2", "a4"}));
  REQUIRE(after.has_value());
  REQUIRE(after->has_value());
  CHECK((*after)->oifs().empty());
}

TEST_CASE("remove reports what did not match") {
  Intent intent;
  const auto key = sg("a1", "10.0.0.1", "225.1.1.1");
  const uint64_t g0 = intent.generation();
  auto missing = intent.remove_route(req(key, {}));
  REQUIRE_FALSE(missing.has_value());
  CHECK(missing.error().code == Errc::not_found);
  CHECK(missing.error().message == "no route a1 (10.0.0.1, 225.1.1.1)");
  CHECK(intent.generation() == g0);

  intent.add_route(req(key, {"a2"}, "one"));
  auto other = intent.remove_route(req(key, {}, "two"));
  REQUIRE_FALSE(other.has_value());
  CHECK(other.error().code == Errc::not_found);
  CHECK(other.error().message ==
        "route a1 (10.0.0.1, 225.1.1.1) is not held by owner 'two' (held by one)");

  auto no_oif = intent.remove_route(req(key, {"a7"}, "one"));
  REQUIRE_FALSE(no_oif.has_value());
  CHECK(no_oif.error().message ==
        "route a1 (10.0.0.1, 225.1.1.1) has no outbound interface a7 from owner 'one'");
  CHECK(intent.find_route(key)->oifs() == Names{"a2"});
}

TEST_CASE("remove by an owner without a share changes the config's share") {
  Intent intent;
  intent.load_config(config_from("mroute from a1 source 10.0.0.1 group 225.1.1.1 to a2 a3\n"));
  const auto key = sg("a1", "10.0.0.1", "225.1.1.1");
  auto after = intent.remove_route(req(key, {"a3"}, "mfcctl"));
  REQUIRE(after.has_value());
  CHECK(intent.find_route(key)->shares.at(kConfigOwner) == Names{"a2"});

  after = intent.remove_route(req(key, {}, "mfcctl"));
  REQUIRE(after.has_value());
  CHECK_FALSE(after->has_value());
  CHECK(intent.route_count() == 0);
}

TEST_CASE("reload replaces config shares and keeps API shares") {
  Intent intent;
  intent.load_config(
      config_from("phyint a1 enable\n"
                  "mroute from a1 source 10.0.0.1 group 225.1.1.1 to a2\n"
                  "mroute from a1 source 10.0.0.2 group 225.1.1.1 to a2\n"
                  "mroute from a1 source 10.0.0.3 group 225.1.1.1 to a2\n"));
  const auto one = sg("a1", "10.0.0.1", "225.1.1.1");
  const auto two = sg("a1", "10.0.0.2", "225.1.1.1");
  const auto three = sg("a1", "10.0.0.3", "225.1.1.1");
  const auto api_only = sg("a1", "10.0.0.9", "225.1.1.1");
  intent.add_route(req(two, {"a5"}));
  intent.add_route(req(api_only, {"a6"}));
  const uint64_t seq_three = intent.find_route(three)->seq;
  CHECK(intent.phyints().size() == 1);

  intent.load_config(
      config_from("mroute from a1 source 10.0.0.3 group 225.1.1.1 to a4\n"
                  "mroute from a1 source 10.0.0.4 group 225.1.1.1 to a2\n"
                  "mroute from a1 source 10.0.0.4 group 225.1.1.1 to a3\n"));

  CHECK(intent.find_route(one) == nullptr);  // only the config held it
  REQUIRE(intent.find_route(two));           // the API still holds it
  CHECK_FALSE(intent.find_route(two)->from_config());
  CHECK_FALSE(intent.find_route(two)->pos.has_value());
  CHECK(intent.find_route(two)->oifs() == Names{"a5"});
  CHECK(intent.find_route(three)->oifs() == Names{"a4"});
  CHECK(intent.find_route(three)->seq == seq_three);  // kept its place
  CHECK(intent.find_route(api_only)->oifs() == Names{"a6"});
  // Two lines for one route merge their OIFs; the first line is its position.
  const RouteIntent* four = intent.find_route(sg("a1", "10.0.0.4", "225.1.1.1"));
  REQUIRE(four);
  CHECK(four->oifs() == Names{"a2", "a3"});
  REQUIRE(four->pos.has_value());
  CHECK(four->pos->line == 2);
  CHECK(intent.phyints().empty());
  CHECK(keys_of(intent) == Names{"a1 (10.0.0.2, 225.1.1.1)", "a1 (10.0.0.3, 225.1.1.1)",
                                 "a1 (10.0.0.9, 225.1.1.1)", "a1 (10.0.0.4, 225.1.1.1)"});
}

TEST_CASE("config and API shares of one route add up, config first") {
  Intent intent;
  const auto key = sg("a1", "10.0.0.1", "225.1.1.1");
  intent.add_route(req(key, {"a4", "a2"}, "alpha"));
  intent.load_config(config_from("mroute from a1 source 10.0.0.1 group 225.1.1.1 to a3 a2\n"));
  const RouteIntent* r = intent.find_route(key);
  CHECK(r->oifs() == Names{"a3", "a2", "a4"});
  CHECK(r->from_config());
  CHECK(r->from_api());
  CHECK(r->api_owners() == Names{"alpha"});
  intent.load_config(Config{});
  CHECK(intent.find_route(key)->oifs() == Names{"a4", "a2"});
}

TEST_CASE("any-source is the same route as no source") {
  Intent intent;
  intent.add_route(req(sg("a1", "0.0.0.0", "225.1.1.1"), {"a2"}));
  const RouteIntent* r = intent.find_route(sg("a1", "", "225.1.1.1"));
  REQUIRE(r);
  CHECK(r->key.is_asm());
}

TEST_CASE("restore puts a route back exactly") {
  Intent intent;
  const auto key = sg("a1", "10.0.0.1", "225.1.1.1");
  intent.add_route(req(key, {"a2"}));
  const std::optional<RouteIntent> before = *intent.find_route(key);
  intent.add_route(req(key, {"a3"}, "other"));
  const uint64_t g = intent.generation();
  intent.restore_route(key, before);
  CHECK(intent.generation() > g);
  CHECK(intent.find_route(key)->oifs() == Names{"a2"});
  CHECK(intent.find_route(key)->seq == before->seq);

  const auto fresh = sg("a1", "10.0.0.2", "225.1.1.1");
  intent.add_route(req(fresh, {"a2"}));
  intent.restore_route(fresh, std::nullopt);
  CHECK(intent.find_route(fresh) == nullptr);
}

TEST_CASE("routes come back in creation order") {
  Intent intent;
  for (const char* s : {"10.0.0.5", "10.0.0.1", "10.0.0.3"}) {
    intent.add_route(req(sg("a1", s, "225.1.1.1"), {"a2"}));
  }
  CHECK(keys_of(intent) ==
        Names{"a1 (10.0.0.5, 225.1.1.1)", "a1 (10.0.0.1, 225.1.1.1)", "a1 (10.0.0.3, 225.1.1.1)"});
}

TEST_CASE("validate_flow_key explains what is wrong") {
  auto error_of = [](const RouteKey& key) {
    auto r = validate_flow_key(key);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == Errc::invalid_argument);
    return r.error().message;
  };
  CHECK(validate_flow_key(sg("a1", "10.0.0.1", "225.1.1.1")).has_value());
  CHECK(validate_flow_key(sg("a1", "", "225.1.0.0/16")).has_value());
  CHECK(validate_flow_key(sg("a1", "10.0.0.0/24", "ff05::1")).has_value() == false);
  CHECK(validate_flow_key(sg("eth+", "2001:db8::1", "ff05::1")).has_value());

  CHECK(error_of(sg("a1", "10.0.0.1", "10.1.1.1")) == "group 10.1.1.1 is not a multicast address");
  CHECK(error_of(sg("a1", "", "224.0.0.0/3")) ==
        "group range 224.0.0.0/3 reaches outside the multicast range 224.0.0.0/4");
  CHECK(error_of(sg("a1", "225.0.0.1", "225.1.1.1")) ==
        "source 225.0.0.1 is a multicast address, not a sender");
  CHECK(error_of(sg("a1", "2001:db8::1", "225.1.1.1")) ==
        "source 2001:db8::1 and group 225.1.1.1 are not the same address family");
  CHECK(error_of(sg("", "10.0.0.1", "225.1.1.1")) == "interface name is empty");

  RouteKey bad = sg("a1", "10.0.0.1", "225.1.1.1");
  bad.group.len = 16;  // host bits set
  CHECK(error_of(bad) == "group 225.1.1.1/16 has host bits set beyond /16");
  bad.group.len = 40;
  CHECK(error_of(bad) == "group prefix length 40 out of range 0..32");
}

}  // namespace mfcd::core

namespace mfcd::core {
namespace {

std::vector<std::string> change_keys(const Intent::Changes& changes) {
  std::vector<std::string> out;
  for (const auto& c : changes.list)
    out.push_back(c.key.str());
  std::sort(out.begin(), out.end());
  return out;
}

std::string numbered_routes(int from, int to, const std::string& oifs = "a2") {
  std::string text;
  for (int i = from; i < to; ++i)
    text += "mroute from a1 source 10.0.0.1 group 225.1." + std::to_string(i / 200) + "." +
            std::to_string(i % 200 + 1) + " to " + oifs + "\n";
  return text;
}

}  // namespace

TEST_CASE("a reload notes only the routes whose lines appeared, went or got other OIFs") {
  Intent intent;
  intent.load_config(
      config_from("phyint a1 enable\n"
                  "mroute from a1 source 10.0.0.1 group 225.1.1.1 to a2\n"
                  "mroute from a1 source 10.0.0.2 group 225.1.1.1 to a2\n"
                  "mroute from a1 source 10.0.0.3 group 225.1.1.1 to a2 a3\n"
                  "mroute from a1 source 10.0.0.4 group 225.1.1.1 to a2\n"
                  "mroute from a1 source 10.0.0.5 group 225.1.1.1 to a2\n"));
  CHECK(intent.take_changes().all);  // the first load: everything is new
  const uint64_t seq4 = intent.find_route(sg("a1", "10.0.0.4", "225.1.1.1"))->seq;

  // .1 goes, .3 loses a3, .6 is new; every other line moves up or down.
  Intent::LoadReport report;
  intent.load_config(config_from("phyint a1 enable\n"
                                 "# a comment shifts every line\n"
                                 "mroute from a1 source 10.0.0.6 group 225.1.1.1 to a4\n"
                                 "mroute from a1 source 10.0.0.2 group 225.1.1.1 to a2\n"
                                 "mroute from a1 source 10.0.0.3 group 225.1.1.1 to a2\n"
                                 "mroute from a1 source 10.0.0.5 group 225.1.1.1 to a2\n"
                                 "mroute from a1 source 10.0.0.4 group 225.1.1.1 to a2\n"),
                     &report);
  const Intent::Changes changes = intent.take_changes();
  CHECK_FALSE(changes.all);
  CHECK(change_keys(changes) ==
        Names{"a1 (10.0.0.1, 225.1.1.1)", "a1 (10.0.0.3, 225.1.1.1)", "a1 (10.0.0.6, 225.1.1.1)"});
  for (const auto& c : changes.list) {
    if (c.key == sg("a1", "10.0.0.3", "225.1.1.1")) {
      CHECK(c.existed);
      CHECK(c.names == Names{"a2", "a3"});
    } else if (c.key == sg("a1", "10.0.0.6", "225.1.1.1")) {
      CHECK_FALSE(c.existed);
    } else {
      CHECK(c.existed);
      CHECK(c.names == Names{"a2"});
    }
  }
  REQUIRE(report.touched.size() == 3);
  for (const auto& t : report.touched) {
    CAPTURE(t.key.str());
    if (t.key == sg("a1", "10.0.0.6", "225.1.1.1")) {
      CHECK_FALSE(t.existed);
      CHECK_FALSE(t.whole.has_value());
    } else if (t.key == sg("a1", "10.0.0.3", "225.1.1.1")) {
      CHECK(t.existed);
      CHECK(t.names == Names{"a2", "a3"});
      CHECK_FALSE(t.whole.has_value());  // it stays: no need to keep all of it
    } else {
      CHECK(t.existed);
      REQUIRE(t.whole.has_value());  // gone: the report shows it as it was
      CHECK(t.whole->key == t.key);
      CHECK(t.whole->oifs() == Names{"a2"});
    }
  }
  // Moved routes keep their seq and take their new line.
  const RouteIntent* four = intent.find_route(sg("a1", "10.0.0.4", "225.1.1.1"));
  REQUIRE(four);
  CHECK(four->seq == seq4);
  REQUIRE(four->pos.has_value());
  CHECK(four->pos->line == 7);
  CHECK(intent.find_route(sg("a1", "10.0.0.1", "225.1.1.1")) == nullptr);
  CHECK(intent.find_route(sg("a1", "10.0.0.3", "225.1.1.1"))->oifs() == Names{"a2"});
  CHECK(keys_of(intent) == Names{"a1 (10.0.0.2, 225.1.1.1)", "a1 (10.0.0.3, 225.1.1.1)",
                                 "a1 (10.0.0.4, 225.1.1.1)", "a1 (10.0.0.5, 225.1.1.1)",
                                 "a1 (10.0.0.6, 225.1.1.1)"});
}

TEST_CASE("a reload that changes nothing notes nothing") {
  const std::string text = "phyint a1 enable ttl-threshold 3\n" + numbered_routes(0, 300) +
                           "mroute from a1 group 225.9.0.0/16 to a2\n";
  Intent intent;
  intent.load_config(config_from(text));
  (void)intent.take_changes();
  const uint64_t g = intent.generation();
  Intent::LoadReport report;
  intent.load_config(config_from(text), &report);
  const Intent::Changes changes = intent.take_changes();
  CHECK_FALSE(changes.all);
  CHECK(changes.list.empty());
  CHECK(report.touched.empty());
  CHECK(intent.generation() > g);
  // Blank lines only move them: still nothing.
  intent.load_config(config_from("\n\n" + text), &report);
  CHECK(intent.take_changes().list.empty());
  CHECK(report.touched.empty());
  CHECK(intent.find_route(sg("a1", "10.0.0.1", "225.1.0.1"))->pos->line == 4);
}

TEST_CASE("a reload that changes phyint lines asks for the full path") {
  Intent intent;
  intent.load_config(config_from("phyint a1 enable\n" + numbered_routes(0, 10)));
  (void)intent.take_changes();
  intent.load_config(config_from("\nphyint a1 enable\n" + numbered_routes(0, 10)));
  CHECK_FALSE(intent.take_changes().all);  // the same line, moved
  for (const char* phyints : {"phyint a1 enable ttl-threshold 2\n", "phyint a1 disable\n",
                              "phyint a1 enable mrdisc\n", "", "phyint a1\nphyint a2\n"}) {
    CAPTURE(phyints);
    intent.load_config(config_from(std::string(phyints) + numbered_routes(0, 10)));
    CHECK(intent.take_changes().all);
  }
}

TEST_CASE("routes on several lines: noted only when the union of their lines changes") {
  Intent intent;
  const std::string two =
      "mroute from a1 source 10.0.0.1 group 225.1.1.1 to a2\n"
      "mroute from a1 source 10.0.0.2 group 225.1.1.1 to a2\n"
      "mroute from a1 source 10.0.0.1 group 225.1.1.1 to a3\n";
  intent.load_config(config_from(two));
  (void)intent.take_changes();
  const auto one = sg("a1", "10.0.0.1", "225.1.1.1");
  CHECK(intent.find_route(one)->oifs() == Names{"a2", "a3"});

  intent.load_config(config_from(two));
  CHECK(intent.take_changes().list.empty());

  // The second line goes: a3 with it.
  intent.load_config(
      config_from("mroute from a1 source 10.0.0.1 group 225.1.1.1 to a2\n"
                  "mroute from a1 source 10.0.0.2 group 225.1.1.1 to a2\n"));
  auto changes = intent.take_changes();
  REQUIRE(changes.list.size() == 1);
  CHECK(changes.list[0].key == one);
  CHECK(changes.list[0].names == Names{"a2", "a3"});
  CHECK(intent.find_route(one)->oifs() == Names{"a2"});

  // A second line adds a4 to an unchanged first one.
  intent.load_config(
      config_from("mroute from a1 source 10.0.0.1 group 225.1.1.1 to a2\n"
                  "mroute from a1 source 10.0.0.2 group 225.1.1.1 to a2\n"
                  "mroute from a1 source 10.0.0.1 group 225.1.1.1 to a4 a2\n"));
  changes = intent.take_changes();
  REQUIRE(changes.list.size() == 1);
  CHECK(changes.list[0].names == Names{"a2"});
  CHECK(intent.find_route(one)->oifs() == Names{"a2", "a4"});
  CHECK(intent.find_route(one)->pos->line == 1);
}

TEST_CASE("a reload keeps API shares and notes routes whose config share came or went") {
  Intent intent;
  intent.load_config(
      config_from("mroute from a1 source 10.0.0.1 group 225.1.1.1 to a2\n"
                  "mroute from a1 source 10.0.0.2 group 225.1.1.1 to a2\n"));
  const auto one = sg("a1", "10.0.0.1", "225.1.1.1");
  const auto two = sg("a1", "10.0.0.2", "225.1.1.1");
  const auto three = sg("a1", "10.0.0.3", "225.1.1.1");
  intent.add_route(req(one, {"a3"}));
  intent.add_route(req(three, {"a3"}));
  (void)intent.take_changes();

  Intent::LoadReport report;
  intent.load_config(config_from("mroute from a1 source 10.0.0.2 group 225.1.1.1 to a2\n"
                                 "mroute from a1 source 10.0.0.3 group 225.1.1.1 to a2\n"),
                     &report);
  auto changes = intent.take_changes();
  CHECK(change_keys(changes) == Names{one.str(), three.str()});
  CHECK(intent.find_route(one)->oifs() == Names{"a3"});
  CHECK_FALSE(intent.find_route(one)->pos.has_value());
  CHECK(intent.find_route(three)->oifs() == Names{"a2", "a3"});
  CHECK(intent.find_route(three)->from_api());
  CHECK(intent.find_route(two)->oifs() == Names{"a2"});

  // SMCRoute's reload: API shares go, and a route only the API held.
  intent.add_route(req(sg("a1", "10.0.0.4", "225.1.1.1"), {"a5"}, "orch"));
  (void)intent.take_changes();
  report = {};
  intent.drop_api_shares(&report);
  changes = intent.take_changes();
  CHECK(change_keys(changes) == Names{one.str(), three.str(), "a1 (10.0.0.4, 225.1.1.1)"});
  CHECK(report.touched.size() == 3);
  CHECK(intent.find_route(one) == nullptr);
  CHECK(intent.find_route(three)->oifs() == Names{"a2"});
  CHECK_FALSE(intent.find_route(three)->from_api());
  CHECK(intent.route_count() == 2);
}

TEST_CASE("the change list holds up to a quarter of the routes") {
  Intent intent;
  intent.load_config(config_from(numbered_routes(0, 1000)));
  (void)intent.take_changes();
  // 200 of 1,000 routes get other OIFs: still listed, one by one.
  intent.load_config(config_from(numbered_routes(0, 200, "a3") + numbered_routes(200, 1000)));
  auto changes = intent.take_changes();
  CHECK_FALSE(changes.all);
  CHECK(changes.list.size() == 200);
  // 300: past the cap, the full path is the answer.
  intent.load_config(config_from(numbered_routes(0, 300) + numbered_routes(300, 1000, "a3")));
  changes = intent.take_changes();
  CHECK(changes.all);
  CHECK(changes.list.empty());
  // Small tables keep at least 64.
  Intent small;
  small.load_config(config_from(numbered_routes(0, 10)));
  (void)small.take_changes();
  small.load_config(config_from(numbered_routes(10, 60)));
  changes = small.take_changes();
  CHECK_FALSE(changes.all);
  CHECK(changes.list.size() == 60);  // 50 added, 10 removed
}

TEST_CASE("a reload after API calls erased or replaced config routes, and on a copy") {
  const std::string text = numbered_routes(0, 50);
  Intent intent;
  intent.load_config(config_from(text));
  (void)intent.take_changes();
  const auto first = sg("a1", "10.0.0.1", "225.1.0.1");
  const auto tenth = sg("a1", "10.0.0.1", "225.1.0.10");

  // An operator removes a config route over the API; the reload brings it
  // back, and nothing else.
  REQUIRE(intent.remove_route(req(tenth, {}, "mfcctl")).has_value());
  REQUIRE(intent.find_route(tenth) == nullptr);
  (void)intent.take_changes();
  intent.load_config(config_from(text));
  auto changes = intent.take_changes();
  REQUIRE(changes.list.size() == 1);
  CHECK(changes.list[0].key == tenth);
  CHECK_FALSE(changes.list[0].existed);

  // A route put back after a kernel refusal is a new node: still found.
  const std::optional<RouteIntent> before = *intent.find_route(first);
  intent.add_route(req(first, {"a5"}));
  intent.restore_route(first, before);
  (void)intent.take_changes();
  intent.load_config(config_from(text));
  CHECK(intent.take_changes().list.empty());

  // A copy (a dry run) reloads on its own and leaves the original alone.
  Intent copy = intent;
  copy.load_config(config_from(numbered_routes(1, 50, "a3")));
  CHECK(copy.take_changes().list.size() == 50);
  CHECK(intent.find_route(first)->oifs() == Names{"a2"});
  CHECK(intent.find_route(tenth)->oifs() == Names{"a2"});
  intent.load_config(config_from(text));
  CHECK(intent.take_changes().list.empty());
  CHECK(intent.route_count() == 50);
}

}  // namespace mfcd::core
