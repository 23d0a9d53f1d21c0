// What happened in the router, for events.subscribe: one Event per kernel
// change the Writer made, per interface the kernel announced, per route that
// became pending or active, per batch of WRONGVIFs and per loss of upcalls.
// The router knows no JSON: api/events.hpp numbers, filters and encodes.
//
// Building events costs a model look-up per kernel op, so the router builds
// them only while somebody listens (Listener::events_wanted()); without a
// subscriber the fast paths (start-up, reload, upcall storms) pay one test
// of a bool per plan.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/addr.hpp"
#include "core/plan.hpp"
#include "router/model.hpp"

namespace mfcd::router {

struct Event {
  // One member: a string, an integer or a list of strings. (A struct, not
  // a std::variant: GCC 12 warns falsely about variants holding a vector.)
  struct Field {
    enum class Type { text, number, list };
    std::string name;
    Type type = Type::text;
    std::string text;
    int64_t number = 0;
    std::vector<std::string> list;
  };

  // "route.installed", "flow.learned", "interface.down", ... (docs/api.md)
  std::string kind;
  // What a subscriber's filters look at; unset when the event has none.
  std::optional<core::Family> family;
  std::optional<core::Addr> group;
  std::vector<std::string> interfaces;  // every interface it concerns
  // The event's own members, in this order.
  std::vector<Field> fields;

  Event& with(std::string name, std::string text) {
    fields.push_back(Field{std::move(name), Field::Type::text, std::move(text), 0, {}});
    return *this;
  }
  Event& with(std::string name, int64_t number) {
    fields.push_back(Field{std::move(name), Field::Type::number, {}, number, {}});
    return *this;
  }
  Event& with(std::string name, std::vector<std::string> list) {
    fields.push_back(Field{std::move(name), Field::Type::list, {}, 0, std::move(list)});
    return *this;
  }
};

// One change (a plan the Writer ran, or the route states one moved) that
// would make more than this many events about entries and routes
// (route.*, filter.added, flow.*) makes a single `bulk` event instead,
// which says how many and of which kinds: "read the state again". A reload
// of thousands of routes would otherwise queue megabytes of notifications
// in one turn of the loop (some 250 bytes each) and get every subscriber
// disconnected with `overflow`, however fast it reads. A thousand stay
// well within a subscriber's 1 MiB.
inline constexpr size_t kMaxEventsPerChange = 1000;

// The kind of the event of an add_mfc or del_mfc op ("route.installed",
// "flow.expired", ...), as event_of_op would build it, without building it.
std::string_view entry_event_kind(const core::Op& op, bool existed, const Model& model);

// "route.active", "route.pending" or "route.standby".
std::string_view route_state_kind(core::RouteState state);

// bulk: `count` events of `kinds` that one change made, left out. It
// reaches each subscriber that wants one of those kinds (filters on family,
// group and interface do not apply to what stands for many events).
Event bulk_event(size_t count, std::vector<std::string> kinds);
// A bulk event's kinds (its "kinds" member); nullptr for any other event.
const std::vector<std::string>* bulk_kinds(const Event& e);

// The event of one op the kernel accepted: `existed` tells, for add_mfc,
// whether the entry was there before (changed, not installed). `vif_names`
// are the names of the op's family's VIFs once the plan ran. nullopt for
// ops no subscriber hears of (release_all).
std::optional<Event> event_of_op(const core::Op& op, bool existed, const Model& model,
                                 const std::array<std::string, core::kMaxVifs>& vif_names);

// vif.freed for a VIF the kernel dropped with its device (no op did it).
Event vif_freed_event(const core::VifConf& vif);

// The event of an op the kernel refused, when subscribers hear of it
// (join.failed); nullopt otherwise (route failures show as route.pending).
std::optional<Event> event_of_failure(const core::Op& op, const core::Failure& failure);

// A route's state as subscribers see it: "active" (in the kernel, or a rule
// ready to match), "standby" or "pending", with why.
Event route_state_event(const core::RouteKey& key, const core::RouteStatus& status);

// join.pending: a join waits (for its interface), with why.
Event join_pending_event(const core::JoinKey& key, const std::string& reason);

// interface.added / interface.removed / interface.up / interface.down.
Event link_event(std::string kind, const core::Link& link);

}  // namespace mfcd::router
