#include "service/access_groups.hpp"

#include <grp.h>

#include <cerrno>
#include <charconv>

namespace mfcd {

std::optional<gid_t> lookup_group(const std::string& name) {
  std::vector<char> buf(1024);
  for (;;) {
    struct group entry {};
    struct group* found = nullptr;
    const int rc = ::getgrnam_r(name.c_str(), &entry, buf.data(), buf.size(), &found);
    if (rc == ERANGE && buf.size() < (size_t{1} << 20)) {
      buf.resize(buf.size() * 2);  // a group with many members
      continue;
    }
    if (rc != 0 || !found) return std::nullopt;
    return found->gr_gid;
  }
}

std::optional<GroupId> resolve_group(const std::string& spec, const GroupLookup& lookup) {
  if (spec.empty()) return std::nullopt;
  unsigned long n = 0;
  const auto [end, ec] = std::from_chars(spec.data(), spec.data() + spec.size(), n);
  if (ec == std::errc() && end == spec.data() + spec.size()) {
    // (gid_t)-1 means "unchanged" to chown(2): never a group.
    if (n >= static_cast<gid_t>(-1)) return std::nullopt;
    return GroupId{spec, static_cast<gid_t>(n)};
  }
  if (auto gid = lookup(spec)) return GroupId{spec, *gid};
  return std::nullopt;
}

namespace {

std::string unknown(const std::string& spec) {
  return "unknown group '" + spec + "' (not in the group database, nor a numeric GID)";
}

// One of the two groups: the option's if given, else the config line's.
void pick(const std::string& option, const char* flag,
          const std::optional<core::AccessGroupConf>& line, const GroupLookup& lookup,
          std::optional<GroupId>& out, std::vector<std::string>& errors) {
  out.reset();
  if (!option.empty()) {
    out = resolve_group(option, lookup);
    if (!out) errors.push_back(std::string(flag) + ": " + unknown(option));
  } else if (line) {
    out = resolve_group(line->group, lookup);
    if (!out) errors.push_back(core::Diagnostic{line->pos, unknown(line->group)}.str());
  }
}

}  // namespace

std::vector<std::string> resolve_access_groups(const Options& options, const core::Config& config,
                                               const GroupLookup& lookup, AccessGroups& out) {
  std::vector<std::string> errors;
  pick(options.socket_group, "--socket-group", config.socket_group, lookup, out.socket, errors);
  pick(options.admin_group, "--admin-group", config.admin_group, lookup, out.admin, errors);
  return errors;
}

void check_config_groups(const core::Config& config, const GroupLookup& lookup,
                         std::vector<core::Diagnostic>& diagnostics) {
  for (const auto* line : {&config.socket_group, &config.admin_group}) {
    if (*line && !resolve_group((*line)->group, lookup))
      diagnostics.push_back(core::Diagnostic{(*line)->pos, unknown((*line)->group)});
  }
}

api::AccessRules access_rules(const AccessGroups& groups) {
  api::AccessRules rules;
  if (groups.admin) {
    rules.admin_gid = groups.admin->gid;
    rules.admin_group = groups.admin->name;
  }
  return rules;
}

}  // namespace mfcd
