// Requests out, replies in, for the client side. A reply that does not follow
// JSON-RPC 2.0 is the server's bug (or not mfcd on that socket), so it is
// reported as an exception with a precise reason rather than half-read.
#include "rpc/client.hpp"

#include "rpc/envelope.hpp"

namespace mfcd::rpc {

namespace {

std::string request_text(const nlohmann::json* id, const std::string& method,
                         const nlohmann::json& params) {
  std::string text = R"({"jsonrpc":"2.0",)";
  if (id != nullptr) text += R"("id":)" + dump(*id) + ",";
  text += R"("method":)" + dump(method);
  if (!params.is_null()) text += R"(,"params":)" + dump(params);
  text += "}";
  return text;
}

[[noreturn]] void malformed(const std::string& why) {
  throw std::runtime_error("malformed JSON-RPC reply: " + why);
}

}  // namespace

std::string make_request(const nlohmann::json& id, const std::string& method,
                         const nlohmann::json& params) {
  return request_text(&id, method, params);
}

Reply parse_reply(const nlohmann::json& reply) {
  if (!reply.is_object()) malformed("not an object");
  const auto version = reply.find("jsonrpc");
  if (version == reply.end() || *version != "2.0") malformed("jsonrpc is not \"2.0\"");
  const auto id = reply.find("id");
  if (id == reply.end()) malformed("no id");
  if (!valid_id(*id)) malformed("id is not a string, number or null");
  const auto result = reply.find("result");
  const auto error = reply.find("error");
  if ((result == reply.end()) == (error == reply.end())) {
    malformed("needs exactly one of result and error");
  }
  Reply out;
  out.id = *id;
  if (result != reply.end()) {
    out.result = *result;
    return out;
  }
  if (!error->is_object()) malformed("error is not an object");
  const auto code = error->find("code");
  if (code == error->end() || !code->is_number_integer()) malformed("error.code is not an integer");
  const auto message = error->find("message");
  if (message == error->end() || !message->is_string()) {
    malformed("error.message is not a string");
  }
  RpcError rpc_error;
  rpc_error.code = code->get<int>();
  rpc_error.message = message->get<std::string>();
  if (const auto data = error->find("data"); data != error->end()) rpc_error.data = *data;
  out.error = std::move(rpc_error);
  return out;
}

Reply parse_reply_text(std::string_view text) {
  nlohmann::json reply;
  try {
    reply = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    malformed(std::string("invalid JSON (") + e.what() + ")");
  }
  return parse_reply(reply);
}

std::string describe(const RpcError& error) {
  return std::to_string(error.code) + " " +
         (error.message.empty() ? std::string(default_message(error.code)) : error.message);
}

}  // namespace mfcd::rpc
