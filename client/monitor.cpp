// See monitor.hpp.
#include "client/monitor.hpp"

#include <algorithm>
#include <vector>

namespace mfcd::client {
namespace {

using nlohmann::json;

std::string quote_word(const std::string& text) {
  if (!text.empty() && text.find_first_of(" \t\"") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out + "\"";
}

std::string value_text(const json& v) {
  if (v.is_string()) return quote_word(v.get<std::string>());
  if (v.is_array() &&
      std::all_of(v.begin(), v.end(), [](const json& x) { return x.is_string(); })) {
    if (v.empty()) return "-";
    std::string out;
    for (const auto& x : v)
      out += (out.empty() ? "" : ",") + x.get<std::string>();
    return quote_word(out);
  }
  return v.dump();
}

// A reload's report in counts; the lists are in `mfcctl -j monitor`.
std::string reload_text(const json& p) {
  std::string out = " file=" + quote_word(p.value("file", ""));
  if (p.contains("routes")) {
    for (const char* what : {"added", "changed", "removed"})
      out += std::string(" ") + what + "=" +
             std::to_string(p["routes"].value(what, json::array()).size());
    out += " failures=" + std::to_string(p.value("failures", json::array()).size());
    out += " warnings=" + std::to_string(p.value("warnings", json::array()).size());
  }
  if (p.contains("errors")) {
    out += " errors=" + std::to_string(p["errors"].size());
    for (const auto& e : p["errors"])
      out += " " + quote_word(e.value("file", "") + ":" + std::to_string(e.value("line", 0)) + ":" +
                              std::to_string(e.value("column", 0)) + ": " + e.value("message", ""));
  }
  return out;
}

}  // namespace

std::string format_event(const json& params) {
  const std::string kind = params.value("kind", "?");
  std::string out =
      std::to_string(params.value("seq", 0)) + " " + params.value("time", "-") + " " + kind;
  if (kind.rfind("reload.", 0) == 0) return out + reload_text(params);
  // The members that say what it is about first, then the rest by name.
  static const std::vector<std::string> kFirst = {"family", "interface", "ifindex", "vif",
                                                  "source", "group",     "iif",     "oifs",
                                                  "route",  "rule",      "state"};
  for (const auto& name : kFirst)
    if (auto it = params.find(name); it != params.end()) out += " " + name + "=" + value_text(*it);
  for (const auto& [name, value] : params.items()) {
    if (name == "seq" || name == "time" || name == "kind") continue;
    if (std::find(kFirst.begin(), kFirst.end(), name) != kFirst.end()) continue;
    out += " " + name + "=" + value_text(value);
  }
  return out;
}

}  // namespace mfcd::client
