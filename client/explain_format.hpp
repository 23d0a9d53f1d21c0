// The text of `mfcctl explain`: route.explain's result in plain words, for
// a person at a terminal (scripts use -j). A pure function of the result;
// a result of the wrong shape throws, which the caller reports as a
// malformed reply.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace mfcd::client {

std::string format_explain(const nlohmann::json& result);

}  // namespace mfcd::client
