// See service.hpp. The order of start() matters: the config is read and
// checked before the kernel is touched, so a bad file is refused with
// nothing changed; the PID file is written last, once the configuration is
// in the kernel and the control socket answers.
#include "service/service.hpp"

#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sysexits.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "api/state.hpp"
#include "service/config_files.hpp"
#include "service/heap.hpp"
#include "service/proc_self.hpp"
#include "service/sd_notify.hpp"
#include "version.hpp"

extern char** environ;

namespace mfcd {

namespace {

constexpr size_t kUpcallBudget = 256;  // upcalls read per loop callback
constexpr size_t kLinkBudget = 256;    // netlink messages read per loop callback
// The default buffer (rmem_default, 208 KiB in the test bed) overran in CI
// while a script made 27 veth pairs; with 4 MiB, 400 pairs made while mfcd
// was stopped did not (tests/e2e/test_interfaces_late.sh fills it with
// more to reach the overrun on purpose).
constexpr int kLinkRcvbuf = 4 << 20;
constexpr uint64_t kRelistRetryMs = 100;
constexpr size_t kHeapSlackLimit = size_t{1} << 20;
constexpr uint64_t kHeapCheckMs = 10000;

void log_diagnostics(const std::vector<core::Diagnostic>& diags) {
  for (const auto& d : diags) {
    if (d.warning)
      spdlog::warn("{}", d.str());
    else
      spdlog::error("{}", d.str());
  }
}

size_t error_count(const std::vector<core::Diagnostic>& diags) {
  size_t errors = 0;
  for (const auto& d : diags)
    errors += d.warning ? 0 : 1;
  return errors;
}

int exit_code_for(kernel::OpenFailure failure) {
  switch (failure) {
    case kernel::OpenFailure::in_use:
      return EX_UNAVAILABLE;
    case kernel::OpenFailure::unsupported:
      return EX_PROTOCOL;
    case kernel::OpenFailure::permission:
      return EX_NOPERM;
    default:
      return EX_OSERR;
  }
}

const char* family_text(core::Family f) {
  return f == core::Family::v4 ? "IPv4" : "IPv6";
}

// How the daemon reads its file, at start-up, on reload and for
// config.check alike: SMCRoute's way under its name, mfcd's own otherwise
// (mfcd.conf(5) says what each forgives).
core::ParseOptions parse_options(const Options& o) {
  return o.smcroute_names ? core::ParseOptions::smcroute() : core::ParseOptions{};
}

// Descriptors the daemon needs besides control connections: kernel and
// netlink sockets, membership sockets, -e children's pipes, with room.
constexpr size_t kOwnDescriptors = 256;

// A positive number of milliseconds from the environment, if set.
std::optional<uint64_t> env_ms(const char* name) {
  const char* text = std::getenv(name);
  if (!text || !*text) return std::nullopt;
  char* end = nullptr;
  errno = 0;
  const unsigned long long value = std::strtoull(text, &end, 10);
  if (errno != 0 || *end != '\0' || value == 0) {
    spdlog::warn("ignoring {}={}: not a positive number of milliseconds", name, text);
    return std::nullopt;
  }
  return value;
}

// The control socket's limits (rpc_server.hpp), fitted to the open file
// limit. MFCD_RPC_IDLE_TIMEOUT_MS and MFCD_RPC_WRITE_TIMEOUT_MS shorten the
// idle and write timeouts for the end-to-end tests (mfcd(8), ENVIRONMENT).
RpcServerLimits rpc_limits() {
  RpcServerLimits limits;
  if (auto ms = env_ms("MFCD_RPC_IDLE_TIMEOUT_MS")) limits.idle_timeout_ms = *ms;
  if (auto ms = env_ms("MFCD_RPC_WRITE_TIMEOUT_MS")) limits.write_timeout_ms = *ms;
  auto& conns = limits.connections;
  const size_t wanted = conns.shared + conns.root_reserve;
  std::string note;
  const size_t fit = fit_descriptor_limit(wanted, kOwnDescriptors, note);
  if (fit < wanted) {
    conns.root_reserve = std::min(conns.root_reserve, fit / 2);
    conns.shared = fit - conns.root_reserve;
    spdlog::warn("{}", note);
  } else if (!note.empty()) {
    spdlog::debug("{}", note);
  }
  return limits;
}

// For the events' "time" (the steady clock says nothing to a reader).
uint64_t wall_clock_ms() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

std::string listen_text(const std::optional<core::ListenAddress>& address) {
  return address ? address->str() : "off";
}

// The metrics listener's limits (metrics_http.hpp); the control socket's
// test overrides of the timeouts apply to it too.
MetricsHttpLimits http_limits() {
  MetricsHttpLimits limits;
  if (auto ms = env_ms("MFCD_RPC_IDLE_TIMEOUT_MS")) limits.idle_timeout_ms = *ms;
  if (auto ms = env_ms("MFCD_RPC_WRITE_TIMEOUT_MS")) limits.write_timeout_ms = *ms;
  return limits;
}

}  // namespace

uint64_t Service::SteadyClock::now_ms() const {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

Service::Service(Options options) : options_(std::move(options)) {}

Service::~Service() {
  if (!loop_ready_) return;
  // Let pending callbacks finish (replies being flushed, clients closing),
  // then close what is left and run the close callbacks, so that every
  // handle is freed before the loop is.
  uv_run(&loop_, UV_RUN_DEFAULT);
  rpc_server_.reset();
  metrics_http_.reset();
  mrdisc_.reset();
  teardown();
  uv_run(&loop_, UV_RUN_DEFAULT);
  if (uv_loop_close(&loop_) != 0) spdlog::debug("event loop closed with handles still open");
}

std::optional<StartError> Service::start() {
  if (options_.startup_delay > 0)
    std::this_thread::sleep_for(std::chrono::seconds(options_.startup_delay));
  core::Config config;
  if (auto err = read_startup_config(config)) return err;
  if (auto err = resolve_groups(config)) return err;
  if (auto err = refuse_if_socket_taken()) return err;
  core::Links links;
  if (auto err = open_kernel(links)) return err;
  if (auto err = claim_control_socket()) return err;
  const auto metrics_listen = config.metrics_listen;
  if (auto err = start_router(std::move(config), std::move(links))) return err;
  if (auto err = start_metrics_http(metrics_listen)) return err;
  restore_state();
  watch_signals();
  watch_sockets();
  if (auto err = write_pid_file()) return StartError{EX_OSERR, *err};
  spdlog::info("{} {} ready: {} routes, table {}, socket {}", options_.program, MFCD_VERSION,
               router_->model().intent.route_count(), options_.table, options_.socket_path);
  sd_notify_send("READY=1\nSTATUS=ready");
  return std::nullopt;
}

// The HTTP metrics listener, if the command line or the config asks for
// one (the command line first). Off by default: it is a TCP port.
std::optional<StartError> Service::start_metrics_http(
    const std::optional<core::MetricsListenConf>& conf) {
  metrics_address_ = options_.metrics_listen;
  if (!metrics_address_ && conf) metrics_address_ = conf->address;
  if (!metrics_address_) return std::nullopt;
  std::string err;
  metrics_http_ = listen_for_metrics(*metrics_address_, err);
  if (!metrics_http_) return StartError{EX_OSERR, err};
  return std::nullopt;
}

std::unique_ptr<MetricsHttp> Service::listen_for_metrics(const core::ListenAddress& address,
                                                         std::string& err) {
  auto http = std::make_unique<MetricsHttp>(
      &loop_, [this] { return api::metrics_text(*router_, *this); }, http_limits());
  err = http->listen(address);
  if (!err.empty()) return nullptr;
  return http;
}

// A reload moves the listener where the config's metrics-listen line now
// says, or stops it. The new address is taken before the old one is let
// go, so that one the daemon cannot take (a port in use, a privileged port
// once root is dropped) leaves the old listener serving; only when the
// two clash (the same port on another address) does the old one go first,
// and come back if the new one cannot be had. The command line's
// --metrics-listen wins over the file.
void Service::follow_metrics_listen(const core::Config& config) {
  if (options_.metrics_listen) return;
  std::optional<core::ListenAddress> wanted;
  if (config.metrics_listen) wanted = config.metrics_listen->address;
  const std::string was = listen_text(metrics_address_);
  if (listen_text(wanted) == was) return;
  if (!wanted) {
    metrics_http_.reset();  // closes the socket and its connections
    metrics_address_.reset();
    spdlog::info("metrics listener stopped (was {})", was);
    return;
  }
  std::string err;
  auto next = listen_for_metrics(*wanted, err);
  if (!next && metrics_http_ && metrics_address_->port == wanted->port) {
    metrics_http_.reset();
    next = listen_for_metrics(*wanted, err);
    std::string back_err;
    if (!next) metrics_http_ = listen_for_metrics(*metrics_address_, back_err);
    if (!next && !metrics_http_) {
      spdlog::error("metrics-listen {}: cannot listen there again: {}", metrics_address_->str(),
                    back_err);
      metrics_address_.reset();
    }
  }
  if (!next) {
    spdlog::error("metrics-listen {}: {}; metrics stay {}", wanted->str(), err,
                  metrics_address_ ? "at " + metrics_address_->str() : "off");
    return;
  }
  metrics_http_ = std::move(next);
  metrics_address_ = wanted;
  spdlog::info("metrics listener moved: {} -> {}", was, wanted->str());
}

// The routes and joins added over the API before a crash or a restart go
// back in, on top of the config. Nothing here stops the start: a state file
// that cannot be used is reported (and moved aside by StateFile).
void Service::restore_state() {
  if (!options_.state_file) return;
  state_file_.emplace(*options_.state_file);
  std::string problem;
  auto doc = state_file_->load(problem);
  if (!problem.empty()) spdlog::error("state file: {}; starting without it", problem);
  if (!doc) return;
  api::RestoreResult restored;
  std::string error;
  if (!api::restore_api_state(*router_, *doc, restored, error)) {
    spdlog::error("state file {}: {}; starting without it", state_file_->path(), error);
    return;
  }
  for (const auto& p : restored.problems)
    spdlog::error("state file {}: {} not restored: {}", state_file_->path(), p.where, p.message);
  spdlog::info("restored {} route share(s) and {} join(s) from {}", restored.routes, restored.joins,
               state_file_->path());
  save_state();  // what did not go back in is no longer the state
}

// After every change made over the API (and a reload, which may drop API
// routes under the smcrouted name), before the reply goes out.
void Service::save_state() {
  if (!state_file_) return;
  if (auto err = state_file_->save(api::api_state(*router_)))
    spdlog::error("state file: {}: the last change is not saved", *err);
}

api::ServiceFigures Service::figures() const {
  api::ServiceFigures f;
  f.rpc = dispatcher_.stats();
  f.clients.emplace_back("control", rpc_server_ ? rpc_server_->client_count() : 0);
  if (metrics_http_) f.clients.emplace_back("http", metrics_http_->client_count());
  f.reloads = reloads_;
  f.resident_bytes = resident_bytes();
  f.open_fds = open_fd_count();
  return f;
}

void Service::record_reload(std::chrono::steady_clock::time_point started, bool ok) {
  (ok ? reloads_.succeeded : reloads_.failed)++;
  reloads_.last_ok = ok;
  reloads_.last_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
}

// The config file, or none: what start() hands the router.
std::optional<StartError> Service::read_startup_config(core::Config& config) {
  if (!options_.config_explicit && ::access(options_.config_file.c_str(), F_OK) != 0) {
    spdlog::info("no configuration file {}; starting with no routes", options_.config_file);
  } else {
    auto parsed = load_config_file(options_.config_file, parse_options(options_));
    log_diagnostics(parsed.diagnostics);
    if (!parsed.ok()) {
      return StartError{EX_CONFIG, std::to_string(error_count(parsed.diagnostics)) +
                                       " error(s) in " + options_.config_file + "; not starting"};
    }
    config = std::move(parsed.config);
  }
  return std::nullopt;
}

// The mroute sockets, the membership sockets, the link list and its monitor.
std::optional<StartError> Service::open_kernel(core::Links& links) {
  auto opened = kernel::Mroute::open(options_.table);
  if (auto* err = std::get_if<kernel::OpenError>(&opened))
    return StartError{exit_code_for(err->kind), err->message};
  mroute_ = std::move(std::get<std::unique_ptr<kernel::Mroute>>(opened));
  for (auto family : {core::Family::v4, core::Family::v6}) {
    if (!mroute_->has(family)) {
      spdlog::warn("{} multicast routing is off, {} routes and joins stay inactive: {}",
                   family_text(family), family_text(family), mroute_->off_note(family));
    }
  }
  mroute_->set_rcvbuf(8 << 20);
  if (!mroute_->enable_wrongvif())
    spdlog::warn("the kernel does not report flows arriving on the wrong interface");
  membership_ = std::make_unique<kernel::MembershipSockets>(kernel::MembershipLimits::read());

  // The monitor first, then the list: a link made in between is then in
  // both, never in neither.
  auto monitor = kernel::LinkMonitor::open();
  if (!monitor) return StartError{EX_OSERR, "cannot watch interfaces: " + monitor.error().message};
  link_monitor_ = std::move(monitor.value());
  link_monitor_->set_rcvbuf(kLinkRcvbuf);
  auto listed = kernel::dump_links();
  if (!listed) return StartError{EX_OSERR, "cannot list interfaces: " + listed.error().message};
  links = std::move(listed.value());
  return std::nullopt;
}

// The loop, the router on the config and links, and the RPC socket.
std::optional<StartError> Service::start_router(core::Config config, core::Links links) {
  if (uv_loop_init(&loop_) != 0) return StartError{EX_OSERR, "cannot create the event loop"};
  loop_ready_ = true;
  mrdisc_ = std::make_unique<MrdiscAnnouncer>(&loop_, options_.mrdisc_interval);

  router::Settings settings;
  settings.cache_timeout = options_.cache_timeout;
  settings.smcroute_names = options_.smcroute_names;
  settings.with_v4 = mroute_->has(core::Family::v4);
  settings.with_v6 = mroute_->has(core::Family::v6);
  router_ = std::make_unique<router::Router>(*mroute_, *membership_, clock_, *this, settings);
  router_->start(config, std::move(links));

  api::register_methods(dispatcher_, *router_, *this, access_rules(access_groups_));
  events_ = std::make_unique<api::EventHub>(
      *this, [] { return wall_clock_ms(); }, [this] { router_->start_route_events(); });
  rpc_server_ = std::make_unique<RpcServer>(&loop_, dispatcher_, rpc_limits());
  rpc_server_->set_on_closed([this](uint64_t conn) { events_->connection_closed(conn); });
  rpc_server_->set_on_limit([this](uint32_t uid, const std::string& why) {
    events_->publish("clients.limit", {{"uid", uid}, {"message", why}});
  });
  auto socket = std::move(*control_socket_);
  control_socket_.reset();
  if (auto err = rpc_server_->serve(std::move(socket)); !err.empty())
    return StartError{EX_OSERR, err};
  return std::nullopt;
}

// A daemon that answers on our socket path, whatever its table or network
// namespace (a path is not bound to either), keeps it: we leave before
// touching the kernel. claim_control_socket() checks again under a lock.
std::optional<StartError> Service::refuse_if_socket_taken() {
  const auto probe = probe_socket(options_.socket_path);
  if (probe.state != SocketProbe::State::live) return std::nullopt;
  return StartError{EX_UNAVAILABLE,
                    "another daemon" +
                        (probe.pid ? " (pid " + std::to_string(probe.pid) + ")" : std::string()) +
                        " answers on " + options_.socket_path + "; not taking it over"};
}

// Bound and listening from here on; served once the router is up, so a
// client connecting meanwhile waits in the backlog.
std::optional<StartError> Service::claim_control_socket() {
  std::optional<gid_t> group;
  if (access_groups_.socket) group = access_groups_.socket->gid;
  // Without a socket group bind(2) gives the socket ours (unless its
  // directory is setgid): what a reload that drops the group goes back to.
  socket_base_gid_ = ::getegid();
  auto claim = claim_socket(options_.socket_path, 0660, SOMAXCONN, group);
  if (!claim.socket) {
    // A socket group the daemon may not give is a setup error that a
    // restart does not mend: 77, which the units do not restart on.
    const int code = claim.error.live         ? EX_UNAVAILABLE
                     : claim.error.permission ? EX_NOPERM
                                              : EX_OSERR;
    return StartError{code, claim.error.message};
  }
  socket_id_ = claim.socket->id;
  control_socket_ = std::move(claim.socket);
  return std::nullopt;
}

// The access groups, before anything is touched. The config's unknown
// groups were errors of the file already (load_config_file), so what is
// left to fail here is an option.
std::optional<StartError> Service::resolve_groups(const core::Config& config) {
  const auto errors = resolve_access_groups(options_, config, lookup_group, access_groups_);
  if (errors.empty()) {
    log_groups();
    return std::nullopt;
  }
  std::string all;
  for (const auto& e : errors)
    all += (all.empty() ? "" : "; ") + e;
  return StartError{EX_USAGE, all};
}

void Service::log_groups() const {
  const auto& g = access_groups_;
  if (g.socket)
    spdlog::info("control socket group {} (gid {}): its members may call read methods",
                 g.socket->name, g.socket->gid);
  if (g.admin)
    spdlog::info("admin group {} (gid {}): its members may call write methods", g.admin->name,
                 g.admin->gid);
}

// A reload may change both groups. The admin group is only the policy's:
// it applies to the next call. The socket's group is the file's, changed
// in place, so connected clients stay and new ones are judged by the new
// group. That takes CAP_CHOWN or a daemon in the new group: one that
// dropped root (-p), or runs under the packaged unit without the group in
// SupplementaryGroups=, keeps the old group until it restarts, and says so.
void Service::apply_groups(const core::Config& config) {
  AccessGroups next;
  const auto errors = resolve_access_groups(options_, config, lookup_group, next);
  for (const auto& e : errors)
    spdlog::error("{}; keeping the access groups in force", e);
  if (!errors.empty()) return;
  if (next.admin != access_groups_.admin) {
    access_groups_.admin = next.admin;
    api::set_access_rules(dispatcher_, access_rules(access_groups_));
    spdlog::info("admin group now {}", next.admin ? next.admin->name : "none (root only)");
  }
  if (next.socket != access_groups_.socket) apply_socket_group(next.socket);
}

void Service::apply_socket_group(const std::optional<GroupId>& group) {
  const gid_t gid = group ? group->gid : socket_base_gid_;
  if (auto err = set_socket_group(options_.socket_path, socket_id_, gid)) {
    spdlog::warn("control socket group stays as it is until mfcd restarts: {}", *err);
    return;
  }
  access_groups_.socket = group;
  spdlog::info("control socket group now {} (gid {})", group ? group->name : "the default", gid);
}

// HUP reloads; INT and TERM stop; a closed client socket is not a signal.
void Service::watch_signals() {
  sighup_.init(uv_signal_init, &loop_, this);
  uv_signal_start(
      sighup_.get(),
      [](uv_signal_t* h, int) {
        auto* self = static_cast<Service*>(h->data);
        if (self->stopping_) return;
        self->reload(false);
        self->save_state();  // as smcrouted, a reload drops the API's routes
      },
      SIGHUP);
  auto on_stop_signal = [](uv_signal_t* h, int signum) {
    static_cast<Service*>(h->data)->request_stop(strsignal(signum));
  };
  sigint_.init(uv_signal_init, &loop_, this);
  uv_signal_start(sigint_.get(), on_stop_signal, SIGINT);
  sigterm_.init(uv_signal_init, &loop_, this);
  uv_signal_start(sigterm_.get(), on_stop_signal, SIGTERM);
  ::signal(SIGPIPE, SIG_IGN);
}

// Readiness of the upcall and netlink sockets, the router's tick, and -D.
void Service::watch_sockets() {
  for (auto family : {core::Family::v4, core::Family::v6}) {
    const int fd = mroute_->fd(family);
    if (fd < 0) continue;
    auto& poll = upcall_poll_[core::family_index(family)];
    poll.init(uv_poll_init, &loop_, this, fd);
    uv_poll_start(
        poll.get(), UV_READABLE,
        family == core::Family::v4
            ? [](uv_poll_t* p, int,
                 int) { static_cast<Service*>(p->data)->on_upcalls(core::Family::v4); }
            : [](uv_poll_t* p, int, int) {
                static_cast<Service*>(p->data)->on_upcalls(core::Family::v6);
              });
  }
  netlink_poll_.init(uv_poll_init, &loop_, this, link_monitor_->fd());
  uv_poll_start(netlink_poll_.get(), UV_READABLE,
                [](uv_poll_t* p, int, int) { static_cast<Service*>(p->data)->on_link_events(); });
  relist_timer_.init(uv_timer_init, &loop_, this);
  tick_timer_.init(uv_timer_init, &loop_, this);
  rearm();

  heap_timer_.init(uv_timer_init, &loop_, this);
  uv_timer_start(
      heap_timer_.get(), [](uv_timer_t* t) { static_cast<Service*>(t->data)->on_heap_check(); },
      kHeapCheckMs, kHeapCheckMs);
  uv_unref(reinterpret_cast<uv_handle_t*>(heap_timer_.get()));

  if (options_.exit_after > 0) {
    exit_timer_.init(uv_timer_init, &loop_, this);
    uv_timer_start(
        exit_timer_.get(),
        [](uv_timer_t* t) { static_cast<Service*>(t->data)->request_stop("-D timer expired"); },
        uint64_t{options_.exit_after} * 1000, 0);
  }
}

int Service::run() {
  // Here, not in start(): with -p the privileges are dropped in between,
  // and the script must run with what the daemon keeps, never as root.
  run_script("reload");
  uv_run(&loop_, UV_RUN_DEFAULT);
  return EX_OK;
}

// Written under a temporary name and renamed (safe_files.hpp), so that a
// script polling for the file never reads it half-written and a link
// planted in the directory is never written through.
std::optional<std::string> Service::write_pid_file() {
  if (options_.pid_file.empty()) return std::nullopt;
  if (auto err = mfcd::write_pid_file(options_.pid_file, ::getpid(), pid_id_))
    return "cannot write PID file " + options_.pid_file + ": " + *err;
  return std::nullopt;
}

// --- events -------------------------------------------------------------------

void Service::rearm() {
  if (!tick_timer_ || stopping_) return;
  auto next = router_->next_tick_ms();
  if (!next) {
    uv_timer_stop(tick_timer_.get());
    return;
  }
  const uint64_t now = clock_.now_ms();
  uv_timer_start(
      tick_timer_.get(), [](uv_timer_t* t) { static_cast<Service*>(t->data)->on_tick(); },
      *next > now ? *next - now : 0, 0);
}

void Service::on_tick() {
  if (stopping_) return;
  router_->tick();
  rearm();
}

// Whatever freed it, a heap holding over 1 MiB free is trimmed within 10 s.
// A trim leaves the free blocks where they are (it only hands their pages
// back), so the slack stays: trimming again is worth it only once RSS has
// grown since. mallinfo2() walks the free lists: microseconds at this size.
void Service::on_heap_check() {
  if (trim_due_) {
    trim_due_ = false;
    trim_heap();
    rss_after_trim_ = resident_bytes().value_or(0);
    return;
  }
  if (heap_slack_bytes() <= kHeapSlackLimit) return;
  const uint64_t rss = resident_bytes().value_or(0);
  if (rss != 0 && rss <= rss_after_trim_) return;
  trim_heap();
  rss_after_trim_ = resident_bytes().value_or(0);
}

// A reload's file, plan and report are freed when the call that made them
// returns: trim at the start of the next loop turn, before anything else
// is served, so that RSS after a big reload is what the routes take.
void Service::trim_after_this_turn() {
  if (!heap_timer_ || stopping_) return;
  trim_due_ = true;
  uv_timer_start(
      heap_timer_.get(), [](uv_timer_t* t) { static_cast<Service*>(t->data)->on_heap_check(); }, 0,
      kHeapCheckMs);
}

void Service::on_upcalls(core::Family family) {
  if (stopping_) return;
  bool more = false;
  auto upcalls = mroute_->read_upcalls(family, kUpcallBudget, &more);
  router_->on_upcalls(upcalls);
  rearm();
  // With `more` set the socket is still readable and libuv calls us again on
  // the next loop turn, after the other handles had their share.
}

void Service::on_link_events() {
  if (stopping_) return;
  bool resync = false;
  bool more = false;
  auto events = link_monitor_->read_events(kLinkBudget, &resync, &more);
  if (resync) {
    spdlog::warn("netlink overrun; re-reading the interface list");
    relist_links();
  } else if (!events.empty()) {
    // Newer than anything lost, so right to apply even while a re-read is
    // still due.
    router_->on_link_events(events);
  }
  rearm();
}

// After an overrun only the whole list tells what was lost. A dump that
// links keep changing under (NLM_F_DUMP_INTR on every try, as while a
// script makes dozens of interfaces) is not given up: the timer asks again
// until one comes back whole, and until then the lost links stay unknown.
void Service::relist_links() {
  if (stopping_) return;
  auto all = kernel::dump_links();
  if (!all) {
    if (!relist_failing_)
      spdlog::warn("cannot re-read the interface list ({}); trying again every {} ms",
                   all.error().message, kRelistRetryMs);
    relist_failing_ = true;
    uv_timer_start(
        relist_timer_.get(), [](uv_timer_t* t) { static_cast<Service*>(t->data)->relist_links(); },
        kRelistRetryMs, 0);
    return;
  }
  if (relist_failing_) spdlog::info("re-read the interface list");
  relist_failing_ = false;
  uv_timer_stop(relist_timer_.get());
  router_->replace_links(std::move(all.value()));
  rearm();
}

// --- router::Listener -------------------------------------------------------------

void Service::entry_installed(const core::SgKey& key) {
  run_script("install", {"source=" + key.source.str(), "group=" + key.group.str()});
}

void Service::mrdisc_changed(const std::set<std::string>& announce, const core::Links& links) {
  if (mrdisc_) mrdisc_->update(announce, links);
}

void Service::event(router::Event e) {
  if (events_) events_->publish(e);
}

// --- api::EventSink ------------------------------------------------------------------

api::Delivery Service::deliver(uint64_t conn, std::string_view line, bool last) {
  if (!rpc_server_) return api::Delivery::gone;
  switch (rpc_server_->push(conn, line, last)) {
    case RpcServer::Push::queued:
      return api::Delivery::queued;
    case RpcServer::Push::full:
      return api::Delivery::full;
    case RpcServer::Push::gone:
      break;
  }
  return api::Delivery::gone;
}

void Service::streaming(uint64_t conn, bool on) {
  if (rpc_server_) rpc_server_->set_streaming(conn, on);
}

// --- api::Daemon --------------------------------------------------------------------

api::DaemonInfo Service::info() const {
  api::DaemonInfo i;
  i.identity = options_.identity;
  i.config_file = options_.config_file;
  i.socket = options_.socket_path;
  i.table = options_.table;
  i.cache_timeout = options_.cache_timeout;
  i.ipv4 = mroute_ && mroute_->has(core::Family::v4);
  i.ipv6 = mroute_ && mroute_->has(core::Family::v6);
  if (mroute_) {
    i.ipv4_off = mroute_->off_note(core::Family::v4);
    i.ipv6_off = mroute_->off_note(core::Family::v6);
  }
  i.pid = static_cast<int>(::getpid());
  return i;
}

uint64_t Service::uptime_seconds() const {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started_)
          .count());
}

