// What the methods that take intent (route.add, route.set, group.join,
// config.reload) do about interfaces that do not exist: by default the
// intent is kept, pending, and the result carries a "warnings" list naming
// each missing interface and what happens meanwhile; with the "strict"
// param the call is refused instead (-32001), changing nothing. Which
// interfaces are missing, and the words, come from router/missing.hpp, the
// one place mfcd -F also uses.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "router/missing.hpp"
#include "rpc/errors.hpp"

namespace mfcd::api {

// How strict a call is about missing interfaces.
enum class Strict {
  off,  // keep the intent pending, warn (the default)
  iif,  // refuse a missing inbound interface (a route's or a join's), warn
        // about outbound ones: what SMCRoute does, so smcroutectl asks this
  all,  // refuse any missing interface
};

// Takes "strict" (false, true or "iif") out of `params`, which then reads
// as it did before the param existed. A value of another kind is -32602.
Strict take_strict(nlohmann::json& params);

// The missing interfaces `strict` refuses.
std::vector<router::MissingInterface> refused_by(
    const std::vector<router::MissingInterface>& missing, Strict strict);

// {interface, role, message, and file, line, column when from a config line}
nlohmann::json warning_json(const router::MissingInterface& m);
nlohmann::json warnings_json(const std::vector<router::MissingInterface>& missing);

// -32001 naming every refused interface: data {interface (the first),
// interfaces, missing (as warnings_json), message}.
rpc::RpcError missing_error(const std::vector<router::MissingInterface>& refused);

}  // namespace mfcd::api
