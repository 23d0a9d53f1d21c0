// mfcd's entry point: parse the smcrouted-compatible flags, set up logging,
// check-only mode, going into the background, then hand over to Service.
// Exit codes follow sysexits.h, as SMCRoute's do (see compat.md).
#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <optional>

#include "kernel/netlink.hpp"
#include "router/missing.hpp"
#include "service/config_files.hpp"
#include "service/heap.hpp"
#include "service/logging.hpp"
#include "service/options.hpp"
#include "service/privdrop.hpp"
#include "service/service.hpp"
#include "version.hpp"

namespace {

// Logging (service/logging.hpp). In the foreground (-n) lines go to stderr
// with a timestamp; in the background, or with -s, to syslog (facility
// daemon, ident = the identity, -i). mfcd's levels are syslog's names, and
// each line carries the syslog priority of the level it belongs to:
//
//   -l none    nothing at all
//   -l err     errors only: a route the kernel refused, a reload refused,
//              why start-up failed
//   -l notice  (default) plus warnings and one line per operator-visible
//              event: ready, reload and what it changed, interfaces
//              appearing or vanishing, runtime route changes, stopping
//   -l info    plus each kernel operation (VIF/MFC add and delete) and the
//              resolved paths and settings at start-up
//   -l debug   plus per-upcall detail
//
// Nothing is logged per forwarded packet at any level: the kernel forwards
// them without the daemon.
using mfcd::setup_logging;

// -F: check a config file. Interfaces that do not exist here are warnings,
// not errors: they may appear later, and the file may be for another host.
// Under the smcrouted name a /LEN with host bits is a warning too, but a bad
// line is an error, as SMCRoute's -F has it (its own tests feed it a bare
// phyint and expect 78), though the daemon would skip that line.
int check_config(const std::string& path, bool smcroute_names) {
  auto parsed =
      mfcd::load_config_file(path, smcroute_names ? mfcd::core::ParseOptions::smcroute_check()
                                                  : mfcd::core::ParseOptions{});
  size_t errors = 0;
  for (const auto& d : parsed.diagnostics) {
    std::cerr << d.str() << "\n";
    if (!d.warning) ++errors;
  }
  if (errors) {
    std::cerr << path << ": " << errors << " error(s)\n";
    return EX_CONFIG;
  }
  // The same warnings, in the same words, as mfcctl reload prints.
  if (auto links = mfcd::kernel::dump_links()) {
    for (const auto& m : mfcd::router::missing_interfaces(parsed.config, links.value()))
      std::cerr << m.pos.str() << ": warning: " << m.message() << "\n";
  }
  return EX_OK;
}

// Going into the background: the parent waits until the child reports that
// it is ready (or why it failed) and exits with that code, so that init
// scripts see start-up errors in the exit status.
int daemonize(int* report_fd) {
  int fds[2];
  if (::pipe(fds) != 0) return EX_OSERR;
  pid_t pid = ::fork();
  if (pid < 0) return EX_OSERR;
  if (pid > 0) {
    ::close(fds[1]);
    unsigned char code = EX_SOFTWARE;
    ssize_t n = ::read(fds[0], &code, 1);
    if (n != 1) {
      int status = 0;
      ::waitpid(pid, &status, WNOHANG);
      code = EX_SOFTWARE;
    }
    std::_Exit(code);
  }
  ::close(fds[0]);
  ::setsid();
  if (::chdir("/") != 0) return EX_OSERR;
  int null = ::open("/dev/null", O_RDWR);
  if (null >= 0) {
    ::dup2(null, 0);
    ::dup2(null, 1);
    ::dup2(null, 2);
    if (null > 2) ::close(null);
  }
  *report_fd = fds[1];
  return EX_OK;
}

// -p: the switch itself, then a look at what the daemon will still need as
// that user, so that a reload failing later is explained now.
std::optional<mfcd::StartError> drop_to(const mfcd::RunAs& who, const mfcd::Options& o) {
  if (auto err = mfcd::drop_privileges(who))
    return mfcd::StartError{EX_OSERR, "cannot drop privileges to " + who.user + ": " + *err};
  spdlog::info("running as {}:{} (uid {}, gid {}), keeping CAP_NET_ADMIN and CAP_NET_RAW", who.user,
               who.group, who.uid, who.gid);
  struct stat st {};
  if (::stat(o.config_file.c_str(), &st) == 0 && ::access(o.config_file.c_str(), R_OK) != 0)
    spdlog::warn("{} is not readable by {}: reloads will fail", o.config_file, who.user);
  for (const auto& path : {o.pid_file, o.socket_path}) {
    auto slash = path.find_last_of('/');
    std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
    if (::access(dir.c_str(), W_OK) != 0)
      spdlog::info("{} cannot write {}: {} will be left behind at exit", who.user, dir, path);
  }
  return std::nullopt;
}

// After a -p run the files in a directory the user cannot write stay; say
// so, since scripts look at the PID file.
void warn_left_behind(const mfcd::Options& o) {
  std::ifstream in(o.pid_file);
  pid_t pid = 0;
  if (in >> pid && pid == ::getpid())
    spdlog::warn("PID file {} left behind: no permission to remove it", o.pid_file);
}

void report(int fd, int code) {
  if (fd < 0) return;
  auto c = static_cast<unsigned char>(code);
  (void)!::write(fd, &c, 1);
  ::close(fd);
}

// The invocations that answer and exit without starting the daemon: a
// usage error, -h, -v, -F (check a config) and the method list. Returns the
// exit code for those, nothing when the daemon is to run.
std::optional<int> answer_without_running(const mfcd::ParsedArgs& parsed) {
  const auto& o = parsed.options;
  switch (parsed.action) {
    case mfcd::ParsedArgs::Action::exit_usage:
      std::cerr << o.program << ": " << parsed.error << "\n"
                << "Try '" << o.program << " -h' for more information.\n";
      return EX_USAGE;
    case mfcd::ParsedArgs::Action::help:
      std::cout << mfcd::usage_text(o);
      return EX_OK;
    case mfcd::ParsedArgs::Action::version:
      std::cout << o.program << " (mfcd) " << MFCD_VERSION << "\n";
      return EX_OK;
    case mfcd::ParsedArgs::Action::run:
      break;
  }
  if (o.check_file) {
    setup_logging(o, false);
    return check_config(*o.check_file, o.smcroute_names);
  }
  if (o.list_methods) {
    // "NAME ACCESS" per method: what the schema test holds the OpenRPC
    // document's method list and x-access to.
    for (const auto& [name, access] : mfcd::api::method_table())
      std::cout << name << " " << mfcd::rpc::access_name(access) << "\n";
    return EX_OK;
  }
  return std::nullopt;
}

// Starts the service and runs it until it stops, dropping to -p's user
// once it is set up (the kernel state needs root). A background parent
// waiting on report_fd learns how start-up went. Returns the exit code.
int run_service(const mfcd::Options& o, const std::optional<mfcd::RunAs>& run_as, int report_fd) {
  mfcd::Service service(o);
  auto err = service.start();
  if (!err && run_as) err = drop_to(*run_as, o);
  if (err) {
    spdlog::critical("{}", err->message);
    if (o.foreground && o.syslog) std::cerr << o.program << ": " << err->message << "\n";
    service.abort_start();
    report(report_fd, err->exit_code);
    return err->exit_code;
  }
  report(report_fd, EX_OK);
  return service.run();
}

}  // namespace

