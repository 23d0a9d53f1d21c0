// The calling side of JSON-RPC, for mfcctl and the tests: a request as text,
// and a reply checked and taken apart. No I/O; the caller writes the text
// plus '\n' and reads one line back.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "rpc/errors.hpp"

namespace mfcd::rpc {

// {"jsonrpc":"2.0","id":ID,"method":METHOD,"params":PARAMS}, no newline.
// A null `params` leaves the member out.
std::string make_request(const nlohmann::json& id, const std::string& method,
                         const nlohmann::json& params);

struct Reply {
  nlohmann::json id;
  std::optional<nlohmann::json> result;  // exactly one of result and error is set
  std::optional<RpcError> error;
};

// Checks the envelope (jsonrpc "2.0", an id, exactly one of result and
// error, error {code: integer, message: string, data?}); throws
// std::runtime_error saying what is wrong otherwise.
Reply parse_reply(const nlohmann::json& reply);

// Parses the text of one reply (a line without its '\n') and checks it as
// above; throws std::runtime_error for invalid JSON too.
Reply parse_reply_text(std::string_view text);

// "CODE MESSAGE" for a person, e.g. "-32001 Unknown interface: eth9".
std::string describe(const RpcError& error);

}  // namespace mfcd::rpc
