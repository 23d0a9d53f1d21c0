// -p USER[:GROUP]: give up root once everything that needs it is open.
//
// What needs root is opened first, as root: the mroute sockets (MRT_INIT),
// the netlink link monitor, the control socket and the PID file. Then the
// process switches to USER and keeps only the capabilities the running
// daemon still uses:
//
//   CAP_NET_ADMIN  VIF/MIF and MFC changes on the mroute sockets (the kernel
//                  checks it per setsockopt, not only at MRT_INIT), so new
//                  interfaces still get VIFs and reloads still apply.
//   CAP_NET_RAW    kept in the permitted and effective sets for raw sockets
//                  opened later (RFC 4286 mrdisc announcements). Group joins
//                  use UDP sockets and need nothing.
//
// Nothing is inheritable and no ambient capability is set, so the -e script
// runs as USER without capabilities. The bounding set keeps only these two
// and no_new_privs is set: the script, and anything it runs, can never gain
// more, not through a setuid binary (sudo, su) nor file capabilities; it
// inherits exactly the daemon's limits. What the daemon still has to read or
// remove as USER: the config file and its includes (reload re-reads them:
// they must stay readable by USER), and the PID file and control socket,
// which can only be removed at exit when USER may write their directory
// (systemd's RuntimeDirectory= does that). The control socket keeps root's
// ownership and mode 0660: the daemon never opens it again by path, and
// clients (root) connect as before.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace mfcd {

// USER[:GROUP] resolved against the user and group databases.
struct RunAs {
  std::string user;
  std::string group;  // the named GROUP, or USER's primary group
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;  // supplementary groups: USER's, plus gid
};

// Resolves USER[:GROUP] (names or numeric IDs). An unknown user or group is
// an error message; nothing is changed.
std::optional<std::string> resolve_run_as(const std::string& spec, RunAs& out);

// Switches to `who` keeping CAP_NET_ADMIN and CAP_NET_RAW, with the
// bounding set narrowed to them and no_new_privs set (see above).
// Returns an error message if any step fails; the caller must then exit,
// since the process may be half-switched.
std::optional<std::string> drop_privileges(const RunAs& who);

// Convenience: resolve_run_as + drop_privileges.
std::optional<std::string> drop_privileges(const std::string& spec);

}  // namespace mfcd
