// `mfcctl monitor`: the daemon's event notifications (events.subscribe,
// docs/api.md) as lines a person reads, one per event:
//
//   3 2026-12-06T19:30:00.123Z route.installed family=ipv4 source=10.0.0.1 ...
//
// seq, time and kind, then the event's members as name=value, those that
// say what it is about first (family, interface, source, group, iif, oifs,
// route, ...), the rest by name; lists joined by commas ("-" when empty), a value with a
// space in double quotes. A reload says what changed in counts.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace mfcd::client {

std::string format_event(const nlohmann::json& params);

}  // namespace mfcd::client
