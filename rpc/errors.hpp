// JSON-RPC error codes and the error value handlers return. The standard
// codes are JSON-RPC 2.0's; mfcd's own live in -32000..-32099 and each comes
// with a `data` object whose shape docs/api.md and the OpenRPC schema fix.
// core::Errc maps 1:1 onto these, but that mapping lives in the daemon: rpc/
// must not know core/ (the client links this library too).
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace mfcd::rpc {

// JSON-RPC 2.0's own.
constexpr int kParseError = -32700;
constexpr int kInvalidRequest = -32600;
constexpr int kMethodNotFound = -32601;
constexpr int kInvalidParams = -32602;
constexpr int kInternalError = -32603;

// mfcd's, always with a data object (see docs/api.md for its shape).
constexpr int kKernelError = -32000;       // {op, errno, strerror}
constexpr int kUnknownInterface = -32001;  // {interface}
constexpr int kVifTableFull = -32002;      // {interface, family, limit}
constexpr int kNotFound = -32003;          // {what, ...}
constexpr int kConfigError = -32004;       // {errors: [{file, line, column, message}]}
constexpr int kPermissionDenied = -32005;  // {uid}
constexpr int kLimitExceeded = -32006;     // {limit, value}
constexpr int kConflict = -32007;          // {message}

struct RpcError {
  int code = kInternalError;
  std::string message;
  nlohmann::json data;  // null = no data member in the error object
};

// The short text JSON-RPC (or mfcd) gives each code; "Server error" for
// other codes in the reserved server range, "Error" for anything else.
std::string_view default_message(int code);

// An error with its default message and optional data.
RpcError make_error(int code, nlohmann::json data = nullptr);

// The JSON-RPC error object {code, message, data?}. An empty message is
// replaced by default_message(code).
nlohmann::json error_object(const RpcError& error);

}  // namespace mfcd::rpc
