// JSON-RPC envelope, params and framing. Replies are compared as parsed JSON
// (and sometimes as exact text) so the tests pin down what a client sees.
#include <doctest/doctest.h>

#include <map>
#include <stdexcept>
#include <string>

#include "rpc/client.hpp"
#include "rpc/dispatcher.hpp"
#include "rpc/envelope.hpp"
#include "rpc/framing.hpp"

using nlohmann::json;
using namespace mfcd::rpc;

namespace {

// A small table: echo returns its params; add sums two ints strictly;
// fail returns an RpcError with data; boom throws; bare returns an array.
Dispatcher make_dispatcher(int* calls = nullptr) {
  Dispatcher d;
  d.add("echo", Access::write, [calls](const json& params, const CallContext&) -> HandlerResult {
    if (calls) ++*calls;
    return json{{"params", params}};
  });
  d.add("sum", Access::read, [](const json& params, const CallContext&) -> HandlerResult {
    Params p(params);
    const auto a = p.opt_int("a");
    const auto b = p.opt_int("b");
    p.finish();
    return json{{"sum", a.value_or(0) + b.value_or(0)}};
  });
  d.add("fail", Access::read, [](const json&, const CallContext&) -> HandlerResult {
    return RpcError{kUnknownInterface, "Unknown interface: eth9", {{"interface", "eth9"}}};
  });
  d.add("boom", Access::read, [](const json&, const CallContext&) -> HandlerResult {
    throw std::runtime_error("kaput");
  });
  d.add("typed", Access::read, [](const json& params, const CallContext&) -> HandlerResult {
    return json{{"n", params.at("n").get<int>()}};
  });
  d.add("bare", Access::read,
        [](const json&, const CallContext&) -> HandlerResult { return json::array(); });
  d.add("whoami", Access::read, [](const json&, const CallContext& ctx) -> HandlerResult {
    return json{{"uid", ctx.uid}, {"gid", ctx.gid}, {"pid", ctx.pid}};
  });
  return d;
}

json call(Dispatcher& d, const std::string& text, const CallContext& ctx = {}) {
  const auto reply = d.handle(text, ctx);
  REQUIRE(reply.has_value());
  return json::parse(*reply);
}

int code_of(const json& reply) {
  return reply.at("error").at("code").get<int>();
}

}  // namespace

TEST_CASE("a valid request gets its result with the same id") {
  auto d = make_dispatcher();
  const auto reply =
      d.handle(R"({"jsonrpc":"2.0","id":1,"method":"sum","params":{"a":2,"b":3}})", {});
  REQUIRE(reply);
  CHECK(*reply == R"({"jsonrpc":"2.0","id":1,"result":{"sum":5}})");
}

TEST_CASE("params may be omitted") {
  auto d = make_dispatcher();
  CHECK(call(d, R"({"jsonrpc":"2.0","id":1,"method":"echo"})")["result"] ==
        json{{"params", json::object()}});
}

TEST_CASE("invalid JSON is a parse error with id null") {
  auto d = make_dispatcher();
  for (const auto* text : {R"({"jsonrpc":"2.0","id":1,"method":"echo")", "{x", "nul", "[1,]",
                           R"({"a":1} trailing)", "\"\xff\""}) {
    CAPTURE(text);
    const auto reply = call(d, text);
    CHECK(code_of(reply) == kParseError);
    CHECK(reply["id"].is_null());
    CHECK(reply["jsonrpc"] == "2.0");
    CHECK(reply["error"]["message"].get<std::string>().rfind("Parse error: ", 0) == 0);
  }
}

