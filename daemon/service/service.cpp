// The event loop and the one reconcile step. Every callback here does a
// bounded amount of work: upcalls are read in budgets, netlink events are
// coalesced into one sync, and the control socket answers one line at a
// time. Nothing blocks the loop: the -e script runs through uv_spawn.
#include "service.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <functional>
#include <thread>

#include "config_files.hpp"
#include "core/quick_start.hpp"
#include "sd_notify.hpp"
#include "version.hpp"

namespace mfcd {

namespace {

constexpr size_t kUpcallBudget = 256;  // upcalls handled per loop callback

template <typename T>
void close_and_delete(T* handle) {
  uv_close(reinterpret_cast<uv_handle_t*>(handle),
           [](uv_handle_t* h) { delete reinterpret_cast<T*>(h); });
}

void log_diagnostics(const std::vector<core::Diagnostic>& diags) {
  for (const auto& d : diags) {
    if (d.warning)
      spdlog::warn("{}", d.str());
    else
      spdlog::error("{}", d.str());
  }
}

}  // namespace

struct Service::Handles {
  uv_signal_t* sighup = nullptr;
  uv_signal_t* sigint = nullptr;
  uv_signal_t* sigterm = nullptr;
  uv_poll_t* upcall[2] = {nullptr, nullptr};
  uv_poll_t* netlink = nullptr;
  uv_timer_t* exit_timer = nullptr;
  uv_idle_t* stopper = nullptr;
};

Service::Service(Options options)
    : options_(std::move(options)), handles_(std::make_unique<Handles>()) {}

Service::~Service() {
  if (loop_ready_) {
    // Drain close callbacks of anything still open, then release the loop.
    uv_run(&loop_, UV_RUN_DEFAULT);
    if (uv_loop_close(&loop_) != 0) spdlog::debug("event loop closed with handles still open");
  }
}

bool Service::has_v6() const {
  return mroute_ && mroute_->has_v6();
}

const core::RouteStatus* Service::route_status(const core::RouteKey& key) const {
  auto it = last_desired_.status.find(key);
  return it == last_desired_.status.end() ? nullptr : &it->second;
}

std::optional<kernel::Counters> Service::counters(const core::SgKey& key) const {
  if (!mroute_) return std::nullopt;
  auto c = mroute_->counters(key);
  if (!c) return std::nullopt;
  return c.value();
}

std::optional<StartError> Service::start() {
  if (options_.startup_delay > 0)
    std::this_thread::sleep_for(std::chrono::seconds(options_.startup_delay));

  // Read the configuration before touching the kernel, so that a bad file
  // is refused with nothing changed.
  core::Config config;
  struct stat st {};
  if (!options_.config_explicit && ::stat(options_.config_file.c_str(), &st) != 0) {
    spdlog::info("no configuration file {}; starting with no routes", options_.config_file);
  } else {
    auto parsed = load_config_file(options_.config_file);
    log_diagnostics(parsed.diagnostics);
    if (!parsed.ok()) {
      size_t errors = 0;
      for (const auto& d : parsed.diagnostics)
        errors += d.warning ? 0 : 1;
      return StartError{EX_CONFIG, std::to_string(errors) + " error(s) in " + options_.config_file +
                                       "; not starting"};
    }
    config = std::move(parsed.config);
  }

  auto opened = kernel::Mroute::open(options_.table);
  if (auto* err = std::get_if<kernel::OpenError>(&opened)) {
    int code = EX_OSERR;
    switch (err->kind) {
      case kernel::OpenFailure::in_use:
        code = EX_UNAVAILABLE;
        break;
      case kernel::OpenFailure::unsupported:
        code = EX_PROTOCOL;
        break;
      case kernel::OpenFailure::permission:
        code = EX_NOPERM;
        break;
      default:
        break;
    }
    return StartError{code, err->message};
  }
  mroute_ = std::move(std::get<std::unique_ptr<kernel::Mroute>>(opened));
  for (auto family : {core::Family::v4, core::Family::v6}) {
    if (!mroute_->has(family)) {
      spdlog::warn("{} multicast routing is off, {} routes and joins stay inactive: {}",
                   family == core::Family::v4 ? "IPv4" : "IPv6",
                   family == core::Family::v4 ? "IPv4" : "IPv6", mroute_->off_note(family));
    }
  }
  mroute_->set_rcvbuf(8 << 20);

  auto links = kernel::dump_links();
  if (!links) return StartError{EX_OSERR, "cannot list interfaces: " + links.error().message};
  links_ = std::move(links.value());
  auto monitor = kernel::LinkMonitor::open();
  if (!monitor) return StartError{EX_OSERR, "cannot watch interfaces: " + monitor.error().message};
  link_monitor_ = std::move(monitor.value());

  quick_start(config);
  intent_.load_config(config);
  groups_ = std::make_unique<Groups>();
  groups_->load_config(config.joins);
  config = core::Config{};  // the intent holds what is needed from here on
  sync();

  if (uv_loop_init(&loop_) != 0) return StartError{EX_OSERR, "cannot create the event loop"};
  loop_ready_ = true;
  loop_.data = this;
  // The first sync above ran before the loop existed; announce from here on.
  mrdisc_ = std::make_unique<Mrdisc>(&loop_, options_.mrdisc_interval);
  mrdisc_->update(intent_.phyints(), links_);
  upcalls_ = std::make_unique<Upcalls>(
      &loop_, *mroute_, installed_, intent_, options_.cache_timeout,
      Upcalls::Hooks{
          [this] { sync(); },
          [this](const core::SgKey& key) {
            run_script("install", {"source=" + key.source.str(), "group=" + key.group.str()});
          }});

  register_methods(*this);
  register_group_methods(dispatcher_, *groups_);
  rpc_server_ = std::make_unique<RpcServer>(&loop_, dispatcher_);
  if (auto err = rpc_server_->listen(options_.socket_path); !err.empty())
    return StartError{EX_OSERR, err};

  auto signal = [this](int signum, uv_signal_cb cb) {
    auto* h = new uv_signal_t;
    uv_signal_init(&loop_, h);
    h->data = this;
    uv_signal_start(h, cb, signum);
    return h;
  };
  handles_->sighup =
      signal(SIGHUP, [](uv_signal_t* h, int) { static_cast<Service*>(h->data)->reload(); });
  auto on_stop_signal = [](uv_signal_t* h, int signum) {
    static_cast<Service*>(h->data)->request_stop(strsignal(signum));
  };
  handles_->sigint = signal(SIGINT, on_stop_signal);
  handles_->sigterm = signal(SIGTERM, on_stop_signal);
  ::signal(SIGPIPE, SIG_IGN);

  for (auto family : {core::Family::v4, core::Family::v6}) {
    int fd = mroute_->fd(family);
    if (fd < 0) continue;
    auto* h = new uv_poll_t;
    uv_poll_init(&loop_, h, fd);
    h->data = this;
    uv_poll_start(
        h, UV_READABLE,
        family == core::Family::v4
            ? [](uv_poll_t* p, int,
                 int) { static_cast<Service*>(p->data)->on_upcalls(core::Family::v4); }
            : [](uv_poll_t* p, int, int) {
                static_cast<Service*>(p->data)->on_upcalls(core::Family::v6);
              });
    handles_->upcall[core::family_index(family)] = h;
  }
  handles_->netlink = new uv_poll_t;
  uv_poll_init(&loop_, handles_->netlink, link_monitor_->fd());
  handles_->netlink->data = this;
  uv_poll_start(handles_->netlink, UV_READABLE,
                [](uv_poll_t* p, int, int) { static_cast<Service*>(p->data)->on_link_events(); });

  if (options_.exit_after > 0) {
    handles_->exit_timer = new uv_timer_t;
    uv_timer_init(&loop_, handles_->exit_timer);
    handles_->exit_timer->data = this;
    uv_timer_start(
        handles_->exit_timer,
        [](uv_timer_t* t) { static_cast<Service*>(t->data)->request_stop("-D timer expired"); },
        uint64_t{options_.exit_after} * 1000, 0);
  }

  if (!write_pid_file())
    return StartError{EX_OSERR,
                      "cannot write PID file " + options_.pid_file + ": " + std::strerror(errno)};
  run_script("reload");
  spdlog::info("{} {} ready: {} routes, table {}, socket {}", options_.program, MFCD_VERSION,
               intent_.route_count(), options_.table, options_.socket_path);
  sd_notify_send("READY=1\nSTATUS=ready");
  return std::nullopt;
}

void Service::quick_start(const core::Config& config) {
  // The static entries go into the kernel first, straight from the file;
  // the sync() that follows builds the bookkeeping and checks the result
  // (core/quick_start.hpp). Only a fresh table gets this.
  if (!installed_.mfc.empty() || installed_.vif_count(core::Family::v4) != 0) return;
  // Without IPv4 the regular path numbers the VIFs and says why each IPv4
  // route stays out of the kernel.
  if (!mroute_->has(core::Family::v4)) return;
  const auto begin = std::chrono::steady_clock::now();
  auto quick = core::plan_quick_start(config, links_, mroute_->has_v6());
  if (!quick) return;
  std::function<void(const core::Op&)> log_op;
  if (spdlog::should_log(spdlog::level::debug))
    log_op = [](const core::Op& op) { spdlog::debug("kernel: {}", op.str()); };
  const size_t written = core::apply_quick_start(*mroute_, installed_, config, *quick, log_op);
  const auto now = std::chrono::steady_clock::now();
  using ms = std::chrono::duration<double, std::milli>;
  spdlog::info(
      "quick start: {} of {} static entries in the kernel in {:.1f} ms, {:.1f} ms after start",
      written, quick->entries.size(), ms(now - begin).count(), ms(now - started_).count());
}

int Service::run() {
  uv_run(&loop_, UV_RUN_DEFAULT);
  return EX_OK;
}

bool Service::write_pid_file() {
  if (options_.pid_file.empty()) return true;
  std::string tmp = options_.pid_file + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    if (!out) return false;
    out << ::getpid() << "\n";
    if (!out.flush()) return false;
  }
  // Rename so that a script polling for the file never reads it half-written.
  if (::rename(tmp.c_str(), options_.pid_file.c_str()) != 0) return false;
  pid_written_ = true;
  return true;
}

