// The service: owns the libuv loop and every handle on it, and wires the
// kernel (mroute sockets, netlink), the control socket and signals to the
// pure core. All state changes funnel through one step, sync(): compute the
// desired state from intent and links, plan the difference against what is
// installed, apply it. Startup, reload, API calls and interface changes are
// that same step with different inputs.
#pragma once

#include <uv.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/desired.hpp"
#include "core/intent.hpp"
#include "core/plan.hpp"
#include "groups.hpp"
#include "kernel/mroute.hpp"
#include "kernel/netlink.hpp"
#include "mrdisc.hpp"
#include "options.hpp"
#include "rpc/dispatcher.hpp"
#include "rpc_server.hpp"
#include "upcalls.hpp"

namespace mfcd {

// One route in a reload report, with its state after (or, for removed
// routes, before) the reload.
struct RouteChange {
  core::RouteIntent route;
  core::RouteStatus status;
};

// What a reload changed (or, with dry_run, would change), route by route.
struct ReloadOutcome {
  bool ok = false;                            // false: config had errors, nothing changed
  std::vector<core::Diagnostic> diagnostics;  // errors and warnings of the file
  std::vector<RouteChange> added, changed, removed;
  nlohmann::json groups;  // {"joined": [...], "left": [...]} as group.list items
};

// Why start() failed, with the sysexits code to exit with.
struct StartError {
  int exit_code;
  std::string message;
};

class Service {
 public:
  explicit Service(Options options);
  ~Service();
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  // Opens the kernel sockets, loads the config, installs it, listens on the
  // control socket. On success the daemon is ready (PID file written).
  std::optional<StartError> start();
  // After a failed start(): undo whatever start() already did.
  void abort_start() { teardown(); }
  // Runs the loop until stop; returns the process exit code.
  int run();
  // Tear everything down at the next loop turn (after queued replies).
  void request_stop(const std::string& why);

  // --- operations for the RPC methods -------------------------------------
  // Change a route and wait until the kernel holds it. On a kernel refusal
  // the route is put back as it was and the error says why.
  core::Result<std::optional<core::RouteIntent>> route_add(const core::RouteRequest& req);
  core::Result<std::optional<core::RouteIntent>> route_set(const core::RouteRequest& req);
  core::Result<std::optional<core::RouteIntent>> route_remove(const core::RouteRequest& req);

  // Re-read the config file; apply only the difference unless dry_run.
  ReloadOutcome reload_config(bool dry_run);

  // The kernel failure behind the last refused route change, for error data.
  const std::optional<core::Failure>& last_failure() const { return last_failure_; }

  const Options& options() const { return options_; }
  const core::Intent& intent() const { return intent_; }
  const core::Installed& installed() const { return installed_; }
  const core::Links& links() const { return links_; }
  const core::RouteStatus* route_status(const core::RouteKey& key) const;
  std::optional<kernel::Counters> counters(const core::SgKey& key) const;
  std::chrono::steady_clock::time_point started() const { return started_; }
  bool has_v6() const;
  rpc::Dispatcher& dispatcher() { return dispatcher_; }
  const Mrdisc* mrdisc() const { return mrdisc_.get(); }
  const Groups* groups() const { return groups_.get(); }
  // Dynamic entries, upcall counters, cache.flush (upcalls.hpp); null
  // before start() has made the loop.
  Upcalls* upcalls() const { return upcalls_.get(); }

 private:
  struct Handles;

  // Called with the routes' new statuses once they are decided, before
  // the kernel is touched (a reload's report shows these).
  using Decided = std::function<void(const core::Desired&)>;

  std::vector<core::Failure> sync();
  // Fresh start only: the config's static entries straight into the kernel.
  void quick_start(const core::Config& config);
  // sync() for `changes` (taken from intent_ already). `whole` is set when
  // the full path ran (it also updated groups and mrdisc).
  std::vector<core::Failure> sync(const core::Intent::Changes& changes, const Decided* decided,
                                  bool* whole = nullptr);
  std::vector<core::Failure> sync_to(core::Desired desired);
  // Applies a plan and logs its failures (each persistent one once).
  std::vector<core::Failure> run_plan(const core::Plan& plan, bool whole_state);
  void report_once(const std::vector<core::Diagnostic>& warnings);
  core::Result<std::optional<core::RouteIntent>> commit_route_change(
      const core::RouteKey& key, const std::optional<core::RouteIntent>& before);
  void reload();
  void on_upcalls(core::Family family);
  void on_link_events();
  void forget_vifs_of(int ifindex);
  void teardown();
  // Runs the -e script with one argument and extra NAME=VALUE environment.
  void run_script(const std::string& argument, const std::vector<std::string>& env = {});
  bool write_pid_file();

  Options options_;
  std::unique_ptr<kernel::Mroute> mroute_;
  std::unique_ptr<kernel::LinkMonitor> link_monitor_;
  core::Links links_;
  core::Intent intent_;
  std::unique_ptr<Groups> groups_;  // group memberships (groups.hpp)
  core::Installed installed_;
  core::Desired last_desired_;
  std::optional<core::Failure> last_failure_;
  std::set<std::string> reported_failures_;  // log each persistent failure once
  bool retry_pending_ = false;               // a plan since the last full one had failures
  rpc::Dispatcher dispatcher_;
  std::unique_ptr<RpcServer> rpc_server_;
  std::unique_ptr<Mrdisc> mrdisc_;  // RFC 4286 announcements (mrdisc.hpp)
  std::unique_ptr<Upcalls> upcalls_;
  std::unique_ptr<Handles> handles_;
  uv_loop_t loop_{};
  bool loop_ready_ = false;
  bool stopping_ = false;
  bool pid_written_ = false;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
};

// Registers every JSON-RPC method on the service's dispatcher (methods.cpp).
void register_methods(Service& service);

}  // namespace mfcd
