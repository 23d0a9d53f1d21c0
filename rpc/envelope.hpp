// The JSON-RPC 2.0 reply envelope, written as text. Replies are built by
// hand rather than through a json object so that "jsonrpc" and "id" come
// first (nlohmann sorts keys), which reads better in `socat | jq`-less use.
// Every string is dumped with invalid UTF-8 replaced (U+FFFD), so a reply
// can always be written, whatever bytes a handler put in a result.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "rpc/errors.hpp"
#include "rpc/json_writer.hpp"

namespace mfcd::rpc {

// Compact JSON text; never throws on invalid UTF-8 (replaced).
std::string dump(const nlohmann::json& value);

// {"jsonrpc":"2.0","id":ID,"result":RESULT}
std::string result_reply(const nlohmann::json& id, const nlohmann::json& result);
// The same with a result that is already JSON text, sent as it is.
std::string result_reply(const nlohmann::json& id, const JsonText& result);

// {"jsonrpc":"2.0","id":ID,"error":{code,message,data?}}. Use id null when
// the request's id could not be read (parse error, oversize line).
std::string error_reply(const nlohmann::json& id, const RpcError& error);

// True when `value` may be a JSON-RPC id: a string, a number or null.
bool valid_id(const nlohmann::json& value);

}  // namespace mfcd::rpc