TEST_CASE("the envelope is checked: jsonrpc, method, params, id, members") {
  int calls = 0;
  auto d = make_dispatcher(&calls);
  struct Case {
    const char* text;
    json id;
  };
  const Case cases[] = {
      {R"({"id":1,"method":"echo"})", 1},
      {R"({"jsonrpc":"1.0","id":1,"method":"echo"})", 1},
      {R"({"jsonrpc":2.0,"id":1,"method":"echo"})", 1},
      {R"({"jsonrpc":"2.0","id":1})", 1},
      {R"({"jsonrpc":"2.0","id":1,"method":7})", 1},
      {R"({"jsonrpc":"2.0","id":1,"method":null})", 1},
      {R"({"jsonrpc":"2.0","id":1,"method":"echo","params":"x"})", 1},
      {R"({"jsonrpc":"2.0","id":1,"method":"echo","params":null})", 1},
      {R"({"jsonrpc":"2.0","id":1,"method":"echo","param":{}})", 1},
      {R"({"jsonrpc":"2.0","id":{"a":1},"method":"echo"})", nullptr},
      {R"({"jsonrpc":"2.0","id":[1],"method":"echo"})", nullptr},
      {R"({"jsonrpc":"2.0","id":true,"method":"echo"})", nullptr},
      {"42", nullptr},
      {R"("hello")", nullptr},
      {"null", nullptr},
  };
  for (const auto& c : cases) {
    CAPTURE(c.text);
    const auto reply = call(d, c.text);
    CHECK(code_of(reply) == kInvalidRequest);
    CHECK(reply["id"] == c.id);
  }
  CHECK(calls == 0);
}

TEST_CASE("an invalid request without id is still answered: it is not a notification") {
  auto d = make_dispatcher();
  const auto reply = call(d, R"({"jsonrpc":"2.0","method":1,"params":"bar"})");
  CHECK(code_of(reply) == kInvalidRequest);
  CHECK(reply["id"].is_null());
}

TEST_CASE("unknown method is -32601 with the method in data") {
  auto d = make_dispatcher();
  const auto reply = call(d, R"({"jsonrpc":"2.0","id":"a","method":"route.ad"})");
  CHECK(code_of(reply) == kMethodNotFound);
  CHECK(reply["error"]["data"] == json{{"method", "route.ad"}});
  CHECK(reply["id"] == "a");
}

TEST_CASE("positional params are refused with -32602") {
  auto d = make_dispatcher();
  const auto reply = call(d, R"({"jsonrpc":"2.0","id":3,"method":"sum","params":[1,2]})");
  CHECK(code_of(reply) == kInvalidParams);
  CHECK(reply["error"]["message"] == "Invalid params: params must be an object (named params)");
  CHECK(reply["error"]["data"]["param"].is_null());
  CHECK(reply["error"]["data"]["message"] == "params must be an object (named params)");
}

TEST_CASE("bad params are -32602 naming the param") {
  auto d = make_dispatcher();
  auto reply = call(d, R"({"jsonrpc":"2.0","id":1,"method":"sum","params":{"a":"x"}})");
  CHECK(code_of(reply) == kInvalidParams);
  CHECK(reply["error"]["data"] == json{{"param", "a"}, {"message", "must be an integer"}});
  CHECK(reply["error"]["message"] == "Invalid params: a: must be an integer");

  reply = call(d, R"({"jsonrpc":"2.0","id":1,"method":"sum","params":{"a":1,"c":2}})");
  CHECK(code_of(reply) == kInvalidParams);
  CHECK(reply["error"]["data"] == json{{"param", "c"}, {"message", "unknown parameter"}});

  // A handler reading params with nlohmann's own accessors: its exceptions
  // are bad params too.
  reply = call(d, R"({"jsonrpc":"2.0","id":1,"method":"typed","params":{"n":"x"}})");
  CHECK(code_of(reply) == kInvalidParams);
  CHECK(reply["error"]["data"]["param"].is_null());
  CHECK(reply["error"]["data"]["message"] == "type must be number, but is string");
  reply = call(d, R"({"jsonrpc":"2.0","id":1,"method":"typed","params":{}})");
  CHECK(code_of(reply) == kInvalidParams);
}

