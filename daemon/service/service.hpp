// The service: owns the libuv loop and every handle on it, and turns
// readiness, signals and timers into Router calls. It is also the Router's
// Listener (the -e script, router discovery) and the methods' Daemon (the
// config file, the daemon's settings, stopping). It decides nothing about
// routes: that is the Router's (router/router.hpp).
//
// Every callback does a bounded amount of work: upcalls are read in
// budgets, netlink messages too, the Router's periodic work comes in
// slices, and the control socket serves each client a bounded number of
// lines per turn, with backpressure (rpc_server.hpp). Nothing
// blocks the loop: the -e script runs through uv_spawn.
#pragma once

#include <uv.h>

#include <chrono>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "api/api.hpp"
#include "api/events.hpp"
#include "core/ports.hpp"
#include "kernel/membership.hpp"
#include "kernel/mroute.hpp"
#include "kernel/netlink.hpp"
#include "kernel/system_files.hpp"
#include "router/router.hpp"
#include "rpc/dispatcher.hpp"
#include "service/access_groups.hpp"
#include "service/metrics_http.hpp"
#include "service/mrdisc_announcer.hpp"
#include "service/options.hpp"
#include "service/rpc_server.hpp"
#include "service/state_file.hpp"
#include "service/uv_handle.hpp"

namespace mfcd {

// Why start() failed, with the sysexits code to exit with.
struct StartError {
  int exit_code;
  std::string message;
};

class Service final : public router::Listener, public api::Daemon, public api::EventSink {
 public:
  explicit Service(Options options);
  ~Service() override;
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

  // router::Listener
  void entry_installed(const core::SgKey& key) override;
  void mrdisc_changed(const std::set<std::string>& announce, const core::Links& links) override;
  bool events_wanted() const override { return events_ && events_->wanted(); }
  void event(router::Event e) override;

  // api::EventSink: notifications go out on the control socket.
  api::Delivery deliver(uint64_t conn, std::string_view line, bool last) override;
  void streaming(uint64_t conn, bool on) override;

  // api::Daemon
  api::DaemonInfo info() const override;
  uint64_t uptime_seconds() const override;
  api::ReloadOutcome reload(bool dry_run) override;
  core::ParseResult check_config(const std::string& file) override;
  void stop(const std::string& why) override { request_stop(why); }
  std::optional<api::MrdiscState> mrdisc_state(const std::string& ifname) const override;
  void save_state() override;
  api::EventHub* events() override { return events_.get(); }
  api::ServiceFigures figures() const override;
  const core::SystemFiles* system_files() const override { return &system_files_; }
  core::Result<std::vector<core::MrRule>> mroute_rules(core::Family family) const override {
    return kernel::dump_mrules(family);
  }

 private:
  struct SteadyClock final : core::Clock {
    uint64_t now_ms() const override;
  };

  // start(), step by step.
  std::optional<StartError> read_startup_config(core::Config& config);
  std::optional<StartError> open_kernel(core::Links& links);
  std::optional<StartError> start_router(core::Config config, core::Links links);
  std::optional<StartError> refuse_if_socket_taken();
  std::optional<StartError> resolve_groups(const core::Config& config);
  void log_groups() const;
  std::optional<StartError> claim_control_socket();
  // A reload's groups: the admin group at once, the socket's group if the
  // daemon may still change it (see the definition).
  void apply_groups(const core::Config& config);
  void apply_socket_group(const std::optional<GroupId>& group);
  void restore_state();
  std::optional<StartError> start_metrics_http(const std::optional<core::MetricsListenConf>& conf);
  // A listener at `address`, or nullptr with the reason in `err`.
  std::unique_ptr<MetricsHttp> listen_for_metrics(const core::ListenAddress& address,
                                                  std::string& err);
  void follow_metrics_listen(const core::Config& config);
  void record_reload(std::chrono::steady_clock::time_point started, bool ok);
  void watch_signals();
  void watch_sockets();

  void on_upcalls(core::Family family);
  void on_link_events();
  void relist_links();  // after an overrun, until a dump comes back whole
  void on_tick();
  void on_heap_check();
  void trim_after_this_turn();
  // After any event: when the Router next has periodic work, the timer.
  void rearm();
  void teardown();
  // Runs the -e script with one argument and extra NAME=VALUE environment.
  void run_script(const std::string& argument, const std::vector<std::string>& env = {});
  std::optional<std::string> write_pid_file();

  Options options_;
  SteadyClock clock_;
  std::unique_ptr<kernel::Mroute> mroute_;
  kernel::ProcFiles system_files_;
  std::unique_ptr<kernel::MembershipSockets> membership_;
  std::unique_ptr<kernel::LinkMonitor> link_monitor_;
  std::unique_ptr<router::Router> router_;
  rpc::Dispatcher dispatcher_;
  std::unique_ptr<api::EventHub> events_;  // before the server, which tells it of closes
  std::unique_ptr<RpcServer> rpc_server_;
  std::unique_ptr<MetricsHttp> metrics_http_;  // --metrics-listen / metrics-listen
  std::optional<core::ListenAddress> metrics_address_;
  core::MetricsSnapshot::Reloads reloads_;  // every reload, SIGHUP and config.reload alike
  // The control socket between claim_control_socket() and the RpcServer.
  std::optional<ClaimedSocket> control_socket_;
  FileId socket_id_;           // the control socket we made, for a reload's chown
  gid_t socket_base_gid_ = 0;  // its group without --socket-group (ours)
  AccessGroups access_groups_;
  std::unique_ptr<MrdiscAnnouncer> mrdisc_;  // RFC 4286 announcements
  std::optional<StateFile> state_file_;      // -S: the API's routes and joins

  uv_loop_t loop_{};
  bool loop_ready_ = false;
  UvHandle<uv_signal_t> sighup_, sigint_, sigterm_;
  UvHandle<uv_poll_t> upcall_poll_[2];
  UvHandle<uv_poll_t> netlink_poll_;
  UvHandle<uv_timer_t> tick_timer_;
  UvHandle<uv_timer_t> exit_timer_;
  UvHandle<uv_timer_t> heap_timer_;  // the backstop of heap.hpp
  UvHandle<uv_timer_t> relist_timer_;
  bool relist_failing_ = false;  // warned once per run of failed re-reads
  uint64_t rss_after_trim_ = 0;
  bool trim_due_ = false;  // a reload ended: trim on the next check
  UvHandle<uv_idle_t> stopper_;
  bool stopping_ = false;
  bool torn_down_ = false;
  FileId pid_id_;  // the PID file we wrote: removed at exit only if still ours
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
};

}  // namespace mfcd
