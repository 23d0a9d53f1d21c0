// Interfaces that a route or a join names but that do not exist. mfcd keeps
// such intent pending and acts on it when the interface appears, which
// orchestration tools rely on; but a typo in a name looks exactly the same,
// and silently drops a flow. So every path that takes intent from a person
// (mfcctl add and join, a reload, mfcd -F) reports each missing interface
// with what happens meanwhile, all from this one function and in the same
// words, and a strict caller can refuse instead.
#pragma once

#include <string>
#include <vector>

#include "core/config.hpp"
#include "core/links.hpp"

namespace mfcd::router {

struct MissingInterface {
  // inbound: a route's IIF; outbound: one of its OIFs; join: a join's IIF.
  enum class Role { inbound, outbound, join };
  std::string name;
  Role role = Role::inbound;
  // An outbound interface of a route whose inbound one exists and none of
  // whose outbound interfaces does: its kernel entry drops the flow.
  bool drops_flow = false;
  core::SourcePos pos;  // the config line naming it; line 0 over the API

  // "interface X does not exist; <what happens until it appears>"
  std::string message() const;
};

// A route's missing interfaces: the IIF first, then the OIFs in order.
// Wildcards ("eth+") are patterns, never missing.
std::vector<MissingInterface> missing_route_interfaces(const std::string& iif,
                                                       const std::vector<std::string>& oifs,
                                                       const core::Links& links);
// A join's interface, when missing.
std::vector<MissingInterface> missing_join_interface(const std::string& iif,
                                                     const core::Links& links);
// Every missing interface of a config's routes and joins, in file order,
// each with the position of its line.
std::vector<MissingInterface> missing_interfaces(const core::Config& config,
                                                 const core::Links& links);

}  // namespace mfcd::router