TEST_CASE("ids keep their type and value") {
  auto d = make_dispatcher();
  for (const auto* id : {"1", "0", "-7", "18446744073709551615", "1.5", "1e3", "\"1\"", "\"\"",
                         "null", "\"\\u00e9t\\u00e9\""}) {
    CAPTURE(id);
    const std::string text = std::string(R"({"jsonrpc":"2.0","id":)") + id + R"(,"method":"sum"})";
    const auto reply = call(d, text);
    CHECK(reply["id"] == json::parse(id));
    CHECK(reply["id"].type() == json::parse(id).type());
    CHECK(reply["result"]["sum"] == 0);
  }
  // Exact text: an integer id stays an integer, a string id stays a string.
  CHECK(*d.handle(R"({"jsonrpc":"2.0","id":"7","method":"sum"})", {}) ==
        R"({"jsonrpc":"2.0","id":"7","result":{"sum":0}})");
  CHECK(*d.handle(R"({"jsonrpc":"2.0","id":null,"method":"sum"})", {}) ==
        R"({"jsonrpc":"2.0","id":null,"result":{"sum":0}})");
}

TEST_CASE("notifications run and are never answered, even on error") {
  int calls = 0;
  auto d = make_dispatcher(&calls);
  CHECK_FALSE(d.handle(R"({"jsonrpc":"2.0","method":"echo","params":{}})", {}));
  CHECK(calls == 1);
  CHECK_FALSE(d.handle(R"({"jsonrpc":"2.0","method":"nope"})", {}));
  CHECK_FALSE(d.handle(R"({"jsonrpc":"2.0","method":"boom"})", {}));
  CHECK_FALSE(d.handle(R"({"jsonrpc":"2.0","method":"fail"})", {}));
  CHECK_FALSE(d.handle(R"({"jsonrpc":"2.0","method":"sum","params":{"zz":1}})", {}));
  CHECK_FALSE(d.handle(R"({"jsonrpc":"2.0","method":"sum","params":[1]})", {}));
  CHECK_FALSE(d.handle(R"({"jsonrpc":"2.0","method":"bare"})", {}));
}

TEST_CASE("batches: one reply per non-notification, in order") {
  int calls = 0;
  auto d = make_dispatcher(&calls);
  const auto reply = call(d, R"([
    {"jsonrpc":"2.0","id":1,"method":"sum","params":{"a":1,"b":2}},
    {"jsonrpc":"2.0","method":"echo","params":{"x":1}},
    {"jsonrpc":"2.0","id":"two","method":"nope"},
    {"foo":"boo"},
    1,
    {"jsonrpc":"2.0","id":3,"method":"sum","params":[1]},
    {"jsonrpc":"2.0","id":4,"method":"fail"},
    {"jsonrpc":"2.0","method":"nope"}
  ])");
  REQUIRE(reply.is_array());
  REQUIRE(reply.size() == 6);
  CHECK(reply[0] == json{{"jsonrpc", "2.0"}, {"id", 1}, {"result", {{"sum", 3}}}});
  CHECK(reply[1]["id"] == "two");
  CHECK(code_of(reply[1]) == kMethodNotFound);
  CHECK(code_of(reply[2]) == kInvalidRequest);
  CHECK(reply[2]["id"].is_null());
  CHECK(code_of(reply[3]) == kInvalidRequest);
  CHECK(code_of(reply[4]) == kInvalidParams);
  CHECK(reply[4]["id"] == 3);
  CHECK(code_of(reply[5]) == kUnknownInterface);
  CHECK(calls == 1);
}

TEST_CASE("an empty batch is one -32600, not an array") {
  auto d = make_dispatcher();
  const auto reply = call(d, "[]");
  CHECK(reply.is_object());
  CHECK(code_of(reply) == kInvalidRequest);
  CHECK(reply["id"].is_null());
}

TEST_CASE("a batch of notifications only gets no reply at all") {
  int calls = 0;
  auto d = make_dispatcher(&calls);
  CHECK_FALSE(
      d.handle(R"([{"jsonrpc":"2.0","method":"echo"},{"jsonrpc":"2.0","method":"echo"}])", {}));
  CHECK(calls == 2);
}

