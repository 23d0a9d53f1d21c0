// The text of `mfcctl show ...`: the daemon's *.list results rendered as
// smcroutectl prints them, column for column, because scripts parse that
// text (tests/e2e/test_show_compat.sh checks the layout). Pure functions
// from a result object to a string; a result of the wrong shape throws
// (nlohmann::json::exception or std::runtime_error), which the caller
// reports as a malformed reply.
#pragma once

#include <array>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "client/cli.hpp"

namespace mfcd::client {

enum class Headings {
  terminal,  // reverse/underline escape codes (stdout is a TTY, no -p)
  plain,     // rulers of '_' and '=' (-p, or stdout is not a TTY)
  none,      // -t
};

struct ShowStyle {
  Headings headings = Headings::plain;
  bool detail = false;  // -d
};

inline constexpr size_t kRulerWidth = 79;
inline constexpr size_t kSgWidth = 42;

std::string format_interfaces(const nlohmann::json& result, const ShowStyle& style);
std::string format_groups(const nlohmann::json& result, const ShowStyle& style);
std::string format_routes(const nlohmann::json& result, const ShowStyle& style);

// The route tables of a paged route.list, one page at a time: a section's
// title and header come with its first row. The widths are the widest seen
// so far, so a table that fits one page prints exactly as format_routes
// prints it, and a longer one stays aligned unless a wider row comes after
// its section's header (then that row and the ones after it are wider).
// One row of the route tables, its cells as they print.
struct RouteRow {
  std::string sg;  // "(S, G)", see sg_text
  std::string iif;
  std::string state;    // a kernel entry's type, else a route's state, else "-"
  std::string packets;  // "-" for an item without counters (a rule)
  std::string bytes;
  std::string oifs;  // " a1 a2": each OIF after a space
  bool operator==(const RouteRow&) const = default;
};
// A page of route.list as rows: (*,G) rules, (S,G) rules, kernel entries.
struct RoutesPage {
  std::array<std::vector<RouteRow>, 3> sections;
  bool operator==(const RoutesPage&) const = default;
};
// route.list's result (a page or the whole table) as rows; throws on a
// result of the wrong shape.
RoutesPage routes_page(const nlohmann::json& result);

class RoutesPrinter {
 public:
  explicit RoutesPrinter(const ShowStyle& style);
  std::string page(const nlohmann::json& result);
  std::string page(const RoutesPage& rows);

 private:
  ShowStyle style_;
  size_t sg_width_ = kSgWidth;
  size_t iif_width_ = 3;
  size_t state_width_ = 5;
  int section_ = -1;  // the last section printed: 0 asm, 1 ssm, 2 kernel
};
std::string format_pending(const nlohmann::json& result, const ShowStyle& style);
std::string format_show(ShowWhat what, const nlohmann::json& result, const ShowStyle& style);

// "(S, G)" as smcroutectl writes it: "*" for no source, "/LEN" only when the
// prefix is shorter than the address.
std::string sg_text(const nlohmann::json& source, const nlohmann::json& group);
std::string sg_text(const std::string* source, const std::string& group);  // null: no source

}  // namespace mfcd::client