namespace {

void mark_refused(core::Desired& desired, const core::Installed& installed,
                  const std::vector<core::Failure>& failures) {
  // A route the kernel refused (no free VIF, say) is not installed, whatever
  // the plan hoped: route.list and pending.list must say so, with the cause.
  for (const auto& f : failures) {
    if (!f.route) continue;
    auto it = desired.status.find(*f.route);
    if (it == desired.status.end() || it->second.state != core::RouteState::installed) continue;
    if (f.route->source) {
      // A change the kernel refused leaves the older entry in place.
      auto have = installed.mfc.find(core::SgKey{f.route->source->addr, f.route->group.addr});
      if (have != installed.mfc.end() && have->second.route == *f.route) continue;
    }
    it->second.state = core::RouteState::pending;
    it->second.reason = f.error.message;
  }
}

}  // namespace

std::vector<core::Failure> Service::sync() {
  return sync(intent_.take_changes(), nullptr);
}

std::vector<core::Failure> Service::sync(const core::Intent::Changes& changes,
                                         const Decided* decided, bool* whole) {
  // A few routes changed and nothing else did: decide and plan just their
  // (S,G)s, so that a route.add on a table of 50,000, or a reload that
  // edits a hundred of its lines, costs what those routes cost.
  // core::update_desired and core::make_plan_for give up (nullopt) whenever
  // the full path could answer differently (a VIF to add or release,
  // wildcards, rules, links changed, a dynamic entry in the way), and
  // active feed overrides always take the full path.
  if (whole) *whole = false;
  if (!changes.all && !changes.list.empty() && (!upcalls_ || upcalls_->active_feeds().empty())) {
    core::Desired slice;
    if (auto sgs = core::update_desired(last_desired_, intent_, links_, changes, slice)) {
      if (auto plan = core::make_plan_for(installed_, slice, *sgs)) {
        if (decided) (*decided)(last_desired_);
        auto failures = run_plan(*plan, false);
        mark_refused(last_desired_, installed_, failures);
        report_once(slice.warnings);
        return failures;
      }
      // update_desired already changed some statuses; the full pass below
      // replaces last_desired_ as a whole.
    }
  }
  if (whole) *whole = true;
  auto desired = core::compute_desired(intent_, links_);
  if (decided) (*decided)(desired);
  return sync_to(std::move(desired));
}

