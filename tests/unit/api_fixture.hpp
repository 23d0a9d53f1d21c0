// The JSON-RPC methods (daemon/api) on fakes: a Router on the fake kernel
// (RouterFixture), a FakeDaemon standing in for the service, and a
// Dispatcher with every method registered the way the service does it.
// Requests go in as text through Dispatcher::handle, the entry the control
// socket feeds each request line to, so a test sees exactly the reply a
// client would read.
//
//   ApiFixture f;
//   f.start("phyint a1 enable\nphyint a2 enable\n");
//   json reply = f.call("route.add", {{"iif", "a1"}, {"group", "225.1.1.1"}, {"oifs", {"a2"}}});
//   CHECK(reply.at("result") == ...);
#pragma once

#include <doctest/doctest.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/api.hpp"
#include "api/events.hpp"
#include "router_fixture.hpp"
#include "rpc/dispatcher.hpp"

namespace mfcd::test {

// core::SystemFiles from a map: path -> contents; other paths are unreadable.
struct FakeSystemFiles : core::SystemFiles {
  std::map<std::string, std::string> files;
  std::optional<std::string> read(const std::string& path) const override {
    auto it = files.find(path);
    if (it == files.end()) return std::nullopt;
    return it->second;
  }
};

// api::Daemon with settings a test fills in and config files held in
// memory. reload() and check_config() parse those files with the real
// parser and hand the result to the router as the service does; stop()
// only records why it was asked.
class FakeDaemon : public api::Daemon {
 public:
  explicit FakeDaemon(router::Router& router) : router_(router) {
    settings.identity = "mfcd";
    settings.config_file = "/etc/mfcd.conf";
    settings.socket = "/run/mfcd.sock";
    settings.table = 0;
    settings.cache_timeout = 60;
    settings.pid = 4321;
  }

  api::DaemonInfo settings;
  uint64_t uptime = 0;
  // Path -> contents; a path not here reads as a missing file.
  std::map<std::string, std::string> files;
  // Router discovery per interface, for interface.list.
  std::map<std::string, api::MrdiscState> mrdisc;
  std::vector<std::string> stops;       // each stop()'s reason
  std::vector<bool> reloads;            // each reload()'s dry_run
  std::vector<std::string> checked;     // each check_config()'s path
  api::ServiceFigures service_figures;  // what figures() reports
  FakeSystemFiles system;               // sysctls, sysfs, /proc for route.explain

  // What the next reload reads.
  void set_config(const std::string& text) { files[settings.config_file] = text; }

  api::DaemonInfo info() const override { return settings; }
  uint64_t uptime_seconds() const override { return uptime; }

  api::ReloadOutcome reload(bool dry_run) override {
    reloads.push_back(dry_run);
    api::ReloadOutcome out;
    core::ParseResult parsed = parse(settings.config_file);
    out.diagnostics = parsed.diagnostics;
    if (!parsed.ok()) return out;
    out.ok = true;
    out.report = dry_run ? router_.dry_run(parsed.config)
                         : router_.apply_reload(router_.plan_reload(parsed.config));
    return out;
  }

  core::ParseResult check_config(const std::string& file) override {
    const std::string path = file.empty() ? settings.config_file : file;
    checked.push_back(path);
    return parse(path);
  }

  void stop(const std::string& why) override { stops.push_back(why); }
  api::ServiceFigures figures() const override { return service_figures; }
  const core::SystemFiles* system_files() const override { return &system; }

  // `path` parsed, as the service reads its config file.
  core::ParseResult parse(const std::string& path) const {
    core::FileSystem fs;
    fs.read = [this](const std::string& name, size_t) -> core::Result<std::string> {
      auto it = files.find(name);
      if (it == files.end())
        return core::make_error(core::Errc::not_found, "No such file or directory");
      return it->second;
    };
    fs.glob = [](const std::string&) { return std::vector<std::string>{}; };
    return core::parse_config_file(path, fs);
  }

  std::optional<api::MrdiscState> mrdisc_state(const std::string& ifname) const override {
    auto it = mrdisc.find(ifname);
    if (it == mrdisc.end()) return std::nullopt;
    return it->second;
  }

  api::EventHub* hub = nullptr;
  api::EventHub* events() override { return hub; }

