// See missing.hpp. A name is missing when no link of that name exists now;
// whether the link is up or can do multicast is another question, answered
// by the route's state.
#include "router/missing.hpp"

#include <algorithm>

namespace mfcd::router {

namespace {

bool absent(const std::string& name, const core::Links& links) {
  return !core::is_wildcard(name) && !core::find_link(links, name);
}

}  // namespace

std::string MissingInterface::message() const {
  std::string text = "interface " + name + " does not exist; ";
  switch (role) {
    case Role::inbound:
      return text + "the route stays pending and forwards nothing until it appears";
    case Role::outbound:
      return text + (drops_flow ? "the route has no outbound interface and drops the flow until "
                                  "it appears"
                                : "nothing is forwarded to it until it appears");
    case Role::join:
      return text + "the join stays pending until it appears";
  }
  return text;
}

std::vector<MissingInterface> missing_route_interfaces(const std::string& iif,
                                                       const std::vector<std::string>& oifs,
                                                       const core::Links& links) {
  std::vector<MissingInterface> out;
  const bool iif_absent = absent(iif, links);
  if (iif_absent) out.push_back({iif, MissingInterface::Role::inbound, false, {}});
  // With the inbound interface present and no outbound one, the kernel
  // entry exists without OIFs: the flow arrives and is dropped.
  const bool none_left =
      !iif_absent && !oifs.empty() &&
      std::all_of(oifs.begin(), oifs.end(), [&](const std::string& o) { return absent(o, links); });
  for (const auto& oif : oifs)
    if (absent(oif, links)) out.push_back({oif, MissingInterface::Role::outbound, none_left, {}});
  return out;
}

std::vector<MissingInterface> missing_join_interface(const std::string& iif,
                                                     const core::Links& links) {
  std::vector<MissingInterface> out;
  if (absent(iif, links)) out.push_back({iif, MissingInterface::Role::join, false, {}});
  return out;
}

std::vector<MissingInterface> missing_interfaces(const core::Config& config,
                                                 const core::Links& links) {
  std::vector<MissingInterface> out;
  auto add = [&](std::vector<MissingInterface> found, const core::SourcePos& pos) {
    for (auto& m : found) {
      m.pos = pos;
      out.push_back(std::move(m));
    }
  };
  for (const auto& r : config.routes)
    add(missing_route_interfaces(r.iif, r.oifs.to_vector(), links), r.pos);
  for (const auto& j : config.joins)
    add(missing_join_interface(j.iif, links), j.pos);
  // Routes and joins interleave in the file: report in file order (the
  // files in the order they were read).
  auto rank = [&](const core::SourcePos& pos) {
    const auto it = std::find(config.files.begin(), config.files.end(), pos.file.str());
    return std::pair(it - config.files.begin(), pos.line);
  };
  std::stable_sort(out.begin(), out.end(),
                   [&](const auto& a, const auto& b) { return rank(a.pos) < rank(b.pos); });
  return out;
}

}  // namespace mfcd::router