std::vector<core::Failure> Service::run_plan(const core::Plan& plan, bool whole_state) {
  // Formatting every op costs as much as planning them: only when logged.
  if (spdlog::should_log(spdlog::level::debug)) {
    for (const auto& op : plan.ops)
      spdlog::debug("kernel: {}", op.str());
  }
  auto failures = plan.failures;
  auto applied = core::apply(*mroute_, installed_, plan);
  failures.insert(failures.end(), applied.begin(), applied.end());
  // Whether something may still be failing: a reload then takes the full
  // path, which tries every route again, as it always has.
  if (whole_state)
    retry_pending_ = !failures.empty();
  else
    retry_pending_ = retry_pending_ || !failures.empty();
  // A failure that persists (a route waiting for a free VIF) is logged once,
  // not at every sync. A plan of the whole state says which ones still hold.
  std::set<std::string> now;
  if (!whole_state) now = reported_failures_;
  for (const auto& f : failures) {
    std::string line = f.what + ": " + f.error.message;
    if (!reported_failures_.count(line)) spdlog::error("{}", line);
    now.insert(std::move(line));
  }
  reported_failures_ = std::move(now);
  return failures;
}

void Service::report_once(const std::vector<core::Diagnostic>& warnings) {
  for (const auto& w : warnings) {
    std::string line = w.str();
    if (!reported_failures_.count(line)) spdlog::warn("{}", line);
    reported_failures_.insert(std::move(line));
  }
}

