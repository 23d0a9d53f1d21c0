// read_routes_reply is mfcctl show's fast way through a route.list reply.
// It must never print what the ordinary way (parse the reply, then
// routes_page) would not: whenever it answers, its rows and cursor are the
// ordinary way's, and whenever it gives up, the ordinary way reports.
#include <doctest/doctest.h>

#include <string>

#include "budget.hpp"
#include "client/routes_reply.hpp"
#include "client/show_format.hpp"
#include "rng.hpp"
#include "rpc/client.hpp"

using nlohmann::json;
using namespace mfcd::client;

namespace {

std::string reply_text(const json& result, json id = 1) {
  return json{{"jsonrpc", "2.0"}, {"id", id}, {"result", result}}.dump();
}

// The ordinary way: nullopt where it would report a malformed reply.
struct Ordinary {
  RoutesPage page;
  json next;
};
std::optional<Ordinary> ordinary(const std::string& text) {
  try {
    const auto reply = mfcd::rpc::parse_reply_text(text);
    if (!reply.result) return std::nullopt;
    return Ordinary{routes_page(*reply.result), reply.result->value("next", json())};
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

// One value for an item member: mostly what a daemon sends, sometimes not.
json member_value(mfcd::test::Rng& rng, bool well_formed, const char* kind) {
  const std::string k = kind;
  if (well_formed) {
    if (k == "string") return "x" + std::to_string(rng.below(100));
    if (k == "source") {
      const char* sources[] = {"10.0.0.1", "10.0.0.0/8", "0.0.0.0", "2001:db8::1/128", "*"};
      return rng.below(4) == 0 ? json(nullptr) : json(sources[rng.below(5)]);
    }
    if (k == "group") return rng.below(2) ? "225.1.1.1" : "ff0e::/16";
    if (k == "counter") return rng.below(2) ? json(rng.next()) : json(nullptr);
    json list = json::array();
    for (size_t i = rng.below(4); i > 0; --i)
      list.push_back("o" + std::to_string(i));
    return rng.below(5) == 0 ? json(nullptr) : list;
  }
  switch (rng.below(7)) {
    case 0:
      return nullptr;
    case 1:
      return -5;
    case 2:
      return 2.5;
    case 3:
      return true;
    case 4:
      return json::array({1, "a"});
    case 5:
      return json{{"a", 1}};
    default:
      return "s";
  }
}

json random_item(mfcd::test::Rng& rng, bool well_formed) {
  json item = json::object();
  const std::pair<const char*, const char*> members[] = {
      {"source", "source"}, {"group", "group"},     {"iif", "string"},       {"state", "string"},
      {"type", "string"},   {"packets", "counter"}, {"bytes", "counter"},    {"oifs", "list"},
      {"family", "string"}, {"owners", "list"},     {"missing_oifs", "list"}};
  for (const auto& [name, kind] : members) {
    const bool required = std::string(name) == "group" || std::string(name) == "iif";
    if (!required && rng.below(3) == 0) continue;
    const bool bad = !well_formed && rng.below(6) == 0;
    item[name] = member_value(rng, !bad, kind);
  }
  return item;
}

json random_result(mfcd::test::Rng& rng, bool well_formed) {
  json routes = json::object();
  for (const char* section : {"asm", "ssm", "kernel"}) {
    if (rng.below(4) == 0) continue;
    json items = json::array();
    for (size_t i = rng.below(4); i > 0; --i)
      items.push_back(random_item(rng, well_formed));
    routes[section] = items;
  }
  if (!well_formed && rng.below(8) == 0) routes["ssm"] = "nope";
  json result{{"routes", routes}};
  switch (rng.below(3)) {
    case 0:
      result["next"] = "ssm:" + std::to_string(rng.below(1000));
      break;
    case 1:
      result["next"] = nullptr;
      break;
    default:
      break;  // absent: the whole table
  }
  if (!well_formed) {
    // Members the ordinary path reads, of every wrong kind.
    const json wrong[] = {7, json::array({"c"}), json{{"c", 1}}, true};
    if (rng.below(8) == 0) result["next"] = wrong[rng.below(4)];
    if (rng.below(10) == 0) result["routes"]["kernel"] = wrong[rng.below(4)];
    if (rng.below(12) == 0) result["routes"] = wrong[rng.below(4)];
    if (rng.below(12) == 0) result["extra"] = wrong[rng.below(4)];
  }
  return result;
}

void check_agrees(const std::string& text, bool must_answer) {
  CAPTURE(text);
  const auto fast = read_routes_reply(text);
  const auto slow = ordinary(text);
  if (must_answer) CHECK(fast.has_value());
  if (!fast) return;
  REQUIRE(slow.has_value());
  CHECK(fast->page == slow->page);
  if (fast->next) {
    CHECK(slow->next == json(*fast->next));
  } else {
    CHECK(slow->next.is_null());
  }
}

}  // namespace

TEST_CASE("routes_reply: a daemon's replies are read, and read as the ordinary way reads them" *
          doctest::test_suite("randomized")) {
  mfcd::test::Rng rng{7};
  for (int round = 0; round < mfcd::test::scaled(3000); ++round) {
    CAPTURE(round);
    check_agrees(reply_text(random_result(rng, true), rng.below(2) ? json(round) : json("x")),
                 true);
  }
}

TEST_CASE("routes_reply: on a reply of another shape it answers as the ordinary way or not at all" *
          doctest::test_suite("randomized")) {
  mfcd::test::Rng rng{11};
  for (int round = 0; round < mfcd::test::scaled(5000); ++round) {
    CAPTURE(round);
    check_agrees(reply_text(random_result(rng, false)), false);
  }
}

TEST_CASE("routes_reply: what it leaves to the ordinary way") {
  const std::string page = R"("result":{"routes":{"asm":[{"group":"225.1.1.1","iif":"a1"}]}})";
  CHECK(read_routes_reply(R"({"jsonrpc":"2.0","id":1,)" + page + "}"));
  // Errors, envelopes that are not quite right, duplicates, broken text.
  CHECK_FALSE(read_routes_reply(R"({"jsonrpc":"2.0","id":1,"error":{"code":-1,"message":"m"}})"));
  CHECK_FALSE(read_routes_reply(R"({"jsonrpc":"2.0",)" + page + "}"));
  CHECK_FALSE(read_routes_reply(R"({"jsonrpc":"1.0","id":1,)" + page + "}"));
  CHECK_FALSE(read_routes_reply(R"({"jsonrpc":"2.0","id":[],)" + page + "}"));
  CHECK_FALSE(read_routes_reply(R"({"jsonrpc":"2.0","id":1,"result":{}})"));
  CHECK_FALSE(
      read_routes_reply(R"({"jsonrpc":"2.0","id":1,"result":{"routes":{"asm":[],"asm":[]}}})"));
  CHECK_FALSE(read_routes_reply(
      R"({"jsonrpc":"2.0","id":1,"result":{"routes":{"asm":[{"group":"225.1.1.1","iif":"a1","iif":"a2"}]}}})"));
  CHECK_FALSE(read_routes_reply(
      R"({"jsonrpc":"2.0","id":1,"result":{"routes":{"asm":[{"group":"225.1.1.1"}]}}})"));
  CHECK_FALSE(read_routes_reply(R"({"jsonrpc":"2.0","id":1,)" + page));
  CHECK_FALSE(read_routes_reply(R"({"jsonrpc":"2.0","id":1,)" + page + "} x"));
  CHECK_FALSE(
      read_routes_reply("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"routes\":{\"asm\":"
                        "[{\"group\":\"225.1.1.1\",\"iif\":\"\xff\"}]}}}"));
  CHECK_FALSE(read_routes_reply(""));
  // A member the table reads, as a container of the wrong kind.
  for (const char* bad :
       {R"({"next":{"a":1},"routes":{}})", R"({"next":["c"],"routes":{}})",
        R"({"routes":{"asm":{"a":1}}})", R"({"routes":{"ssm":[[]]}})",
        R"({"routes":{"kernel":[{"group":"225.1.1.1","iif":{"a":1}}]}})",
        R"({"routes":{"kernel":[{"group":"225.1.1.1","iif":"a","oifs":[[]]}]}})"}) {
    CAPTURE(bad);
    CHECK_FALSE(read_routes_reply(R"({"jsonrpc":"2.0","id":1,"result":)" + std::string(bad) + "}"));
  }
  // Members it does not read are passed over, whatever they hold.
  CHECK(read_routes_reply(
      R"({"jsonrpc":"2.0","id":1,"result":{"x":{"y":[1]},"routes":{"z":[{}],"asm":[)"
      R"({"group":"225.1.1.1","iif":"a1","owners":[{"q":[]}],"origins":{"r":1}}]}}})"));
}

TEST_CASE("routes_reply: rows carry what the table prints") {
  const auto r = read_routes_reply(
      R"({"jsonrpc":"2.0","id":1,"result":{"next":"kernel:","routes":{)"
      R"("kernel":[{"source":"10.0.0.1","group":"225.1.1.1","iif":"a1","oifs":["a2","a3"],)"
      R"("type":"static","state":"x","packets":12,"bytes":3400,"family":"ipv4"}],)"
      R"("ssm":[{"source":"10.0.0.0/8","group":"232.1.1.1/32","iif":"a1","oifs":[],"state":"installed",)"
      R"("owners":["o"],"origins":["api"]}]}}})");
  REQUIRE(r);
  CHECK(r->next == "kernel:");
  CHECK(r->page.sections[0].empty());
  REQUIRE(r->page.sections[1].size() == 1);
  CHECK(r->page.sections[1][0] ==
        RouteRow{"(10.0.0.0/8, 232.1.1.1)", "a1", "installed", "-", "-", ""});
  REQUIRE(r->page.sections[2].size() == 1);
  CHECK(r->page.sections[2][0] ==
        RouteRow{"(10.0.0.1, 225.1.1.1)", "a1", "static", "12", "3400", " a2 a3"});
}
