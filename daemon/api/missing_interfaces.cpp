// See missing_interfaces.hpp.
#include "api/missing_interfaces.hpp"

#include <algorithm>

#include "rpc/params.hpp"

namespace mfcd::api {

using nlohmann::json;
using router::MissingInterface;

namespace {

const char* role_name(MissingInterface::Role role) {
  switch (role) {
    case MissingInterface::Role::inbound:
      return "inbound";
    case MissingInterface::Role::outbound:
      return "outbound";
    case MissingInterface::Role::join:
      return "join";
  }
  return "inbound";
}

}  // namespace

Strict take_strict(json& params) {
  if (!params.is_object()) return Strict::off;  // the method's own reading refuses it
  const auto it = params.find("strict");
  if (it == params.end()) return Strict::off;
  const json value = *it;
  params.erase(it);
  if (value.is_null() || value == false) return Strict::off;
  if (value == true) return Strict::all;
  if (value == "iif") return Strict::iif;
  throw rpc::ParamError{"strict", "must be true, false or \"iif\""};
}

std::vector<MissingInterface> refused_by(const std::vector<MissingInterface>& missing,
                                         Strict strict) {
  std::vector<MissingInterface> out;
  for (const auto& m : missing) {
    const bool inbound = m.role != MissingInterface::Role::outbound;
    if (strict == Strict::all || (strict == Strict::iif && inbound)) out.push_back(m);
  }
  return out;
}

json warning_json(const MissingInterface& m) {
  json w{{"interface", m.name}, {"role", role_name(m.role)}, {"message", m.message()}};
  if (m.pos.line > 0) {
    w["file"] = m.pos.file.str();
    w["line"] = m.pos.line;
    w["column"] = m.pos.column;
  }
  return w;
}

json warnings_json(const std::vector<MissingInterface>& missing) {
  json list = json::array();
  for (const auto& m : missing)
    list.push_back(warning_json(m));
  return list;
}

rpc::RpcError missing_error(const std::vector<MissingInterface>& refused) {
  // Each name once, with its role: a reload may name one on many lines.
  std::vector<const MissingInterface*> named;
  json names = json::array();
  for (const auto& m : refused) {
    if (std::find(names.begin(), names.end(), m.name) != names.end()) continue;
    names.push_back(m.name);
    named.push_back(&m);
  }
  auto role_of = [](const MissingInterface& m) {
    return m.role == MissingInterface::Role::join ? std::string() : role_name(m.role);
  };
  std::string message;
  if (named.size() == 1) {
    const std::string role = role_of(*named[0]);
    message = (role.empty() ? "" : role + " ") + "interface " + named[0]->name + " does not exist";
  } else {
    message = "interfaces ";
    for (size_t i = 0; i < named.size(); ++i) {
      const std::string role = role_of(*named[i]);
      message += (i ? ", " : "") + named[i]->name + (role.empty() ? "" : " (" + role + ")");
    }
    message += " do not exist";
  }
  message += "; nothing changed";
  return rpc::RpcError{rpc::kUnknownInterface, message,
                       json{{"interface", names.front()},
                            {"interfaces", names},
                            {"missing", warnings_json(refused)},
                            {"message", message}}};
}

}  // namespace mfcd::api