TEST_CASE("a handler exception is -32603 and does not escape") {
  auto d = make_dispatcher();
  const auto reply = call(d, R"({"jsonrpc":"2.0","id":9,"method":"boom"})");
  CHECK(code_of(reply) == kInternalError);
  CHECK(reply["error"]["message"] == "Internal error: kaput");
  CHECK(reply["id"] == 9);

  d.add("weird", Access::read, [](const json&, const CallContext&) -> HandlerResult { throw 42; });
  CHECK(code_of(call(d, R"({"jsonrpc":"2.0","id":1,"method":"weird"})")) == kInternalError);
}

TEST_CASE("a result that is not an object is -32603") {
  auto d = make_dispatcher();
  CHECK(code_of(call(d, R"({"jsonrpc":"2.0","id":1,"method":"bare"})")) == kInternalError);
}

TEST_CASE("an RpcError passes through with its data") {
  auto d = make_dispatcher();
  const auto reply = d.handle(R"({"jsonrpc":"2.0","id":5,"method":"fail"})", {});
  REQUIRE(reply);
  CHECK(*reply == R"({"jsonrpc":"2.0","id":5,"error":{"code":-32001,"data":{"interface":"eth9"},)"
                  R"("message":"Unknown interface: eth9"}})");

  d.add("plain", Access::read, [](const json&, const CallContext&) -> HandlerResult {
    return RpcError{kNotFound, "", nullptr};
  });
  const auto plain = call(d, R"({"jsonrpc":"2.0","id":5,"method":"plain"})");
  CHECK(plain["error"] == json{{"code", kNotFound}, {"message", "Not found"}});
}

TEST_CASE("the call context reaches the handler; the access policy refuses before params") {
  auto d = make_dispatcher();
  const CallContext ctx{1000, 100, 4242, {}};
  CHECK(call(d, R"({"jsonrpc":"2.0","id":1,"method":"whoami"})", ctx)["result"] ==
        json{{"uid", 1000}, {"gid", 100}, {"pid", 4242}});
  std::vector<std::string> asked;
  d.set_policy([&](Access access, const std::string& method,
                   const CallContext& c) -> std::optional<RpcError> {
    asked.push_back(method + ":" + std::string(access_name(access)));
    if (access == Access::read || c.uid == 0) return std::nullopt;
    return make_error(kPermissionDenied, {{"uid", c.uid}});
  });
  CHECK(call(d, R"({"jsonrpc":"2.0","id":1,"method":"whoami"})", ctx)["result"]["uid"] == 1000);
  const auto refused = call(d, R"({"jsonrpc":"2.0","id":1,"method":"echo"})", ctx);
  CHECK(code_of(refused) == kPermissionDenied);
  CHECK(refused["error"]["data"] == json{{"uid", 1000}});
  // Refused before its params are judged: positional params would be -32602.
  CHECK(code_of(call(d, R"({"jsonrpc":"2.0","id":1,"method":"echo","params":[1]})", ctx)) ==
        kPermissionDenied);
  CHECK(asked == std::vector<std::string>{"whoami:read", "echo:write", "echo:write"});
  // Unknown methods are still -32601, whoever asks, and the policy is not asked.
  CHECK(code_of(call(d, R"({"jsonrpc":"2.0","id":1,"method":"x"})", ctx)) == kMethodNotFound);
  CHECK(asked.size() == 3);
}

TEST_CASE("methods() lists the table sorted; has() looks one up") {
  Dispatcher d;
  const Handler h = [](const json&, const CallContext&) -> HandlerResult { return json::object(); };
  d.add("route.list", Access::read, h);
  d.add("daemon.status", Access::read, h);
  d.add("route.add", Access::write, h);
  d.add("route.add", Access::write, h);
  CHECK(d.methods() == std::vector<std::string>{"daemon.status", "route.add", "route.list"});
  CHECK(d.has("route.add"));
  CHECK_FALSE(d.has("route"));
  CHECK(d.access_of("route.add") == Access::write);
  CHECK(d.access_of("route.list") == Access::read);
  CHECK_FALSE(d.access_of("route").has_value());
}

