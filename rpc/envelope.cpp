// Reply text for one request. Kept apart from the dispatcher because the
// daemon also answers on its own (an oversize line, a full server) without
// going through a method table.
#include "rpc/envelope.hpp"

namespace mfcd::rpc {

std::string dump(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string result_reply(const nlohmann::json& id, const nlohmann::json& result) {
  return R"({"jsonrpc":"2.0","id":)" + dump(id) + R"(,"result":)" + dump(result) + "}";
}

std::string result_reply(const nlohmann::json& id, const JsonText& result) {
  std::string reply = R"({"jsonrpc":"2.0","id":)" + dump(id) + R"(,"result":)";
  reply.reserve(reply.size() + result.text.size() + 1);
  reply += result.text;
  reply += '}';
  return reply;
}

std::string error_reply(const nlohmann::json& id, const RpcError& error) {
  return R"({"jsonrpc":"2.0","id":)" + dump(id) + R"(,"error":)" + dump(error_object(error)) + "}";
}

bool valid_id(const nlohmann::json& value) {
  return value.is_string() || value.is_number() || value.is_null();
}

}  // namespace mfcd::rpc