int main(int argc, char** argv) {
  auto parsed = mfcd::parse_args(std::vector<std::string>(argv, argv + argc));
  if (auto code = answer_without_running(parsed)) return *code;
  const auto& o = parsed.options;
  // Resolve -p's user before anything else, so that a typo is a usage
  // error at once and not a failure after the kernel state is set up.
  std::optional<mfcd::RunAs> run_as;
  if (!o.run_as.empty()) {
    run_as.emplace();
    if (auto err = mfcd::resolve_run_as(o.run_as, *run_as)) {
      std::cerr << o.program << ": " << *err << "\n";
      return EX_USAGE;
    }
  }

  mfcd::keep_big_buffers_apart();
  int report_fd = -1;
  if (!o.foreground) {
    if (int rc = daemonize(&report_fd); rc != EX_OK) {
      std::cerr << o.program << ": cannot go into the background\n";
      return rc;
    }
  }
  setup_logging(o, o.syslog || !o.foreground);
  spdlog::debug(
      "identity {}: config {}, socket {}, PID file {}, table {}, cache timeout {}s, "
      "mrdisc interval {}s, start-up delay {}s",
      o.identity, o.config_file, o.socket_path, o.pid_file, o.table, o.cache_timeout,
      o.mrdisc_interval, o.startup_delay);

  // The Service is torn down when run_service returns (PID file and socket
  // removed where it may), so only then is what it left behind looked at;
  // logging shuts down last, its teardown logs too.
  const int code = run_service(o, run_as, report_fd);
  if (run_as) warn_left_behind(o);
  spdlog::shutdown();
  return code;
}
