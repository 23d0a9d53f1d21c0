// Intent: owners' shares of routes, how add/set/remove change them, and how a
// config reload replaces only the config's shares.
#include "core/intent.hpp"

#include <doctest/doctest.h>

#include "fake_kernel.hpp"

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

TEST_CASE("validate_route_key explains what is wrong") {
  auto error_of = [](const RouteKey& key) {
    auto r = validate_route_key(key);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == Errc::invalid_argument);
    return r.error().message;
  };
  CHECK(validate_route_key(sg("a1", "10.0.0.1", "225.1.1.1")).has_value());
  CHECK(validate_route_key(sg("a1", "", "225.1.0.0/16")).has_value());
  CHECK(validate_route_key(sg("a1", "10.0.0.0/24", "ff05::1")).has_value() == false);
  CHECK(validate_route_key(sg("eth+", "2001:db8::1", "ff05::1")).has_value());

  CHECK(error_of(sg("a1", "10.0.0.1", "10.1.1.1")) == "group 10.1.1.1 is not a multicast address");
  CHECK(error_of(sg("a1", "", "224.0.0.0/3")) ==
        "group range 224.0.0.0/3 reaches outside the multicast range 224.0.0.0/4");
  CHECK(error_of(sg("a1", "225.0.0.1", "225.1.1.1")) ==
        "source 225.0.0.1 is a multicast address, not a sender");
  CHECK(error_of(sg("a1", "2001:db8::1", "225.1.1.1")) ==
        "source 2001:db8::1 and group 225.1.1.1 are not the same address family");
  CHECK(error_of(sg("", "10.0.0.1", "225.1.1.1")) == "inbound interface missing");

  RouteKey bad = sg("a1", "10.0.0.1", "225.1.1.1");
  bad.group.len = 16;  // host bits set
  CHECK(error_of(bad) == "group 225.1.1.1/16 has host bits set beyond /16");
  bad.group.len = 40;
  CHECK(error_of(bad) == "group prefix length 40 out of range 0..32");
}

}  // namespace mfcd::core
