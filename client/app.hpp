// mfcctl from argv to exit code: parse, send, render. Everything the binary
// does lives here so that tests can run whole invocations against a fake
// daemon (a Transport returning canned replies) and check stdout, stderr
// and the exit code.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "client/transport.hpp"
#include "rpc/errors.hpp"

namespace mfcd::client {

struct Io {
  std::istream& in;
  std::ostream& out;
  std::ostream& err;
  bool out_is_tty = false;  // decides terminal vs plain headings when neither -p nor -t
};

// `argv` includes argv[0]. Returns the process exit code (kExit*).
// `stream_transport` serves `monitor` (the real socket when not given).
int run(const std::vector<std::string>& argv, Io& io, const Transport& transport);
int run(const std::vector<std::string>& argv, Io& io, const Transport& transport,
        const StreamTransport& stream_transport);

// A daemon error as lines a person can act on: the message first, with the
// useful part of `data` (interface, errno text, parameter); config errors
// follow one per line as "file:line:col: message". `method` names what was
// asked, for "method not found".
std::vector<std::string> describe_error(const rpc::RpcError& error, const std::string& method);

// What `reload -n` prints: the daemon's planned changes, one per line.
std::string format_reload_plan(const nlohmann::json& result);

// What `reload` prints: the counts alone ("Reloaded: 2 added, 0 changed,
// 1 removed"), or "Nothing changed".
std::string format_reload_summary(const nlohmann::json& result);

}  // namespace mfcd::client
