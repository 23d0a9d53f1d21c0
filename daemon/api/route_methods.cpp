// route.add, route.set, route.remove, route.list and pending.list.
#include <spdlog/spdlog.h>

#include <algorithm>

#include "api/methods.hpp"
#include "api/missing_interfaces.hpp"
#include "api/paging.hpp"
#include "api/params.hpp"
#include "api/views.hpp"
#include "rpc/envelope.hpp"

namespace mfcd::api {

using nlohmann::json;

namespace {

// Under the smcrouted name, requests are read as SMCRoute reads them.
bool lenient(const Context& c) {
  return c.router.settings().smcroute_names;
}

// A route change's answer: the route afterwards, or the error with the data
// the schema promises for its code (which route, which op, which interface).
rpc::HandlerResult route_result(const router::Router& router,
                                const router::Router::RouteOutcome& out,
                                const core::RouteKey& key) {
  if (const auto* refusal = std::get_if<router::Refusal>(&out)) {
    json data = key_json(key);
    data["what"] = "route";
    if (refusal->failure) {
      data["op"] = refusal->failure->what;
      if (!refusal->failure->ifname.empty()) data["interface"] = refusal->failure->ifname;
    }
    if (refusal->error.code == core::Errc::vif_table_full) {
      data["family"] = std::string(core::family_name(key.family()));
      data["limit"] = core::kMaxVifs;
    }
    if (refusal->error.code == core::Errc::invalid_argument) data["param"] = nullptr;
    return to_rpc_error(refusal->error, std::move(data));
  }
  const auto& route = std::get<std::optional<core::RouteIntent>>(out);
  return json{{"route", route ? route_item(router, *route) : json(nullptr)}};
}

using RouteChange = router::Router::RouteOutcome (router::Router::*)(const core::RouteRequest&);

// route.add and route.set. An interface the request names that does not
// exist is refused when the call is strict, before anything changes;
// otherwise the route waits for it, and the result and the log say so.
rpc::HandlerResult change_route(Context& c, const json& params, RouteChange change) {
  json rest = params;
  const Strict strict = take_strict(rest);
  auto req = route_request(rest, true, lenient(c));
  const auto missing =
      router::missing_route_interfaces(req.key.iif, req.oifs, c.router.model().links);
  if (auto refused = refused_by(missing, strict); !refused.empty()) return missing_error(refused);
  auto result = route_result(c.router, (c.router.*change)(req), req.key);
  auto* ok = std::get_if<json>(&result);
  if (ok && !missing.empty()) {
    for (const auto& m : missing)
      spdlog::warn("route {} by {}: {}", req.key.str(), req.owner, m.message());
    (*ok)["warnings"] = warnings_json(missing);
  }
  return result;
}

}  // namespace

rpc::HandlerResult route_add(Context& c, const json& params) {
  return change_route(c, params, &router::Router::add_route);
}

rpc::HandlerResult route_set(Context& c, const json& params) {
  return change_route(c, params, &router::Router::set_route);
}

rpc::HandlerResult route_remove(Context& c, const json& params) {
  auto req = route_request(params, false, lenient(c));
  return route_result(c.router, c.router.remove_route(req), req.key);
}

namespace {

// route.list's pages walk the sections in this order.
enum class Section { asm_rules, ssm_rules, kernel, end };

// Where a page starts: after `seq` (rules) or `key` (kernel entries) in
// `section`, or at its start. Opaque to clients: "asm:SEQ", "ssm:SEQ",
// "kernel:GROUP,SOURCE"; a section's start is "asm:0", "ssm:0" or "kernel:"
// (sequence numbers start at 1).
struct Cursor {
  Section section = Section::asm_rules;
  bool at_start = true;
  uint64_t seq = 0;
  core::SgKey key;
};

std::string cursor_text(Section section, uint64_t seq, const core::SgKey* key) {
  switch (section) {
    case Section::asm_rules:
      return "asm:" + std::to_string(seq);
    case Section::ssm_rules:
      return "ssm:" + std::to_string(seq);
    case Section::kernel:
      return key ? "kernel:" + key->group.str() + "," + key->source.str() : "kernel:";
    case Section::end:
      break;
  }
  return {};
}

Cursor parse_cursor(const std::string& text) {
  const rpc::ParamError bad{"cursor", "not a cursor that route.list returned: '" + text + "'"};
  const auto colon = text.find(':');
  if (colon == std::string::npos) throw bad;
  const std::string name = text.substr(0, colon), rest = text.substr(colon + 1);
  Cursor c;
  c.at_start = false;
  if (name == "asm" || name == "ssm") {
    c.section = name == "asm" ? Section::asm_rules : Section::ssm_rules;
    const auto seq = parse_seq(rest);
    if (!seq) throw bad;
    c.seq = *seq;
    return c;
  }
  if (name != "kernel") throw bad;
  c.section = Section::kernel;
  if (rest.empty()) {
    c.at_start = true;
    return c;
  }
  const auto comma = rest.find(',');
  if (comma == std::string::npos) throw bad;
  auto group = core::Addr::parse(rest.substr(0, comma));
  auto source = core::Addr::parse(rest.substr(comma + 1));
  if (!group || !source) throw bad;
  c.key = core::SgKey{*source, *group};
  return c;
}

// The first `n` routes after sequence number `after` (0: from the first)
// whose key `keep` admits, in creation order. One pass over the table.
template <class Keep>
std::vector<const core::RouteIntent*> routes_after(const core::Intent& intent, uint64_t after,
                                                   size_t n, Keep keep) {
  using Route = const core::RouteIntent*;
  auto by_seq = [](Route a, Route b) { return a->seq < b->seq; };
  Smallest<Route, decltype(by_seq)> pick(n, by_seq);
  for (const auto& [key, r] : intent.route_table())
    if (r.seq > after && keep(key)) pick.offer(&r);
  return std::move(pick).take();
}

bool kernel_order(const core::InstalledMfc* a, const core::InstalledMfc* b) {
  return std::tie(a->conf.key.group, a->conf.key.source) <
         std::tie(b->conf.key.group, b->conf.key.source);
}

// A listing's three sections, each written as its items come (a page walks
// them asm, ssm, kernel) and joined in the order of the reply's members.
struct Sections {
  rpc::JsonWriter asm_rules, ssm_rules, kernel;
  Sections() {
    asm_rules.begin_array();
    ssm_rules.begin_array();
    kernel.begin_array();
  }
  void add(Context& c, const core::RouteIntent& r) {
    write_route_item(r.key.is_asm() ? asm_rules : ssm_rules, r, c.router.route_status(r.key));
  }
  // {"routes":{"asm":[..],"kernel":[..],"ssm":[..]}} with `next` before it
  // when given (already JSON text), as rpc::dump orders the members.
  rpc::JsonText reply(const std::string* next) {
    std::string out = "{";
    if (next) out += "\"next\":" + *next + ",";
    out += "\"routes\":{\"asm\":";
    out += asm_rules.end_array().text();
    out += ",\"kernel\":";
    out += kernel.end_array().text();
    out += ",\"ssm\":";
    out += ssm_rules.end_array().text();
    out += "}}";
    return rpc::JsonText{std::move(out)};
  }
};

rpc::JsonText whole_route_list(Context& c, bool detail) {
  Sections out;
  for (const auto* r : c.router.model().intent.routes())
    out.add(c, *r);
  std::vector<const core::InstalledMfc*> entries;
  entries.reserve(c.router.installed().mfc.size());
  for (const auto& [key, m] : c.router.installed().mfc)
    entries.push_back(&m);
  std::sort(entries.begin(), entries.end(), kernel_order);
  for (const auto* m : entries)
    write_kernel_entry(out.kernel, c.router, *m, detail);
  return out.reply(nullptr);
}

// One page: up to `limit` items from `from` on, through the sections in
// order, and the cursor of the next page (null when nothing follows). Each
// section takes one more item than it may give, to know whether more
// follows without a second walk; only a page that ends exactly at the end
// of a section looks further (for any item at all).
rpc::JsonText route_list_page(Context& c, bool detail, size_t limit, const Cursor& from) {
  Sections out;
  size_t room = limit;
  json next = nullptr;
  const auto& installed = c.router.installed().mfc;

  auto rules_after = [&](Section section, bool at_start, uint64_t after, size_t n) {
    const bool want_asm = section == Section::asm_rules;
    return routes_after(c.router.model().intent, at_start ? 0 : after, n,
                        [&](const core::RouteKey& key) { return key.is_asm() == want_asm; });
  };
  auto kernel_after = [&](bool at_start, const core::SgKey& after, size_t n) {
    Smallest<const core::InstalledMfc*, decltype(&kernel_order)> pick(n, &kernel_order);
    for (const auto& [key, m] : installed) {
      if (!at_start && std::tie(key.group, key.source) <= std::tie(after.group, after.source))
        continue;
      pick.offer(&m);
    }
    return std::move(pick).take();
  };

  for (auto section = from.section; section != Section::end;
       section = static_cast<Section>(static_cast<int>(section) + 1)) {
    const bool at_start = from.at_start || section != from.section;
    if (room == 0) {
      // Full at a section's end: the next page starts at the next section
      // that holds anything.
      const bool any = section == Section::kernel ? !kernel_after(true, {}, 1).empty()
                                                  : !rules_after(section, true, 0, 1).empty();
      if (!any) continue;
      next = cursor_text(section, 0, nullptr);
      break;
    }
    if (section == Section::kernel) {
      auto page = kernel_after(at_start, from.key, room + 1);
      const bool more = page.size() > room;
      if (more) page.pop_back();
      for (const auto* m : page)
        write_kernel_entry(out.kernel, c.router, *m, detail);
      room -= page.size();
      if (more) {
        next = cursor_text(section, 0, &page.back()->conf.key);
        break;
      }
    } else {
      auto page = rules_after(section, at_start, from.seq, room + 1);
      const bool more = page.size() > room;
      if (more) page.pop_back();
      for (const auto* r : page)
        out.add(c, *r);
      room -= page.size();
      if (more) {
        next = cursor_text(section, page.back()->seq, nullptr);
        break;
      }
    }
  }
  const std::string next_text = rpc::dump(next);
  return out.reply(&next_text);
}

}  // namespace

rpc::HandlerResult route_list(Context& c, const json& params) {
  rpc::Params p(params);
  const bool detail = p.opt_bool("detail", false);
  const PageRequest page = page_request(p);
  p.finish();
  if (!page.size) return whole_route_list(c, detail);
  const Cursor from = page.cursor ? parse_cursor(*page.cursor) : Cursor{};
  return route_list_page(c, detail, *page.size, from);
}

namespace {

json pending_route_item(const core::RouteIntent& r, const core::RouteStatus& st) {
  json item = key_json(r.key);
  item["kind"] = "mroute";
  item["oifs"] = r.oifs();
  item["missing_oifs"] = st.missing_oifs;
  item["state"] = std::string(core::route_state_name(st.state));
  if (!st.reason.empty()) item["reason"] = st.reason;
  return item;
}

json pending_join_item(const core::JoinIntent& j) {
  json item = key_json(j.key);
  item["kind"] = "mgroup";
  item["reason"] = "interface " + j.key.iif + " does not exist";
  return item;
}

// A page of pending.list: the waiting routes, then the waiting joins, each
// in creation order. Cursor: "mroute:SEQ" or "mgroup:SEQ" (0: the start).
json pending_list_page(Context& c, size_t limit, const std::optional<std::string>& cursor) {
  bool joins_first = false;
  uint64_t after = 0;
  if (cursor) {
    const auto colon = cursor->find(':');
    const std::string name = cursor->substr(0, colon);
    const auto seq = colon == std::string::npos
                         ? std::nullopt
                         : parse_seq(std::string_view(*cursor).substr(colon + 1));
    if (!seq || (name != "mroute" && name != "mgroup"))
      throw rpc::ParamError{"cursor", "not a cursor that pending.list returned: '" + *cursor + "'"};
    joins_first = name == "mgroup";
    after = *seq;
  }
  json pending = json::array();
  json next = nullptr;
  size_t room = limit;
  using Join = const core::JoinIntent*;
  const auto joins = c.router.model().joins.joins();
  auto join_waits = [](Join j) { return join_is_pending(*j); };
  auto join_seq = [](Join j) { return j->seq; };
  if (!joins_first) {
    auto routes = routes_after(
        c.router.model().intent, after, room + 1,
        [&](const core::RouteKey& key) { return route_is_pending(c.router.route_status(key)); });
    const bool more = routes.size() > room;
    if (more) routes.pop_back();
    for (const auto* r : routes)
      pending.push_back(pending_route_item(*r, *c.router.route_status(r->key)));
    room -= routes.size();
    if (more)
      return json{{"pending", pending}, {"next", "mroute:" + std::to_string(routes.back()->seq)}};
    after = 0;
  }
  if (room == 0) {
    if (!first_after<Join>(joins, 0, 1, join_waits, join_seq).empty()) next = "mgroup:0";
    return json{{"pending", pending}, {"next", next}};
  }
  auto waiting = first_after<Join>(joins, after, room + 1, join_waits, join_seq);
  const bool more = waiting.size() > room;
  if (more) waiting.pop_back();
  for (Join j : waiting)
    pending.push_back(pending_join_item(*j));
  if (more) next = "mgroup:" + std::to_string(waiting.back()->seq);
  return json{{"pending", pending}, {"next", next}};
}

}  // namespace

rpc::HandlerResult pending_list(Context& c, const json& params) {
  rpc::Params p(params);
  const PageRequest page = page_request(p);
  p.finish();
  if (page.size) return pending_list_page(c, *page.size, page.cursor);
  json pending = json::array();
  for (const auto* r : c.router.model().intent.routes()) {
    const core::RouteStatus* st = c.router.route_status(r->key);
    if (route_is_pending(st)) pending.push_back(pending_route_item(*r, *st));
  }
  for (const auto* j : c.router.model().joins.joins())
    if (join_is_pending(*j)) pending.push_back(pending_join_item(*j));
  return json{{"pending", pending}};
}

}  // namespace mfcd::api
