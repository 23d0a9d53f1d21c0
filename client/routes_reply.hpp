// A reply to route.list read straight into table rows, without building a
// json document: at 1,000 routes a page, parsing the document cost mfcctl
// show more than anything else it did. Only the members the table prints
// are kept. Anything unexpected (an error reply, a member of another type,
// a repeated section) gives up and returns nullopt, and the caller decodes
// the reply the ordinary way, which reports what is wrong exactly as for
// any other command: this reader only ever takes the well-formed path.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "client/show_format.hpp"

namespace mfcd::client {

struct RoutesReply {
  RoutesPage page;
  std::optional<std::string> next;  // the cursor of the next page; none after the last
};

std::optional<RoutesReply> read_routes_reply(std::string_view line);

}  // namespace mfcd::client
