// The OpenRPC document is compiled into the daemon and served by
// rpc.discover, so a broken one would only show at run time. These checks
// catch that at build time: it parses, names the methods of docs/api.md,
// every $ref resolves, and every mfcd error code has its component.
#include <doctest/doctest.h>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "rpc/errors.hpp"

using nlohmann::json;

namespace {

json load_schema() {
  std::ifstream in(MFCD_SOURCE_DIR "/schema/mfcd.openrpc.json");
  REQUIRE(in.good());
  std::stringstream text;
  text << in.rdbuf();
  return json::parse(text.str());
}

void collect_refs(const json& node, std::vector<std::string>& refs) {
  if (node.is_object()) {
    if (const auto it = node.find("$ref"); it != node.end() && it->is_string()) {
      refs.push_back(it->get<std::string>());
    }
    for (const auto& item : node.items())
      collect_refs(item.value(), refs);
  } else if (node.is_array()) {
    for (const auto& item : node)
      collect_refs(item, refs);
  }
}

const json& deref(const json& doc, const json& node) {
  if (node.is_object() && node.contains("$ref")) {
    return doc.at(json::json_pointer(node["$ref"].get<std::string>().substr(1)));
  }
  return node;
}

}  // namespace

TEST_CASE("schema: an OpenRPC document for mfcd 0.1.0") {
  const json doc = load_schema();
  CHECK(doc.at("openrpc") == "1.2.6");
  CHECK(doc.at("info").at("title") == "mfcd");
  CHECK(doc.at("info").at("version") == "0.1.0");
}

TEST_CASE("schema: lists exactly the methods of docs/api.md, each by-name with a result") {
  const json doc = load_schema();
  std::set<std::string> names;
  for (const auto& method : doc.at("methods")) {
    const auto name = method.at("name").get<std::string>();
    CAPTURE(name);
    CHECK(names.insert(name).second);
    CHECK(method.at("paramStructure") == "by-name");
    CHECK(method.at("params").is_array());
    CHECK(method.at("result").at("schema").is_object());
    CHECK(method.at("errors").is_array());
  }
  // docs/api.md's method table is the readable twin of the schema: every
  // row "| `noun.verb` | ..." must be a method of the document and back.
  std::ifstream api(std::string(MFCD_SOURCE_DIR) + "/docs/api.md");
  REQUIRE(api.good());
  std::set<std::string> documented;
  const std::regex row(R"(^\| `([a-z]+\.[a-z]+)` \|)");
  for (std::string line; std::getline(api, line);) {
    std::smatch m;
    if (std::regex_search(line, m, row)) documented.insert(m[1]);
  }
  CHECK(names == documented);
}

TEST_CASE("schema: every $ref resolves") {
  const json doc = load_schema();
  std::vector<std::string> refs;
  collect_refs(doc, refs);
  CHECK(refs.size() > 20);
  for (const auto& ref : refs) {
    CAPTURE(ref);
    REQUIRE(ref.rfind("#/", 0) == 0);
    CHECK(doc.contains(json::json_pointer(ref.substr(1))));
  }
}

TEST_CASE("schema: every mfcd error code has a component with a data schema") {
  namespace rpc = mfcd::rpc;
  const json doc = load_schema();
  std::set<int> codes;
  for (const auto& item : doc.at("components").at("errors").items()) {
    const auto& error = item.value();
    CAPTURE(item.key());
    codes.insert(error.at("code").get<int>());
    CHECK(error.contains("x-data-schema"));
    CHECK(error.at("message") == rpc::default_message(error.at("code").get<int>()));
  }
  for (const int code : {rpc::kInvalidParams, rpc::kKernelError, rpc::kUnknownInterface,
                         rpc::kVifTableFull, rpc::kNotFound, rpc::kConfigError,
                         rpc::kPermissionDenied, rpc::kLimitExceeded, rpc::kConflict}) {
    CAPTURE(code);
    CHECK(codes.count(code) == 1);
  }
}

TEST_CASE("schema: route params are iif, source, group, oifs, owner (and strict to add or set)") {
  const json doc = load_schema();
  for (const auto& method : doc.at("methods")) {
    const auto name = method.at("name").get<std::string>();
    if (name != "route.add" && name != "route.set" && name != "route.remove") continue;
    CAPTURE(name);
    std::vector<std::string> params;
    for (const auto& param : method.at("params")) {
      const auto& p = deref(doc, param);
      params.push_back(p.at("name").get<std::string>());
      if (p.at("name") == "oifs") CHECK(p.at("required") == (name != "route.remove"));
    }
    std::vector<std::string> expected{"iif", "source", "group", "oifs", "owner"};
    if (name != "route.remove") expected.push_back("strict");
    CHECK(params == expected);
  }
}
