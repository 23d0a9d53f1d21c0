// Named params, read strictly. Each accessor records the name it read, so
// finish() can tell which params nobody asked for and refuse them. The
// error texts are short and say what was expected; the param's name goes
// in ParamError::param so the client can point at it.
#include "rpc/params.hpp"

namespace mfcd::rpc {

namespace {

const nlohmann::json& empty_object() {
  static const nlohmann::json kEmpty = nlohmann::json::object();
  return kEmpty;
}

const nlohmann::json& checked(const nlohmann::json& params) {
  if (params.is_null()) return empty_object();
  if (!params.is_object()) throw ParamError{"", "params must be an object (named params)"};
  return params;
}

std::vector<std::string> string_array(const std::string& name, const nlohmann::json& value) {
  if (!value.is_array()) throw ParamError{name, "must be an array of strings"};
  std::vector<std::string> out;
  out.reserve(value.size());
  for (const auto& item : value) {
    if (!item.is_string()) throw ParamError{name, "must be an array of strings"};
    out.push_back(item.get<std::string>());
  }
  return out;
}

}  // namespace

Params::Params(const nlohmann::json& params) : params_(checked(params)) {}

const nlohmann::json* Params::find(const std::string& name) {
  used_.insert(name);
  const auto it = params_.find(name);
  return it == params_.end() ? nullptr : &*it;
}

bool Params::has(const std::string& name) const {
  return params_.contains(name);
}

std::string Params::get_string(const std::string& name) {
  const auto* value = find(name);
  if (value == nullptr) throw ParamError{name, "is required"};
  if (!value->is_string()) throw ParamError{name, "must be a string"};
  return value->get<std::string>();
}

std::optional<std::string> Params::opt_string(const std::string& name) {
  const auto* value = find(name);
  if (value == nullptr || value->is_null()) return std::nullopt;
  if (!value->is_string()) throw ParamError{name, "must be a string or null"};
  return value->get<std::string>();
}

std::vector<std::string> Params::get_string_array(const std::string& name) {
  const auto* value = find(name);
  if (value == nullptr) throw ParamError{name, "is required"};
  return string_array(name, *value);
}

std::optional<std::vector<std::string>> Params::opt_string_array(const std::string& name) {
  const auto* value = find(name);
  if (value == nullptr || value->is_null()) return std::nullopt;
  return string_array(name, *value);
}

bool Params::opt_bool(const std::string& name, bool fallback) {
  const auto* value = find(name);
  if (value == nullptr || value->is_null()) return fallback;
  if (!value->is_boolean()) throw ParamError{name, "must be true or false"};
  return value->get<bool>();
}

std::optional<int64_t> Params::opt_int(const std::string& name) {
  const auto* value = find(name);
  if (value == nullptr || value->is_null()) return std::nullopt;
  if (value->is_number_integer() && !value->is_number_unsigned()) return value->get<int64_t>();
  if (value->is_number_unsigned()) {
    const auto u = value->get<uint64_t>();
    if (u <= static_cast<uint64_t>(INT64_MAX)) return static_cast<int64_t>(u);
    throw ParamError{name, "is out of range"};
  }
  throw ParamError{name, "must be an integer"};
}

void Params::finish() {
  for (const auto& item : params_.items()) {
    if (used_.count(item.key()) == 0) throw ParamError{item.key(), "unknown parameter"};
  }
}

}  // namespace mfcd::rpc
