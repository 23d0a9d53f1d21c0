// JSON-RPC 2.0 dispatch. The envelope is checked before any handler runs, and
// every way a request can go wrong ends as an error object, never as an
// exception leaving this file: the caller is a libuv callback, and one bad
// client must not take the daemon down. Notifications are answered by
// silence even when they fail, as the spec says; a request that is not even
// a valid request object is answered with -32600, because it is not a
// notification either (the spec's own examples do this).
#include "rpc/dispatcher.hpp"

#include <algorithm>
#include <exception>
#include <utility>

#include "rpc/envelope.hpp"

namespace mfcd::rpc {

namespace {

RpcError with_detail(int code, const std::string& detail, nlohmann::json data = nullptr) {
  return RpcError{code, std::string(default_message(code)) + ": " + detail, std::move(data)};
}

RpcError invalid_params(const std::string& param, const std::string& message) {
  const nlohmann::json where = param.empty() ? nlohmann::json(nullptr) : nlohmann::json(param);
  const std::string detail = param.empty() ? message : param + ": " + message;
  return with_detail(kInvalidParams, detail, {{"param", where}, {"message", message}});
}

// nlohmann's what() starts with "[json.exception.parse_error.101] ": keep
// only the part a person can use.
std::string plain(const char* what) {
  std::string text = what;
  if (text.rfind("[json.exception.", 0) == 0) {
    if (const auto pos = text.find("] "); pos != std::string::npos) text.erase(0, pos + 2);
  }
  return text;
}

// Why `request` is not a valid request object, or empty when it is one.
std::string envelope_problem(const nlohmann::json& request) {
  if (!request.is_object()) return "request must be an object";
  const auto id = request.find("id");
  if (id != request.end() && !valid_id(*id)) return "id must be a string, a number or null";
  const auto version = request.find("jsonrpc");
  if (version == request.end() || !version->is_string() || *version != "2.0") {
    return "jsonrpc must be \"2.0\"";
  }
  const auto method = request.find("method");
  if (method == request.end()) return "method is missing";
  if (!method->is_string()) return "method must be a string";
  const auto params = request.find("params");
  if (params != request.end() && !params->is_object() && !params->is_array()) {
    return "params must be an object";
  }
  for (const auto& item : request.items()) {
    const auto& key = item.key();
    if (key != "jsonrpc" && key != "id" && key != "method" && key != "params") {
      return "unknown member \"" + key + "\"";
    }
  }
  return {};
}

}  // namespace

bool depth_within(std::string_view text, size_t max_depth) {
  size_t depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (const char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    switch (c) {
      case '"':
        in_string = true;
        break;
      case '[':
      case '{':
        if (++depth > max_depth) return false;
        break;
      case ']':
      case '}':
        if (depth > 0) --depth;
        break;
      default:
        break;
    }
  }
  return true;
}

std::string_view access_name(Access access) {
  return access == Access::read ? "read" : "write";
}

void Dispatcher::add(std::string method, Access access, Handler handler) {
  methods_.insert_or_assign(std::move(method), Method{access, std::move(handler), 0, 0});
}

std::vector<Dispatcher::MethodStats> Dispatcher::stats() const {
  std::vector<MethodStats> out;
  out.reserve(methods_.size() + 2);
  for (const auto& [name, m] : methods_)
    out.push_back({name, m.requests, m.errors});
  out.push_back({std::string(kUnknownLabel), unknown_requests_, unknown_requests_});
  out.push_back({std::string(kInvalidLabel), invalid_requests_, invalid_requests_});
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.method < b.method; });
  return out;
}

void Dispatcher::count(Method* method, bool error) {
  if (!method) {
    ++unknown_requests_;
    return;
  }
  ++method->requests;
  method->errors += error ? 1 : 0;
}

bool Dispatcher::has(std::string_view method) const {
  return methods_.find(method) != methods_.end();
}

std::optional<Access> Dispatcher::access_of(std::string_view method) const {
  const auto it = methods_.find(method);
  if (it == methods_.end()) return std::nullopt;
  return it->second.access;
}

std::vector<std::string> Dispatcher::methods() const {
  std::vector<std::string> names;
  names.reserve(methods_.size());
  for (const auto& [name, method] : methods_)
    names.push_back(name);
  return names;  // std::map keeps them sorted
}

void Dispatcher::set_policy(Policy policy) {
  policy_ = std::move(policy);
}