core::ParseResult Service::check_config(const std::string& file) {
  return load_config_file(file.empty() ? options_.config_file : file, parse_options(options_));
}

std::optional<api::MrdiscState> Service::mrdisc_state(const std::string& ifname) const {
  if (!mrdisc_) return std::nullopt;
  auto st = mrdisc_->state(ifname);
  if (!st) return std::nullopt;
  return api::MrdiscState{st->announcing, st->next_due_ms};
}

api::ReloadOutcome Service::reload(bool dry_run) {
  using Clock = std::chrono::steady_clock;
  auto ms = [](Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration<double, std::milli>(b - a).count();
  };
  api::ReloadOutcome out;
  const auto started = Clock::now();
  if (!dry_run) {
    spdlog::info("reloading {}", options_.config_file);
    sd_notify_reloading();
  }
  auto parsed = load_config_file(options_.config_file, parse_options(options_));
  out.diagnostics = parsed.diagnostics;
  if (!parsed.ok()) {
    if (!dry_run) {
      log_diagnostics(out.diagnostics);
      spdlog::error("reload of {} refused: the configuration has errors; nothing changed",
                    options_.config_file);
      if (events_) api::publish_reload(*events_, *router_, options_.config_file, out);
      sd_notify_send("READY=1\nSTATUS=ready");
      record_reload(started, false);
    }
    return out;
  }
  out.ok = true;
  if (dry_run) {
    out.report = router_->dry_run(parsed.config);
    return out;
  }
  log_diagnostics(out.diagnostics);
  apply_groups(parsed.config);
  const auto read = Clock::now();
  auto plan = router_->plan_reload(parsed.config);
  const auto planned = Clock::now();
  out.report = router_->apply_reload(std::move(plan));
  const auto applied = Clock::now();
  // What mfcctl reload prints, for a reload by SIGHUP too (router/missing.hpp).
  for (const auto& m : out.report.missing)
    spdlog::warn("{}: {}", m.pos.str(), m.message());
  rearm();
  if (events_) api::publish_reload(*events_, *router_, options_.config_file, out);
  run_script("reload");
  sd_notify_send("READY=1\nSTATUS=ready");
  record_reload(started, true);
  follow_metrics_listen(parsed.config);
  trim_after_this_turn();
  // read: the file parsed and checked; planned: its lines matched with the
  // routes and the changed ones decided (the matching grows with the file,
  // the deciding with the changes); applied: the plan written.
  spdlog::info(
      "reloaded {}: {} added, {} changed, {} removed (read {:.2f} ms, planned {:.2f} ms, applied "
      "{:.2f} ms)",
      options_.config_file, out.report.added.size(), out.report.changed.size(),
      out.report.removed.size(), ms(started, read), ms(read, planned), ms(planned, applied));
  return out;
}

