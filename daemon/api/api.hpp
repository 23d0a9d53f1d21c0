// The JSON-RPC methods: each one turns named params into a router (or
// daemon) call and shapes the answer as schema/mfcd.openrpc.json says. The
// list results use SMCRoute's JSON field names (compat.md), so that the
// client's -j output is a pass-through.
//
// Who may call what is one table: every method is registered as a read or a
// write, and the dispatcher checks the caller against it before the params
// are even parsed (rpc/dispatcher.hpp). The OpenRPC document states the same
// per method ("x-access"), and a test holds the two to each other.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/config.hpp"
#include "core/metrics.hpp"
#include "core/mrules.hpp"
#include "core/ports.hpp"
#include "core/result.hpp"
#include "router/reload.hpp"
#include "router/router.hpp"
#include "rpc/dispatcher.hpp"

namespace mfcd::api {

class EventHub;

// The daemon's settings the methods report.
struct DaemonInfo {
  std::string identity;
  std::string config_file;
  std::string socket;
  uint32_t table = 0;
  unsigned cache_timeout = 0;
  bool ipv4 = true, ipv6 = true;   // the families the kernel routes
  std::string ipv4_off, ipv6_off;  // why a family is not routed, in words
  int pid = 0;
};

// What a reload did, or why it changed nothing.
struct ReloadOutcome {
  bool ok = false;                            // false: the file had errors, nothing changed
  std::vector<core::Diagnostic> diagnostics;  // its errors and warnings
  router::ReloadReport report;
};

// Router discovery (RFC 4286) on one interface, for interface.list.
struct MrdiscState {
  bool announcing = false;   // the link is up and announcements run
  uint64_t next_due_ms = 0;  // until the next unsolicited Advertisement
};

// The service's own figures for the metrics (core/metrics.hpp): the RPC
// counts, its listeners' clients, the reloads and the process.
struct ServiceFigures {
  std::vector<rpc::Dispatcher::MethodStats> rpc;
  std::vector<std::pair<std::string, uint64_t>> clients;  // listener -> connected
  core::MetricsSnapshot::Reloads reloads;
  std::optional<uint64_t> resident_bytes, open_fds;
};

// What the methods need from the service besides the router.
class Daemon {
 public:
  virtual ~Daemon() = default;
  virtual DaemonInfo info() const = 0;
  virtual uint64_t uptime_seconds() const = 0;
  // Re-reads the config file; with dry_run, only says what would change.
  virtual ReloadOutcome reload(bool dry_run) = 0;
  // Parses `file` (the config file when empty), changing nothing.
  virtual core::ParseResult check_config(const std::string& file) = 0;
  virtual void stop(const std::string& why) = 0;
  // nullopt: mrdisc is not configured for that interface.
  virtual std::optional<MrdiscState> mrdisc_state(const std::string& ifname) const = 0;
  // After a write method (and a reload): the API's routes and joins may
  // have changed, so the state file (-S) is brought up to date before the
  // reply goes out. Nothing to do without one.
  virtual void save_state() {}
  // events.subscribe's hub; nullptr where there are no connections.
  virtual EventHub* events() { return nullptr; }
  // For metrics.get and the HTTP listener; nothing known by default.
  virtual ServiceFigures figures() const { return {}; }
  // route.explain's view of sysctls, sysfs and /proc; nullptr: none.
  virtual const core::SystemFiles* system_files() const { return nullptr; }
  // route.explain: the kernel's multicast routing rules of one family, or
  // why they could not be read.
  virtual core::Result<std::vector<core::MrRule>> mroute_rules(core::Family) const {
    return core::make_error(core::Errc::internal, "no kernel to ask");
  }
};

// A reload's event for events.subscribe: reload.applied with the report
// config.reload answers, or reload.refused with the file's errors.
void publish_reload(EventHub& hub, const router::Router& router, const std::string& file,
                    const ReloadOutcome& outcome);

// Every figure of the daemon, from the router and the service, and the
// same as Prometheus text (metrics.get, mfcctl metrics, GET /metrics).
core::MetricsSnapshot metrics_snapshot(const router::Router& router, const Daemon& daemon);
std::string metrics_text(const router::Router& router, const Daemon& daemon);

// Every method's name and access, in the order they are registered.
std::vector<std::pair<std::string, rpc::Access>> method_table();

// Who may write besides root: the members of one group (--admin-group, or
// `admin-group` in the config), already resolved to its gid by the service.
struct AccessRules {
  std::optional<uint32_t> admin_gid;
  std::string admin_group;  // its name as given, for the refusal's words
};

// Registers every method on `dispatcher`, with its access, and the access
// policy for `rules`.
void register_methods(rpc::Dispatcher& dispatcher, router::Router& router, Daemon& daemon,
                      AccessRules rules = {});

// Replaces the policy's rules (a reload that changes the admin group).
void set_access_rules(rpc::Dispatcher& dispatcher, AccessRules rules);

// Whether the caller is in group `gid`: its primary group or one of its
// supplementary groups.
bool in_group(const rpc::CallContext& ctx, uint32_t gid);

// The access rule: a read is for everyone who can connect (the socket's
// owner, group and mode decide that); a write needs root or membership of
// the admin group. The refusal names the group that would do.
std::optional<rpc::RpcError> check_access(const AccessRules& rules, rpc::Access access,
                                          const std::string& method, const rpc::CallContext& ctx);

}  // namespace mfcd::api