TEST_CASE("deeply nested JSON is refused before parsing") {
  auto d = make_dispatcher();
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  const auto reply = call(d, deep);
  CHECK(code_of(reply) == kInvalidRequest);
  // Brackets inside strings do not count.
  const std::string in_string = R"({"jsonrpc":"2.0","id":1,"method":"echo","params":{"s":")" +
                                std::string(1000, '[') + R"("}})";
  CHECK(call(d, in_string)["result"]["params"]["s"].get<std::string>().size() == 1000);
  CHECK(depth_within(R"({"a":[{"b":"\"[[["}]})", 3));
  CHECK_FALSE(depth_within("[[[[]]]]", 3));
}

TEST_CASE("invalid UTF-8 in a result is replaced, not thrown") {
  Dispatcher d;
  d.add("bytes", Access::read, [](const json&, const CallContext&) -> HandlerResult {
    return json{{"name", std::string("a\xff")}};
  });
  const auto reply = call(d, R"({"jsonrpc":"2.0","id":1,"method":"bytes"})");
  CHECK(reply["result"]["name"] == "a\xEF\xBF\xBD");
}

TEST_CASE("Params: strict named params") {
  const json params = {{"iif", "a1"},
                       {"source", nullptr},
                       {"oifs", {"a2", "a3"}},
                       {"detail", true},
                       {"n", -3},
                       {"big", 18446744073709551615ULL},
                       {"f", 1.5},
                       {"bad_oifs", {"a2", 3}}};
  Params p(params);
  CHECK(p.get_string("iif") == "a1");
  CHECK_FALSE(p.opt_string("source"));
  CHECK_FALSE(p.opt_string("owner"));
  CHECK(p.get_string_array("oifs") == std::vector<std::string>{"a2", "a3"});
  CHECK_FALSE(p.opt_string_array("missing"));
  CHECK(p.opt_bool("detail", false));
  CHECK(p.opt_bool("nodetail", true));
  CHECK(p.opt_int("n") == -3);
  CHECK_FALSE(p.opt_int("none"));
  CHECK(p.has("f"));
  CHECK_FALSE(p.has("g"));

  auto param_error = [](auto&& fn) -> ParamError {
    try {
      fn();
    } catch (const ParamError& e) {
      return e;
    }
    FAIL("no ParamError");
    return {};
  };
  auto e = param_error([&] { p.opt_int("big"); });
  CHECK(e.param == "big");
  CHECK(e.message == "is out of range");
  e = param_error([&] { p.opt_int("f"); });
  CHECK(e.message == "must be an integer");
  e = param_error([&] { p.get_string_array("bad_oifs"); });
  CHECK(e.param == "bad_oifs");
  CHECK(e.message == "must be an array of strings");
  e = param_error([&] { p.get_string("group"); });
  CHECK(e.param == "group");
  CHECK(e.message == "is required");
  e = param_error([&] { p.get_string("n"); });
  CHECK(e.message == "must be a string");
  e = param_error([&] { p.opt_bool("iif", false); });
  CHECK(e.message == "must be true or false");
  e = param_error([&] { p.get_string_array("missing2"); });
  CHECK(e.message == "is required");
  // Everything was read except nothing: finish() passes.
  CHECK_NOTHROW(p.finish());
}

TEST_CASE("Params: unknown params are refused by finish()") {
  const json params = {{"iif", "a1"}, {"oif", {"a2"}}};
  Params p(params);
  CHECK(p.get_string("iif") == "a1");
  CHECK_FALSE(p.opt_string_array("oifs"));
  try {
    p.finish();
    FAIL("finish() accepted an unknown param");
  } catch (const ParamError& e) {
    CHECK(e.param == "oif");
    CHECK(e.message == "unknown parameter");
  }
}

