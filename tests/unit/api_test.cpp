// Every JSON-RPC method of daemon/api, called the way a client calls it (a
// request line through the dispatcher) on a Router over the fake kernel:
// the exact result, the param errors, the access rule, kernel refusals, and
// the results and error data held to schema/mfcd.openrpc.json.
//
// Each method's tests are declared with API_CASE, which also records the
// method as covered; "api: every method in method_table() has tests" fails
// when the table gains a method nobody wrote a test for.
#include <doctest/doctest.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include <nlohmann/json.hpp>

#include "api_fixture.hpp"
#include "core/flow_key.hpp"
#include "version.hpp"

using nlohmann::json;

namespace mfcd::test {
namespace {

// --- which methods have tests -------------------------------------------------

std::set<std::string>& covered() {
  static std::set<std::string> methods;
  return methods;
}

struct Covers {
  explicit Covers(const char* method) { covered().insert(method); }
};

#define API_CAT2(a, b) a##b
#define API_CAT(a, b) API_CAT2(a, b)
// A test case about `method`, registered as covering it when the program
// starts (whatever filter later picks the cases to run).
#define API_CASE(method, title)                        \
  const Covers API_CAT(api_covers_, __LINE__){method}; \
  TEST_CASE("api: " method ": " title)

// --- the schema ---------------------------------------------------------------

const json& schema() {
  static const json doc = [] {
    std::ifstream in(MFCD_SOURCE_DIR "/schema/mfcd.openrpc.json");
    std::stringstream text;
    text << in.rdbuf();
    return json::parse(text.str());
  }();
  return doc;
}

const json& deref(const json& node) {
  if (node.is_object() && node.contains("$ref"))
    return deref(schema().at(json::json_pointer(node["$ref"].get<std::string>().substr(1))));
  return node;
}

const json& schema_method(const std::string& name) {
  for (const auto& m : schema().at("methods"))
    if (m.at("name") == name) return m;
  FAIL("no method " << name << " in the schema");
  static const json none;
  return none;
}

// The names of the params the schema marks required for `method`.
std::set<std::string> required_params(const std::string& method) {
  std::set<std::string> names;
  for (const auto& ref : schema_method(method).at("params")) {
    const json& param = deref(ref);
    if (param.value("required", false)) names.insert(param.at("name").get<std::string>());
  }
  return names;
}

bool has_type(const json& value, const std::string& type) {
  if (type == "null") return value.is_null();
  if (type == "boolean") return value.is_boolean();
  if (type == "integer") return value.is_number_integer();
  if (type == "number") return value.is_number();
  if (type == "string") return value.is_string();
  if (type == "array") return value.is_array();
  if (type == "object") return value.is_object();
  return false;
}

// The JSON Schema keywords the document uses, enough to hold a value to a
// schema: what is wrong, one line per fault, at which path.
void validate(const json& schema_node, const json& value, const std::string& path,
              std::vector<std::string>& faults) {
  const json& s = deref(schema_node);
  auto fault = [&](const std::string& what) { faults.push_back(path + ": " + what); };
  if (const auto t = s.find("type"); t != s.end()) {
    bool ok = false;
    if (t->is_string()) ok = has_type(value, *t);
    for (const auto& one : t->is_array() ? *t : json::array())
      ok = ok || has_type(value, one);
    if (!ok) return fault("is " + value.dump() + ", not of type " + t->dump());
  }
  if (const auto e = s.find("enum"); e != s.end()) {
    if (std::find(e->begin(), e->end(), value) == e->end()) fault(value.dump() + " not in enum");
  }
  if (const auto c = s.find("const"); c != s.end() && *c != value) fault("is not " + c->dump());
  if (const auto m = s.find("minimum");
      m != s.end() && value.is_number() && value.get<double>() < m->get<double>())
    fault(value.dump() + " below " + m->dump());
  if (const auto m = s.find("maximum");
      m != s.end() && value.is_number() && value.get<double>() > m->get<double>())
    fault(value.dump() + " above " + m->dump());
  if (const auto m = s.find("minLength");
      m != s.end() && value.is_string() && value.get<std::string>().size() < m->get<size_t>())
    fault("shorter than " + m->dump());
  if (const auto m = s.find("maxLength");
      m != s.end() && value.is_string() && value.get<std::string>().size() > m->get<size_t>())
    fault("longer than " + m->dump());
  if (const auto one_of = s.find("oneOf"); one_of != s.end()) {
    int matches = 0;
    for (const auto& branch : *one_of) {
      std::vector<std::string> branch_faults;
      validate(branch, value, path, branch_faults);
      matches += branch_faults.empty() ? 1 : 0;
    }
    if (matches != 1) fault("matches " + std::to_string(matches) + " branches of oneOf");
  }
  if (value.is_object()) {
    for (const auto& name : s.value("required", json::array()))
      if (!value.contains(name.get<std::string>())) fault("lacks " + name.dump());
    const json props = s.value("properties", json::object());
    for (const auto& item : value.items()) {
      if (props.contains(item.key())) {
        validate(props[item.key()], item.value(), path + "." + item.key(), faults);
      } else if (s.value("additionalProperties", true) == false) {
        fault("has " + item.key() + ", which the schema does not allow");
      }
    }
  }
  if (value.is_array()) {
    if (const auto m = s.find("minItems"); m != s.end() && value.size() < m->get<size_t>())
      fault("fewer than " + m->dump() + " items");
    if (s.value("uniqueItems", false)) {
      std::set<json> seen(value.begin(), value.end());
      if (seen.size() != value.size()) fault("items are not unique");
    }
    if (const auto items = s.find("items"); items != s.end()) {
      for (size_t i = 0; i < value.size(); ++i)
        validate(*items, value[i], path + "[" + std::to_string(i) + "]", faults);
    }
  }
}

// The result of `method` is what its schema says.
void check_result(const std::string& method, const json& result) {
  std::vector<std::string> faults;
  validate(schema_method(method).at("result").at("schema"), result, "result", faults);
  CAPTURE(method);
  CAPTURE(result.dump());
  CHECK(faults == std::vector<std::string>{});
}

// The error is one `method` lists in the schema, its data as that error's
// component says.
void check_documented(const std::string& method, const json& error) {
  CAPTURE(method);
  CAPTURE(error.dump());
  const json* component = nullptr;
  for (const auto& ref : schema_method(method).at("errors")) {
    const json& e = deref(ref);
    if (e.at("code") == error.at("code")) component = &e;
  }
  REQUIRE_MESSAGE(component != nullptr, "error code not listed for the method");
  std::vector<std::string> faults;
  validate(component->at("x-data-schema"), error.value("data", json()), "data", faults);
  CHECK(faults == std::vector<std::string>{});
}

// --- requests and items -------------------------------------------------------

const char* const kConf = "phyint a1 enable\nphyint a2 enable\n";

// A route item as route.list and the route methods show it.
json route_item(const std::string& iif, const json& source, const std::string& group,
                const std::vector<std::string>& oifs, const std::string& state,
                const std::vector<std::string>& origins = {"api"},
                const std::vector<std::string>& owners = {"api"},
                const std::vector<std::string>& missing = {}) {
  const bool v6 = group.find(':') != std::string::npos;
  return {{"iif", iif},
          {"source", source},
          {"group", group},
          {"oifs", oifs},
          {"family", v6 ? "ipv6" : "ipv4"},
          {"state", state},
          {"missing_oifs", missing},
          {"origins", origins},
          {"owners", owners}};
}

// A group item as group.list and the group methods show it.
json group_item(const std::string& iif, const json& source, const std::string& group,
                size_t memberships, const std::vector<std::string>& origins = {"api"},
                const std::vector<std::string>& owners = {"api"}) {
  const bool v6 = group.find(':') != std::string::npos;
  return {{"iif", iif},         {"source", source},
          {"group", group},     {"family", v6 ? "ipv6" : "ipv4"},
          {"origins", origins}, {"owners", owners},
          {"state", "joined"},  {"memberships", memberships}};
}

json kernel_entry(const std::string& source, const std::string& group, const std::string& iif,
                  const std::vector<std::string>& oifs, const std::string& type = "static") {
  const bool v6 = group.find(':') != std::string::npos;
  return {{"source", source},
          {"group", group},
          {"iif", iif},
          {"oifs", oifs},
          {"family", v6 ? "ipv6" : "ipv4"},
          {"type", type}};
}

// The params of a route or join call.
json route_params(const std::string& iif, const json& source, const std::string& group,
                  const std::vector<std::string>& oifs) {
  return {{"iif", iif}, {"source", source}, {"group", group}, {"oifs", oifs}};
}

json join_params(const std::string& iif, const json& source, const std::string& group) {
  return {{"iif", iif}, {"source", source}, {"group", group}};
}

json list_routes(ApiFixture& f) {
  return f.result("route.list");
}

// A -32602 error naming `param`, with its message in data and in the
// error's message ("Invalid params: PARAM: MESSAGE").
void check_invalid_param(const json& error, const json& param, const std::string& message = "") {
  CAPTURE(error.dump());
  CHECK(error.at("code") == rpc::kInvalidParams);
  REQUIRE(error.contains("data"));
  CHECK(error.at("data").at("param") == param);
  const std::string text = error.at("data").at("message").get<std::string>();
  CHECK(!text.empty());
  if (!message.empty()) CHECK(text == message);
  const std::string prefix = param.is_null() ? "" : param.get<std::string>() + ": ";
  CHECK(error.at("message") == "Invalid params: " + prefix + text);
  CHECK(error.at("data").size() == 2);
}

// The refusal of a write by a caller who is not root.
void check_refused(const json& error, const std::string& method, uint32_t uid) {
  CHECK(error ==
        json{{"code", rpc::kPermissionDenied},
             {"message",
              "permission denied: " + method + " changes the daemon; only root may call it"},
             {"data",
              {{"uid", uid}, {"method", method}, {"access", "write"}, {"needs", {{"uid", 0}}}}}});
}

// --- the table as a whole -----------------------------------------------------

TEST_CASE("api: every method in method_table() has tests") {
  std::set<std::string> table;
  for (const auto& [name, access] : api::method_table())
    table.insert(name);
  CHECK(covered() == table);
}

TEST_CASE("api: the schema check finds what is wrong with a result") {
  const json good = {{"route", route_item("a1", "10.0.0.1", "225.1.1.1", {"a2"}, "installed")}};
  const json& result_schema = schema_method("route.add").at("result").at("schema");
  std::vector<std::string> faults;
  validate(result_schema, good, "result", faults);
  CHECK(faults == std::vector<std::string>{});
  json bad = good;
  bad["route"]["state"] = "bogus";
  bad["route"]["oifs"] = {"a2", "a2"};
  bad["route"]["family"] = 4;
  bad["route"].erase("owners");
  validate(result_schema, bad, "result", faults);
  CHECK(faults == std::vector<std::string>{
                      "result.route: lacks \"owners\"",
                      "result.route.family: is 4, not of type \"string\"",
                      "result.route.oifs: items are not unique",
                      "result.route.state: \"bogus\" not in enum",
                  });
  faults.clear();
  validate(schema_method("route.remove").at("result").at("schema"), json{{"route", 1}}, "result",
           faults);
  CHECK(faults == std::vector<std::string>{"result.route: matches 0 branches of oneOf"});
}

TEST_CASE("api: the schema's name and owner limits are the ones the daemon enforces") {
  const json& names = schema().at("components").at("schemas").at("InterfaceName");
  const json& owners = schema().at("components").at("schemas").at("Owner");
  CHECK(names.at("maxLength").get<size_t>() == mfcd::core::kMaxIfnameLen);
  CHECK(owners.at("maxLength").get<size_t>() == mfcd::core::kMaxOwnerLen);
  std::vector<std::string> faults;
  validate(names, std::string(mfcd::core::kMaxIfnameLen + 1, 'e'), "iif", faults);
  validate(owners, std::string(mfcd::core::kMaxOwnerLen, 'o'), "owner", faults);
  CHECK(faults == std::vector<std::string>{"iif: longer than 15"});
  // The daemon refuses the same, with its own words.
  ApiFixture f;
  f.start("");
  const json too_long = f.error(
      "route.add", {{"iif", std::string(16, 'e')}, {"group", "225.1.1.1"}, {"oifs", {"a2"}}});
  CHECK(too_long.at("code") == -32602);
  CHECK(too_long.at("data").at("param") == "iif");
}

TEST_CASE("api: the dispatcher, the method table and the schema's x-access agree") {
  ApiFixture f;
  const auto table = api::method_table();
  std::set<std::string> names;
  for (const auto& [name, access] : table) {
    CAPTURE(name);
    CHECK(names.insert(name).second);
    CHECK(f.dispatcher.access_of(name) == access);
    CHECK(schema_method(name).at("x-access") == rpc::access_name(access));
  }
  CHECK(f.dispatcher.methods() == std::vector<std::string>(names.begin(), names.end()));
  std::set<std::string> in_schema;
  for (const auto& m : schema().at("methods"))
    in_schema.insert(m.at("name").get<std::string>());
  CHECK(in_schema == names);
}

TEST_CASE("api: a write from a non-root caller is refused before its params are read") {
  ApiFixture f;
  f.start(kConf);
  const auto before = list_routes(f);
  for (const auto& [method, access] : api::method_table()) {
    CAPTURE(method);
    // An unknown param, then positional params: both are -32602 for a
    // caller who may call the method, and must not show through a refusal.
    for (const json& params : {json{{"bogus", 1}}, json::array({1, 2})}) {
      CAPTURE(params.dump());
      const json error = f.error(method, params, 1000);
      if (access == rpc::Access::write) {
        check_refused(error, method, 1000);
        check_documented(method, error);
      } else if (params.is_array()) {
        check_invalid_param(error, nullptr, "params must be an object (named params)");
      } else if (const auto required = required_params(method); !required.empty()) {
        // A read with required params (route.explain): the first missing one.
        check_invalid_param(error, error.at("data").at("param"), "is required");
        CHECK(required.count(error.at("data").at("param").get<std::string>()) == 1);
      } else {
        check_invalid_param(error, "bogus", "unknown parameter");
      }
      // Root gets the param error: the unknown one, or first a param the
      // schema says is required.
      const json as_root = f.error(method, params, 0);
      if (params.is_array()) {
        check_invalid_param(as_root, nullptr, "params must be an object (named params)");
      } else if (const auto required = required_params(method); !required.empty()) {
        check_invalid_param(as_root, as_root.at("data").at("param"), "is required");
        CHECK(required.count(as_root.at("data").at("param").get<std::string>()) == 1);
      } else {
        check_invalid_param(as_root, "bogus", "unknown parameter");
      }
      check_documented(method, as_root);
    }
  }
  CHECK(f.calls().empty());
  CHECK(f.daemon.stops.empty());
  CHECK(f.daemon.reloads.empty());
  CHECK(f.daemon.checked.empty());
  CHECK(list_routes(f) == before);
}

TEST_CASE("api: a non-root caller may call every read with good params") {
  ApiFixture f;
  f.start(kConf);
  for (const auto& [method, access] : api::method_table()) {
    if (access != rpc::Access::read) continue;
    CAPTURE(method);
    auto call_as = [&, name = method](uint32_t uid) {
      // events.unsubscribe ends the connection's subscription: one each time.
      if (name == "events.unsubscribe") f.result("events.subscribe");
      // The one read that needs params: a flow to explain.
      const json params = name == "route.explain"
                              ? json{{"source", "10.0.0.1"}, {"group", "225.1.1.1"}}
                              : json::object();
      return f.result(name, params, uid);
    };
    CHECK(call_as(1000) == call_as(0));
  }
}

// --- route.add ------------------------------------------------------------------

API_CASE("route.add", "an (S,G) route goes into the kernel and comes back as its item") {
  ApiFixture f;
  f.start(kConf);
  const json r = f.result("route.add", route_params("a1", "10.0.0.1", "225.1.1.1", {"a2"}));
  CHECK(r == json{{"route", route_item("a1", "10.0.0.1", "225.1.1.1", {"a2"}, "installed")}});
  check_result("route.add", r);
  CHECK(json(f.calls()) == json(Calls{"add_mfc 10.0.0.1,225.1.1.1 iif=a1 oifs=a2"}));
  f.rf.check_consistent();
  const json list = list_routes(f);
  CHECK(list == json{{"routes",
                      {{"asm", json::array()},
                       {"ssm", {route_item("a1", "10.0.0.1", "225.1.1.1", {"a2"}, "installed")}},
                       {"kernel", {kernel_entry("10.0.0.1", "225.1.1.1", "a1", {"a2"})}}}}});

  // Another owner's share adds an OIF, which needs a VIF of its own.
  f.calls().clear();
  json p = route_params("a1", "10.0.0.1", "225.1.1.1", {"a3"});
  p["owner"] = "orch";
  const json r2 = f.result("route.add", p);
  CHECK(r2 == json{{"route", route_item("a1", "10.0.0.1", "225.1.1.1", {"a2", "a3"}, "installed",
                                        {"api"}, {"api", "orch"})}});
  check_result("route.add", r2);
  CHECK(f.calls() ==
        Calls{"add_vif ipv4 2 a3 ifindex=4 ttl=1", "add_mfc 10.0.0.1,225.1.1.1 iif=a1 oifs=a2,a3"});
  f.rf.check_consistent();

  // The same share again changes nothing.
  f.calls().clear();
  CHECK(f.result("route.add", p) == r2);
  CHECK(f.calls().empty());
}

API_CASE("route.add", "(*,G) and range rules, IPv6, and routes waiting for an interface") {
  ApiFixture f;
  f.start(kConf);
  const std::string star_reason = "(*,G) rule: (S,G) entries are added as traffic arrives";

  // No source, a null source and 0.0.0.0 all name the same (*,G) rule.
  json item = route_item("a1", nullptr, "225.2.2.2", {"a2"}, "rule");
  item["reason"] = star_reason;
  json p = {{"iif", "a1"}, {"group", "225.2.2.2"}, {"oifs", {"a2"}}};
  CHECK(f.result("route.add", p) == json{{"route", item}});
  CHECK(f.result("route.add", route_params("a1", nullptr, "225.2.2.2", {"a2"})) ==
        json{{"route", item}});
  const json r = f.result("route.add", route_params("a1", "0.0.0.0", "225.2.2.2", {"a2"}));
  CHECK(r == json{{"route", item}});
  check_result("route.add", r);

  // A source range is a rule too.
  json range = route_item("a1", "10.0.0.0/24", "225.2.2.3", {"a2"}, "rule");
  range["reason"] = "range rule: (S,G) entries are added as traffic arrives";
  CHECK(f.result("route.add", route_params("a1", "10.0.0.0/24", "225.2.2.3", {"a2"})) ==
        json{{"route", range}});
  CHECK(f.calls().empty());  // rules wait for traffic

  // IPv6.
  const json v6 = f.result("route.add", route_params("a1", "2001:db8::1", "ff0e::1", {"a2"}));
  CHECK(v6 == json{{"route", route_item("a1", "2001:db8::1", "ff0e::1", {"a2"}, "installed")}});
  check_result("route.add", v6);
  CHECK(json(f.calls()) == json(Calls{"add_mfc 2001:db8::1,ff0e::1 iif=a1 oifs=a2"}));

  // A missing inbound interface: kept, pending; a missing OIF: listed.
  f.calls().clear();
  json pending = route_item("eth9", "10.0.0.1", "225.1.1.1", {"a2"}, "pending");
  pending["reason"] = "inbound interface eth9 does not exist";
  const json r3 = f.result("route.add", route_params("eth9", "10.0.0.1", "225.1.1.1", {"a2"}));
  CHECK(r3 == json{{"route", pending},
                   {"warnings",
                    {{{"interface", "eth9"},
                      {"role", "inbound"},
                      {"message",
                       "interface eth9 does not exist; the route stays pending and forwards "
                       "nothing until it appears"}}}}});
  check_result("route.add", r3);
  const json r4 =
      f.result("route.add", route_params("a1", "10.0.0.2", "225.1.1.2", {"a2", "eth8"}));
  json missing_eth8 = route_item("a1", "10.0.0.2", "225.1.1.2", {"a2", "eth8"}, "installed",
                                 {"api"}, {"api"}, {"eth8"});
  missing_eth8["reason"] = "outbound interface eth8 does not exist";
  CHECK(r4 == json{{"route", missing_eth8},
                   {"warnings",
                    {{{"interface", "eth8"},
                      {"role", "outbound"},
                      {"message",
                       "interface eth8 does not exist; nothing is forwarded to it until it "
                       "appears"}}}}});
  check_result("route.add", r4);
  CHECK(json(f.calls()) == json(Calls{"add_mfc 10.0.0.2,225.1.1.2 iif=a1 oifs=a2"}));

  // All of them in route.list, ASM and SSM apart, in creation order.
  const json list = list_routes(f);
  check_result("route.list", list);
  CHECK(list.at("routes").at("asm") == json::array({item}));
  CHECK(list.at("routes").at("ssm") ==
        json::array({range, v6.at("route"), pending, r4.at("route")}));
  f.rf.check_consistent();
}

// The param errors of route.add, route.set and route.remove: each mutation
// of good params names the param at fault, and nothing changes.
void check_route_param_errors(const std::string& method) {
  CAPTURE(method);
  ApiFixture f;
  f.start(std::string(kConf) + "mroute from a1 source 10.0.0.1 group 225.1.1.1 to a2\n");
  const json before = list_routes(f);
  const json good = route_params("a1", "10.0.0.1", "225.1.1.1", {"a2"});
  struct Case {
    json params;
    json param;
    std::string message;  // empty: any
  };
  auto with = [&](const std::string& name, const json& value) {
    json p = good;
    p[name] = value;
    return p;
  };
  auto without = [&](const std::string& name) {
    json p = good;
    p.erase(name);
    return p;
  };
  std::vector<Case> cases = {
      {without("iif"), "iif", "is required"},
      {with("iif", 5), "iif", "must be a string"},
      {with("iif", nullptr), "iif", "must be a string"},
      {with("iif", ""), "iif", "interface name is empty"},
      {without("group"), "group", "is required"},
      {with("group", 225), "group", "must be a string"},
      {with("group", "225.1.1"), "group", ""},
      {with("group", "bogus"), "group", ""},
      {with("group", ""), "group", ""},
      {with("group", "10.1.1.1"), "group", "group 10.1.1.1 is not a multicast address"},
      {with("group", "225.1.1.1/33"), "group", ""},
      {with("group", "225.1.1.0/8"), "group", ""},
      {with("group", "224.0.0.0/3"), "group", ""},
      {with("source", 5), "source", "must be a string or null"},
      {with("source", "10.0.0"), "source", ""},
      {with("source", "10.0.0.1/33"), "source", ""},
      {with("source", "10.0.0.1/8"), "source", ""},
      {with("source", "225.1.1.2"), "source",
       "source 225.1.1.2 is a multicast address, not a sender"},
      {with("source", "2001:db8::1"), "source",
       "source 2001:db8::1 and group 225.1.1.1 are not the same address family"},
      {with("source", "::"), "source",
       "source :: and group 225.1.1.1 are not the same address family"},
      {with("oifs", "a2"), "oifs", "must be an array of strings"},
      {with("oifs", json::array({1})), "oifs", "must be an array of strings"},
      {with("oifs", json::array({""})), "oifs", "interface name is empty"},
      {with("owner", 5), "owner", "must be a string or null"},
      {with("owner", ""), "owner", "owner must be a non-empty name other than 'config'"},
      {with("owner", "config"), "owner", "owner must be a non-empty name other than 'config'"},
      {with("oif", json::array({"a2"})), "oif", "unknown parameter"},
      {with("ttl", 3), "ttl", "unknown parameter"},
  };
  if (method != "route.remove") cases.push_back({without("oifs"), "oifs", "is required"});
  if (method != "route.remove") cases.push_back({with("oifs", nullptr), "oifs", ""});
  for (const auto& c : cases) {
    CAPTURE(c.params.dump());
    const json error = f.error(method, c.params);
    check_invalid_param(error, c.param, c.message);
    check_documented(method, error);
  }
  const json positional = f.error(method, json::array({"a1", "10.0.0.1", "225.1.1.1"}));
  check_invalid_param(positional, nullptr, "params must be an object (named params)");
  CHECK(f.calls().empty());
  CHECK(list_routes(f) == before);
  f.rf.check_consistent();
}

API_CASE("route.add", "bad params are -32602 naming the param; nothing changes") {
  check_route_param_errors("route.add");
}

API_CASE("route.add", "as smcrouted, host bits beyond /LEN are cleared instead of refused") {
  router::Settings settings;
  settings.smcroute_names = true;
  ApiFixture f(api_links(), settings);
  f.start(kConf);
  json rule = route_item("a1", "10.0.0.0/24", "225.1.1.0/24", {"a2"}, "rule");
  rule["reason"] = "range rule: (S,G) entries are added as traffic arrives";
  const json r = f.result("route.add", route_params("a1", "10.0.0.1/24", "225.1.1.1/24", {"a2"}));
  CHECK(r == json{{"route", rule}});
  check_result("route.add", r);
  const json g = f.result("group.join", {{"iif", "a1"}, {"group", "225.1.2.1/31"}});
  CHECK(g == json{{"group", group_item("a1", nullptr, "225.1.2.0/31", 2)}});
  // Still refused: what no mask can mend.
  check_invalid_param(f.error("route.add", route_params("a1", "10.0.0.1", "225.1.1.1/33", {"a2"})),
                      "group");
}

API_CASE("route.add", "a non-root caller is refused, even with bad params") {
  ApiFixture f;
  f.start(kConf);
  check_refused(f.error("route.add", route_params("a1", "10.0.0.1", "225.1.1.1", {"a2"}), 1000),
                "route.add", 1000);
  check_refused(f.error("route.add", {{"group", "10.1.1.1"}, {"oif", 1}}, 65534), "route.add",
                65534);
  CHECK(f.calls().empty());
  CHECK(f.rf.router.model().intent.route_count() == 0);
}

// route.list and the kernel as they were before a refused call.
struct Snapshot {
  json list;
  std::vector<std::string> table;
};
Snapshot snapshot(ApiFixture& f) {
  return {list_routes(f), f.rf.kernel.table()};
}
void check_unchanged(ApiFixture& f, const Snapshot& before) {
  CHECK(list_routes(f) == before.list);
  CHECK(f.rf.kernel.table() == before.table);
  f.rf.check_consistent();
}

API_CASE("route.add", "the kernel refusing the entry is -32000 naming the op; nothing changes") {
  for (const int err : {ENOBUFS, EPERM}) {
    CAPTURE(err);
    ApiFixture f;
    f.start(std::string(kConf) + "mroute from a1 source 10.0.0.5 group 225.1.1.5 to a2\n");
    const Snapshot before = snapshot(f);
    f.rf.kernel.fail("add_mfc 10.0.0.1,225.1.1.1", err);
    const json error = f.error("route.add", route_params("a1", "10.0.0.1", "225.1.1.1", {"a2"}));
    // The entry's inbound interface is named too.
    const std::string message = std::string("a1: add_mfc: ") + std::strerror(err);
    CHECK(error == json{{"code", rpc::kKernelError},
                        {"message", message},
                        {"data",
                         {{"iif", "a1"},
                          {"source", "10.0.0.1"},
                          {"group", "225.1.1.1"},
                          {"what", "route"},
                          {"op", "add_mfc (10.0.0.1, 225.1.1.1)"},
                          {"interface", "a1"},
                          {"errno", err},
                          {"strerror", std::strerror(err)},
                          {"message", message}}}});
    check_documented("route.add", error);
    CHECK(json(f.calls()) ==
          json(Calls{"add_mfc 10.0.0.1,225.1.1.1 iif=a1 oifs=a2 -> " + errno_name(err)}));
    check_unchanged(f, before);
  }
}

API_CASE("route.add", "the kernel refusing a VIF the route needs is -32000 naming it") {
  ApiFixture f;
  f.start(kConf);
  const Snapshot before = snapshot(f);
  f.rf.kernel.fail("add_vif ipv4 2 a3", EPERM);
  const json error = f.error("route.add", route_params("a1", "10.0.0.1", "225.1.1.1", {"a3"}));
  CHECK(error == json{{"code", rpc::kKernelError},
                      {"message", "a3: add_vif: Operation not permitted"},
                      {"data",
                       {{"iif", "a1"},
                        {"source", "10.0.0.1"},
                        {"group", "225.1.1.1"},
                        {"what", "route"},
                        {"op", "add_vif a3 (ipv4)"},
                        {"interface", "a3"},
                        {"errno", EPERM},
                        {"strerror", "Operation not permitted"},
                        {"message", "a3: add_vif: Operation not permitted"}}}});
  check_documented("route.add", error);
  check_unchanged(f, before);
}

API_CASE("route.add", "a full VIF table is -32002 with the interface, family and limit") {
  // 32 enabled phyints take every VIF; l32 has none left.
  core::Links links;
  std::string conf;
  for (int i = 0; i <= core::kMaxVifs; ++i) {
    links.push_back({"l" + std::to_string(i), 10 + i, true, true, false});
    if (i < core::kMaxVifs) conf += "phyint l" + std::to_string(i) + " enable\n";
  }
  ApiFixture f(links);
  f.start(conf + "mroute from l0 source 10.0.0.5 group 225.1.1.5 to l1\n");
  const Snapshot before = snapshot(f);
  const std::string message = "no free VIF for l32: all 32 ipv4 VIFs are in use";
  const json error = f.error("route.add", route_params("l0", "10.0.0.1", "225.1.1.1", {"l32"}));
  CHECK(error == json{{"code", rpc::kVifTableFull},
                      {"message", message},
                      {"data",
                       {{"iif", "l0"},
                        {"source", "10.0.0.1"},
                        {"group", "225.1.1.1"},
                        {"what", "route"},
                        {"op", "add_vif l32 (ipv4)"},
                        {"interface", "l32"},
                        {"family", "ipv4"},
                        {"limit", 32},
                        {"message", message}}}});
  check_documented("route.add", error);
  CHECK(f.calls().empty());
  check_unchanged(f, before);
  // A route that needs no new VIF still goes in.
  CHECK(f.result("route.add", route_params("l0", "10.0.0.1", "225.1.1.1", {"l31"})) ==
        json{{"route", route_item("l0", "10.0.0.1", "225.1.1.1", {"l31"}, "installed")}});
}

// --- route.set --------------------------------------------------------------------

API_CASE("route.add", "a typo'd only OIF is warned about: the entry drops the flow") {
  ApiFixture f;
  f.start(kConf);
  const json r = f.result("route.add", route_params("a1", "10.0.0.5", "225.9.9.9", {"a2x"}));
  CHECK(r.at("route").at("missing_oifs") == json{"a2x"});
  CHECK(r.at("warnings") ==
        json{{{"interface", "a2x"},
              {"role", "outbound"},
              {"message",
               "interface a2x does not exist; the route has no outbound interface and drops "
               "the flow until it appears"}}});
  check_result("route.add", r);
  CHECK(json(f.calls()) == json(Calls{"add_mfc 10.0.0.5,225.9.9.9 iif=a1 oifs="}));
}

// strict on route.add and route.set: what it refuses, with nothing changed,
// and what it lets through.
void check_route_strict(const std::string& method) {
  CAPTURE(method);
  ApiFixture f;
  f.start(std::string(kConf) + "mroute from a1 source 10.0.0.1 group 225.1.1.1 to a2\n");
  const Snapshot before = snapshot(f);
  auto params = [](const std::string& iif, const std::vector<std::string>& oifs, json strict) {
    json p = route_params(iif, "10.0.0.1", "225.1.1.1", oifs);
    p["strict"] = std::move(strict);
    return p;
  };
  // true: any missing interface; every one is named.
  json error = f.error(method, params("a1x", {"a2", "a3x"}, true));
  const std::string two = "interfaces a1x (inbound), a3x (outbound) do not exist; nothing changed";
  CHECK(error.at("code") == rpc::kUnknownInterface);
  CHECK(error.at("message") == two);
  CHECK(error.at("data").at("interface") == "a1x");
  CHECK(error.at("data").at("interfaces") == json{"a1x", "a3x"});
  CHECK(error.at("data").at("missing").size() == 2);
  check_documented(method, error);
  error = f.error(method, params("a1", {"a2", "a3x"}, true));
  CHECK(error.at("message") == "outbound interface a3x does not exist; nothing changed");
  check_documented(method, error);
  // "iif" (SMCRoute's rule): only a missing inbound interface is refused.
  error = f.error(method, params("a1x", {"a2"}, "iif"));
  CHECK(error.at("message") == "inbound interface a1x does not exist; nothing changed");
  check_documented(method, error);
  check_unchanged(f, before);
  CHECK(f.calls().empty());

  const json r = f.result(method, params("a1", {"a2", "a3x"}, "iif"));
  CHECK(r.at("warnings").size() == 1);
  CHECK(r.at("warnings")[0].at("interface") == "a3x");
  check_result(method, r);
  // false is the default; all present, strict true is quiet.
  CHECK_FALSE(f.result(method, params("a1", {"a2"}, true)).contains("warnings"));
  CHECK(f.result(method, params("a1", {"a2", "a3x"}, false)).contains("warnings"));
  check_invalid_param(f.error(method, params("a1", {"a2"}, 1)), "strict",
                      "must be true, false or \"iif\"");
  f.rf.check_consistent();
}

API_CASE("route.add", "strict refuses a missing interface with -32001; nothing changes") {
  check_route_strict("route.add");
}

API_CASE("route.set", "strict refuses a missing interface with -32001; nothing changes") {
  check_route_strict("route.set");
}

API_CASE("route.set", "the owner's share becomes exactly the OIFs given") {
  ApiFixture f;
  f.start(std::string(kConf) + "mroute from a1 source 10.0.0.1 group 225.1.1.1 to a2\n");
  // The config holds a2; the API's share is set beside it.
  json r = f.result("route.set", route_params("a1", "10.0.0.1", "225.1.1.1", {"a3"}));
  CHECK(r == json{{"route", route_item("a1", "10.0.0.1", "225.1.1.1", {"a2", "a3"}, "installed",
                                       {"config", "api"}, {"api"})}});
  check_result("route.set", r);
  CHECK(f.calls() ==
        Calls{"add_vif ipv4 2 a3 ifindex=4 ttl=1", "add_mfc 10.0.0.1,225.1.1.1 iif=a1 oifs=a2,a3"});
  // Set again to nothing: the API's share is empty, the config's stays.
  f.calls().clear();
  r = f.result("route.set", route_params("a1", "10.0.0.1", "225.1.1.1", {}));
  CHECK(r == json{{"route", route_item("a1", "10.0.0.1", "225.1.1.1", {"a2"}, "installed",
                                       {"config", "api"}, {"api"})}});
  check_result("route.set", r);
  CHECK(json(f.calls()) ==
        json(Calls{"add_mfc 10.0.0.1,225.1.1.1 iif=a1 oifs=a2", "del_vif ipv4 2 a3"}));
  f.rf.check_consistent();

  // A new route by set; the same (S,G) from another inbound interface is
  // another route, which stands by.
  f.calls().clear();
  r = f.result("route.set", route_params("a1", "10.0.0.2", "225.1.1.2", {"a2"}));
  CHECK(r == json{{"route", route_item("a1", "10.0.0.2", "225.1.1.2", {"a2"}, "installed")}});
  r = f.result("route.set", route_params("a2", "10.0.0.2", "225.1.1.2", {"a1"}));
  json standby = route_item("a2", "10.0.0.2", "225.1.1.2", {"a1"}, "standby");
  standby["reason"] = "(10.0.0.2, 225.1.1.2) is already routed by a1 (10.0.0.2, 225.1.1.2)";
  CHECK(r == json{{"route", standby}});
  check_result("route.set", r);
  CHECK(json(f.calls()) == json(Calls{"add_mfc 10.0.0.2,225.1.1.2 iif=a1 oifs=a2"}));
  f.rf.check_consistent();
}

API_CASE("route.set", "bad params are -32602 naming the param; nothing changes") {
  check_route_param_errors("route.set");
}

API_CASE("route.set", "a non-root caller is refused, even with bad params") {
  ApiFixture f;
  f.start(std::string(kConf) + "mroute from a1 source 10.0.0.1 group 225.1.1.1 to a2\n");
  const Snapshot before = snapshot(f);
  check_refused(f.error("route.set", route_params("a1", "10.0.0.1", "225.1.1.1", {}), 1000),
                "route.set", 1000);
  check_refused(f.error("route.set", {{"iif", 7}}, 1000), "route.set", 1000);
  CHECK(f.calls().empty());
  check_unchanged(f, before);
}

API_CASE("route.set", "the kernel refusing the change is -32000; the route stays as it was") {
  for (const int err : {ENOBUFS, EPERM}) {
    CAPTURE(err);
    ApiFixture f;
    f.start(std::string(kConf) + "mroute from a1 source 10.0.0.1 group 225.1.1.1 to a2\n");
    const Snapshot before = snapshot(f);
    f.rf.kernel.fail("add_mfc 10.0.0.1,225.1.1.1", err);
    const json error = f.error("route.set", route_params("a1", "10.0.0.1", "225.1.1.1", {"a3"}));
    const std::string message = std::string("a1: add_mfc: ") + std::strerror(err);
    CHECK(error == json{{"code", rpc::kKernelError},
                        {"message", message},
                        {"data",
                         {{"iif", "a1"},
                          {"source", "10.0.0.1"},
                          {"group", "225.1.1.1"},
                          {"what", "route"},
                          {"op", "add_mfc (10.0.0.1, 225.1.1.1)"},
                          {"interface", "a1"},
                          {"errno", err},
                          {"strerror", std::strerror(err)},
                          {"message", message}}}});
    check_documented("route.set", error);
    check_unchanged(f, before);
  }
}

// --- route.remove -----------------------------------------------------------------

API_CASE("route.remove", "the owner's share goes; null once nobody holds the route") {
  ApiFixture f;
  f.start(kConf);
  f.result("route.add", route_params("a1", "10.0.0.1", "225.1.1.1", {"a2", "a3"}));
  f.calls().clear();
  // Some OIFs only.
  json r = f.result("route.remove", route_params("a1", "10.0.0.1", "225.1.1.1", {"a3"}));
  CHECK(r == json{{"route", route_item("a1", "10.0.0.1", "225.1.1.1", {"a2"}, "installed")}});
  check_result("route.remove", r);
  CHECK(json(f.calls()) ==
        json(Calls{"add_mfc 10.0.0.1,225.1.1.1 iif=a1 oifs=a2", "del_vif ipv4 2 a3"}));
  // The rest, without oifs.
  f.calls().clear();
  r = f.result("route.remove", {{"iif", "a1"}, {"source", "10.0.0.1"}, {"group", "225.1.1.1"}});
  CHECK(r == json{{"route", nullptr}});
  check_result("route.remove", r);
  CHECK(json(f.calls()) == json(Calls{"del_mfc 10.0.0.1,225.1.1.1"}));
  CHECK(list_routes(f) ==
        json{{"routes",
              {{"asm", json::array()}, {"ssm", json::array()}, {"kernel", json::array()}}}});
  f.rf.check_consistent();
}

API_CASE("route.remove", "a config route may be removed; other owners' shares stay") {
  ApiFixture f;
  f.start(std::string(kConf) + "mroute from a1 source 10.0.0.1 group 225.1.1.1 to a2\n");
  json p = route_params("a1", "10.0.0.1", "225.1.1.1", {"a3"});
  p["owner"] = "orch";
  f.result("route.add", p);
  f.calls().clear();
  // The default owner holds nothing: the config's share goes.
  const json r =
      f.result("route.remove", {{"iif", "a1"}, {"source", "10.0.0.1"}, {"group", "225.1.1.1"}});
  CHECK(r == json{{"route", route_item("a1", "10.0.0.1", "225.1.1.1", {"a3"}, "installed", {"api"},
                                       {"orch"})}});
  check_result("route.remove", r);
  CHECK(json(f.calls()) == json(Calls{"add_mfc 10.0.0.1,225.1.1.1 iif=a1 oifs=a3"}));
  f.rf.check_consistent();
}

API_CASE("route.remove", "a route or OIF nobody holds is -32003 naming the route") {
  ApiFixture f;
  f.start(kConf);
  json p = route_params("a1", "10.0.0.1", "225.1.1.1", {"a2"});
  p["owner"] = "x";
  f.result("route.add", p);
  const Snapshot before = snapshot(f);
  f.calls().clear();
  auto not_found = [](const std::string& source, const std::string& message) {
    return json{{"code", rpc::kNotFound},
                {"message", message},
                {"data",
                 {{"iif", "a1"},
                  {"source", source},
                  {"group", "225.1.1.1"},
                  {"what", "route"},
                  {"message", message}}}};
  };
  json error =
      f.error("route.remove", {{"iif", "a1"}, {"source", "10.0.0.9"}, {"group", "225.1.1.1"}});
  CHECK(error == not_found("10.0.0.9", "no route a1 (10.0.0.9, 225.1.1.1)"));
  check_documented("route.remove", error);
  error = f.error("route.remove",
                  {{"iif", "a1"}, {"source", "10.0.0.1"}, {"group", "225.1.1.1"}, {"owner", "y"}});
  CHECK(error == not_found("10.0.0.1",
                           "route a1 (10.0.0.1, 225.1.1.1) is not held by owner 'y' (held by x)"));
  check_documented("route.remove", error);
  p["oifs"] = {"a3"};
  error = f.error("route.remove", p);
  CHECK(error == not_found("10.0.0.1",
                           "route a1 (10.0.0.1, 225.1.1.1) has no outbound "
                           "interface a3 from owner 'x'"));
  check_documented("route.remove", error);
  CHECK(f.calls().empty());
  check_unchanged(f, before);
}

API_CASE("route.remove", "bad params are -32602 naming the param; nothing changes") {
  check_route_param_errors("route.remove");
}

API_CASE("route.remove", "a non-root caller is refused, even for a route that does not exist") {
  ApiFixture f;
  f.start(std::string(kConf) + "mroute from a1 source 10.0.0.1 group 225.1.1.1 to a2\n");
  const Snapshot before = snapshot(f);
  check_refused(f.error("route.remove",
                        {{"iif", "a1"}, {"source", "10.0.0.1"}, {"group", "225.1.1.1"}}, 1000),
                "route.remove", 1000);
  check_refused(f.error("route.remove", {{"iif", "a1"}, {"group", "225.9.9.9"}}, 1000),
                "route.remove", 1000);
  CHECK(f.calls().empty());
  check_unchanged(f, before);
}

API_CASE("route.remove", "the kernel refusing the delete is -32000; the route stays") {
  ApiFixture f;
  f.start(std::string(kConf) + "mroute from a1 source 10.0.0.1 group 225.1.1.1 to a2\n");
  const Snapshot before = snapshot(f);
  f.rf.kernel.fail("del_mfc 10.0.0.1,225.1.1.1", EPERM);
  const json error =
      f.error("route.remove", {{"iif", "a1"}, {"source", "10.0.0.1"}, {"group", "225.1.1.1"}});
  CHECK(error == json{{"code", rpc::kKernelError},
                      {"message", "del_mfc: Operation not permitted"},
                      {"data",
                       {{"iif", "a1"},
                        {"source", "10.0.0.1"},
                        {"group", "225.1.1.1"},
                        {"what", "route"},
                        {"op", "del_mfc (10.0.0.1, 225.1.1.1)"},
                        {"errno", EPERM},
                        {"strerror", "Operation not permitted"},
                        {"message", "del_mfc: Operation not permitted"}}}});
  check_documented("route.remove", error);
  check_unchanged(f, before);
}

// --- route.list -------------------------------------------------------------------

const char* const kListConf =
    "phyint a1 enable\nphyint a2 enable\n"
    "mroute from a1 source 10.0.0.2 group 225.1.1.1 to a2\n"
    "mroute from a1 source 10.0.0.1 group 225.1.1.1 to a2\n"
    "mroute from a1 group 225.3.3.3 to a2\n"
    "mroute from a2 source 2001:db8::1 group ff0e::1 to a1\n";

API_CASE("route.list", "rules, routes and the kernel's entries, static and learned") {
  ApiFixture f;
  f.start(kListConf);
  f.rf.upcall(core::UpcallType::nocache, 0, "10.0.0.9", "225.3.3.3");
  CHECK(json(f.calls()) == json(Calls{"add_mfc 10.0.0.9,225.3.3.3 iif=a1 oifs=a2"}));
  json star = route_item("a1", nullptr, "225.3.3.3", {"a2"}, "rule", {"config"}, {});
  star["reason"] = "(*,G) rule: (S,G) entries are added as traffic arrives";
  json learned = kernel_entry("10.0.0.9", "225.3.3.3", "a1", {"a2"}, "dynamic");
  learned["rule"] = "a1 (*, 225.3.3.3)";
  const json list = f.result("route.list");
  CHECK(list ==
        json{{"routes",
              {{"asm", {star}},
               {"ssm",
                {route_item("a1", "10.0.0.2", "225.1.1.1", {"a2"}, "installed", {"config"}, {}),
                 route_item("a1", "10.0.0.1", "225.1.1.1", {"a2"}, "installed", {"config"}, {}),
                 route_item("a2", "2001:db8::1", "ff0e::1", {"a1"}, "installed", {"config"}, {})}},
               {"kernel",
                {kernel_entry("10.0.0.1", "225.1.1.1", "a1", {"a2"}),
                 kernel_entry("10.0.0.2", "225.1.1.1", "a1", {"a2"}), learned,
                 kernel_entry("2001:db8::1", "ff0e::1", "a2", {"a1"})}}}}});
  check_result("route.list", list);
  // detail: false and null are the default.
  CHECK(f.result("route.list", {{"detail", false}}) == list);
  CHECK(f.result("route.list", {{"detail", nullptr}}) == list);
  CHECK(f.result("route.list", json::object(), 1000) == list);
}

API_CASE("route.list", "detail adds each entry's counters") {
  ApiFixture f;
  f.start(std::string(kConf) + "mroute from a1 source 10.0.0.1 group 225.1.1.1 to a2\n" +
          "mroute from a1 source 10.0.0.2 group 225.1.1.1 to a2\n");
  const core::SgKey key{*core::Addr::parse("10.0.0.1"), *core::Addr::parse("225.1.1.1")};
  f.rf.kernel.set_counters(key, core::Counters{10, 1000, 2});
  json first = kernel_entry("10.0.0.1", "225.1.1.1", "a1", {"a2"});
  json second = kernel_entry("10.0.0.2", "225.1.1.1", "a1", {"a2"});
  first.update({{"packets", 10}, {"bytes", 1000}, {"wrong_if", 2}});
  second.update({{"packets", 0}, {"bytes", 0}, {"wrong_if", 0}});
  const json list = f.result("route.list", {{"detail", true}}, 1000);
  CHECK(list.at("routes").at("kernel") == json::array({first, second}));
  check_result("route.list", list);
}

API_CASE("route.list", "bad params are -32602 naming the param") {
  ApiFixture f;
  f.start(kConf);
  check_invalid_param(f.error("route.list", {{"detail", "yes"}}), "detail",
                      "must be true or false");
  check_invalid_param(f.error("route.list", {{"detail", 1}}), "detail", "must be true or false");
  check_invalid_param(f.error("route.list", {{"details", true}}), "details", "unknown parameter");
  check_documented("route.list", f.error("route.list", {{"detail", 1}}, 1000));
}

// Walks `method`'s pages from `params` on (limit given) and joins the lists
// at `lists` into one result shaped as the whole listing. Each page is
// checked against the schema and its limit; `pages` counts them.
json walk_list_pages(ApiFixture& f, const std::string& method, json params,
                     const std::vector<json::json_pointer>& lists, size_t* pages) {
  json all = json::object();
  for (const auto& list : lists)
    all[list] = json::array();
  *pages = 0;
  for (;;) {
    const json page = f.result(method, params);
    check_result(method, page);
    REQUIRE(page.contains("next"));
    size_t n = 0;
    for (const auto& list : lists) {
      for (const auto& item : page.at(list))
        all[list].push_back(item);
      n += page.at(list).size();
    }
    ++*pages;
    CHECK(n <= params.at("limit").get<size_t>());
    if (page.at("next").is_null()) break;
    CHECK(n == params.at("limit").get<size_t>());  // only the last page is short
    params["cursor"] = page.at("next");
    REQUIRE(*pages < 100);
  }
  return all;
}

// Every page of route.list from `params` on, joined: the sections as the
// whole listing has them.
json walk_pages(ApiFixture& f, json params, size_t* pages) {
  const std::vector<json::json_pointer> sections{json::json_pointer("/routes/asm"),
                                                 json::json_pointer("/routes/ssm"),
                                                 json::json_pointer("/routes/kernel")};
  return walk_list_pages(f, "route.list", std::move(params), sections, pages).at("routes");
}

API_CASE("route.list", "pages of any size walk the whole listing once, in its order") {
  ApiFixture f;
  f.start(std::string(kListConf) + "mroute from a1 group 225.4.4.4 to a2\n" +
          "mroute from a1 source 10.0.0.3 group 225.1.1.1 to a2\n");
  f.rf.upcall(core::UpcallType::nocache, 0, "10.0.0.9", "225.3.3.3");
  f.rf.upcall(core::UpcallType::nocache, 0, "10.0.0.8", "225.4.4.4");
  const json whole = f.result("route.list").at("routes");
  const size_t total = whole.at("asm").size() + whole.at("ssm").size() + whole.at("kernel").size();
  REQUIRE(total == 2 + 4 + 6);
  for (size_t limit = 1; limit <= total + 1; ++limit) {
    CAPTURE(limit);
    size_t pages = 0;
    CHECK(walk_pages(f, {{"limit", limit}}, &pages) == whole);
    CHECK(pages == std::max<size_t>(1, (total + limit - 1) / limit));
  }
  // A page that ends with a section goes on at the next one that holds
  // anything: here, past an empty SSM section.
  ApiFixture g;
  g.start(std::string(kConf) + "mroute from a1 group 225.3.3.3 to a2\n");
  g.rf.upcall(core::UpcallType::nocache, 0, "10.0.0.9", "225.3.3.3");
  const json first = g.result("route.list", {{"limit", 1}});
  CHECK(first.at("routes").at("asm").size() == 1);
  CHECK(first.at("next") == "kernel:");
  const json second = g.result("route.list", {{"limit", 1}, {"cursor", first.at("next")}});
  CHECK(second.at("routes").at("kernel").size() == 1);
  CHECK(second.at("next").is_null());
  // Nothing at all: one empty page.
  ApiFixture e;
  e.start(kConf);
  CHECK(
      e.result("route.list", {{"limit", 5}}) ==
      json{{"routes", {{"asm", json::array()}, {"ssm", json::array()}, {"kernel", json::array()}}},
           {"next", nullptr}});
}

API_CASE("route.list", "a walk over a changing table: what was added since comes later") {
  ApiFixture f;
  f.start(kListConf);
  const json first = f.result("route.list", {{"limit", 2}});
  CHECK(first.at("routes").at("ssm").size() == 1);  // the (*,G) rule, then one route
  // The route of the first page goes, one is added: the walk goes on from
  // where it was, and finds the new one at the end of its section.
  REQUIRE(f.call("route.remove", route_params("a1", "10.0.0.2", "225.1.1.1", {"a2"}))
              .contains("result"));
  REQUIRE(
      f.call("route.add", route_params("a1", "10.0.0.7", "225.1.1.7", {"a2"})).contains("result"));
  size_t pages = 0;
  const json rest = walk_pages(f, {{"limit", 2}, {"cursor", first.at("next")}}, &pages);
  std::vector<std::string> sources;
  for (const auto& r : rest.at("ssm"))
    sources.push_back(r.at("source").get<std::string>());
  CHECK(sources == std::vector<std::string>{"10.0.0.1", "2001:db8::1", "10.0.0.7"});
  CHECK(rest.at("kernel") == f.result("route.list").at("routes").at("kernel"));
}

API_CASE("route.list", "a cursor without a limit pages by 1,000") {
  ApiFixture f;
  f.start(kListConf);
  const json first = f.result("route.list", {{"limit", 1}});
  const json rest = f.result("route.list", {{"cursor", first.at("next")}});
  CHECK(rest.at("next").is_null());
  CHECK(rest.at("routes").at("ssm").size() == 3);
  CHECK(rest.at("routes").at("kernel").size() == 3);
}

API_CASE("route.list", "a bad limit or cursor is -32602 naming it") {
  ApiFixture f;
  f.start(kConf);
  for (const json& bad : {json(0), json(-1), json(10001)})
    check_invalid_param(f.error("route.list", {{"limit", bad}}), "limit",
                        "must be between 1 and 10000");
  check_invalid_param(f.error("route.list", {{"limit", "10"}}), "limit", "");
  for (const char* bad : {"", "asm", "asm:", "asm:x", "asm:-1", "asm:123456789012345678901",
                          "kernel:225.1.1.1", "kernel:225.1.1.1,10.0.0.300", "ssm 1", "all:1"}) {
    CAPTURE(bad);
    check_invalid_param(f.error("route.list", {{"limit", 10}, {"cursor", bad}}), "cursor",
                        std::string("not a cursor that route.list returned: '") + bad + "'");
  }
  check_documented("route.list", f.error("route.list", {{"limit", 0}}, 1000));
}

// --- pending.list -----------------------------------------------------------------

// The system files a healthy router shows for a1 and a2.
void healthy_system(ApiFixture& f) {
  auto& files = f.daemon.system.files;
  files["/proc/sys/net/ipv4/conf/all/rp_filter"] = "0\n";
  for (const char* i : {"a1", "a2"}) {
    files[std::string("/sys/class/net/") + i + "/carrier"] = "1\n";
    files[std::string("/proc/sys/net/ipv4/conf/") + i + "/mc_forwarding"] = "1\n";
    files[std::string("/proc/sys/net/ipv4/conf/") + i + "/rp_filter"] = "0\n";
  }
}

const json& check_of(const json& r, const std::string& id, const std::string& iface = {}) {
  for (const auto& c : r.at("checks"))
    if (c.at("check") == id && (iface.empty() || c.value("interface", "") == iface)) return c;
  FAIL("no check " << id << " " << iface << " in " << r.dump());
  static const json none;
  return none;
}

API_CASE("route.explain", "a static route: its entry, counters moving, every check passing") {
  ApiFixture f;
  f.start(
      "phyint a1 enable\nphyint a2 enable\n"
      "mroute from a1 source 198.51.100.2 group 233.252.0.1 to a2\n");
  healthy_system(f);
  const core::SgKey key{*core::Addr::parse("198.51.100.2"), *core::Addr::parse("233.252.0.1")};
  f.rf.kernel.set_counters(key, core::Counters{10, 1000, 0});
  const json params{{"source", "198.51.100.2"}, {"group", "233.252.0.1"}};
  json r = f.result("route.explain", params);
  check_result("route.explain", r);
  CHECK(r.at("flow") == json{{"source", "198.51.100.2"},
                             {"group", "233.252.0.1"},
                             {"iif", "a1"},
                             {"iif_given", false},
                             {"family", "ipv4"}});
  CHECK(r.at("covered_by").at("kind") == "route");
  CHECK(r.at("covered_by").at("route").at("oifs") == json{"a2"});
  CHECK(r.at("kernel").at("oifs") == json{{{"interface", "a2"}, {"ttl", 1}}});
  CHECK(r.at("kernel").at("packets") == 10);
  CHECK(r.at("kernel").at("change").is_null());
  for (const auto& c : r.at("checks")) {
    CAPTURE(c.dump());
    CHECK(c.at("ok") == true);
  }
  CHECK(r.at("verdict") == "forwarding");

  f.rf.kernel.set_counters(key, core::Counters{25, 2500, 1});
  r = f.result("route.explain", params);
  CHECK(r.at("kernel").at("change") == json{{"packets", 15}, {"bytes", 1500}, {"wrong_if", 1}});
  check_result("route.explain", r);
  // A reader may ask: explain changes nothing.
  CHECK(f.call("route.explain", params, 1000).contains("result"));
  CHECK(f.calls().empty());
}

API_CASE("route.explain", "what the system files say: rp_filter, a missing OIF, no route") {
  ApiFixture f;
  f.start(
      "phyint a1 enable\nphyint a2 enable\n"
      "mroute from a1 group 233.252.0.0/24 to a2 eth9\n");
  healthy_system(f);
  f.daemon.system.files["/proc/sys/net/ipv4/conf/a1/rp_filter"] = "1\n";
  json r = f.result("route.explain",
                    {{"source", "198.51.100.2"}, {"group", "233.252.0.7"}, {"iif", "a1"}});
  check_result("route.explain", r);
  CHECK(r.at("covered_by").at("kind") == "rule");
  CHECK(r.at("kernel").is_null());
  const json& rp = check_of(r, "rp_filter", "a1");
  CHECK(rp.at("ok") == false);
  CHECK(rp.at("looked_at") ==
        "/proc/sys/net/ipv4/conf/all/rp_filter = 0; /proc/sys/net/ipv4/conf/a1/rp_filter = 1 "
        "(effective 1)");
  CHECK(check_of(r, "interface_present", "eth9").at("ok") == false);
  CHECK(r.at("verdict") == "dropped: outbound interface eth9 does not exist");

  r = f.result("route.explain", {{"source", "198.51.100.2"}, {"group", "233.252.1.1"}});
  CHECK(r.at("covered_by") == json{{"kind", "none"}, {"route", nullptr}});
  CHECK(r.at("verdict") == "dropped: no route or rule covers the flow: the kernel drops it");
  check_result("route.explain", r);
}

API_CASE("route.explain", "bad params") {
  ApiFixture f;
  f.start("phyint a1 enable\n");
  auto e = f.error("route.explain", {{"source", "198.51.100.2"}, {"group", "198.51.100.3"}});
  CHECK(e.at("code") == -32602);
  CHECK(e.at("data").at("param") == "group");
  e = f.error("route.explain", {{"source", "2001:db8::1"}, {"group", "233.252.0.1"}});
  CHECK(e.at("data").at("param") == "source");
  e = f.error("route.explain", {{"group", "233.252.0.1"}});
  CHECK(e.at("data").at("param") == "source");
  e = f.error("route.explain",
              {{"source", "198.51.100.2"}, {"group", "233.252.0.1"}, {"oifs", json::array()}});
  CHECK(e.at("code") == -32602);
  check_documented("route.explain", e);
}

API_CASE("pending.list", "routes and joins waiting for an interface, until it appears") {
  ApiFixture f;
  f.start(
      "phyint a1 enable\nphyint a2 enable\n"
      "mroute from eth9 source 10.0.0.1 group 225.1.1.1 to a2\n"
      "mroute from a1 source 10.0.0.2 group 225.1.1.2 to a2 eth8\n"
      "mroute from a1 source 10.0.0.3 group 225.1.1.3 to a2\n"
      "mgroup from eth7 group 225.5.5.5\n"
      "mgroup from a1 group 225.5.5.6\n");
  const json r = f.result("pending.list");
  CHECK(r == json{{"pending",
                   {{{"iif", "eth9"},
                     {"source", "10.0.0.1"},
                     {"group", "225.1.1.1"},
                     {"kind", "mroute"},
                     {"oifs", {"a2"}},
                     {"missing_oifs", json::array()},
                     {"state", "pending"},
                     {"reason", "inbound interface eth9 does not exist"}},
                    {{"iif", "a1"},
                     {"source", "10.0.0.2"},
                     {"group", "225.1.1.2"},
                     {"kind", "mroute"},
                     {"oifs", {"a2", "eth8"}},
                     {"missing_oifs", {"eth8"}},
                     {"state", "installed"},
                     {"reason", "outbound interface eth8 does not exist"}},
                    {{"iif", "eth7"},
                     {"source", nullptr},
                     {"group", "225.5.5.5"},
                     {"kind", "mgroup"},
                     {"reason", "interface eth7 does not exist"}}}}});
  check_result("pending.list", r);
  CHECK(f.result("pending.list", json::object(), 1000) == r);

  // The interfaces appear: nothing waits any more.
  f.rf.link_added("eth9", 20);
  f.rf.link_added("eth8", 21);
  f.rf.link_added("eth7", 22);
  const json after = f.result("pending.list");
  CHECK(after == json{{"pending", json::array()}});
  check_result("pending.list", after);
  check_invalid_param(f.error("pending.list", {{"kind", "mroute"}}), "kind", "unknown parameter");
}

API_CASE("pending.list", "pages of any size walk the whole list once, in its order") {
  ApiFixture f;
  f.start(
      "phyint a1 enable\nphyint a2 enable\n"
      "mroute from eth9 source 10.0.0.1 group 225.1.1.1 to a2\n"
      "mroute from a1 source 10.0.0.2 group 225.1.1.2 to a2 eth8\n"
      "mroute from a1 source 10.0.0.3 group 225.1.1.3 to a2\n"
      "mroute from eth9 group 225.1.1.4 to a2\n"
      "mgroup from eth7 group 225.5.5.5\n"
      "mgroup from a1 group 225.5.5.6\n"
      "mgroup from eth6 group 225.5.5.7\n");
  const json whole = f.result("pending.list").at("pending");
  REQUIRE(whole.size() == 5);  // three routes, two joins
  for (size_t limit = 1; limit <= whole.size() + 1; ++limit) {
    CAPTURE(limit);
    json params{{"limit", limit}}, walked = json::array();
    size_t pages = 0;
    for (;;) {
      const json page = f.result("pending.list", params);
      check_result("pending.list", page);
      REQUIRE(page.contains("next"));
      CHECK(page.at("pending").size() <= limit);
      for (const auto& item : page.at("pending"))
        walked.push_back(item);
      ++pages;
      if (page.at("next").is_null()) break;
      CHECK(page.at("pending").size() == limit);
      params["cursor"] = page.at("next");
      REQUIRE(pages < 20);
    }
    CHECK(walked == whole);
    CHECK(pages == std::max<size_t>(1, (whole.size() + limit - 1) / limit));
  }
  // Nothing waits: one empty page.
  ApiFixture e;
  e.start(kConf);
  CHECK(e.result("pending.list", {{"limit", 3}}) ==
        json{{"pending", json::array()}, {"next", nullptr}});
  for (const char* bad : {"", "mroute", "mroute:x", "asm:1", "mgroup:-1", "mgroup:1:2"}) {
    CAPTURE(bad);
    check_invalid_param(e.error("pending.list", {{"cursor", bad}}), "cursor",
                        std::string("not a cursor that pending.list returned: '") + bad + "'");
  }
  check_invalid_param(e.error("pending.list", {{"limit", 0}}), "limit",
                      "must be between 1 and 10000");
}

// --- group.join -------------------------------------------------------------------

API_CASE("group.join", "ASM, SSM and range joins; the kernel holds every membership") {
  ApiFixture f;
  f.start(kConf);
  json r = f.result("group.join", {{"iif", "a1"}, {"group", "225.1.1.1"}});
  CHECK(r == json{{"group", group_item("a1", nullptr, "225.1.1.1", 1)}});
  check_result("group.join", r);
  CHECK(json(f.calls()) == json(Calls{"join a1 (*, 225.1.1.1)"}));

  // 0.0.0.0 as source is the same ASM join; another owner adds a share only.
  f.calls().clear();
  json p = join_params("a1", "0.0.0.0", "225.1.1.1");
  p["owner"] = "orch";
  r = f.result("group.join", p);
  CHECK(r == json{{"group", group_item("a1", nullptr, "225.1.1.1", 1, {"api"}, {"api", "orch"})}});
  CHECK(f.calls().empty());

  r = f.result("group.join", join_params("a2", "10.0.0.1", "232.1.1.1"));
  CHECK(r == json{{"group", group_item("a2", "10.0.0.1", "232.1.1.1", 1)}});
  check_result("group.join", r);
  r = f.result("group.join", join_params("a1", "10.0.0.0/31", "225.9.9.0/31"));
  CHECK(r == json{{"group", group_item("a1", "10.0.0.0/31", "225.9.9.0/31", 4)}});
  r = f.result("group.join", join_params("a1", "2001:db8::1", "ff0e::1"));
  CHECK(r == json{{"group", group_item("a1", "2001:db8::1", "ff0e::1", 1)}});
  check_result("group.join", r);
  CHECK(json(f.calls()) ==
        json(Calls{"join a2 (10.0.0.1, 232.1.1.1)", "join a1 (10.0.0.0, 225.9.9.0)",
                   "join a1 (10.0.0.1, 225.9.9.0)", "join a1 (10.0.0.0, 225.9.9.1)",
                   "join a1 (10.0.0.1, 225.9.9.1)", "join a1 (2001:db8::1, ff0e::1)"}));
  f.rf.check_consistent();
}

API_CASE("group.join", "a missing interface waits, with a warning; too big a range -32006") {
  ApiFixture f;
  f.start(kConf);
  // As a route does: kept, pending, and the result says so.
  json r = f.result("group.join", {{"iif", "eth9"}, {"group", "225.1.1.1"}});
  json pending = group_item("eth9", nullptr, "225.1.1.1", 0);
  pending["state"] = "pending";
  pending["reason"] = "interface eth9 does not exist";
  CHECK(r ==
        json{{"group", pending},
             {"warnings",
              {{{"interface", "eth9"},
                {"role", "join"},
                {"message",
                 "interface eth9 does not exist; the join stays pending until it appears"}}}}});
  check_result("group.join", r);
  CHECK(f.calls().empty());
  // It is joined once the interface appears.
  f.rf.link_added("eth9", 20);
  CHECK(json(f.calls()) == json(Calls{"join eth9 (*, 225.1.1.1)"}));
  f.calls().clear();

  json error = f.error("group.join", {{"iif", "a1"}, {"group", "225.0.0.0/16"}});
  const std::string message =
      "join a1 (*, 225.0.0.0/16) covers 65536 memberships, more than the limit of 1024";
  CHECK(error == json{{"code", rpc::kLimitExceeded},
                      {"message", message},
                      {"data", {{"limit", "join_range"}, {"value", 1024}, {"message", message}}}});
  check_documented("group.join", error);
  CHECK(f.calls().empty());
}

API_CASE("group.join", "strict: a missing interface is -32001 and nothing changes") {
  ApiFixture f;
  f.start(kConf);
  const json before = f.result("group.list");
  const std::string message = "interface eth9 does not exist; nothing changed";
  const json missing = {
      {"interface", "eth9"},
      {"role", "join"},
      {"message", "interface eth9 does not exist; the join stays pending until it appears"}};
  for (const json& strict : {json(true), json("iif")}) {
    CAPTURE(strict.dump());
    const json error =
        f.error("group.join", {{"iif", "eth9"}, {"group", "225.1.1.1"}, {"strict", strict}});
    CHECK(error == json{{"code", rpc::kUnknownInterface},
                        {"message", message},
                        {"data",
                         {{"interface", "eth9"},
                          {"interfaces", {"eth9"}},
                          {"missing", {missing}},
                          {"message", message}}}});
    check_documented("group.join", error);
  }
  CHECK(f.result("group.list") == before);
  CHECK(f.calls().empty());
  // strict on a present interface, or false, changes nothing about a join.
  CHECK(f.result("group.join", {{"iif", "a1"}, {"group", "225.1.1.1"}, {"strict", true}}) ==
        json{{"group", group_item("a1", nullptr, "225.1.1.1", 1)}});
  check_invalid_param(
      f.error("group.join", {{"iif", "a1"}, {"group", "225.1.1.2"}, {"strict", "yes"}}), "strict",
      "must be true, false or \"iif\"");
}

API_CASE("group.join", "the kernel refusing a membership is -32000; nothing is left joined") {
  for (const int err : {ENOBUFS, EPERM}) {
    CAPTURE(err);
    ApiFixture f;
    f.start(std::string(kConf) + "mgroup from a2 group 225.8.8.8\n");
    const json before = f.result("group.list");
    // The second of two memberships fails: the first is dropped again.
    f.rf.membership.fail("join a1 (*, 225.1.1.1)", err);
    const json error = f.error("group.join", {{"iif", "a1"}, {"group", "225.1.1.0/31"}});
    const std::string message =
        std::string("MCAST_JOIN_GROUP a1 (*, 225.1.1.1): ") + std::strerror(err);
    CHECK(error == json{{"code", rpc::kKernelError},
                        {"message", message},
                        {"data",
                         {{"op", "MCAST_JOIN_GROUP a1 (*, 225.1.1.1)"},
                          {"errno", err},
                          {"strerror", std::strerror(err)},
                          {"message", message}}}});
    check_documented("group.join", error);
    // (The undo also leaves the refused membership, which the kernel does
    // not hold; only what was joined matters here.)
    const Calls calls = f.calls();
    REQUIRE(calls.size() >= 3);
    CHECK(json(Calls(calls.begin(), calls.begin() + 3)) ==
          json(Calls{"join a1 (*, 225.1.1.0)", "join a1 (*, 225.1.1.1) -> " + errno_name(err),
                     "leave a1 (*, 225.1.1.0)"}));
    CHECK(f.rf.membership.memberships().size() == 1);
    CHECK(f.result("group.list") == before);
    f.rf.check_consistent();
  }
}

// The param errors of group.join and group.leave.
void check_join_param_errors(const std::string& method) {
  CAPTURE(method);
  ApiFixture f;
  f.start(std::string(kConf) + "mgroup from a1 group 225.1.1.1\n");
  const json before = f.result("group.list");
  const json good = join_params("a1", nullptr, "225.1.1.1");
  auto with = [&](const std::string& name, const json& value) {
    json p = good;
    p[name] = value;
    return p;
  };
  json no_iif = good;
  no_iif.erase("iif");
  json no_group = good;
  no_group.erase("group");
  const std::vector<std::tuple<json, std::string, std::string>> cases = {
      {no_iif, "iif", "is required"},
      {with("iif", 1), "iif", "must be a string"},
      {with("iif", ""), "iif", "interface name is empty"},
      {no_group, "group", "is required"},
      {with("group", true), "group", "must be a string"},
      {with("group", "225.1.1"), "group", ""},
      {with("group", "10.1.1.1"), "group", "group 10.1.1.1 is not a multicast address"},
      {with("group", "225.1.1.1/40"), "group", ""},
      {with("group", "225.1.1.1/24"), "group", ""},
      {with("source", 7), "source", "must be a string or null"},
      {with("source", "10.0.0.x"), "source", ""},
      {with("source", "225.1.1.9"), "source",
       "source 225.1.1.9 is a multicast address, not a sender"},
      {with("source", "2001:db8::1"), "source",
       "source 2001:db8::1 and group 225.1.1.1 are not the same address family"},
      {with("owner", "config"), "owner", "owner must be a non-empty name other than 'config'"},
      {with("owner", ""), "owner", "owner must be a non-empty name other than 'config'"},
      {with("owner", 3), "owner", "must be a string or null"},
      {with("oifs", json::array({"a2"})), "oifs", "unknown parameter"},
  };
  for (const auto& [params, param, message] : cases) {
    CAPTURE(params.dump());
    const json error = f.error(method, params);
    check_invalid_param(error, param, message);
    check_documented(method, error);
  }
  check_invalid_param(f.error(method, json::array({"a1", "225.1.1.1"})), nullptr);
  CHECK(f.calls().empty());
  CHECK(f.result("group.list") == before);
}

API_CASE("group.join", "bad params are -32602 naming the param; nothing changes") {
  check_join_param_errors("group.join");
}

API_CASE("group.join", "a non-root caller is refused, even with bad params") {
  ApiFixture f;
  f.start(kConf);
  check_refused(f.error("group.join", {{"iif", "a1"}, {"group", "225.1.1.1"}}, 1000), "group.join",
                1000);
  check_refused(f.error("group.join", {{"iif", "eth9"}, {"group", "10.0.0.1"}}, 1000), "group.join",
                1000);
  CHECK(f.calls().empty());
  CHECK(f.rf.router.model().joins.size() == 0);
}

// --- group.leave ------------------------------------------------------------------

API_CASE("group.leave", "takes the owner's share; null once the join is gone") {
  ApiFixture f;
  f.start(kConf);
  f.result("group.join", join_params("a1", "10.0.0.1", "232.1.1.1"));
  json p = join_params("a1", "10.0.0.1", "232.1.1.1");
  p["owner"] = "orch";
  f.result("group.join", p);
  f.calls().clear();
  json r = f.result("group.leave", p);
  CHECK(r == json{{"group", group_item("a1", "10.0.0.1", "232.1.1.1", 1)}});
  check_result("group.leave", r);
  CHECK(f.calls().empty());
  r = f.result("group.leave", join_params("a1", "10.0.0.1", "232.1.1.1"));
  CHECK(r == json{{"group", nullptr}});
  check_result("group.leave", r);
  CHECK(json(f.calls()) == json(Calls{"leave a1 (10.0.0.1, 232.1.1.1)"}));
  CHECK(f.result("group.list") ==
        json{{"groups", {{"conf", json::array()}, {"kernel", json::array()}}}});
  f.rf.check_consistent();
}

API_CASE("group.leave", "a caller holding no share takes the config's") {
  ApiFixture f;
  f.start(std::string(kConf) + "mgroup from a1 group 225.1.1.1\n");
  CHECK(f.calls().empty());
  const json r = f.result("group.leave", {{"iif", "a1"}, {"group", "225.1.1.1"}, {"owner", "x"}});
  CHECK(r == json{{"group", nullptr}});
  CHECK(json(f.calls()) == json(Calls{"leave a1 (*, 225.1.1.1)"}));
  f.rf.check_consistent();
}

API_CASE("group.leave", "a join nobody holds is -32003 naming it") {
  ApiFixture f;
  f.start(kConf);
  json p = join_params("a1", "10.0.0.1", "232.1.1.1");
  p["owner"] = "x";
  f.result("group.join", p);
  const json before = f.result("group.list");
  f.calls().clear();
  auto not_found = [](const json& source, const std::string& group, const std::string& message) {
    return json{{"code", rpc::kNotFound},
                {"message", message},
                {"data",
                 {{"iif", "a1"},
                  {"source", source},
                  {"group", group},
                  {"what", "join"},
                  {"message", message}}}};
  };
  json error = f.error("group.leave", {{"iif", "a1"}, {"group", "232.1.1.1"}});
  CHECK(error == not_found(nullptr, "232.1.1.1",
                           "no join a1 (*, 232.1.1.1); joined is a1 (10.0.0.1, 232.1.1.1)"));
  check_documented("group.leave", error);
  error = f.error("group.leave", join_params("a1", "10.0.0.1", "232.1.1.1"));
  CHECK(error == not_found("10.0.0.1", "232.1.1.1",
                           "join a1 (10.0.0.1, 232.1.1.1) is not held by owner 'api' (held by x)"));
  check_documented("group.leave", error);
  CHECK(f.calls().empty());
  CHECK(f.result("group.list") == before);
}

API_CASE("group.leave", "bad params are -32602 naming the param; nothing changes") {
  check_join_param_errors("group.leave");
}

API_CASE("group.leave", "a non-root caller is refused, even with bad params") {
  ApiFixture f;
  f.start(std::string(kConf) + "mgroup from a1 group 225.1.1.1\n");
  const json before = f.result("group.list");
  check_refused(f.error("group.leave", {{"iif", "a1"}, {"group", "225.1.1.1"}}, 1000),
                "group.leave", 1000);
  check_refused(f.error("group.leave", {{"group", 1}}, 1000), "group.leave", 1000);
  CHECK(f.calls().empty());
  CHECK(f.result("group.list") == before);
}

// --- group.list -------------------------------------------------------------------

API_CASE("group.list", "config and API joins, and the memberships the kernel holds") {
  ApiFixture f;
  f.start(std::string(kConf) + "mgroup from a2 source 10.0.0.1 group 232.1.1.1\n" +
          "mgroup from eth9 group 225.5.5.5\n");
  f.result("group.join", {{"iif", "a1"}, {"group", "225.1.1.0/31"}, {"owner", "orch"}});
  json config_join = group_item("a2", "10.0.0.1", "232.1.1.1", 1, {"config"}, {});
  config_join.update({{"file", "/etc/mfcd.conf"}, {"line", 3}});
  json waiting = {{"iif", "eth9"},
                  {"source", nullptr},
                  {"group", "225.5.5.5"},
                  {"family", "ipv4"},
                  {"origins", {"config"}},
                  {"owners", json::array()},
                  {"state", "pending"},
                  {"reason", "interface eth9 does not exist"},
                  {"memberships", 0},
                  {"file", "/etc/mfcd.conf"},
                  {"line", 4}};
  auto held = [](const std::string& iif, const json& source, const std::string& group) {
    return json{
        {"iif", iif}, {"source", source}, {"group", group}, {"family", "ipv4"}, {"socket", 0}};
  };
  const json r = f.result("group.list", json::object(), 1000);
  CHECK(r == json{{"groups",
                   {{"conf",
                     {config_join, waiting,
                      group_item("a1", nullptr, "225.1.1.0/31", 2, {"api"}, {"orch"})}},
                    {"kernel",
                     {held("a1", nullptr, "225.1.1.0"), held("a1", nullptr, "225.1.1.1"),
                      held("a2", "10.0.0.1", "232.1.1.1")}}}}});
  check_result("group.list", r);
  check_invalid_param(f.error("group.list", {{"iif", "a1"}}), "iif", "unknown parameter");
}

API_CASE("group.list", "pages of any size walk the joins, then the memberships, once each") {
  ApiFixture f;
  f.start(std::string(kConf) + "mgroup from a2 source 10.0.0.1 group 232.1.1.1\n" +
          "mgroup from eth9 group 225.5.5.5\n");
  f.result("group.join", {{"iif", "a1"}, {"group", "225.1.1.0/31"}, {"owner", "orch"}});
  f.result("group.join", {{"iif", "a2"}, {"group", "ff05::7"}});
  const json whole = f.result("group.list");
  const size_t total =
      whole.at("groups").at("conf").size() + whole.at("groups").at("kernel").size();
  REQUIRE(total == 4 + 4);
  const std::vector<json::json_pointer> lists{json::json_pointer("/groups/conf"),
                                              json::json_pointer("/groups/kernel")};
  for (size_t limit = 1; limit <= total + 1; ++limit) {
    CAPTURE(limit);
    size_t pages = 0;
    CHECK(walk_list_pages(f, "group.list", {{"limit", limit}}, lists, &pages) == whole);
    CHECK(pages == std::max<size_t>(1, (total + limit - 1) / limit));
  }
  // A page full at the end of the joins goes on at the memberships.
  const json first = f.result("group.list", {{"limit", 4}});
  CHECK(first.at("next") == "kernel:");
  // A membership's cursor names it whole; the walk goes on after it.
  const json second = f.result("group.list", {{"limit", 1}, {"cursor", "kernel:"}});
  CHECK(second.at("next") == "kernel:0,2,225.1.1.0,*,a1");
  CHECK(second.at("groups").at("kernel") == json::array({whole.at("groups").at("kernel").at(0)}));
  const json third = f.result("group.list", {{"cursor", second.at("next")}});
  CHECK(third.at("groups").at("kernel").size() == 3);
  CHECK(third.at("next").is_null());
  // Nothing at all: one empty page.
  ApiFixture e;
  e.start(kConf);
  CHECK(e.result("group.list", {{"limit", 5}}) ==
        json{{"groups", {{"conf", json::array()}, {"kernel", json::array()}}}, {"next", nullptr}});
}

API_CASE("group.list", "a bad limit or cursor is -32602 naming it") {
  ApiFixture f;
  f.start(kConf);
  for (const json& bad : {json(0), json(-1), json(10001)})
    check_invalid_param(f.error("group.list", {{"limit", bad}}), "limit",
                        "must be between 1 and 10000");
  for (const char* bad :
       {"", "conf", "conf:x", "conf:-1", "asm:1", "kernel:0", "kernel:0,0,225.1.1.1",
        "kernel:0,0,225.1.1.1,*", "kernel:x,0,225.1.1.1,*,a1", "kernel:0,0,225.1.1.300,*,a1",
        "kernel:0,0,225.1.1.1,10.0.0.x,a1", "kernel:0,4294967296,225.1.1.1,*,a1"}) {
    CAPTURE(bad);
    check_invalid_param(f.error("group.list", {{"limit", 10}, {"cursor", bad}}), "cursor",
                        std::string("not a cursor that group.list returned: '") + bad + "'");
  }
}

// --- config.reload ----------------------------------------------------------------

API_CASE("config.reload", "a dry run reports exactly what the reload then does") {
  ApiFixture f;
  f.start(std::string(kConf) +
          "mroute from a1 source 10.0.0.1 group 225.1.1.1 to a2\n"
          "mroute from a1 source 10.0.0.2 group 225.1.1.2 to a2\n"
          "mroute from a1 source 10.0.0.3 group 225.1.1.3 to a2\n"
          "mgroup from a1 group 225.7.7.7\n");
  f.daemon.set_config(std::string(kConf) +
                      "mroute from a1 source 10.0.0.2 group 225.1.1.2 to a2\n"
                      "mroute from a1 source 10.0.0.3 group 225.1.1.3 to a2 a3\n"
                      "mroute from a2 source 10.0.0.4 group 225.1.1.4 to a1\n"
                      "mgroup from a2 group 225.7.7.8\n");
  const Snapshot before = snapshot(f);
  const json groups_before = f.result("group.list");

  const json dry = f.result("config.reload", {{"dry_run", true}});
  CHECK(f.calls().empty());
  check_unchanged(f, before);
  CHECK(f.result("group.list") == groups_before);

  json changed =
      route_item("a1", "10.0.0.3", "225.1.1.3", {"a2", "a3"}, "installed", {"config"}, {});
  json joined = group_item("a2", nullptr, "225.7.7.8", 1, {"config"}, {});
  joined.update({{"file", "/etc/mfcd.conf"}, {"line", 6}});
  json left = group_item("a1", nullptr, "225.7.7.7", 1, {"config"}, {});
  left.update({{"file", "/etc/mfcd.conf"}, {"line", 6}});
  const json expected = {
      {"dry_run", false},
      {"routes",
       {{"added", {route_item("a2", "10.0.0.4", "225.1.1.4", {"a1"}, "installed", {"config"}, {})}},
        {"changed", {changed}},
        {"removed",
         {route_item("a1", "10.0.0.1", "225.1.1.1", {"a2"}, "installed", {"config"}, {})}}}},
      {"groups", {{"joined", {joined}}, {"left", {left}}}},
      {"failures", json::array()},
      {"warnings", json::array()}};
  json dry_expected = expected;
  dry_expected["dry_run"] = true;
  CHECK(dry == dry_expected);
  check_result("config.reload", dry);

  const json real = f.result("config.reload");
  CHECK(real == expected);
  check_result("config.reload", real);
  CHECK(f.daemon.reloads == std::vector<bool>{true, false});
  CHECK(json(f.calls()) ==
        json(Calls{"add_vif ipv4 2 a3 ifindex=4 ttl=1",
                   "add_mfc 10.0.0.3,225.1.1.3 iif=a1 oifs=a2,a3",
                   "add_mfc 10.0.0.4,225.1.1.4 iif=a2 oifs=a1", "del_mfc 10.0.0.1,225.1.1.1",
                   "leave a1 (*, 225.7.7.7)", "join a2 (*, 225.7.7.8)"}));
  f.rf.check_consistent();

  // Again: nothing left to do.
  f.calls().clear();
  const json none = {
      {"dry_run", false},
      {"routes",
       {{"added", json::array()}, {"changed", json::array()}, {"removed", json::array()}}},
      {"groups", {{"joined", json::array()}, {"left", json::array()}}},
      {"failures", json::array()},
      {"warnings", json::array()}};
  CHECK(f.result("config.reload", {{"dry_run", false}}) == none);
  CHECK(f.calls().empty());
}

API_CASE("config.reload", "an op the kernel refuses is listed, and its route reads as pending") {
  ApiFixture f;
  f.start(std::string(kConf) + "mroute from a1 source 10.0.0.1 group 225.1.1.1 to a2\n");
  f.daemon.set_config(std::string(kConf) +
                      "mroute from a1 source 10.0.0.1 group 225.1.1.1 to a2\n"
                      "mroute from a1 source 10.0.0.2 group 225.1.1.2 to a2\n");
  f.rf.kernel.fail("add_mfc 10.0.0.2,225.1.1.2", ENOBUFS);
  const json real = f.result("config.reload");
  check_result("config.reload", real);
  REQUIRE(real["routes"]["added"].size() == 1);
  CHECK(real["routes"]["added"][0]["state"] == "pending");
  REQUIRE(real["failures"].size() == 1);
  CHECK(real["failures"][0]["op"] == "add_mfc (10.0.0.2, 225.1.1.2)");
  CHECK(real["failures"][0]["errno"] == ENOBUFS);
  CHECK(real["failures"][0]["route"] ==
        json{{"iif", "a1"}, {"source", "10.0.0.2"}, {"group", "225.1.1.2"}});
  // route.list agrees with the report.
  bool listed = false;
  const json list = f.result("route.list");
  for (const auto& r : list.at("routes").at("ssm"))
    if (r["group"] == "225.1.1.2") {
      listed = true;
      CHECK(r["state"] == "pending");
    }
  CHECK(listed);
  f.rf.check_consistent();
}

API_CASE("config.reload", "every interface the file names that does not exist is a warning") {
  ApiFixture f;
  f.start(kConf);
  f.daemon.set_config(std::string(kConf) +
                      "mroute from a1 source 10.1.0.5 group 225.9.9.9 to a2oot\n"
                      "mgroup from a9 group 225.5.5.5\n"
                      "mroute from a1x source 10.1.0.6 group 225.9.9.8 to a2 a3x\n");
  const json warnings = {
      {{"interface", "a2oot"},
       {"role", "outbound"},
       {"message",
        "interface a2oot does not exist; the route has no outbound interface and drops the flow "
        "until it appears"},
       {"file", "/etc/mfcd.conf"},
       {"line", 3},
       {"column", 1}},
      {{"interface", "a9"},
       {"role", "join"},
       {"message", "interface a9 does not exist; the join stays pending until it appears"},
       {"file", "/etc/mfcd.conf"},
       {"line", 4},
       {"column", 1}},
      {{"interface", "a1x"},
       {"role", "inbound"},
       {"message",
        "interface a1x does not exist; the route stays pending and forwards nothing until it "
        "appears"},
       {"file", "/etc/mfcd.conf"},
       {"line", 5},
       {"column", 1}},
      {{"interface", "a3x"},
       {"role", "outbound"},
       {"message", "interface a3x does not exist; nothing is forwarded to it until it appears"},
       {"file", "/etc/mfcd.conf"},
       {"line", 5},
       {"column", 1}}};
  const json dry = f.result("config.reload", {{"dry_run", true}});
  CHECK(dry.at("warnings") == warnings);
  check_result("config.reload", dry);
  const json real = f.result("config.reload");
  CHECK(real.at("warnings") == warnings);
  CHECK(real.at("routes").at("added").size() == 2);
  check_result("config.reload", real);
  // Again, with nothing to change: still said, until the file is fixed.
  const json again = f.result("config.reload");
  CHECK(again.at("routes").at("added").empty());
  CHECK(again.at("warnings") == warnings);
  f.rf.check_consistent();

  // config.check says the same of the file.
  const json check = f.result("config.check");
  CHECK(check.at("warnings") == warnings);
  check_result("config.check", check);
}

API_CASE("config.reload", "strict refuses a file naming a missing interface; nothing changes") {
  ApiFixture f;
  f.start(std::string(kConf) + "mroute from a1 source 10.0.0.1 group 225.1.1.1 to a2\n");
  const Snapshot before = snapshot(f);
  f.daemon.set_config(std::string(kConf) +
                      "mroute from a1 source 10.0.0.1 group 225.1.1.1 to a2\n"
                      "mroute from a1 source 10.1.0.5 group 225.9.9.9 to a2oot\n");
  const std::string message = "outbound interface a2oot does not exist; nothing changed";
  for (const bool dry_run : {false, true}) {
    CAPTURE(dry_run);
    const json error = f.error("config.reload", {{"dry_run", dry_run}, {"strict", true}});
    CHECK(error.at("code") == rpc::kUnknownInterface);
    CHECK(error.at("message") == message);
    CHECK(error.at("data").at("interfaces") == json{"a2oot"});
    CHECK(error.at("data").at("missing")[0].at("line") == 4);
    check_documented("config.reload", error);
  }
  // The strict reload looked first (a dry run) and wrote nothing.
  CHECK(f.daemon.reloads == std::vector<bool>{true, true});
  CHECK(f.calls().empty());
  check_unchanged(f, before);

  // "iif" lets a missing OIF through, with its warning.
  const json r = f.result("config.reload", {{"strict", "iif"}});
  CHECK(r.at("routes").at("added").size() == 1);
  CHECK(r.at("warnings").size() == 1);
  check_result("config.reload", r);
  check_invalid_param(f.error("config.reload", {{"strict", "all"}}), "strict",
                      "must be true, false or \"iif\"");
}

API_CASE("config.reload", "a file with errors is -32004 listing every error; nothing changes") {
  ApiFixture f;
  f.start(std::string(kConf) + "mroute from a1 source 10.0.0.1 group 225.1.1.1 to a2\n");
  const Snapshot before = snapshot(f);
  f.daemon.set_config(
      "phyint a1 enable\n"
      "mroute from a1 source 10.0.0.1 group 225.1.1.1 to a2 a2\n"
      "mroute from a1 group\n"
      "bogus line\n");
  for (const bool dry_run : {true, false}) {
    CAPTURE(dry_run);
    const json error = f.error("config.reload", {{"dry_run", dry_run}});
    const json errors = {{{"file", "/etc/mfcd.conf"},
                          {"line", 3},
                          {"column", 21},
                          {"message", "expected an address after 'group', got end of line"}},
                         {{"file", "/etc/mfcd.conf"},
                          {"line", 4},
                          {"column", 1},
                          {"message", "unknown keyword 'bogus'"}}};
    CHECK(error == json{{"code", rpc::kConfigError},
                        {"message", "configuration /etc/mfcd.conf has errors; nothing changed"},
                        {"data", {{"file", "/etc/mfcd.conf"}, {"errors", errors}}}});
    check_documented("config.reload", error);
  }
  CHECK(f.daemon.reloads == std::vector<bool>{true, false});
  CHECK(f.calls().empty());
  check_unchanged(f, before);
}

API_CASE("config.reload", "bad params are -32602; a non-root caller is refused first") {
  ApiFixture f;
  f.start(kConf);
  check_invalid_param(f.error("config.reload", {{"dry_run", "yes"}}), "dry_run",
                      "must be true or false");
  check_invalid_param(f.error("config.reload", {{"dryrun", true}}), "dryrun", "unknown parameter");
  check_refused(f.error("config.reload", json::object(), 1000), "config.reload", 1000);
  check_refused(f.error("config.reload", {{"dry_run", true}}, 1000), "config.reload", 1000);
  check_refused(f.error("config.reload", {{"dry_run", "yes"}}, 1000), "config.reload", 1000);
  CHECK(f.daemon.reloads.empty());
}

// --- config.check -----------------------------------------------------------------

API_CASE("config.check", "the config file or another, with its errors and warnings") {
  ApiFixture f;
  f.start(std::string(kConf) + "mroute from a1 source 10.0.0.1 group 225.1.1.1 to a2 a2\n" +
          "mgroup from a1 group 225.7.7.7\n");
  const json warning = {{"file", "/etc/mfcd.conf"},
                        {"line", 3},
                        {"column", 54},
                        {"message", "output interface 'a2' listed twice; kept once"}};
  json r = f.result("config.check");
  CHECK(r == json{{"file", "/etc/mfcd.conf"},
                  {"valid", true},
                  {"errors", json::array()},
                  {"warnings", {warning}},
                  {"routes", 1},
                  {"groups", 1}});
  check_result("config.check", r);

  f.daemon.files["/tmp/new.conf"] = "mroute from a1 group 225.1.1.1 to a2\nphyint a1 bogus\n";
  r = f.result("config.check", {{"file", "/tmp/new.conf"}});
  CHECK(r == json{{"file", "/tmp/new.conf"},
                  {"valid", false},
                  {"errors",
                   {{{"file", "/tmp/new.conf"},
                     {"line", 2},
                     {"column", 11},
                     {"message",
                      "unknown phyint option 'bogus' (expected 'enable', 'disable', "
                      "'mrdisc' or 'ttl-threshold')"}}}},
                  {"warnings", json::array()},
                  {"routes", 1},
                  {"groups", 0}});
  check_result("config.check", r);

  r = f.result("config.check", {{"file", "/tmp/missing.conf"}});
  CHECK(r.at("file") == "/tmp/missing.conf");
  CHECK(r.at("valid") == false);
  CHECK(r.at("errors").size() == 1);
  check_result("config.check", r);
  CHECK(f.daemon.checked ==
        std::vector<std::string>{"/etc/mfcd.conf", "/tmp/new.conf", "/tmp/missing.conf"});
  CHECK(f.calls().empty());  // nothing loaded
}

API_CASE("config.check", "bad params are -32602; a non-root caller is refused first") {
  ApiFixture f;
  f.start(kConf);
  check_invalid_param(f.error("config.check", {{"file", 5}}), "file", "must be a string or null");
  // The schema wants a name (minLength 1); "" would check the config file
  // and answer with "file": "".
  check_invalid_param(f.error("config.check", {{"file", ""}}), "file", "file name is empty");
  check_invalid_param(f.error("config.check", {{"path", "/x"}}), "path", "unknown parameter");
  check_refused(f.error("config.check", json::object(), 1000), "config.check", 1000);
  check_refused(f.error("config.check", {{"file", "/etc/shadow"}}, 1000), "config.check", 1000);
  check_refused(f.error("config.check", {{"file", 5}}, 1000), "config.check", 1000);
  CHECK(f.daemon.checked.empty());
}

// --- interface.list ---------------------------------------------------------------

API_CASE("interface.list", "every link by index, with its VIFs, phyint settings and mrdisc") {
  ApiFixture f({{"a3", 4, true, true, false},
                {"a1", 2, true, true, false},
                {"a2", 3, false, true, false},
                {"a4", 5, true, false, false}});
  f.start("phyint a1 enable mrdisc\nphyint a2 enable ttl-threshold 5\nphyint a3 disable\n");
  f.daemon.mrdisc["a1"] = api::MrdiscState{true, 1500};
  f.daemon.mrdisc["a2"] = api::MrdiscState{false, 9000};
  const json r = f.result("interface.list", json::object(), 1000);
  auto link = [](int index, const std::string& name, bool up, bool multicast, json vif, json mif,
                 int ttl, bool enabled, bool mrdisc, json next) {
    return json{
        {"index", index},       {"name", name},       {"up", up},   {"multicast", multicast},
        {"ttl_threshold", ttl}, {"enabled", enabled}, {"vif", vif}, {"mif", mif},
        {"mrdisc", mrdisc},     {"mrdisc_next", next}};
  };
  CHECK(r == json{{"interfaces",
                   {link(2, "a1", true, true, 0, 0, 1, true, true, 1.5),
                    link(3, "a2", false, true, 1, 1, 5, true, true, nullptr),
                    link(4, "a3", true, true, nullptr, nullptr, 1, false, false, nullptr),
                    link(5, "a4", true, false, nullptr, nullptr, 1, true, false, nullptr)}}});
  check_result("interface.list", r);
  check_invalid_param(f.error("interface.list", {{"name", "a1"}}), "name", "unknown parameter");

  // Pages of any size walk the same list by index, once each.
  const std::vector<json::json_pointer> lists{json::json_pointer("/interfaces")};
  for (size_t limit = 1; limit <= 5; ++limit) {
    CAPTURE(limit);
    size_t pages = 0;
    CHECK(walk_list_pages(f, "interface.list", {{"limit", limit}}, lists, &pages) == r);
    CHECK(pages == std::max<size_t>(1, (4 + limit - 1) / limit));
  }
  const json first = f.result("interface.list", {{"limit", 1}});
  CHECK(first.at("next") == "index:2");
  // An interface that goes away does not lose the walk its place.
  f.rf.link_removed("a1");
  const json rest = f.result("interface.list", {{"cursor", first.at("next")}});
  CHECK(rest.at("interfaces").size() == 3);
  CHECK(rest.at("interfaces").at(0).at("name") == "a2");
  CHECK(rest.at("next").is_null());
  for (const json& bad : {json(0), json(10001)})
    check_invalid_param(f.error("interface.list", {{"limit", bad}}), "limit",
                        "must be between 1 and 10000");
  for (const char* bad : {"", "2", "index:", "index:x", "index:-1", "index:2147483648", "if:2"}) {
    CAPTURE(bad);
    check_invalid_param(f.error("interface.list", {{"limit", 10}, {"cursor", bad}}), "cursor",
                        std::string("not a cursor that interface.list returned: '") + bad + "'");
  }
}

// --- cache.flush ------------------------------------------------------------------

API_CASE("cache.flush", "learned entries go, static ones stay") {
  ApiFixture f;
  f.start(std::string(kConf) + "mroute from a1 group 225.3.3.0/24 to a2\n" +
          "mroute from a1 source 10.0.0.1 group 225.1.1.1 to a2\n");
  f.rf.upcall(core::UpcallType::nocache, 0, "10.0.0.9", "225.3.3.3");
  f.rf.upcall(core::UpcallType::nocache, 0, "10.0.0.9", "225.3.3.4");
  f.rf.upcall(core::UpcallType::nocache, 0, "10.0.0.9", "225.4.4.4");  // a stop filter
  REQUIRE(f.rf.kernel.mfc_count() == 4);
  f.calls().clear();
  const Snapshot learned = snapshot(f);
  check_refused(f.error("cache.flush", json::object(), 1000), "cache.flush", 1000);
  check_invalid_param(f.error("cache.flush", {{"all", true}}), "all", "unknown parameter");
  check_unchanged(f, learned);

  const json r = f.result("cache.flush");
  CHECK(r == json{{"flushed", 3}});
  check_result("cache.flush", r);
  Calls flushed = f.calls();  // in no particular order
  std::sort(flushed.begin(), flushed.end());
  CHECK(json(flushed) == json(Calls{"del_mfc 10.0.0.9,225.3.3.3", "del_mfc 10.0.0.9,225.3.3.4",
                                    "del_mfc 10.0.0.9,225.4.4.4"}));
  CHECK(list_routes(f).at("routes").at("kernel") ==
        json::array({kernel_entry("10.0.0.1", "225.1.1.1", "a1", {"a2"})}));
  CHECK(f.result("cache.flush") == json{{"flushed", 0}});
  CHECK(f.result("daemon.status").at("upcalls").at("flushed") == 3);
  f.rf.check_consistent();
}

// --- daemon.status ----------------------------------------------------------------

API_CASE("daemon.status", "the settings, counts and upcall counters") {
  ApiFixture f;
  f.start(std::string(kConf) + "mroute from a1 group 225.3.3.3 to a2\n" +
          "mroute from a1 source 10.0.0.1 group 225.1.1.1 to a2\n" +
          "mroute from a1 source 2001:db8::1 group ff0e::1 to a2\n");
  f.rf.upcall(core::UpcallType::nocache, 0, "10.0.0.9", "225.3.3.3");
  f.rf.upcall(core::UpcallType::nocache, 0, "10.0.0.9", "225.4.4.4");
  f.rf.kernel.lost[0] = 3;
  f.rf.kernel.lost[1] = 4;
  f.daemon.uptime = 42;
  f.daemon.settings.table = 7;
  const json r = f.result("daemon.status", json::object(), 1000);
  CHECK(r == json{{"version", MFCD_VERSION},
                  {"identity", "mfcd"},
                  {"pid", 4321},
                  {"uptime", 42},
                  {"config_file", "/etc/mfcd.conf"},
                  {"socket", "/run/mfcd.sock"},
                  {"table", 7},
                  {"ipv6", true},
                  {"routes",
                   {{"configured", 3},
                    {"kernel", 4},
                    {"kernel_ipv4", 3},
                    {"kernel_ipv6", 1},
                    {"dynamic", 2}}},
                  {"upcalls",
                   {{"nocache", 2},
                    {"wrongvif", 0},
                    {"ignored", 0},
                    {"installed", 1},
                    {"stop_filters", 1},
                    {"failed", 0},
                    {"moved", 0},
                    {"expired", 0},
                    {"flushed", 0},
                    {"lost", 7}}},
                  {"cache_timeout", 60},
                  {"vifs", {{"ipv4", 2}, {"ipv6", 2}}}});
  check_result("daemon.status", r);
  check_invalid_param(f.error("daemon.status", {{"verbose", true}}), "verbose",
                      "unknown parameter");
}

// --- daemon.version ---------------------------------------------------------------

API_CASE("daemon.version", "the name and version") {
  ApiFixture f;
  const json r = f.result("daemon.version", json::object(), 1000);
  CHECK(r == json{{"name", "mfcd"}, {"version", MFCD_VERSION}});
  CHECK(r.at("version") == schema().at("info").at("version"));
  check_result("daemon.version", r);
  check_invalid_param(f.error("daemon.version", {{"long", true}}), "long", "unknown parameter");
}

// --- metrics.get ------------------------------------------------------------------

API_CASE("metrics.get",
         "the kernel's counters per route and VIF, the router's and service's figures") {
  ApiFixture f;
  f.start(std::string(kConf) + "mroute from a1 source 10.0.0.1 group 225.1.1.1 to a2\n" +
          "mroute from a1 group 225.3.3.3 to a2\n" +
          "mroute from a9 source 10.0.0.5 group 225.9.9.9 to a2\n");
  f.rf.upcall(core::UpcallType::nocache, 0, "10.0.0.9", "225.3.3.3");
  f.rf.kernel.set_counters(
      core::SgKey{*core::Addr::parse("10.0.0.1"), *core::Addr::parse("225.1.1.1")}, {10, 1000, 2});
  f.rf.kernel.set_vif_counters(core::Family::v4, 0, {10, 0, 1000, 0});
  f.rf.kernel.lost[0] = 5;
  f.daemon.settings.table = 7;
  f.daemon.service_figures.clients = {{"control", 3}};
  f.daemon.service_figures.reloads = {1, 0, 0.5, true};
  f.daemon.service_figures.open_fds = 9;
  f.result("daemon.version");
  f.daemon.service_figures.rpc = f.dispatcher.stats();
  const json r = f.result("metrics.get", json::object(), 1000);
  check_result("metrics.get", r);
  CHECK(r.at("format") == "prometheus-text-0.0.4");
  const std::string text = r.at("text");
  CHECK(
      metric_samples(text, "mfcd_route_packets_total") ==
      std::vector<std::string>{
          R"(mfcd_route_packets_total{family="ipv4",source="10.0.0.1",group="225.1.1.1",iif="a1",origin="static"} 10)",
          R"(mfcd_route_packets_total{family="ipv4",source="10.0.0.9",group="225.3.3.3",iif="a1",origin="dynamic"} 0)"});
  CHECK(metric_samples(text, "mfcd_route_bytes_total").front().ends_with("} 1000"));
  CHECK(metric_samples(text, "mfcd_route_wrong_interface_packets_total").front().ends_with("} 2"));
  CHECK(metric_samples(text, "mfcd_vif_received_bytes_total") ==
        std::vector<std::string>{
            R"(mfcd_vif_received_bytes_total{family="ipv4",vif="0",interface="a1"} 1000)",
            R"(mfcd_vif_received_bytes_total{family="ipv4",vif="1",interface="a2"} 0)",
            R"(mfcd_vif_received_bytes_total{family="ipv6",vif="0",interface="a1"} 0)",
            R"(mfcd_vif_received_bytes_total{family="ipv6",vif="1",interface="a2"} 0)"});
  CHECK(metric_samples(text, "mfcd_upcalls_total") ==
        std::vector<std::string>{R"(mfcd_upcalls_total{type="nocache"} 1)",
                                 R"(mfcd_upcalls_total{type="wrongvif"} 0)"});
  CHECK(metric_samples(text, "mfcd_upcalls_lost_total") ==
        std::vector<std::string>{"mfcd_upcalls_lost_total 5"});
  CHECK(metric_samples(text, "mfcd_routes") ==
        std::vector<std::string>{R"(mfcd_routes{family="ipv4",table="7",state="installed"} 1)",
                                 R"(mfcd_routes{family="ipv4",table="7",state="pending"} 1)",
                                 R"(mfcd_routes{family="ipv4",table="7",state="rule"} 1)",
                                 R"(mfcd_routes{family="ipv4",table="7",state="standby"} 0)",
                                 R"(mfcd_routes{family="ipv6",table="7",state="installed"} 0)",
                                 R"(mfcd_routes{family="ipv6",table="7",state="pending"} 0)",
                                 R"(mfcd_routes{family="ipv6",table="7",state="rule"} 0)",
                                 R"(mfcd_routes{family="ipv6",table="7",state="standby"} 0)"});
  // The same routes as pending.list.
  CHECK(f.result("pending.list").at("pending").size() == 1);
  CHECK(metric_samples(text, "mfcd_pending_items").at(1) ==
        R"(mfcd_pending_items{family="ipv4",table="7",kind="mroute"} 1)");
  CHECK(metric_samples(text, "mfcd_vifs_used").front() ==
        R"(mfcd_vifs_used{family="ipv4",table="7"} 2)");
  CHECK(metric_samples(text, "mfcd_vifs_free").front() ==
        R"(mfcd_vifs_free{family="ipv4",table="7"} 30)");
  CHECK(metric_samples(text, "mfcd_rpc_requests_total").size() == api::method_table().size() + 2);
  CHECK(text.find("\nmfcd_rpc_requests_total{method=\"daemon.version\"} 1\n") != std::string::npos);
  CHECK(metric_samples(text, "mfcd_clients") ==
        std::vector<std::string>{R"(mfcd_clients{listener="control"} 3)"});
  CHECK(metric_samples(text, "mfcd_reload_last_duration_seconds") ==
        std::vector<std::string>{"mfcd_reload_last_duration_seconds 0.5"});
  CHECK(metric_samples(text, "mfcd_process_open_fds") ==
        std::vector<std::string>{"mfcd_process_open_fds 9"});
  // A reader may call it; it takes no params.
  check_invalid_param(f.error("metrics.get", {{"all", true}}), "all", "unknown parameter");
}

// --- daemon.stop ------------------------------------------------------------------

API_CASE("daemon.stop", "asks the daemon to stop, naming the caller; root only") {
  ApiFixture f;
  f.start(std::string(kConf) + "mroute from a1 source 10.0.0.1 group 225.1.1.1 to a2\n");
  check_refused(f.error("daemon.stop", json::object(), 1000), "daemon.stop", 1000);
  check_invalid_param(f.error("daemon.stop", {{"now", true}}), "now", "unknown parameter");
  CHECK(f.daemon.stops.empty());
  const json r = f.result("daemon.stop");
  CHECK(r == json{{"stopping", true}});
  check_result("daemon.stop", r);
  CHECK(f.daemon.stops == std::vector<std::string>{"daemon.stop from pid 4242"});
  CHECK(f.calls().empty());  // the service tears down, after the reply
}

// --- rpc.discover -----------------------------------------------------------------

API_CASE("rpc.discover", "the OpenRPC document, as in schema/") {
  ApiFixture f;
  const json r = f.result("rpc.discover", json::object(), 1000);
  CHECK(r == schema());
  check_result("rpc.discover", r);
  check_invalid_param(f.error("rpc.discover", {{"method", "route.add"}}), "method",
                      "unknown parameter");
}

// --- events.subscribe / events.unsubscribe ----------------------------------------

json route_params(const std::string& source, const std::string& group,
                  const std::vector<std::string>& oifs) {
  return json{{"iif", "a1"}, {"source", source}, {"group", group}, {"oifs", oifs}};
}

// A notification's params are what the schema's Event says.
void check_event(const json& params) {
  std::vector<std::string> faults;
  validate(schema().at("components").at("schemas").at("Event"), params, "params", faults);
  CAPTURE(params.dump());
  CHECK(faults == std::vector<std::string>{});
}

API_CASE("events.subscribe", "a route added afterwards comes as numbered notifications") {
  ApiFixture f;
  f.start(kConf);
  const json subscribed = f.result("events.subscribe", {{"kinds", {"route"}}}, 1000);
  CHECK(subscribed == json{{"subscribed", true}, {"kinds", {"route"}}});
  check_result("events.subscribe", subscribed);
  CHECK(f.sink.streams[7] == true);
  f.result("route.add", route_params("10.0.0.1", "225.1.1.1", {"a2"}));
  const auto notes = f.notes(7);
  CHECK(notes == std::vector<json>{
                     {{"seq", 1},
                      {"time", "2026-12-06T19:30:00.123Z"},
                      {"kind", "route.installed"},
                      {"family", "ipv4"},
                      {"source", "10.0.0.1"},
                      {"group", "225.1.1.1"},
                      {"iif", "a1"},
                      {"oifs", {"a2"}},
                      {"route", "a1 (10.0.0.1, 225.1.1.1)"},
                      {"origin", {"api"}},
                      {"owners", {"api"}}},
                     {{"seq", 2},
                      {"time", "2026-12-06T19:30:00.123Z"},
                      {"kind", "route.active"},
                      {"family", "ipv4"},
                      {"route", "a1 (10.0.0.1, 225.1.1.1)"},
                      {"state", "installed"}},
                 });
  for (const auto& n : notes)
    check_event(n);
  // An OIF more: changed; the route stays active, so no state event.
  f.result("route.add", route_params("10.0.0.1", "225.1.1.1", {"a3"}));
  auto after = f.notes(7);
  REQUIRE(after.size() == 3);
  CHECK(after[2].at("seq") == 3);
  CHECK(after[2].at("kind") == "route.changed");
  CHECK(after[2].at("oifs") == json{"a2", "a3"});
  // Removed: the kernel entry goes.
  f.result("route.remove", json{{"iif", "a1"}, {"source", "10.0.0.1"}, {"group", "225.1.1.1"}});
  after = f.notes(7);
  REQUIRE(after.size() == 4);
  CHECK(after[3] == json{{"seq", 4},
                         {"time", "2026-12-06T19:30:00.123Z"},
                         {"kind", "route.removed"},
                         {"family", "ipv4"},
                         {"source", "10.0.0.1"},
                         {"group", "225.1.1.1"},
                         {"route", "a1 (10.0.0.1, 225.1.1.1)"}});
}

API_CASE("events.subscribe", "filters by kind, family, group and interface") {
  ApiFixture f;
  f.start(kConf);
  f.conn = 1;
  f.result("events.subscribe", {{"kinds", {"route.installed"}}, {"family", "ipv6"}});
  f.conn = 2;
  f.result("events.subscribe", {{"kinds", {"route.installed"}}, {"group", "225.1.0.0/16"}});
  f.conn = 3;
  f.result("events.subscribe", {{"kinds", {"route.installed"}}, {"interface", "a3"}});
  f.conn = 4;
  f.result("events.subscribe", json::object());  // everything
  f.conn = 7;
  f.result("route.add", route_params("10.0.0.1", "225.1.1.1", {"a2"}));
  f.result("route.add", route_params("10.0.0.1", "225.2.1.1", {"a3"}));
  auto groups = [&](uint64_t c) {
    std::vector<std::string> out;
    for (const auto& n : f.notes(c))
      out.push_back(n.at("kind").get<std::string>() + " " + n.value("group", ""));
    return out;
  };
  CHECK(groups(1).empty());
  CHECK(groups(2) == std::vector<std::string>{"route.installed 225.1.1.1"});
  CHECK(groups(3) == std::vector<std::string>{"route.installed 225.2.1.1"});
  // a3 had no VIF: the second route added one.
  CHECK(groups(4) == std::vector<std::string>{"route.installed 225.1.1.1", "route.active ",
                                              "vif.added ", "route.installed 225.2.1.1",
                                              "route.active "});
}

API_CASE("events.subscribe", "a bulk event reaches whoever wants a kind it stands for") {
  ApiFixture f;
  f.start(kConf);
  f.conn = 1;  // one kind it stands for, and a group filter nothing here matches
  f.result("events.subscribe", {{"kinds", {"route.active"}}, {"group", "239.0.0.0/8"}});
  f.conn = 2;
  f.result("events.subscribe", {{"kinds", {"vif"}}});
  f.conn = 3;
  f.result("events.subscribe", {{"kinds", {"flow", "filter"}}});
  std::string text = kConf;
  for (size_t i = 1; i <= router::kMaxEventsPerChange + 1; ++i)
    text += "mroute from a1 source 10.0." + std::to_string(i / 256) + "." +
            std::to_string(i % 256) + " group 225.1.1.1 to a2\n";
  f.rf.reload(text);
  const auto bulk = f.notes(1);
  REQUIRE(bulk.size() == 1);
  CHECK(bulk[0] == json{{"seq", 1},
                        {"time", "2026-12-06T19:30:00.123Z"},
                        {"kind", "bulk"},
                        {"count", 1001},
                        {"kinds", {"route.active"}},
                        {"reason",
                         "1001 events of one change, more than 1000: left out; read "
                         "the state again (route.list)"}});
  check_event(bulk[0]);
  CHECK(f.notes(2).empty());  // the VIFs were there before
  CHECK(f.notes(3).empty());
}

API_CASE("events.subscribe", "refuses an unknown kind, family or group, subscribing nothing") {
  ApiFixture f;
  f.start(kConf);
  check_invalid_param(f.error("events.subscribe", {{"kinds", {"route.bogus"}}}), "kinds",
                      "unknown event kind \"route.bogus\" (see docs/api.md)");
  check_invalid_param(f.error("events.subscribe", {{"family", "ipv5"}}), "family",
                      "must be \"ipv4\" or \"ipv6\"");
  CHECK(f.error("events.subscribe", {{"group", "225.1.1.1/40"}}).at("code") == rpc::kInvalidParams);
  CHECK(f.error("events.subscribe", {{"interface", "a/b"}}).at("code") == rpc::kInvalidParams);
  CHECK(f.error("events.subscribe", {{"kind", {"route"}}}).at("code") == rpc::kInvalidParams);
  CHECK(!f.hub.wanted());
  f.conn = 0;  // in-process: no connection to stream to
  CHECK(f.error("events.subscribe").at("code") == rpc::kInvalidRequest);
}

API_CASE("events.subscribe", "a subscriber that falls behind gets overflow and is dropped") {
  ApiFixture f;
  f.start(kConf);
  f.sink.capacity = 2;
  f.result("events.subscribe", {{"kinds", {"route.installed"}}});
  for (int i = 1; i <= 4; ++i)
    f.result("route.add", route_params("10.0.0.1", "225.1.1." + std::to_string(i), {"a2"}));
  const auto notes = f.notes(7);
  REQUIRE(notes.size() == 3);
  CHECK(notes[1].at("seq") == 2);
  CHECK(notes[2] == json{{"seq", 3},
                         {"time", "2026-12-06T19:30:00.123Z"},
                         {"kind", "overflow"},
                         {"reason", "the subscriber fell behind; disconnecting"}});
  CHECK(f.sink.closed.count(7) == 1);
  CHECK(!f.hub.wanted());
}

API_CASE("events.unsubscribe", "stops the notifications; says whether there was a subscription") {
  ApiFixture f;
  f.start(kConf);
  CHECK(f.result("events.unsubscribe") == json{{"unsubscribed", false}});
  f.result("events.subscribe");
  CHECK(f.result("events.unsubscribe", json::object(), 1000) == json{{"unsubscribed", true}});
  CHECK(f.sink.streams[7] == false);
  f.result("route.add", route_params("10.0.0.1", "225.1.1.1", {"a2"}));
  CHECK(f.notes(7).empty());
  check_invalid_param(f.error("events.unsubscribe", {{"kinds", {"route"}}}), "kinds",
                      "unknown parameter");
}

TEST_CASE("api: events: reloads, applied and refused, with the report or the errors") {
  ApiFixture f;
  f.start(kConf);
  f.result("events.subscribe", {{"kinds", {"reload"}}});
  f.daemon.set_config(std::string(kConf) +
                      "mroute from a1 source 10.0.0.1 group 225.1.1.1 to a2\n");
  api::publish_reload(f.hub, f.rf.router, "/etc/mfcd.conf", f.daemon.reload(false));
  f.daemon.set_config("phyint a1 enable\nmroute from a1 group\n");
  api::publish_reload(f.hub, f.rf.router, "/etc/mfcd.conf", f.daemon.reload(false));
  const auto notes = f.notes(7);
  REQUIRE(notes.size() == 2);
  CHECK(notes[0].at("kind") == "reload.applied");
  CHECK(notes[0].at("file") == "/etc/mfcd.conf");
  CHECK(notes[0].at("routes").at("added").size() == 1);
  CHECK(notes[1].at("kind") == "reload.refused");
  CHECK(notes[1].at("errors").size() == 1);
  CHECK(notes[1].at("errors")[0].at("line") == 2);
  for (const auto& n : notes)
    check_event(n);
}

}  // namespace
}  // namespace mfcd::test