// --- the -e script ------------------------------------------------------------------

void Service::run_script(const std::string& argument, const std::vector<std::string>& env) {
  if (options_.script.empty() || !loop_ready_ || stopping_) return;
  auto child = std::make_unique<UvHandle<uv_process_t>>();
  std::string file = options_.script;
  std::string arg = argument;
  char* args[] = {file.data(), arg.data(), nullptr};
  uv_process_options_t opts{};
  opts.file = file.c_str();
  opts.args = args;
  // The child's environment is ours plus `env` (uv_spawn copies it).
  std::vector<std::string> vars = env;
  std::vector<char*> envp;
  if (!env.empty()) {
    for (char** e = environ; e && *e; ++e)
      envp.push_back(*e);
    for (auto& v : vars)
      envp.push_back(v.data());
    envp.push_back(nullptr);
    opts.env = envp.data();
  }
  opts.exit_cb = [](uv_process_t* p, int64_t status, int signal) {
    if (status != 0 || signal != 0)
      spdlog::warn("script exited with status {} signal {}", status, signal);
    // The owner travels with the handle until the child has exited.
    delete static_cast<UvHandle<uv_process_t>*>(p->data);
  };
  const int rc = child->init(uv_spawn, &loop_, nullptr, &opts);
  if (rc != 0) {
    spdlog::error("cannot run script {}: {}", options_.script, uv_strerror(rc));
    return;
  }
  child->get()->data = child.get();
  child.release();
}