TEST_CASE("Params: absent params read as {}, others are refused") {
  const json null_params = nullptr;
  Params p(null_params);
  CHECK_FALSE(p.opt_string("x"));
  CHECK_NOTHROW(p.finish());
  const json array = json::array({1});
  CHECK_THROWS_AS(Params{array}, ParamError);
}

TEST_CASE("framing: a line split across feeds") {
  LineFramer f;
  CHECK(f.feed(R"({"jsonrpc":)").empty());
  CHECK(f.buffered() == 11);
  CHECK(f.feed(R"("2.0"})").empty());
  CHECK(f.feed("\n") == std::vector<std::string>{R"({"jsonrpc":"2.0"})"});
  CHECK(f.buffered() == 0);
}

TEST_CASE("framing: several lines in one feed, CRLF, empty lines") {
  LineFramer f;
  CHECK(f.feed("a\nb\r\n\n\r\n  \nc\nd") == std::vector<std::string>{"a", "b", "c"});
  CHECK(f.take_rest() == "d");
  CHECK(f.take_rest().empty());
  CHECK(f.feed("e\r").empty());
  CHECK(f.feed("\n") == std::vector<std::string>{"e"});
  CHECK(f.feed("x\r").empty());
  CHECK(f.take_rest() == "x");
  CHECK_FALSE(f.overflowed());
}

TEST_CASE("framing: a line at the cap passes, one byte more overflows") {
  LineFramer f(8);
  CHECK(f.feed("12345678\n") == std::vector<std::string>{"12345678"});
  CHECK(f.feed("12345678\r\n") == std::vector<std::string>{"12345678"});
  CHECK(f.feed("1234").empty());
  CHECK(f.feed("5678").empty());
  CHECK(f.feed("\r").empty());
  CHECK(f.feed("\n") == std::vector<std::string>{"12345678"});
  CHECK_FALSE(f.overflowed());

  CHECK(f.feed("ok\n123456789\nlater\n") == std::vector<std::string>{"ok"});
  CHECK(f.overflowed());
  CHECK(f.feed("more\n").empty());
  CHECK(f.take_rest().empty());
}

TEST_CASE("framing: an endless line overflows without a newline") {
  LineFramer f(1 << 20);
  const std::string chunk(64 * 1024, 'x');
  size_t fed = 0;
  while (!f.overflowed() && fed < (2u << 20)) {
    CHECK(f.feed(chunk).empty());
    fed += chunk.size();
  }
  CHECK(f.overflowed());
  CHECK(fed <= (1u << 20) + chunk.size());
  CHECK(f.buffered() == 0);
}

TEST_CASE("framing: a half-closed peer's oversize rest is refused") {
  LineFramer f(4);
  CHECK(f.feed("12345").empty());
  CHECK_FALSE(f.overflowed());  // may still be "1234\r"
  CHECK(f.take_rest().empty());
  CHECK(f.overflowed());
}

TEST_CASE("framing and dispatch together: pipelined requests answered in order") {
  auto d = make_dispatcher();
  LineFramer f;
  std::vector<std::string> replies;
  const std::string stream = make_request(1, "sum", {{"a", 1}}) + "\n" +
                             R"({"jsonrpc":"2.0","method":"echo"})" + "\n" +
                             make_request("x", "sum", {{"b", 2}}) + "\n";
  for (size_t i = 0; i < stream.size(); i += 7) {
    for (const auto& line : f.feed(std::string_view(stream).substr(i, 7))) {
      if (auto reply = d.handle(line, {})) replies.push_back(*reply);
    }
  }
  REQUIRE(replies.size() == 2);
  CHECK(parse_reply_text(replies[0]).result == json{{"sum", 1}});
  CHECK(parse_reply_text(replies[1]).id == "x");
}