std::vector<core::Failure> Service::sync_to(core::Desired desired) {
  (void)intent_.take_changes();              // `desired` reflects them all
  if (upcalls_) upcalls_->prepare(desired);  // dynamic entries, active feeds
  auto plan = core::make_plan(installed_, desired);
  // The plan holds its own copy of every entry it writes and nothing reads
  // the desired entries after planning: freeing them now lets apply() reuse
  // that memory for Installed (a lower peak, fewer fresh pages at start-up).
  decltype(desired.mfc)().swap(desired.mfc);
  auto failures = run_plan(plan, true);
  mark_refused(desired, installed_, failures);
  report_once(desired.warnings);
  last_desired_ = std::move(desired);
  if (groups_) groups_->update(links_);
  if (mrdisc_) mrdisc_->update(intent_.phyints(), links_);
  return failures;
}

core::Result<std::optional<core::RouteIntent>> Service::commit_route_change(
    const core::RouteKey& key, const std::optional<core::RouteIntent>& before) {
  last_failure_.reset();
  auto failures = sync();
  const core::RouteIntent* now = intent_.find_route(key);
  std::vector<std::string> ifnames{key.iif};
  if (now) {
    auto oifs = now->oifs();
    ifnames.insert(ifnames.end(), oifs.begin(), oifs.end());
  }
  for (const auto& f : failures) {
    bool mine = (f.route && *f.route == key) ||
                (!f.route && !f.ifname.empty() &&
                 std::find(ifnames.begin(), ifnames.end(), f.ifname) != ifnames.end());
    if (!mine) continue;
    // The kernel refused: put the intent back so the running state stays
    // exactly as it was, and report why.
    last_failure_ = f;
    intent_.restore_route(key, before);
    sync();
    core::Error err = f.error;
    if (!f.ifname.empty() && err.message.find(f.ifname) == std::string::npos)
      err.message = f.ifname + ": " + err.message;
    return err;
  }
  if (!now) return std::optional<core::RouteIntent>{};
  return std::optional<core::RouteIntent>{*now};
}

namespace {
std::optional<core::RouteIntent> snapshot(const core::Intent& intent, const core::RouteKey& key) {
  const auto* r = intent.find_route(key);
  if (!r) return std::nullopt;
  return *r;
}
}  // namespace

