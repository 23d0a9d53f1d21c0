// Texts for the error codes. They are what a user sees when nothing more
// specific was said, so they name the kind of failure in plain words; the
// specifics go into the message a handler sets and into `data`.
#include "rpc/errors.hpp"

#include <utility>

namespace mfcd::rpc {

std::string_view default_message(int code) {
  switch (code) {
    case kParseError:
      return "Parse error";
    case kInvalidRequest:
      return "Invalid Request";
    case kMethodNotFound:
      return "Method not found";
    case kInvalidParams:
      return "Invalid params";
    case kInternalError:
      return "Internal error";
    case kKernelError:
      return "Kernel refused the change";
    case kUnknownInterface:
      return "Unknown interface";
    case kVifTableFull:
      return "VIF table full";
    case kNotFound:
      return "Not found";
    case kConfigError:
      return "Configuration errors";
    case kPermissionDenied:
      return "Permission denied";
    case kLimitExceeded:
      return "Limit exceeded";
    case kConflict:
      return "Conflict";
    default:
      break;
  }
  if (code >= -32099 && code <= -32000) return "Server error";
  return "Error";
}

RpcError make_error(int code, nlohmann::json data) {
  return RpcError{code, std::string(default_message(code)), std::move(data)};
}

nlohmann::json error_object(const RpcError& error) {
  nlohmann::json object = {
      {"code", error.code},
      {"message", error.message.empty() ? std::string(default_message(error.code)) : error.message},
  };
  if (!error.data.is_null()) object["data"] = error.data;
  return object;
}

}  // namespace mfcd::rpc