TEST_CASE("client: make_request and parse_reply") {
  CHECK(make_request(1, "route.list", {{"detail", true}}) ==
        R"({"jsonrpc":"2.0","id":1,"method":"route.list","params":{"detail":true}})");
  CHECK(make_request("a", "daemon.status", nullptr) ==
        R"({"jsonrpc":"2.0","id":"a","method":"daemon.status"})");

  auto ok = parse_reply(json::parse(R"({"jsonrpc":"2.0","id":1,"result":{"a":1}})"));
  CHECK(ok.id == 1);
  CHECK(ok.result == json{{"a", 1}});
  CHECK_FALSE(ok.error);

  auto bad = parse_reply(json::parse(
      R"({"jsonrpc":"2.0","id":null,"error":{"code":-32001,"message":"m","data":{"interface":"x"}}})"));
  REQUIRE(bad.error);
  CHECK_FALSE(bad.result);
  CHECK(bad.error->code == kUnknownInterface);
  CHECK(bad.error->message == "m");
  CHECK(bad.error->data == json{{"interface", "x"}});
  CHECK(describe(*bad.error) == "-32001 m");

  for (const auto* text : {
           R"([])",
           R"({"id":1,"result":{}})",
           R"({"jsonrpc":"2.0","result":{}})",
           R"({"jsonrpc":"2.0","id":1})",
           R"({"jsonrpc":"2.0","id":1,"result":{},"error":{"code":1,"message":"m"}})",
           R"({"jsonrpc":"2.0","id":1,"error":{"code":"1","message":"m"}})",
           R"({"jsonrpc":"2.0","id":1,"error":{"code":1}})",
           R"({"jsonrpc":"2.0","id":1,"error":"x"})",
           R"({"jsonrpc":"2.0","id":[],"result":{}})",
       }) {
    CAPTURE(text);
    CHECK_THROWS_AS(parse_reply(json::parse(text)), std::runtime_error);
  }
  CHECK_THROWS_AS(parse_reply_text("{nope"), std::runtime_error);
}

TEST_CASE("error texts") {
  CHECK(default_message(kParseError) == "Parse error");
  CHECK(default_message(kVifTableFull) == "VIF table full");
  CHECK(default_message(-32050) == "Server error");
  CHECK(default_message(1) == "Error");
  CHECK(error_object(make_error(kConflict, {{"message", "x"}})) ==
        json{{"code", -32007}, {"message", "Conflict"}, {"data", {{"message", "x"}}}});
  CHECK(error_reply(nullptr, make_error(kInvalidRequest)) ==
        R"({"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"Invalid Request"}})");
}

TEST_CASE("requests and errors are counted per method; unknown and invalid ones apart") {
  auto d = make_dispatcher();
  call(d, R"({"jsonrpc":"2.0","id":1,"method":"sum","params":{"a":1}})");
  call(d, R"({"jsonrpc":"2.0","id":2,"method":"sum","params":{"c":1}})");
  call(d, R"({"jsonrpc":"2.0","id":3,"method":"fail"})");
  call(d, R"({"jsonrpc":"2.0","id":4,"method":"nope.1"})");
  call(d, R"({"jsonrpc":"2.0","id":5,"method":"nope.2"})");
  call(d, R"({"jsonrpc":"2.0","id":6})");
  call(d, R"(not json)");
  call(d, R"([{"jsonrpc":"2.0","id":7,"method":"sum"},{"jsonrpc":"2.0","id":8,"method":"boom"}])");
  std::map<std::string, std::pair<uint64_t, uint64_t>> got;
  for (const auto& s : d.stats())
    got[s.method] = {s.requests, s.errors};
  CHECK(got.size() == d.methods().size() + 2);  // no entry per unknown name
  CHECK(got["sum"] == std::pair<uint64_t, uint64_t>{3, 1});
  CHECK(got["fail"] == std::pair<uint64_t, uint64_t>{1, 1});
  CHECK(got["boom"] == std::pair<uint64_t, uint64_t>{1, 1});
  CHECK(got["echo"] == std::pair<uint64_t, uint64_t>{0, 0});
  CHECK(got["(unknown)"] == std::pair<uint64_t, uint64_t>{2, 2});
  CHECK(got["(invalid)"] == std::pair<uint64_t, uint64_t>{2, 2});
}