core::Result<std::optional<core::RouteIntent>> Service::route_add(const core::RouteRequest& req) {
  auto before = snapshot(intent_, req.key);
  intent_.add_route(req);
  auto result = commit_route_change(req.key, before);
  if (result) spdlog::info("route {} added by {}", req.key.str(), req.owner);
  return result;
}

core::Result<std::optional<core::RouteIntent>> Service::route_set(const core::RouteRequest& req) {
  auto before = snapshot(intent_, req.key);
  intent_.set_route(req);
  auto result = commit_route_change(req.key, before);
  if (result) spdlog::info("route {} set by {}", req.key.str(), req.owner);
  return result;
}

core::Result<std::optional<core::RouteIntent>> Service::route_remove(
    const core::RouteRequest& req) {
  last_failure_.reset();
  auto before = snapshot(intent_, req.key);
  auto removed = intent_.remove_route(req);
  if (!removed) return removed.error();
  auto result = commit_route_change(req.key, before);
  if (result) spdlog::info("route {} removed by {}", req.key.str(), req.owner);
  return result;
}

namespace {

using Clock = std::chrono::steady_clock;

double ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

core::RouteStatus status_in(const core::Desired& desired, const core::RouteKey& key) {
  auto it = desired.status.find(key);
  return it == desired.status.end() ? core::RouteStatus{} : it->second;
}

// A reload's report, gathered in steps: which list each route the reload
// touched goes to, its status when that is known (before the reload for a
// removed route, once decided for the others), and at the end the items.
// A route changed when what it asks of the kernel changed: its OIF set;
// owners coming and going alone is not a change of the route.
class ReloadReport {
 public:
  ReloadReport(const core::Intent::LoadReport& load, const core::Intent& intent)
      : load_(load),
        now_(load.touched.size()),
        kind_(load.touched.size(), Kind::none),
        status_(load.touched.size()) {
    for (size_t i = 0; i < load.touched.size(); ++i) {
      const auto& t = load.touched[i];
      now_[i] = intent.find_route(t.key);
      if (!now_[i])
        kind_[i] = t.existed ? Kind::removed : Kind::none;
      else if (!t.existed)
        kind_[i] = Kind::added;
      else if (t.names != now_[i]->oifs())
        kind_[i] = Kind::changed;
    }
  }
  // The statuses of the removed routes, from the state before the reload.
  void take_removed(const core::Desired& before) { take(before, true); }
  // The statuses of the added and changed ones, once decided.
  void take_decided(const core::Desired& decided) { take(decided, false); }
  // The lists, each in creation order as route.list has them.
  void fill(ReloadOutcome& out) const {
    for (size_t i = 0; i < kind_.size(); ++i) {
      switch (kind_[i]) {
        case Kind::added:
          out.added.push_back({*now_[i], status_[i]});
          break;
        case Kind::changed:
          out.changed.push_back({*now_[i], status_[i]});
          break;
        case Kind::removed:
          out.removed.push_back({*load_.touched[i].whole, status_[i]});
          break;
        case Kind::none:
          break;
      }
    }
    auto by_seq = [](const RouteChange& a, const RouteChange& b) {
      return a.route.seq < b.route.seq;
    };
    for (auto* list : {&out.added, &out.changed, &out.removed})
      std::sort(list->begin(), list->end(), by_seq);
  }

 private:
  enum class Kind { none, added, changed, removed };
  void take(const core::Desired& desired, bool removed) {
    for (size_t i = 0; i < kind_.size(); ++i) {
      if (kind_[i] != Kind::none && (kind_[i] == Kind::removed) == removed)
        status_[i] = status_in(desired, load_.touched[i].key);
    }
  }
  const core::Intent::LoadReport& load_;
  std::vector<const core::RouteIntent*> now_;
  std::vector<Kind> kind_;
  std::vector<core::RouteStatus> status_;
};

}  // namespace

