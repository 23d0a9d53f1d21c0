// The two groups of the control socket's access rule: the socket's group
// (--socket-group, `socket-group`), whose members may connect and so call
// read methods, and the admin group (--admin-group, `admin-group`), whose
// members may also call write methods. A group on the command line wins
// over the config's. Names are looked up in the group database here, in
// the service; the rule itself (api::check_access) only compares gids.
#pragma once

#include <sys/types.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "api/api.hpp"
#include "core/config.hpp"
#include "service/options.hpp"

namespace mfcd {

struct GroupId {
  std::string name;  // as given: a name, or the GID's digits
  gid_t gid = 0;
  bool operator==(const GroupId&) const = default;
};

// A group name's GID, or nullopt if there is no such group.
using GroupLookup = std::function<std::optional<gid_t>(const std::string& name)>;
// The system's group database (getgrnam_r).
std::optional<gid_t> lookup_group(const std::string& name);

// NAME or a numeric GID. A number is taken as is: a GID needs no name in
// /etc/group to be a process's group.
std::optional<GroupId> resolve_group(const std::string& spec, const GroupLookup& lookup);

struct AccessGroups {
  std::optional<GroupId> socket;
  std::optional<GroupId> admin;
  bool operator==(const AccessGroups&) const = default;
};

// The groups in force: the command line's, else the config's. Unknown
// groups are errors, a config line's at its group's file:line:column
// ("FILE:LINE:COL: error: unknown group ..."), an option's named by it.
std::vector<std::string> resolve_access_groups(const Options& options, const core::Config& config,
                                               const GroupLookup& lookup, AccessGroups& out);

// The config's unknown groups as its diagnostics, so that a check (-F,
// config.check) and a reload find them where they find syntax errors.
void check_config_groups(const core::Config& config, const GroupLookup& lookup,
                         std::vector<core::Diagnostic>& diagnostics);

// The policy's rules for these groups.
api::AccessRules access_rules(const AccessGroups& groups);

}  // namespace mfcd
