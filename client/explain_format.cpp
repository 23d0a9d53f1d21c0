// One paragraph per part of the answer, in the order a reader asks: which
// flow, what covers it, what the kernel holds and how its counters moved,
// then the checks (failures with what was read, so that they can be looked
// at again by hand), and the verdict last, where the eye lands.
#include "client/explain_format.hpp"

#include <string>

namespace mfcd::client {

namespace {

using nlohmann::json;

std::string str(const json& v) {
  return v.is_string() ? v.get<std::string>() : v.dump();
}

std::string counter(const json& kernel, const char* name, const char* words) {
  std::string text = str(kernel.at(name)) + " " + words;
  const json& change = kernel.at("change");
  if (change.is_object()) text += " (+" + str(change.at(name)) + ")";
  return text;
}

}  // namespace

std::string format_explain(const json& r) {
  std::string out;
  const json& flow = r.at("flow");
  out += "Flow (" + str(flow.at("source")) + ", " + str(flow.at("group")) + ")";
  if (flow.at("iif").is_string()) out += " arriving on " + str(flow.at("iif"));
  out += "\n";

  const json& cover = r.at("covered_by");
  const std::string kind = str(cover.at("kind"));
  out += "Covered by: ";
  if (cover.at("route").is_object()) {
    const json& route = cover.at("route");
    std::string oifs;
    for (const auto& o : route.at("oifs"))
      oifs += (oifs.empty() ? "" : " ") + str(o);
    const std::string source =
        route.at("source").is_string() ? str(route.at("source")) : std::string("*");
    out += (kind == "rule"          ? "rule "
            : kind == "stop_filter" ? "stop filter "
                                    : "route ") +
           str(route.at("iif")) + " (" + source + ", " + str(route.at("group")) + ")" +
           (oifs.empty() ? std::string(" to nowhere") : " to " + oifs);
  } else if (kind == "learned_stop_filter") {
    out += "nothing (a stop filter was installed for its first packet)";
  } else {
    out += "nothing";
  }
  out += "\n";

  const json& kernel = r.at("kernel");
  if (kernel.is_object()) {
    out += "Kernel entry: ";
    if (!kernel.at("resolved").get<bool>()) {
      out += "unresolved";
    } else {
      out += "from " + (kernel.at("iif").is_string() ? str(kernel.at("iif")) : "?") + " to";
      if (kernel.at("oifs").empty()) out += " nowhere (stop filter)";
      for (const auto& o : kernel.at("oifs"))
        out += " " + str(o.at("interface")) + " (ttl " + str(o.at("ttl")) + ")";
    }
    out += "\n  " + counter(kernel, "packets", "packets") + ", " +
           counter(kernel, "bytes", "bytes") + ", " +
           counter(kernel, "wrong_if", "on the wrong interface");
    if (!kernel.at("change").is_object()) out += "; explain again to see them move";
    out += "\n";
  } else {
    out += "Kernel entry: none\n";
  }

  out += "Checks:\n";
  for (const auto& c : r.at("checks")) {
    const bool ok = c.at("ok").get<bool>();
    const bool blocking = c.value("blocking", true);
    out += std::string(ok         ? "  ok    "
                       : blocking ? "  FAIL  "
                                  : "  WARN  ") +
           str(c.at("detail")) + "\n";
    if (!ok) out += "        looked at " + str(c.at("looked_at")) + "\n";
  }
  out += "Verdict: " + str(r.at("verdict")) + "\n";
  return out;
}

}  // namespace mfcd::client
