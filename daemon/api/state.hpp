// The operator's runtime data, for the state file (-S): every route share
// and group join added over the API, with its owner, and nothing the config
// holds (the config is read again at start). Restoring replays each entry
// through the same params parser and router calls as route.set and
// group.join, so a state file can never hold something the API would
// refuse, and a hand-edited one is judged by the same rules.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "router/router.hpp"

namespace mfcd::api {

// The version written, and the only one read.
inline constexpr int kStateVersion = 1;

// {"version": 1, "routes": [route.set params...], "joins": [group.join
// params...]}, in creation order, owners included.
nlohmann::json api_state(const router::Router& router);

// Why one entry of a state file was not restored.
struct RestoreProblem {
  std::string where;  // "routes[3]", "joins[0]"
  std::string message;
};

struct RestoreResult {
  size_t routes = 0, joins = 0;  // entries restored
  std::vector<RestoreProblem> problems;
};

// Replays `state` into the router. A document that is not a state file of
// kStateVersion is refused whole (false, the reason in `error`) and changes
// nothing; otherwise each entry that is refused is a problem and the others
// go in.
bool restore_api_state(router::Router& router, const nlohmann::json& state, RestoreResult& out,
                       std::string& error);

}  // namespace mfcd::api