std::optional<std::string> Dispatcher::handle(std::string_view text, const CallContext& ctx) {
  if (!depth_within(text, kMaxDepth)) {
    ++invalid_requests_;
    return error_reply(
        nullptr, with_detail(kInvalidRequest,
                             "JSON nested deeper than " + std::to_string(kMaxDepth) + " levels"));
  }
  nlohmann::json message;
  try {
    message = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    ++invalid_requests_;
    return error_reply(nullptr, with_detail(kParseError, plain(e.what())));
  } catch (const std::exception& e) {
    ++invalid_requests_;
    return error_reply(nullptr, with_detail(kParseError, e.what()));
  }
  return handle_json(message, ctx);
}

void Dispatcher::set_after_message(std::function<void()> after) {
  after_message_ = std::move(after);
}

std::optional<std::string> Dispatcher::handle_json(const nlohmann::json& message,
                                                   const CallContext& ctx) {
  auto reply = handle_message(message, ctx);
  if (after_message_) after_message_();
  return reply;
}

std::optional<std::string> Dispatcher::handle_message(const nlohmann::json& message,
                                                      const CallContext& ctx) {
  if (!message.is_array()) return handle_one(message, ctx);
  if (message.empty()) {
    ++invalid_requests_;
    return error_reply(nullptr, with_detail(kInvalidRequest, "empty batch"));
  }
  std::string out = "[";
  bool any = false;
  for (const auto& request : message) {
    auto reply = handle_one(request, ctx);
    if (!reply) continue;
    if (any) out += ',';
    out += *reply;
    any = true;
  }
  if (!any) return std::nullopt;
  out += ']';
  return out;
}

std::optional<std::string> Dispatcher::handle_one(const nlohmann::json& request,
                                                  const CallContext& ctx) {
  if (const auto problem = envelope_problem(request); !problem.empty()) {
    ++invalid_requests_;
    nlohmann::json id = nullptr;
    if (request.is_object()) {
      if (const auto it = request.find("id"); it != request.end() && valid_id(*it)) id = *it;
    }
    return error_reply(id, with_detail(kInvalidRequest, problem));
  }
  const bool notification = !request.contains("id");
  const nlohmann::json id = notification ? nlohmann::json(nullptr) : request["id"];
  const auto method = request["method"].get<std::string>();
  const auto params_it = request.find("params");
  static const nlohmann::json kNoParams = nlohmann::json::object();
  const nlohmann::json& params = params_it == request.end() ? kNoParams : *params_it;

  HandlerResult outcome = call(method, params, ctx);
  if (notification) return std::nullopt;
  if (auto* error = std::get_if<RpcError>(&outcome)) return error_reply(id, *error);
  if (auto* text = std::get_if<JsonText>(&outcome)) return result_reply(id, *text);
  try {
    return result_reply(id, std::get<nlohmann::json>(outcome));
  } catch (const std::exception& e) {
    return error_reply(id, with_detail(kInternalError, std::string("reply: ") + e.what()));
  }
}

HandlerResult Dispatcher::call(const std::string& method, const nlohmann::json& params,
                               const CallContext& ctx) {
  const auto it = methods_.find(method);
  if (it == methods_.end()) {
    count(nullptr, true);
    return with_detail(kMethodNotFound, method, {{"method", method}});
  }
  HandlerResult outcome = run(method, it->second, params, ctx);
  count(&it->second, std::holds_alternative<RpcError>(outcome));
  return outcome;
}

HandlerResult Dispatcher::run(const std::string& method, const Method& m,
                              const nlohmann::json& params, const CallContext& ctx) {
  try {
    // Who may call it is decided before its params are looked at, so a
    // caller without the right learns nothing from their validation.
    if (policy_) {
      if (auto refused = policy_(m.access, method, ctx)) return std::move(*refused);
    }
    if (params.is_array()) {
      return invalid_params("", "params must be an object (named params)");
    }
    HandlerResult outcome = m.handler(params, ctx);
    if (auto* result = std::get_if<nlohmann::json>(&outcome); result && !result->is_object()) {
      return with_detail(kInternalError,
                         method + " returned a " + result->type_name() + ", not an object");
    }
    if (auto* text = std::get_if<JsonText>(&outcome); text && !text->text.starts_with('{')) {
      return with_detail(kInternalError, method + " returned text that is not an object");
    }
    if (auto* error = std::get_if<RpcError>(&outcome); error && error->message.empty()) {
      error->message = default_message(error->code);
    }
    return outcome;
  } catch (const ParamError& e) {
    return invalid_params(e.param, e.message);
  } catch (const nlohmann::json::exception& e) {
    return invalid_params("", plain(e.what()));
  } catch (const std::exception& e) {
    return with_detail(kInternalError, e.what());
  } catch (...) {
    return with_detail(kInternalError, "unknown exception in " + method);
  }
}

}  // namespace mfcd::rpc
