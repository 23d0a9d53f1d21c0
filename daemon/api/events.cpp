// See events.hpp.
#include "api/events.hpp"

#include <algorithm>
#include <cstdio>
#include <ctime>

namespace mfcd::api {

using nlohmann::json;

const std::vector<std::string_view>& event_kinds() {
  static const std::vector<std::string_view> kinds = {
      "route.installed", "route.changed", "route.removed",   "route.active",      "route.pending",
      "route.standby",   "filter.added",  "flow.learned",    "flow.changed",      "flow.expired",
      "wrongvif",        "upcalls.lost",  "interface.added", "interface.removed", "interface.up",
      "interface.down",  "vif.added",     "vif.freed",       "join.active",       "join.pending",
      "join.left",       "join.failed",   "reload.applied",  "reload.refused",    "clients.limit",
  };
  return kinds;
}

namespace {

bool kind_wanted(const std::set<std::string, std::less<>>& kinds, std::string_view kind) {
  if (kinds.empty() || kinds.count(kind)) return true;
  const auto dot = kind.find('.');
  return dot != std::string_view::npos && kinds.count(kind.substr(0, dot));
}

}  // namespace

bool EventFilter::matches(std::string_view kind, const std::optional<core::Family>& fam,
                          const std::optional<core::Addr>& grp,
                          const std::vector<std::string>& interfaces) const {
  if (!kind_wanted(kinds, kind)) return false;
  if (family && fam && *family != *fam) return false;
  if (group && grp && !group->contains(*grp)) return false;
  if (interface && !interfaces.empty() &&
      std::find(interfaces.begin(), interfaces.end(), *interface) == interfaces.end())
    return false;
  return true;
}

bool EventFilter::wants_any(const std::vector<std::string>& of) const {
  return std::any_of(of.begin(), of.end(),
                     [&](const std::string& kind) { return kind_wanted(kinds, kind); });
}

EventHub::EventHub(EventSink& sink, std::function<uint64_t()> now_ms,
                   std::function<void()> first_subscriber)
    : sink_(sink), now_ms_(std::move(now_ms)), first_subscriber_(std::move(first_subscriber)) {}

void EventHub::subscribe(uint64_t conn, EventFilter filter) {
  const bool first = subscribers_.empty();
  auto& s = subscribers_[conn];
  s.filter = std::move(filter);
  sink_.streaming(conn, true);
  if (first && first_subscriber_) first_subscriber_();
}

bool EventHub::unsubscribe(uint64_t conn) {
  if (!subscribers_.erase(conn)) return false;
  sink_.streaming(conn, false);
  return true;
}

void EventHub::send(uint64_t conn, Subscriber& s, std::string_view kind, const json& members) {
  // `s` may be gone once the sink has run (a failed write drops the
  // connection, which unsubscribes it): nothing below touches it.
  const uint64_t seq = ++s.seq;
  json params = {{"seq", seq}, {"time", utc_timestamp(now_ms_())}, {"kind", kind}};
  params.update(members);
  json note = {{"jsonrpc", "2.0"}, {"method", "event"}, {"params", std::move(params)}};
  const Delivery delivery = sink_.deliver(conn, note.dump(), false);
  if (delivery == Delivery::queued) return;
  if (delivery == Delivery::full) {
    // The last word, numbered as the first notification it missed. The
    // sink closes the connection after it.
    json last = {{"jsonrpc", "2.0"},
                 {"method", "event"},
                 {"params",
                  {{"seq", seq},
                   {"time", utc_timestamp(now_ms_())},
                   {"kind", "overflow"},
                   {"reason", "the subscriber fell behind; disconnecting"}}}};
    sink_.deliver(conn, last.dump(), true);
  }
  subscribers_.erase(conn);
}

template <typename Wanted, typename Members>
void EventHub::fan_out(std::string_view kind, Wanted wanted, Members members) {
  std::optional<json> built;
  // send() may drop the subscriber it serves: step on before calling it.
  for (auto it = subscribers_.begin(); it != subscribers_.end();) {
    auto& [conn, s] = *it++;
    if (!wanted(s.filter)) continue;
    if (!built) built = members();
    send(conn, s, kind, *built);
  }
}

void EventHub::publish(const router::Event& e) {
  auto members = [&] { return event_members(e); };
  if (const auto* kinds = router::bulk_kinds(e))
    return fan_out(
        e.kind, [&](const EventFilter& f) { return f.wants_any(*kinds); }, members);
  fan_out(
      e.kind,
      [&](const EventFilter& f) { return f.matches(e.kind, e.family, e.group, e.interfaces); },
      members);
}

void EventHub::publish(std::string_view kind, const json& members,
                       std::vector<std::string> interfaces) {
  fan_out(
      kind,
      [&](const EventFilter& f) { return f.matches(kind, std::nullopt, std::nullopt, interfaces); },
      [&] { return members; });
}

json event_members(const router::Event& e) {
  json out = json::object();
  using Type = router::Event::Field::Type;
  for (const auto& f : e.fields) {
    if (f.type == Type::text)
      out[f.name] = f.text;
    else if (f.type == Type::number)
      out[f.name] = f.number;
    else
      out[f.name] = f.list;
  }
  return out;
}

std::string utc_timestamp(uint64_t ms) {
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<unsigned>(ms % 1000));
  return buf;
}

}  // namespace mfcd::api
