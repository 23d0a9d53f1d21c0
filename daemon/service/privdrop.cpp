// The privilege drop is the classic sequence, in the only order that works:
// keep the permitted capabilities across the UID change (PR_SET_KEEPCAPS),
// empty the bounding set but for the two kept capabilities while
// CAP_SETPCAP is still effective, set the groups while still root
// (setgroups needs CAP_SETGID), then the GID, then the UID (after which no
// way back exists), narrow the capability sets to the two the daemon still
// uses and make them effective (the UID change cleared the effective set),
// and last set no_new_privs, so that nothing this process or its children
// execute (a setuid binary, file capabilities) can gain more. Each step is
// checked; a half-done drop is a fatal error for the caller.
#include "service/privdrop.hpp"

#include <grp.h>
#include <pwd.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <iterator>

namespace mfcd {

namespace {

std::string errno_text(const char* what) {
  return std::string(what) + ": " + std::strerror(errno);
}

constexpr cap_value_t kKept[] = {CAP_NET_ADMIN, CAP_NET_RAW};

bool kept(cap_value_t cap) {
  for (cap_value_t k : kKept)
    if (k == cap) return true;
  return false;
}

// Leaves only kKept in the bounding set: the most any program this process
// executes could ever hold. cap_max_bits() is the running kernel's count.
std::optional<std::string> narrow_bounding_set() {
  const auto bits = static_cast<cap_value_t>(::cap_max_bits());
  for (cap_value_t cap = 0; cap < bits; ++cap) {
    if (kept(cap) || ::prctl(PR_CAPBSET_READ, static_cast<unsigned long>(cap), 0L, 0L, 0L) != 1)
      continue;
    if (::prctl(PR_CAPBSET_DROP, static_cast<unsigned long>(cap), 0L, 0L, 0L) != 0)
      return errno_text(("prctl(PR_CAPBSET_DROP, " + std::to_string(cap) + ")").c_str());
  }
  return std::nullopt;
}

std::optional<unsigned long> numeric_id(const std::string& text) {
  unsigned long n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return n;
}

}  // namespace

std::optional<std::string> resolve_run_as(const std::string& spec, RunAs& out) {
  std::string user = spec, group;
  if (auto colon = spec.find(':'); colon != std::string::npos) {
    user = spec.substr(0, colon);
    group = spec.substr(colon + 1);
    if (group.empty()) return "-p " + spec + ": empty group name";
  }
  if (user.empty()) return "-p " + spec + ": empty user name";

  std::vector<char> buf(16384);
  passwd pw{};
  passwd* pwp = nullptr;
  int rc = ::getpwnam_r(user.c_str(), &pw, buf.data(), buf.size(), &pwp);
  if (!pwp) {
    if (auto n = numeric_id(user)) {
      rc = ::getpwuid_r(static_cast<uid_t>(*n), &pw, buf.data(), buf.size(), &pwp);
    }
  }
  if (!pwp) {
    if (rc != 0) return "-p: cannot look up user " + user + ": " + std::strerror(rc);
    return "-p: no such user: " + user;
  }
  out.user = pw.pw_name;
  out.uid = pw.pw_uid;
  out.gid = pw.pw_gid;

  if (!group.empty()) {
    std::vector<char> gbuf(16384);
    struct group gr {};
    struct group* grp = nullptr;
    rc = ::getgrnam_r(group.c_str(), &gr, gbuf.data(), gbuf.size(), &grp);
    if (!grp) {
      if (auto n = numeric_id(group)) {
        rc = ::getgrgid_r(static_cast<gid_t>(*n), &gr, gbuf.data(), gbuf.size(), &grp);
      }
    }
    if (!grp) {
      if (rc != 0) return "-p: cannot look up group " + group + ": " + std::strerror(rc);
      return "-p: no such group: " + group;
    }
    out.group = gr.gr_name;
    out.gid = gr.gr_gid;
  } else {
    std::vector<char> gbuf(16384);
    struct group gr {};
    struct group* grp = nullptr;
    ::getgrgid_r(out.gid, &gr, gbuf.data(), gbuf.size(), &grp);
    out.group = grp ? std::string(grp->gr_name) : std::to_string(out.gid);
  }

  // USER's supplementary groups, as a login would give them; the chosen
  // group is included so that files group-owned by it stay readable.
  int n = 32;
  std::vector<gid_t> groups(static_cast<size_t>(n));
  while (::getgrouplist(out.user.c_str(), out.gid, groups.data(), &n) < 0) {
    if (n <= static_cast<int>(groups.size())) n = static_cast<int>(groups.size()) * 2;
    groups.resize(static_cast<size_t>(n));
  }
  groups.resize(static_cast<size_t>(n));
  out.groups = std::move(groups);
  return std::nullopt;
}

std::optional<std::string> drop_privileges(const RunAs& who) {
  if (::prctl(PR_SET_KEEPCAPS, 1L, 0L, 0L, 0L) != 0) return errno_text("prctl(PR_SET_KEEPCAPS)");
  if (auto err = narrow_bounding_set()) return err;
  if (::setgroups(who.groups.size(), who.groups.data()) != 0) return errno_text("setgroups");
  if (::setresgid(who.gid, who.gid, who.gid) != 0) return errno_text("setresgid");
  if (::setresuid(who.uid, who.uid, who.uid) != 0) return errno_text("setresuid");

  cap_t caps = ::cap_init();  // all sets empty
  if (!caps) return errno_text("cap_init");
  constexpr int n = static_cast<int>(std::size(kKept));
  bool ok = ::cap_set_flag(caps, CAP_PERMITTED, n, kKept, CAP_SET) == 0 &&
            ::cap_set_flag(caps, CAP_EFFECTIVE, n, kKept, CAP_SET) == 0 &&
            ::cap_set_proc(caps) == 0;
  int saved = errno;
  ::cap_free(caps);
  if (!ok) {
    errno = saved;
    return errno_text("cap_set_proc");
  }
  // From here on a UID change could not keep capabilities any more.
  if (::prctl(PR_SET_KEEPCAPS, 0L, 0L, 0L, 0L) != 0) return errno_text("prctl(PR_SET_KEEPCAPS)");
  ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0L, 0L, 0L);
  // Inherited by every child (the -e script) and irreversible.
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1L, 0L, 0L, 0L) != 0)
    return errno_text("prctl(PR_SET_NO_NEW_PRIVS)");

  // Make sure the switch is final: getting root back must be impossible.
  if (::getuid() != who.uid || ::geteuid() != who.uid || ::getgid() != who.gid ||
      ::getegid() != who.gid)
    return "privilege drop did not take effect";
  if (who.uid != 0 && ::setuid(0) == 0) return "privilege drop is reversible; refusing to run";
  return std::nullopt;
}

std::optional<std::string> drop_privileges(const std::string& spec) {
  RunAs who;
  if (auto err = resolve_run_as(spec, who)) return err;
  return drop_privileges(who);
}

}  // namespace mfcd
