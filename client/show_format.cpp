// Rendering of the show tables. Column widths are computed over every row
// first (long interface names, IPv6 addresses) so that the columns stay
// aligned, but never shrink below smcroutectl's widths, so that short rows
// come out byte for byte as smcroutectl's do. Routes share one width over
// all three sections so the sections line up with each other too; printed
// page by page, over the rows seen so far (see RoutesPrinter).
#include "client/show_format.hpp"

#include <algorithm>
#include <stdexcept>

namespace mfcd::client {
namespace {

using nlohmann::json;

std::string ljust(const std::string& s, size_t width) {
  return s.size() >= width ? s : s + std::string(width - s.size(), ' ');
}

// `s` left-justified in `width` columns, onto `out`: the hot path of a
// big table, without the temporary ljust makes.
void append_padded(std::string& out, const std::string& s, size_t width) {
  out += s;
  if (s.size() < width) out.append(width - s.size(), ' ');
}

std::string rjust(const std::string& s, size_t width) {
  return s.size() >= width ? s : std::string(width - s.size(), ' ') + s;
}

// A number, or "N/A" for null, or the text itself.
std::string cell(const json& v) {
  if (v.is_null()) return "N/A";
  if (v.is_string()) return v.get<std::string>();
  return v.dump();
}

std::string section_title(const std::string& title, const ShowStyle& style) {
  switch (style.headings) {
    case Headings::none:
      return {};
    case Headings::plain:
      return std::string(std::max(kRulerWidth, title.size()), '_') + "\n" + title + "\n";
    case Headings::terminal:
      return "\033[1m\033[4m" + title + "\033[0m\n";
  }
  return {};
}

std::string column_header(const std::string& header, const ShowStyle& style) {
  const size_t width = std::max(kRulerWidth, header.size());
  switch (style.headings) {
    case Headings::none:
      return {};
    case Headings::plain: {
      const std::string ruler(width, '=');
      return ruler + "\n" + header + "\n" + ruler + "\n";
    }
    case Headings::terminal:
      return "\033[7m" + ljust(header, width) + "\033[0m\n";
  }
  return {};
}

// Drops a "/LEN" that covers the whole address, so "10.0.0.1/32" reads as
// "10.0.0.1".
std::string prefix_text(const std::string& text) {
  const auto slash = text.find('/');
  if (slash == std::string::npos) return text;
  const bool v6 = text.find(':') != std::string::npos;
  const std::string len = text.substr(slash + 1);
  if ((v6 && len == "128") || (!v6 && len == "32")) return text.substr(0, slash);
  return text;
}

std::string source_text(const std::string* source) {
  if (!source) return "*";
  const std::string s = prefix_text(*source);
  if (s == "0.0.0.0" || s == "::" || s == "*") return "*";
  return s;
}

std::string source_text(const json& source) {
  return source.is_null() ? "*" : source_text(&source.get_ref<const std::string&>());
}

const json& list_or_empty(const json& obj, const char* key) {
  static const json kEmpty = json::array();
  if (!obj.is_object()) return kEmpty;
  const auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return kEmpty;
  if (!it->is_array()) throw std::runtime_error(std::string("'") + key + "' is not an array");
  return *it;
}

const json& field(const json& item, const char* key) {
  static const json kNull;
  const auto it = item.find(key);
  return it == item.end() ? kNull : *it;
}

std::string oif_list(const json& item) {
  std::string out;
  for (const auto& oif : list_or_empty(item, "oifs"))
    out += " " + oif.get<std::string>();
  return out;
}

// The group table: one "(S, G)  IIF" row per membership.
std::string membership_section(const std::string& title, const json& entries,
                               const ShowStyle& style) {
  size_t sg_width = kSgWidth;
  std::vector<std::pair<std::string, std::string>> rows;
  for (const auto& e : entries) {
    rows.emplace_back(sg_text(field(e, "source"), field(e, "group")),
                      field(e, "iif").get<std::string>());
    sg_width = std::max(sg_width, rows.back().first.size());
  }
  std::string out = section_title(title, style);
  out += column_header(ljust("GROUP (S,G)", sg_width) + " IIF", style);
  for (const auto& [sg, iif] : rows)
    out += ljust(sg, sg_width) + " " + iif + "\n";
  return out;
}

}  // namespace

std::string sg_text(const json& source, const json& group) {
  if (!source.is_null() && !source.is_string()) source.get<std::string>();  // throws: malformed
  return sg_text(source.is_null() ? nullptr : &source.get_ref<const std::string&>(),
                 group.get<std::string>());
}

std::string sg_text(const std::string* source, const std::string& group) {
  return "(" + source_text(source) + ", " + prefix_text(group) + ")";
}

// "off", "on" (not announcing: link down or no address), or "on, next 12s".
std::string mrdisc_cell(const json& iface) {
  if (!iface.contains("mrdisc") || !iface.at("mrdisc").is_boolean() ||
      !iface.at("mrdisc").get<bool>())
    return "off";
  const json* next = iface.contains("mrdisc_next") ? &iface.at("mrdisc_next") : nullptr;
  if (!next || !next->is_number()) return "on";
  return "on, next " + std::to_string(static_cast<long>(next->get<double>() + 0.5)) + "s";
}

std::string format_interfaces(const json& result, const ShowStyle& style) {
  const json& list = list_or_empty(result, "interfaces");
  size_t name_width = 6;
  for (const auto& i : list) {
    name_width = std::max(name_width, field(i, "name").get<std::string>().size());
  }
  // The four columns are what SMCRoute's scripts parse; -d appends the
  // multicast router discovery state after them, so those scripts still match.
  std::string header = " INDEX " + ljust("PHYINT", name_width) + "  VIF  MIF";
  if (style.detail) header += "  MRDISC";
  std::string out = column_header(header, style);
  for (const auto& i : list) {
    out += rjust(cell(field(i, "index")), 6) + " " +
           ljust(field(i, "name").get<std::string>(), name_width) + " " +
           rjust(cell(field(i, "vif")), 4) + " " + rjust(cell(field(i, "mif")), 4);
    if (style.detail) out += "  " + mrdisc_cell(i);
    out += "\n";
  }
  return out;
}

std::string format_groups(const json& result, const ShowStyle& style) {
  const json& groups = result.at("groups");
  std::string out;
  const json& conf = list_or_empty(groups, "conf");
  if (!conf.empty()) out += membership_section("Group Memberships Table", conf, style);
  if (style.detail) {
    const json& kernel = list_or_empty(groups, "kernel");
    if (!kernel.empty()) {
      out += membership_section("Kernel Group Membership Table", kernel, style);
    }
  }
  return out;
}

// A kernel entry's "type", else a route's "state", else "-".
std::string state_text(const json& item) {
  for (const char* key : {"type", "state"})
    if (item.contains(key) && item.at(key).is_string()) return item.at(key).get<std::string>();
  return "-";
}

RoutesPrinter::RoutesPrinter(const ShowStyle& style) : style_(style) {}

RoutesPage routes_page(const json& result) {
  const json& routes = result.at("routes");
  RoutesPage page;
  const char* names[] = {"asm", "ssm", "kernel"};
  for (size_t i = 0; i < page.sections.size(); ++i) {
    for (const auto& r : list_or_empty(routes, names[i])) {
      RouteRow row;
      row.sg = sg_text(field(r, "source"), field(r, "group"));
      row.iif = field(r, "iif").get<std::string>();
      row.state = state_text(r);
      // Rules have no counters of their own; only kernel entries do.
      const json& packets = field(r, "packets");
      const json& bytes = field(r, "bytes");
      row.packets = packets.is_null() ? "-" : cell(packets);
      row.bytes = bytes.is_null() ? "-" : cell(bytes);
      row.oifs = oif_list(r);
      page.sections[i].push_back(std::move(row));
    }
  }
  return page;
}

std::string RoutesPrinter::page(const json& result) {
  return page(routes_page(result));
}

std::string RoutesPrinter::page(const RoutesPage& rows) {
  static const char* const kTitles[] = {"(*,G) Template Rules", "(S,G) Rules", "Kernel MFC Table"};
  for (const auto& section : rows.sections) {
    for (const auto& r : section) {
      sg_width_ = std::max(sg_width_, r.sg.size());
      iif_width_ = std::max(iif_width_, r.iif.size());
      // With -d a STATE column tells a route's state (installed, standby,
      // rule, pending) and a kernel entry's type (static, dynamic): the
      // first thing to look at when traffic is not forwarded.
      if (style_.detail) state_width_ = std::max(state_width_, r.state.size());
    }
  }
  std::string header = ljust("ROUTE (S,G)", sg_width_) + " " + ljust("IIF", iif_width_);
  if (style_.detail)
    header +=
        " " + ljust("STATE", state_width_) + " " + rjust("PACKETS", 10) + " " + rjust("BYTES", 10);
  header += "  OIFS";

  std::string out;
  for (int i = 0; i < 3; ++i) {
    const auto& section = rows.sections[static_cast<size_t>(i)];
    if (section.empty()) continue;
    if (i != section_) {
      out += section_title(kTitles[i], style_);
      out += column_header(header, style_);
      section_ = i;
    }
    for (const auto& r : section) {
      append_padded(out, r.sg, sg_width_);
      out += ' ';
      append_padded(out, r.iif, iif_width_);
      if (style_.detail) {
        out += ' ';
        append_padded(out, r.state, state_width_);
        out += ' ' + rjust(r.packets, 10) + ' ' + rjust(r.bytes, 10);
      }
      out += ' ';
      out += r.oifs;
      out += '\n';
    }
  }
  return out;
}

std::string format_routes(const json& result, const ShowStyle& style) {
  RoutesPrinter printer(style);
  return printer.page(result);
}

// One pending entry in roughly the config's syntax.
static std::string pending_line(const json& p) {
  const json& kind_field = field(p, "kind");
  const bool has_oifs = p.contains("oifs");
  const std::string kind =
      kind_field.is_string() ? kind_field.get<std::string>() : (has_oifs ? "mroute" : "mgroup");
  std::string line = ljust(kind, 7) + " from " + field(p, "iif").get<std::string>();
  const json& source = field(p, "source");
  if (source_text(source) != "*") line += " source " + source_text(source);
  line += " group " + prefix_text(field(p, "group").get<std::string>());
  if (kind == "mroute" && !list_or_empty(p, "oifs").empty()) line += " to" + oif_list(p);
  return line;
}

// Each entry as a config line; why it waits follows as a comment, in a
// column of its own, so a line still reads (and pastes) as config, and
// SMCRoute's scripts, which match the line's start, still match.
std::string format_pending(const json& result, const ShowStyle& style) {
  const json& list = list_or_empty(result, "pending");
  if (list.empty()) return "No pending routes or groups\n";
  std::vector<std::pair<std::string, std::string>> rows;  // line, reason
  size_t width = 0;
  for (const auto& p : list) {
    const json& reason = field(p, "reason");
    rows.emplace_back(pending_line(p), reason.is_string() ? reason.get<std::string>() : "");
    width = std::max(width, rows.back().first.size());
  }
  std::string out;
  if (style.headings != Headings::none) out += "PENDING ROUTES AND GROUPS\n";
  for (const auto& [line, reason] : rows)
    out += (reason.empty() ? line : ljust(line, width) + "  # " + reason) + "\n";
  return out;
}

std::string format_show(ShowWhat what, const json& result, const ShowStyle& style) {
  switch (what) {
    case ShowWhat::interfaces:
      return format_interfaces(result, style);
    case ShowWhat::groups:
      return format_groups(result, style);
    case ShowWhat::pending:
      return format_pending(result, style);
    case ShowWhat::routes:
      return format_routes(result, style);
  }
  return {};
}

}  // namespace mfcd::client
