// group.join, group.leave and group.list (whole, or in pages). Bad
// addresses are refused as invalid params (-32602) before anything changes;
// what only the router can judge (the range bound, the interface, the
// kernel) comes back as one of mfcd's own codes with its data object.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdint>
#include <tuple>

#include "api/methods.hpp"
#include "api/missing_interfaces.hpp"
#include "api/paging.hpp"
#include "api/params.hpp"
#include "api/views.hpp"

namespace mfcd::api {

using nlohmann::json;

namespace {

// The data object each code promises in the schema.
rpc::RpcError join_error(const core::Error& err, const core::JoinKey& key, size_t range_limit) {
  json data = json::object();
  switch (err.code) {
    case core::Errc::invalid_argument:
      data = {{"param", "group"}};
      break;
    case core::Errc::interface_unknown:
      data = {{"interface", key.iif}};
      break;
    case core::Errc::not_found:
      data = key_json(key);
      data["what"] = "join";
      break;
    case core::Errc::limit:
      data = {{"limit", "join_range"}, {"value", range_limit}};
      break;
    case core::Errc::kernel:
      // "MCAST_JOIN_GROUP a1 (*, 225.1.1.1): No such device" -> the part
      // before the colon names the operation.
      data = {{"op", err.message.substr(0, err.message.find(": "))}};
      break;
    default:
      break;
  }
  return to_rpc_error(err, std::move(data));
}

// {"group": item afterwards, or null when the join is gone}
rpc::HandlerResult join_result(const router::Router& router, const core::JoinKey& key) {
  const auto* j = router.model().joins.find(key);
  return json{{"group", j ? join_item(router, *j) : json(nullptr)}};
}

}  // namespace

// A join on an interface that does not exist waits for it, as a route does
// (and as an mgroup line always did), with a warning in the result; a
// strict call is refused instead, changing nothing.
rpc::HandlerResult group_join(Context& c, const json& params) {
  json rest = params;
  const Strict strict = take_strict(rest);
  auto req = join_request(rest, c.router.settings().smcroute_names);
  const auto missing = router::missing_join_interface(req.key.iif, c.router.model().links);
  if (auto refused = refused_by(missing, strict); !refused.empty()) return missing_error(refused);
  if (auto r = c.router.join(req.key, req.owner); !r)
    return join_error(r.error(), req.key, c.router.model().joins.range_limit());
  auto result = join_result(c.router, req.key);
  if (!missing.empty()) {
    for (const auto& m : missing)
      spdlog::warn("join {} by {}: {}", req.key.str(), req.owner, m.message());
    std::get<json>(result)["warnings"] = warnings_json(missing);
  }
  return result;
}

rpc::HandlerResult group_leave(Context& c, const json& params) {
  auto req = join_request(params, c.router.settings().smcroute_names);
  if (auto r = c.router.leave(req.key, req.owner); !r)
    return join_error(r.error(), req.key, c.router.model().joins.range_limit());
  return join_result(c.router, req.key);
}

namespace {

json membership_item(const core::HeldMembership& held) {
  const auto& m = held.membership;
  return {{"iif", m.ifname},
          {"source", m.source ? json(m.source->str()) : json(nullptr)},
          {"group", m.group.str()},
          {"family", std::string(core::family_name(m.family()))},
          {"socket", held.socket}};
}

// The memberships held, in the order pages walk them: by socket, then by
// membership (interface index and name, group, source).
bool held_order(const core::HeldMembership& a, const core::HeldMembership& b) {
  return std::tie(a.socket, a.membership) < std::tie(b.socket, b.membership);
}

// Where a page of group.list starts. Opaque to clients: "conf:SEQ" (after
// the join with that sequence number; 0: the start) or
// "kernel:SOCKET,IFINDEX,GROUP,SOURCE,IFNAME" (after that membership; SOURCE
// "*" for none; the name last, as it may hold a comma) or "kernel:" (the
// start of the memberships).
struct GroupCursor {
  bool kernel = false;
  uint64_t seq = 0;
  std::optional<core::HeldMembership> after;  // kernel: nullopt at the start
};

std::string group_cursor_text(const core::HeldMembership& h) {
  const auto& m = h.membership;
  return "kernel:" + std::to_string(h.socket) + "," + std::to_string(m.ifindex) + "," +
         m.group.str() + "," + (m.source ? m.source->str() : "*") + "," + m.ifname;
}

GroupCursor parse_group_cursor(const std::string& text) {
  const rpc::ParamError bad{"cursor", "not a cursor that group.list returned: '" + text + "'"};
  const auto colon = text.find(':');
  if (colon == std::string::npos) throw bad;
  const std::string name = text.substr(0, colon);
  const std::string_view rest = std::string_view(text).substr(colon + 1);
  GroupCursor c;
  if (name == "conf") {
    const auto seq = parse_seq(rest);
    if (!seq) throw bad;
    c.seq = *seq;
    return c;
  }
  if (name != "kernel") throw bad;
  c.kernel = true;
  if (rest.empty()) return c;
  // Four fields, then the name (which may hold commas).
  std::string_view field[4];
  size_t at = 0;
  for (auto& f : field) {
    const auto comma = rest.find(',', at);
    if (comma == std::string_view::npos) throw bad;
    f = rest.substr(at, comma - at);
    at = comma + 1;
  }
  core::HeldMembership h;
  const auto socket = parse_seq(field[0]), ifindex = parse_seq(field[1]);
  const auto group = core::Addr::parse(std::string(field[2]));
  if (!socket || !ifindex || *ifindex > INT32_MAX || !group) throw bad;
  h.socket = static_cast<size_t>(*socket);
  h.membership.ifindex = static_cast<int>(*ifindex);
  h.membership.group = *group;
  if (field[3] != "*") {
    const auto source = core::Addr::parse(std::string(field[3]));
    if (!source) throw bad;
    h.membership.source = *source;
  }
  h.membership.ifname = std::string(rest.substr(at));
  c.after = std::move(h);
  return c;
}

// One page of group.list: the joins after the cursor in creation order,
// then the memberships held, in held_order; `next` as route.list's.
json group_list_page(Context& c, size_t limit, const GroupCursor& from) {
  json conf = json::array(), kernel = json::array(), next = nullptr;
  size_t room = limit;
  using Join = const core::JoinIntent*;
  auto all = [](Join) { return true; };
  auto seq_of = [](Join j) { return j->seq; };
  if (!from.kernel) {
    auto joins = first_after<Join>(c.router.model().joins.joins(), from.seq, room + 1, all, seq_of);
    const bool more = joins.size() > room;
    if (more) joins.pop_back();
    for (Join j : joins)
      conf.push_back(join_item(c.router, *j));
    room -= joins.size();
    if (more) next = "conf:" + std::to_string(joins.back()->seq);
  }
  if (next.is_null()) {
    // The memberships: a copy of them all, sorted, is this page's one cost
    // that grows with the table (a join holds one membership per (S,G) it
    // covers, at most mgroup's range bound).
    auto held = c.router.held_memberships();
    std::sort(held.begin(), held.end(), held_order);
    auto it = from.kernel && from.after
                  ? std::upper_bound(held.begin(), held.end(), *from.after, held_order)
                  : held.begin();
    if (room == 0) {
      if (it != held.end()) next = "kernel:";
    } else {
      const size_t n = std::min(room, static_cast<size_t>(held.end() - it));
      for (size_t i = 0; i < n; ++i)
        kernel.push_back(membership_item(it[static_cast<ptrdiff_t>(i)]));
      if (it + static_cast<ptrdiff_t>(n) != held.end())
        next = group_cursor_text(it[static_cast<ptrdiff_t>(n) - 1]);
    }
  }
  return json{{"groups", {{"conf", std::move(conf)}, {"kernel", std::move(kernel)}}},
              {"next", std::move(next)}};
}

}  // namespace

rpc::HandlerResult group_list(Context& c, const json& params) {
  rpc::Params p(params);
  const PageRequest page = page_request(p);
  p.finish();
  if (page.size)
    return group_list_page(c, *page.size,
                           page.cursor ? parse_group_cursor(*page.cursor) : GroupCursor{});
  json conf = json::array();
  for (const auto* j : c.router.model().joins.joins())
    conf.push_back(join_item(c.router, *j));
  json kernel = json::array();
  for (const auto& held : c.router.held_memberships())
    kernel.push_back(membership_item(held));
  return json{{"groups", {{"conf", conf}, {"kernel", kernel}}}};
}

}  // namespace mfcd::api