ReloadOutcome Service::reload_config(bool dry_run) {
  ReloadOutcome out;
  const auto started = Clock::now();
  if (!dry_run) {
    spdlog::info("reloading {}", options_.config_file);
    sd_notify_reloading();
  }
  auto parsed = load_config_file(options_.config_file);
  out.diagnostics = parsed.diagnostics;
  if (!parsed.ok()) {
    if (!dry_run) {
      log_diagnostics(out.diagnostics);
      spdlog::error("reload of {} refused: the configuration has errors; nothing changed",
                    options_.config_file);
      sd_notify_send("READY=1\nSTATUS=ready");
    }
    return out;
  }
  out.ok = true;

  if (dry_run) {
    // What the reload below would report, worked out on a copy: a dry run
    // is rare and must not change anything, so it may cost the whole table.
    core::Intent next = intent_;
    core::Intent::LoadReport load;
    if (options_.smcroute_names) next.drop_api_shares(&load);
    next.load_config(parsed.config, &load);
    ReloadReport report(load, next);
    report.take_removed(last_desired_);
    report.take_decided(core::compute_desired(next, links_));
    report.fill(out);
    out.groups = groups_->plan_config(parsed.config.joins);
    if (options_.smcroute_names) {
      for (auto& item : groups_->drop_api_joins(true))
        out.groups["left"].push_back(item);
    }
    return out;
  }

  log_diagnostics(out.diagnostics);
  const auto valid = Clock::now();

  // The intent takes the new file in place, noting only the routes whose
  // lines appeared, went or got other OIFs; sync() then decides and writes
  // just those (S,G)s, unless the change is of a kind only the full path
  // gets right (phyint lines, VIFs, rules, wildcards...).
  core::Intent::LoadReport load;
  if (options_.smcroute_names) intent_.drop_api_shares(&load);
  intent_.load_config(parsed.config, &load);
  ReloadReport report(load, intent_);
  report.take_removed(last_desired_);

  out.groups = groups_->plan_config(parsed.config.joins);
  if (options_.smcroute_names) {
    for (auto& item : groups_->drop_api_joins(true))
      out.groups["left"].push_back(item);
    groups_->drop_api_joins(false);
  }
  groups_->load_config(parsed.config.joins);
  const auto compared = Clock::now();

  core::Intent::Changes changes = intent_.take_changes();
  // A route something refused earlier (a full VIF table, the kernel) is
  // tried again by a reload, as the full path does.
  if (retry_pending_ || links_ != last_desired_.links) changes.all = true;
  bool whole = false;
  if (changes.all || !changes.list.empty()) {
    const Decided decided = [&](const core::Desired& d) { report.take_decided(d); };
    sync(changes, &decided, &whole);
  }
  if (!whole) {
    // What sync_to does after a full pass; the phyint lines are the same.
    groups_->update(links_);
    if (mrdisc_) mrdisc_->update(intent_.phyints(), links_);
  }
  const auto applied = Clock::now();

  report.fill(out);
  run_script("reload");
  sd_notify_send("READY=1\nSTATUS=ready");
  // read: the file parsed and checked; compared: every line matched with
  // its route, the changed ones known (both grow with the file); applied:
  // those decided, planned and written (grows with the changes).
  spdlog::info(
      "reloaded {}: {} added, {} changed, {} removed (read {:.2f} ms, compared {:.2f} ms, applied "
      "{:.2f} ms)",
      options_.config_file, out.added.size(), out.changed.size(), out.removed.size(),
      ms_between(started, valid), ms_between(valid, compared), ms_between(compared, applied));
  return out;
}

void Service::reload() {
  if (!stopping_) reload_config(false);
}

void Service::on_upcalls(core::Family family) {
  bool more = false;
  auto upcalls = mroute_->read_upcalls(family, kUpcallBudget, &more);
  for (const auto& u : upcalls) {
    spdlog::trace("upcall {} vif {} ({}, {})",
                  u.type == kernel::UpcallType::nocache    ? "nocache"
                  : u.type == kernel::UpcallType::wrongvif ? "wrongvif"
                                                           : "wholepkt",
                  u.vif, u.source.str(), u.group.str());
  }
  if (upcalls_) upcalls_->handle(upcalls);
  // With `more` set the socket is still readable and libuv calls us again on
  // the next loop turn, after the other handles had their share.
}