 private:
  router::Router& router_;
};

// The control socket for events: every line delivered, per connection,
// parsed; a connection takes at most `capacity` lines before it is full;
// `last` closes it (it then takes nothing more).
struct FakeEventSink : api::EventSink {
  std::map<uint64_t, std::vector<nlohmann::json>> lines;
  std::map<uint64_t, bool> streams;  // set_streaming calls, the last one
  std::set<uint64_t> closed;
  size_t capacity = 1000;

  api::Delivery deliver(uint64_t conn, std::string_view line, bool last) override {
    if (closed.count(conn)) return api::Delivery::gone;
    auto& got = lines[conn];
    if (!last && got.size() >= capacity) return api::Delivery::full;
    got.push_back(nlohmann::json::parse(line));
    if (last) closed.insert(conn);
    return api::Delivery::queued;
  }
  void streaming(uint64_t conn, bool on) override { streams[conn] = on; }
};

// Three links by default: a1, a2 and a3 (ifindex 2, 3, 4), up, multicast.
inline core::Links api_links() {
  return {{"a1", 2, true, true, false}, {"a2", 3, true, true, false}, {"a3", 4, true, true, false}};
}

struct ApiFixture {
  explicit ApiFixture(core::Links links = api_links(), router::Settings settings = {})
      : rf(std::move(links), settings),
        daemon(rf.router),
        hub(
            sink, [this] { return wall_ms; }, [this] { rf.router.start_route_events(); }) {
    // As Service::start does: the table, its access, and check_access as
    // the policy (register_methods installs it); the router's events go
    // to the hub.
    api::register_methods(dispatcher, rf.router, daemon);
    daemon.hub = &hub;
    rf.listener.wanted_fn = [this] { return hub.wanted(); };
    rf.listener.forward_to = [this](router::Event e) { hub.publish(e); };
  }

  // Starts the router on `config_text`, read as the daemon's config file
  // (which it stays); the kernel call log starts empty afterwards.
  void start(const std::string& config_text) {
    daemon.set_config(config_text);
    core::ParseResult parsed = daemon.parse(daemon.settings.config_file);
    REQUIRE(parsed.ok());
    rf.router.start(parsed.config, rf.links);
    rf.kernel.calls.clear();
  }

  // One request line through the dispatcher, as the caller `uid` (pid
  // 4242); the whole reply object, parsed.
  nlohmann::json call(const std::string& method,
                      const nlohmann::json& params = nlohmann::json::object(), uint32_t uid = 0) {
    const int id = ++last_id;
    const nlohmann::json request = {
        {"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", params}};
    const rpc::CallContext caller{uid, uid, 4242, {}, conn};
    const auto reply = dispatcher.handle(request.dump(), caller);
    REQUIRE(reply.has_value());
    const nlohmann::json parsed = nlohmann::json::parse(*reply);
    REQUIRE(parsed.at("jsonrpc") == "2.0");
    REQUIRE(parsed.at("id") == id);
    REQUIRE(parsed.contains("result") != parsed.contains("error"));
    return parsed;
  }

  // The result of a call that must succeed.
  nlohmann::json result(const std::string& method,
                        const nlohmann::json& params = nlohmann::json::object(), uint32_t uid = 0) {
    const nlohmann::json reply = call(method, params, uid);
    INFO(method << " " << params.dump() << " -> " << reply.dump());
    REQUIRE(reply.contains("result"));
    return reply.at("result");
  }

  // The error object of a call that must fail.
  nlohmann::json error(const std::string& method,
                       const nlohmann::json& params = nlohmann::json::object(), uint32_t uid = 0) {
    const nlohmann::json reply = call(method, params, uid);
    INFO(method << " " << params.dump() << " -> " << reply.dump());
    REQUIRE(reply.contains("error"));
    return reply.at("error");
  }

  Calls& calls() { return rf.kernel.calls; }

  // The notifications connection `c` received, their params.
  std::vector<nlohmann::json> notes(uint64_t c) {
    std::vector<nlohmann::json> out;
    for (const auto& line : sink.lines[c]) {
      REQUIRE(line.at("method") == "event");
      REQUIRE(!line.contains("id"));
      out.push_back(line.at("params"));
    }
    return out;
  }

  RouterFixture rf;
  FakeDaemon daemon;
  FakeEventSink sink;
  uint64_t wall_ms = 1'796'585'400'123;  // 2026-12-06T19:30:00.123Z
  api::EventHub hub;
  uint64_t conn = 7;  // the connection call() comes in on
  rpc::Dispatcher dispatcher;
  int last_id = 0;
};

}  // namespace mfcd::test