// --- stopping -------------------------------------------------------------------------

void Service::request_stop(const std::string& why) {
  if (stopping_) return;
  spdlog::info("stopping: {}", why);
  sd_notify_send("STOPPING=1");
  // Defer to an idle callback so that a reply queued by the current handler
  // (daemon.stop) goes out before the control socket closes.
  stopper_.init(uv_idle_init, &loop_, this);
  uv_idle_start(stopper_.get(), [](uv_idle_t* h) {
    uv_idle_stop(h);
    static_cast<Service*>(h->data)->teardown();
  });
  stopping_ = true;
}

void Service::teardown() {
  stopping_ = true;
  // Terminations go out while the interfaces are still set up; the router
  // then releases every VIF, entry and membership at once. Idempotent.
  if (router_ && !torn_down_) router_->teardown();
  torn_down_ = true;
  if (mrdisc_) mrdisc_->stop();
  if (rpc_server_) rpc_server_->close();
  if (metrics_http_) metrics_http_->close();
  for (auto* h : {&sighup_, &sigint_, &sigterm_})
    h->close();
  for (auto* p : {&upcall_poll_[0], &upcall_poll_[1], &netlink_poll_})
    p->close();
  tick_timer_.close();
  exit_timer_.close();
  heap_timer_.close();
  relist_timer_.close();
  stopper_.close();
  // Only if it is still the file we wrote: another daemon may have put its
  // own there since.
  if (pid_id_.valid()) remove_if_same(options_.pid_file, pid_id_);
  pid_id_ = {};
  if (control_socket_) {
    ::close(control_socket_->fd);
    remove_if_same(control_socket_->path, control_socket_->id);
    control_socket_.reset();
  }
  link_monitor_.reset();
}

}  // namespace mfcd
