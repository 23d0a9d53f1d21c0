// The method table and the JSON-RPC 2.0 envelope around it: one JSON text in,
// the reply text out (or nothing for notifications). No I/O here; the
// daemon's connection code feeds it lines from a LineFramer and writes back
// what it returns, with a '\n'.
//
// Contract (JSON-RPC 2.0, with mfcd's strictness):
//  - invalid JSON -> -32700 with id null; JSON nested deeper than kMaxDepth
//    -> -32600 with id null (nothing is executed);
//  - a request must be an object with jsonrpc "2.0", a string method, params
//    (if any) an object or array, id (if any) a string, number or null, and
//    no other members; otherwise -32600 (answered even without an id, as the
//    request is not a valid notification), with the id if it could be read;
//  - positional (array) params -> -32602; unknown method -> -32601;
//  - a handler's ParamError or nlohmann::json exception -> -32602 with data
//    {param, message}; any other exception -> -32603; nothing escapes;
//  - a result must be a JSON object, else -32603;
//  - notifications (valid requests without id) are run and never answered;
//  - a batch gets an array of the replies in request order; an empty batch
//    gets one -32600; an all-notification batch gets nothing.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "rpc/errors.hpp"
#include "rpc/json_writer.hpp"
#include "rpc/params.hpp"

namespace mfcd::rpc {

// Who is calling (SO_PEERCRED, and SO_PEERGROUPS for the supplementary
// groups: the peer's credentials when it connected), and on which
// connection (the server's number for it; events are sent there). Zero
// for in-process callers and tests.
struct CallContext {
  uint32_t uid = 0;
  uint32_t gid = 0;  // primary group
  int32_t pid = 0;
  std::vector<uint32_t> groups;  // supplementary groups
  uint64_t conn = 0;
};

// A handler answers with a json object, an error, or (for results too big
// to build as objects first, such as a listing's page) finished JSON text.
using HandlerResult = std::variant<nlohmann::json, RpcError, JsonText>;
using Handler = std::function<HandlerResult(const nlohmann::json& params, const CallContext& ctx)>;

// What a method does to the daemon: reads its state, or changes it. Every
// method is registered with one; the policy decides who may do which.
enum class Access { read, write };
std::string_view access_name(Access access);  // "read" / "write"

// Runs before each handler, once the envelope and the method name are
// checked and before the params are parsed. Returning an error (-32005 for
// a caller who may not write) skips the handler.
using Policy = std::function<std::optional<RpcError>(Access access, const std::string& method,
                                                     const CallContext& ctx)>;

// Deeper JSON is refused before it is parsed: nlohmann's copy, compare and
// dump recurse, and a 1 MiB line of '[' would otherwise reach them.
constexpr size_t kMaxDepth = 64;

class Dispatcher {
 public:
  // Adds or replaces a method.
  void add(std::string method, Access access, Handler handler);
  bool has(std::string_view method) const;
  std::optional<Access> access_of(std::string_view method) const;
  std::vector<std::string> methods() const;  // sorted
  void set_policy(Policy policy);
  // Runs once after each message (a single request or a whole batch) is
  // handled and before its reply is returned: the place for work that
  // every call of a batch shares, such as saving state once for all of it.
  void set_after_message(std::function<void()> after);

  // Handles one complete JSON text (one line, without the newline). Returns
  // the reply text (single object or batch array, no trailing newline) or
  // nullopt when nothing must be sent.
  std::optional<std::string> handle(std::string_view text, const CallContext& ctx);

  // The same for an already-parsed message (object or batch array).
  std::optional<std::string> handle_json(const nlohmann::json& message, const CallContext& ctx);

  // Requests seen and answered with an error, per registered method, for
  // the metrics. Requests for no registered method count under
  // kUnknownLabel, and those that are not even requests (unparsable,
  // invalid envelope) under kInvalidLabel: a caller choosing names must
  // not be able to grow the list.
  struct MethodStats {
    std::string method;
    uint64_t requests = 0, errors = 0;
  };
  static constexpr std::string_view kUnknownLabel = "(unknown)";
  static constexpr std::string_view kInvalidLabel = "(invalid)";
  std::vector<MethodStats> stats() const;  // by method name

 private:
  std::optional<std::string> handle_message(const nlohmann::json& message, const CallContext& ctx);
  std::optional<std::string> handle_one(const nlohmann::json& request, const CallContext& ctx);
  HandlerResult call(const std::string& method, const nlohmann::json& params,
                     const CallContext& ctx);

  struct Method {
    Access access;
    Handler handler;
    uint64_t requests = 0, errors = 0;
  };
  HandlerResult run(const std::string& method, const Method& m, const nlohmann::json& params,
                    const CallContext& ctx);
  void count(Method* method, bool error);
  std::map<std::string, Method, std::less<>> methods_;
  uint64_t unknown_requests_ = 0, invalid_requests_ = 0;
  Policy policy_;
  std::function<void()> after_message_;
};

// True when no array/object in `text` nests deeper than `max_depth`
// (brackets inside strings do not count). Linear, no allocation.
bool depth_within(std::string_view text, size_t max_depth);

}  // namespace mfcd::rpc
