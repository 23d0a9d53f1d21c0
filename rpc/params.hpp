// Strict reading of named params. A handler pulls each param it knows, then
// calls finish(), which refuses whatever is left: a typo such as "oif" for
// "oifs" must fail loudly (-32602) instead of being ignored. Every helper
// throws ParamError naming the param; the dispatcher turns that into
// -32602 with data {param, message}.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace mfcd::rpc {

// Thrown by Params (and by handlers that check a value themselves, e.g. a
// bad address: throw ParamError{"group", "not a multicast group"}).
// `param` is empty when no single param is at fault.
struct ParamError {
  std::string param;
  std::string message;
};

class Params {
 public:
  // `params` must be an object, or null (absent params) which reads as {}.
  // Anything else throws ParamError. The json must outlive this object.
  explicit Params(const nlohmann::json& params);

  std::string get_string(const std::string& name);                     // required
  std::optional<std::string> opt_string(const std::string& name);      // absent or null -> nullopt
  std::vector<std::string> get_string_array(const std::string& name);  // required
  std::optional<std::vector<std::string>> opt_string_array(const std::string& name);
  bool opt_bool(const std::string& name, bool fallback);    // absent or null -> fallback
  std::optional<int64_t> opt_int(const std::string& name);  // integers only, not 1.5 or true

  bool has(const std::string& name) const;  // present, even if null; does not consume

  // Throws ParamError for the first param (in name order) not consumed.
  void finish();

 private:
  const nlohmann::json* find(const std::string& name);  // consumes; null when absent

  const nlohmann::json& params_;
  std::set<std::string> used_;
};

}  // namespace mfcd::rpc
