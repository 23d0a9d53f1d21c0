// events.subscribe: the subscribers, what each wants, and their notifications.
//
// A subscription turns a connection into a stream of JSON-RPC notifications
// ({"jsonrpc":"2.0","method":"event","params":{...}}, no id), in the order
// things happened. Each carries the subscription's own sequence number
// (1, 2, 3, ... with no gap while the subscriber keeps up: a gap can only
// mean a bug) and the wall-clock time. The connection stays a normal one:
// it may call methods, events.unsubscribe included; replies and
// notifications come in the order they were produced.
//
// A subscriber that falls behind (its connection holds more queued bytes
// than the server allows) gets one last notification of kind "overflow"
// and is disconnected, so the daemon's memory never grows for it.
//
// The hub knows no socket: an EventSink (the control socket's server)
// delivers lines to connections. No system call here; the clock is given.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/addr.hpp"
#include "router/events.hpp"

namespace mfcd::api {

// Every kind a subscriber can ask for (docs/api.md says when each comes).
const std::vector<std::string_view>& event_kinds();

struct EventFilter {
  // Kinds ("route.installed") or whole categories ("route"); empty: all.
  std::set<std::string, std::less<>> kinds;
  // An event that concerns no family, group or interface (a reload) is
  // not held back by the filter on that attribute.
  std::optional<core::Family> family;
  std::optional<core::Prefix> group;
  std::optional<std::string> interface;

  bool matches(std::string_view kind, const std::optional<core::Family>& family,
               const std::optional<core::Addr>& group,
               const std::vector<std::string>& interfaces) const;
  // Whether one of `kinds` is wanted (a bulk event's: filters on family,
  // group and interface do not apply to what stands for many events).
  bool wants_any(const std::vector<std::string>& kinds) const;
};

enum class Delivery { queued, full, gone };

class EventSink {
 public:
  virtual ~EventSink() = default;
  // Queues `line` (no newline) on connection `conn`. `full`: nothing was
  // queued, the connection holds too much already. With `last`, the line
  // is queued whatever it holds and the connection is closed after it.
  virtual Delivery deliver(uint64_t conn, std::string_view line, bool last) = 0;
  // A subscribed connection is never closed for being idle.
  virtual void streaming(uint64_t conn, bool on) = 0;
};

class EventHub {
 public:
  // `now_ms`: milliseconds since the Unix epoch, for the notifications'
  // "time". `first_subscriber`: runs when the hub goes from none to one.
  EventHub(EventSink& sink, std::function<uint64_t()> now_ms,
           std::function<void()> first_subscriber = {});

  // Replaces the connection's subscription, if it had one.
  void subscribe(uint64_t conn, EventFilter filter);
  bool unsubscribe(uint64_t conn);  // false: it had none
  void connection_closed(uint64_t conn) { subscribers_.erase(conn); }
  bool wanted() const { return !subscribers_.empty(); }
  size_t subscriber_count() const { return subscribers_.size(); }

  void publish(const router::Event& e);
  // An event from above the router (reload, client limit), with its
  // members; `family`/`group`/`interfaces` as in EventFilter.
  void publish(std::string_view kind, const nlohmann::json& members,
               std::vector<std::string> interfaces = {});

 private:
  struct Subscriber {
    EventFilter filter;
    uint64_t seq = 0;  // of the last notification sent
  };
  void send(uint64_t conn, Subscriber& s, std::string_view kind, const nlohmann::json& members);
  // Sends to each subscriber whose filter `wanted` accepts; `members`
  // builds the params once, for the first of them.
  template <typename Wanted, typename Members>
  void fan_out(std::string_view kind, Wanted wanted, Members members);

  EventSink& sink_;
  std::function<uint64_t()> now_ms_;
  std::function<void()> first_subscriber_;
  std::map<uint64_t, Subscriber> subscribers_;
};

// The members of a router event as JSON (the notification's params less
// seq, time and kind).
nlohmann::json event_members(const router::Event& e);

// "2026-12-06T20:30:00.123Z"
std::string utc_timestamp(uint64_t ms_since_epoch);

}  // namespace mfcd::api
