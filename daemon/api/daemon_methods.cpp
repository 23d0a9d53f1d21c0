// interface.list (whole, or in pages), cache.flush, daemon.status, daemon.version, daemon.stop
// and rpc.discover.
#include <algorithm>
#include <cstdint>

#include "api/methods.hpp"
#include "api/paging.hpp"
#include "api/params.hpp"
#include "api/views.hpp"
#include "core/phyint.hpp"
#include "version.hpp"

extern const char kOpenRpcDocument[];

namespace mfcd::api {

using nlohmann::json;

namespace {

// Where a page of interface.list starts: "index:N", after the interface
// with index N (0: the start). Opaque to clients.
int parse_interface_cursor(const std::string& text) {
  const auto index =
      text.rfind("index:", 0) == 0 ? parse_seq(std::string_view(text).substr(6)) : std::nullopt;
  if (!index || *index > INT32_MAX)
    throw rpc::ParamError{"cursor", "not a cursor that interface.list returned: '" + text + "'"};
  return static_cast<int>(*index);
}

}  // namespace

// Whole, or a page of the interfaces by index (`limit`, `cursor`, `next`
// as route.list's).
rpc::HandlerResult interface_list(Context& c, const json& params) {
  rpc::Params p(params);
  const PageRequest page = page_request(p);
  p.finish();
  const auto& model = c.router.model();
  const int after = page.cursor ? parse_interface_cursor(*page.cursor) : 0;
  using Link = const core::Link*;
  auto by_index = [](Link a, Link b) { return a->ifindex < b->ifindex; };
  Smallest<Link, decltype(by_index)> pick(page.size ? *page.size + 1 : model.links.size(),
                                          by_index);
  for (const auto& link : model.links)
    if (link.ifindex > after) pick.offer(&link);
  auto links = std::move(pick).take();
  json next = nullptr;
  if (page.size && links.size() > *page.size) {
    links.pop_back();
    next = "index:" + std::to_string(links.back()->ifindex);
  }
  json list = json::array();
  for (const auto* l : links) {
    const core::Link& link = *l;
    // The one phyint rule (core::resolve_phyint), as for VIFs and mrdisc.
    const core::PhyintSettings ph = core::resolve_phyint(model.intent.phyints(), link.name);
    json item = {{"index", link.ifindex},
                 {"name", link.name},
                 {"up", link.up},
                 {"multicast", link.multicast},
                 {"ttl_threshold", ph.ttl_threshold},
                 {"enabled", ph.enabled}};
    auto vif = c.router.installed().vif_of(core::Family::v4, link.name);
    auto mif = c.router.installed().vif_of(core::Family::v6, link.name);
    item["vif"] = vif ? json(*vif) : json(nullptr);
    item["mif"] = mif ? json(*mif) : json(nullptr);
    auto mrd = c.daemon.mrdisc_state(link.name);
    item["mrdisc"] = mrd.has_value();
    item["mrdisc_next"] =
        mrd && mrd->announcing ? json(double(mrd->next_due_ms) / 1000.0) : json(nullptr);
    list.push_back(item);
  }
  if (!page.size) return json{{"interfaces", list}};
  return json{{"interfaces", list}, {"next", next}};
}

rpc::HandlerResult cache_flush(Context& c, const json& params) {
  no_params(params);
  return json{{"flushed", c.router.flush()}};
}

rpc::HandlerResult daemon_status(Context& c, const json& params) {
  no_params(params);
  const DaemonInfo info = c.daemon.info();
  size_t kernel_v4 = 0, kernel_v6 = 0;
  for (const auto& [key, m] : c.router.installed().mfc)
    (key.group.family == core::Family::v4 ? kernel_v4 : kernel_v6)++;
  const auto& st = c.router.upcall_stats();
  const json upcalls = {{"nocache", st.nocache},
                        {"wrongvif", st.wrongvif},
                        {"ignored", st.ignored},
                        {"installed", st.installed},
                        {"stop_filters", st.stop_filters},
                        {"failed", st.failed},
                        {"moved", st.moved},
                        {"expired", st.expired},
                        {"flushed", st.flushed},
                        {"lost", c.router.upcalls_lost()}};
  return json{{"version", MFCD_VERSION},
              {"identity", info.identity},
              {"pid", info.pid},
              {"uptime", c.daemon.uptime_seconds()},
              {"config_file", info.config_file},
              {"socket", info.socket},
              {"table", info.table},
              {"ipv6", info.ipv6},
              {"routes",
               {{"configured", c.router.model().intent.route_count()},
                {"kernel", kernel_v4 + kernel_v6},
                {"kernel_ipv4", kernel_v4},
                {"kernel_ipv6", kernel_v6},
                {"dynamic", c.router.model().dynamic.size()}}},
              {"upcalls", upcalls},
              {"cache_timeout", info.cache_timeout},
              {"vifs",
               {{"ipv4", c.router.installed().vif_count(core::Family::v4)},
                {"ipv6", c.router.installed().vif_count(core::Family::v6)}}}};
}

rpc::HandlerResult daemon_version(Context&, const json& params) {
  no_params(params);
  return json{{"name", "mfcd"}, {"version", MFCD_VERSION}};
}

rpc::HandlerResult daemon_stop(Context& c, const json& params) {
  no_params(params);
  c.daemon.stop("daemon.stop from pid " + std::to_string(c.caller.pid));
  return json{{"stopping", true}};
}

rpc::HandlerResult rpc_discover(Context&, const json& params) {
  no_params(params);
  static const json doc = json::parse(kOpenRpcDocument);
  return doc;
}

}  // namespace mfcd::api
