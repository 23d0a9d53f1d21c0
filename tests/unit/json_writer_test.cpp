// JsonWriter must write exactly what rpc::dump writes for the same value:
// route.list's pages are written with it, everything else with dump, and a
// client must not be able to tell the two apart.
#include <doctest/doctest.h>

#include <limits>
#include <string>

#include "rng.hpp"
#include "rpc/dispatcher.hpp"
#include "rpc/envelope.hpp"
#include "rpc/json_writer.hpp"

using nlohmann::json;
using namespace mfcd::rpc;

namespace {

// Writes `value` through the writer, members in dump's (sorted) order.
void write(JsonWriter& w, const json& value) {
  switch (value.type()) {
    case json::value_t::object:
      w.begin_object();
      for (const auto& [k, v] : value.items()) {
        w.key(k);
        write(w, v);
      }
      w.end_object();
      break;
    case json::value_t::array:
      w.begin_array();
      for (const auto& v : value)
        write(w, v);
      w.end_array();
      break;
    case json::value_t::string:
      w.value(value.get_ref<const std::string&>());
      break;
    case json::value_t::number_unsigned:
      w.value(value.get<uint64_t>());
      break;
    case json::value_t::boolean:
      w.value(value.get<bool>());
      break;
    default:
      w.null();
      break;
  }
}

std::string written(const json& value) {
  JsonWriter w;
  write(w, value);
  return w.take();
}

}  // namespace

TEST_CASE("the writer's text is dump's text") {
  const json values[] = {
      json::object(),
      json::array(),
      json{{"a", 1u}, {"b", json::array()}, {"c", json::object()}},
      json{{"routes",
            {{"asm", json::array({json{{"iif", "a1"}, {"oifs", {"a2", "a3"}}}})},
             {"kernel", json::array()},
             {"ssm", json::array()}}},
           {"next", nullptr}},
      json::array({true, false, nullptr, 0u, std::numeric_limits<uint64_t>::max()}),
      json::array({json::array(), json::array({json::object()}), json::object()}),
  };
  for (const auto& v : values) {
    CAPTURE(v.dump());
    CHECK(written(v) == dump(v));
  }
}

TEST_CASE("strings are escaped as dump escapes them, invalid UTF-8 replaced alike") {
  const std::string strings[] = {
      "",
      "eth0",
      "quote\" back\\slash",
      std::string("nul\0byte", 8),
      "tab\tnew\nline\r\x01\x1f\x7f",
      "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",  // valid UTF-8
      "\xff",
      "bad\xc3",          // cut short at the end
      "bad\xc3(tail",     // a lead byte without its continuation
      "\xe2\x82(x\x80y",  // two broken sequences
  };
  for (const auto& s : strings) {
    CAPTURE(s);
    JsonWriter w;
    w.value(s);
    CHECK(w.text() == dump(json(s)));
    std::string appended = "x";
    append_json_string(appended, s);
    CHECK(appended == "x" + dump(json(s)));
  }
}

TEST_CASE("random bytes in names come out as dump writes them") {
  mfcd::test::Rng rng{42};
  for (int round = 0; round < 2000; ++round) {
    std::string s;
    const size_t n = rng.below(12);
    for (size_t i = 0; i < n; ++i) {
      // Mostly ASCII, with the bytes that need care mixed in.
      static const char special[] = {'"',    '\\',   '\n',   '\x01', '\x7f', '\xc3', '\xa9',
                                     '\xff', '\xe2', '\x82', '\xac', '\xf0', '\x9f', '\x80'};
      s += rng.below(3) == 0 ? special[rng.below(sizeof special)]
                             : static_cast<char>('a' + rng.below(26));
    }
    CAPTURE(round);
    JsonWriter w;
    w.begin_object().key("name").value(s).end_object();
    CHECK(w.text() == dump(json{{"name", s}}));
  }
}

TEST_CASE("a handler's JsonText result is sent as it is; text that is no object is refused") {
  Dispatcher d;
  d.add("page", Access::read, [](const json&, const CallContext&) -> HandlerResult {
    JsonWriter w;
    w.begin_object().key("items").begin_array().value(uint64_t{7}).end_array().end_object();
    return JsonText{w.take()};
  });
  d.add("broken", Access::read,
        [](const json&, const CallContext&) -> HandlerResult { return JsonText{"[1,2]"}; });
  const auto reply = d.handle(R"({"jsonrpc":"2.0","id":3,"method":"page"})", {});
  REQUIRE(reply);
  CHECK(*reply == R"({"jsonrpc":"2.0","id":3,"result":{"items":[7]}})");
  const auto refused = d.handle(R"({"jsonrpc":"2.0","id":4,"method":"broken"})", {});
  REQUIRE(refused);
  const json r = json::parse(*refused);
  CHECK(r["error"]["code"] == kInternalError);
  CHECK(r["error"]["message"].get<std::string>().find("not an object") != std::string::npos);
  // Batches carry it too.
  const auto batch = d.handle(R"([{"jsonrpc":"2.0","id":1,"method":"page"}])", {});
  REQUIRE(batch);
  CHECK(json::parse(*batch) == json::parse(R"([{"jsonrpc":"2.0","id":1,"result":{"items":[7]}}])"));
}