void Service::forget_vifs_of(int ifindex) {
  // The kernel removes a VIF by itself when its interface is unregistered;
  // forget it so the planner neither deletes it again nor reuses a stale one.
  for (auto& family_vifs : installed_.vifs)
    for (auto& vif : family_vifs)
      if (vif && vif->ifindex == ifindex) vif.reset();
}

void Service::on_link_events() {
  bool resync = false;
  auto events = link_monitor_->read_events(&resync);
  bool changed = false;
  for (const auto& ev : events) {
    auto it = std::find_if(links_.begin(), links_.end(),
                           [&](const core::Link& l) { return l.ifindex == ev.link.ifindex; });
    if (ev.kind == kernel::LinkEvent::Kind::removed) {
      if (it != links_.end()) {
        spdlog::info("interface {} (index {}) removed", it->name, it->ifindex);
        links_.erase(it);
        forget_vifs_of(ev.link.ifindex);
        changed = true;
      }
    } else if (it == links_.end()) {
      spdlog::info("interface {} (index {}) appeared", ev.link.name, ev.link.ifindex);
      links_.push_back(ev.link);
      changed = true;
    } else if (!(*it == ev.link)) {
      *it = ev.link;
      changed = true;
    }
  }
  if (resync) {
    spdlog::warn("netlink overrun; re-reading the interface list");
    if (auto all = kernel::dump_links()) {
      for (const auto& old : links_) {
        bool still = std::any_of(all->begin(), all->end(),
                                 [&](const core::Link& l) { return l.ifindex == old.ifindex; });
        if (!still) forget_vifs_of(old.ifindex);
      }
      links_ = std::move(all.value());
      changed = true;
    }
  }
  if (changed && !stopping_) sync();
}

void Service::run_script(const std::string& argument, const std::vector<std::string>& env) {
  if (options_.script.empty() || !loop_ready_) return;
  auto* child = new uv_process_t;
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
    close_and_delete(p);
  };
  if (int rc = uv_spawn(&loop_, child, &opts); rc != 0) {
    spdlog::error("cannot run script {}: {}", options_.script, uv_strerror(rc));
    close_and_delete(child);
  }
}

void Service::request_stop(const std::string& why) {
  if (stopping_) return;
  stopping_ = true;
  spdlog::info("stopping: {}", why);
  sd_notify_send("STOPPING=1");
  // Defer to an idle callback so that a reply queued by the current handler
  // (daemon.stop) goes out before the control socket closes.
  handles_->stopper = new uv_idle_t;
  uv_idle_init(&loop_, handles_->stopper);
  handles_->stopper->data = this;
  uv_idle_start(handles_->stopper, [](uv_idle_t* h) {
    uv_idle_stop(h);
    static_cast<Service*>(h->data)->teardown();
  });
}

void Service::teardown() {
  if (!mroute_) return;
  if (groups_) groups_->stop();
  // Terminations go out while the interfaces are still set up.
  if (mrdisc_) mrdisc_->stop();
  if (upcalls_) upcalls_->close();
  // No MRT_DEL_MFC per entry: closing the mroute sockets makes the kernel
  // drop every entry and VIF they made, in one step (at 50,000 routes the
  // deletes took 0.9 s against 0.14 s for the close).
  spdlog::info("removing {} kernel entries and their VIFs", installed_.mfc.size());
  installed_ = core::Installed{};
  if (rpc_server_) rpc_server_->close();
  if (!loop_ready_) {
    mroute_.reset();
    return;
  }
  auto& h = *handles_;
  for (auto* s : {h.sighup, h.sigint, h.sigterm})
    if (s) close_and_delete(s);
  for (auto* p : {h.upcall[0], h.upcall[1], h.netlink})
    if (p) close_and_delete(p);
  if (h.exit_timer) close_and_delete(h.exit_timer);
  if (h.stopper) close_and_delete(h.stopper);
  h = Handles{};
  if (pid_written_) ::unlink(options_.pid_file.c_str());
  pid_written_ = false;
  mroute_.reset();
  link_monitor_.reset();
}

}  // namespace mfcd
