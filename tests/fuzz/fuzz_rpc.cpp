// JSON-RPC as a client's socket delivers it: the input's bytes go through
// the line framer in chunks whose sizes the input chooses, and every line
// it completes goes to the dispatcher with all of mfcd's methods registered
// on a Router over the fakes, as root or as another user (the first byte
// chooses). After each input the kernel and the router must agree.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "api/api.hpp"
#include "fuzz_router.hpp"
#include "rpc/dispatcher.hpp"
#include "rpc/framing.hpp"

namespace {

using namespace mfcd;

// The methods that reach outside the router: a config file that is never
// there, and a stop that does nothing.
class FuzzDaemon final : public api::Daemon {
 public:
  api::DaemonInfo info() const override { return {}; }
  uint64_t uptime_seconds() const override { return 0; }
  api::ReloadOutcome reload(bool) override { return {}; }
  core::ParseResult check_config(const std::string& file) override {
    core::FileSystem fs;
    fs.read = [](const std::string&, size_t) -> core::Result<std::string> {
      return core::make_error(core::Errc::not_found, "No such file or directory");
    };
    fs.glob = [](const std::string&) { return std::vector<std::string>{}; };
    return core::parse_config_file(file.empty() ? "/etc/mfcd.conf" : file, fs);
  }
  void stop(const std::string&) override {}
  std::optional<api::MrdiscState> mrdisc_state(const std::string&) const override {
    return std::nullopt;
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  fuzz::FuzzRouter r;
  FuzzDaemon daemon;
  rpc::Dispatcher dispatcher;
  api::register_methods(dispatcher, r.router, daemon);
  const rpc::CallContext caller{data[0] & 1 ? 0u : 1000u, 0, 1, {}};
  const size_t chunk = 1 + data[1] % 64;
  rpc::LineFramer framer(64 * 1024);
  std::string_view rest(reinterpret_cast<const char*>(data + 2), size - 2);
  while (!rest.empty() && !framer.overflowed()) {
    const auto piece = rest.substr(0, chunk);
    rest.remove_prefix(piece.size());
    for (const auto& line : framer.feed(piece))
      (void)dispatcher.handle(line, caller);
  }
  if (!framer.overflowed()) {
    const std::string last = framer.take_rest();
    if (!last.empty()) (void)dispatcher.handle(last, caller);
  }
  r.check_consistent();
  return 0;
}
