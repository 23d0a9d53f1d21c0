// Read-only access (issue 17): the policy that lets root and the admin
// group's members write, the --socket-group / --admin-group options, the
// socket-group / admin-group config lines, and how the service resolves
// them (with a fake group database: the tests must not depend on the
// host's /etc/group).
#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/api.hpp"
#include "fakes.hpp"
#include "service/access_groups.hpp"
#include "service/options.hpp"
#include "service/safe_files.hpp"

using nlohmann::json;
using Lines = std::vector<std::string>;

namespace {

using namespace mfcd;

rpc::CallContext caller(uint32_t uid, uint32_t gid, std::vector<uint32_t> groups = {}) {
  rpc::CallContext c;
  c.uid = uid;
  c.gid = gid;
  c.pid = 4242;
  c.groups = std::move(groups);
  return c;
}

const api::AccessRules kAdmins{2001, "mfcadmin"};

bool may(const api::AccessRules& rules, rpc::Access access, const rpc::CallContext& c) {
  return !api::check_access(rules, access, "route.add", c).has_value();
}

}  // namespace

TEST_CASE("access: root writes, anyone connected reads, others may not write") {
  using rpc::Access;
  for (const auto& rules : {api::AccessRules{}, kAdmins}) {
    CHECK(may(rules, Access::write, caller(0, 0)));
    CHECK(may(rules, Access::write, caller(0, 1000)));  // uid 0 in any group
    CHECK(may(rules, Access::read, caller(1000, 1000)));
    CHECK(may(rules, Access::read, caller(1000, 2000, {2000})));  // the socket's group
    CHECK_FALSE(may(rules, Access::write, caller(1000, 1000)));
    CHECK_FALSE(may(rules, Access::write, caller(1000, 2000, {2000, 2002})));
  }
}

TEST_CASE("access: the admin group's members write, by primary or supplementary group") {
  using rpc::Access;
  CHECK(may(kAdmins, Access::write, caller(1001, 2001)));                // primary
  CHECK(may(kAdmins, Access::write, caller(1001, 1001, {2000, 2001})));  // supplementary
  CHECK_FALSE(may(kAdmins, Access::write, caller(1001, 1001, {2000, 2002})));
  // Without an admin group nobody but root writes, whatever gid 2001 is.
  CHECK_FALSE(may(api::AccessRules{}, Access::write, caller(1001, 2001, {2001})));
}

TEST_CASE("access: the refusal names the method and the group that would do") {
  const auto refused =
      api::check_access(kAdmins, rpc::Access::write, "route.add", caller(1000, 2000, {2000}));
  REQUIRE(refused);
  CHECK(refused->code == rpc::kPermissionDenied);
  CHECK(refused->message ==
        "permission denied: route.add changes the daemon; it needs root or membership of group "
        "\"mfcadmin\"");
  CHECK(refused->data ==
        json{{"uid", 1000},
             {"method", "route.add"},
             {"access", "write"},
             {"needs", {{"uid", 0}, {"group", {{"name", "mfcadmin"}, {"gid", 2001}}}}}});
  const auto root_only = api::check_access({}, rpc::Access::write, "daemon.stop", caller(7, 7));
  REQUIRE(root_only);
  CHECK(root_only->message ==
        "permission denied: daemon.stop changes the daemon; only root may "
        "call it");
  CHECK(root_only->data.at("needs") == json{{"uid", 0}});
}

TEST_CASE("access: the rules on a dispatcher can be replaced (a reload)") {
  rpc::Dispatcher d;
  d.add("w", rpc::Access::write,
        [](const json&, const rpc::CallContext&) -> rpc::HandlerResult { return json::object(); });
  const auto code = [&d] {
    const auto reply = d.handle(R"({"jsonrpc":"2.0","id":1,"method":"w"})", caller(5, 5, {2001}));
    const json r = json::parse(*reply);
    return r.contains("error") ? r["error"]["code"].get<int>() : 0;
  };
  api::set_access_rules(d, {});
  CHECK(code() == rpc::kPermissionDenied);
  api::set_access_rules(d, kAdmins);
  CHECK(code() == 0);
}

// --- options ---------------------------------------------------------------------------

TEST_CASE("access: --socket-group and --admin-group take a name or a GID") {
  auto a = parse_args({"mfcd", "--socket-group", "mfcread", "--admin-group=4242"});
  CHECK(a.action == ParsedArgs::Action::run);
  CHECK(a.options.socket_group == "mfcread");
  CHECK(a.options.admin_group == "4242");
  auto none = parse_args({"mfcd"});
  CHECK(none.options.socket_group.empty());
  CHECK(none.options.admin_group.empty());
  auto missing = parse_args({"mfcd", "--admin-group"});
  CHECK(missing.action == ParsedArgs::Action::exit_usage);
  CHECK(missing.error == "option '--admin-group' needs a value");
  auto empty = parse_args({"mfcd", "--socket-group="});
  CHECK(empty.action == ParsedArgs::Action::exit_usage);
  CHECK(empty.error == "--socket-group needs a group name or a numeric GID");
  // --list-methods, the other option without a letter, still works.
  CHECK(parse_args({"mfcd", "--list-methods"}).options.list_methods);
  const std::string help = usage_text(none.options);
  CHECK(help.find("--socket-group GROUP") != std::string::npos);
  CHECK(help.find("--admin-group GROUP") != std::string::npos);
}

// --- config lines ----------------------------------------------------------------------

namespace {

core::ParseResult parse(const std::string& text) {
  test::MemFs mem;
  return core::parse_config_text("test.conf", text, mem.fs());
}

}  // namespace

TEST_CASE("access: socket-group and admin-group lines, with their positions") {
  const auto r = parse("# access\nsocket-group mfcread\n  admin-group\t4242\n");
  CHECK(test::diags(r) == Lines{});
  REQUIRE(r.config.socket_group);
  REQUIRE(r.config.admin_group);
  CHECK(r.config.socket_group->group == "mfcread");
  CHECK(r.config.socket_group->pos.str() == "test.conf:2:14");
  CHECK(r.config.admin_group->group == "4242");
  CHECK(r.config.admin_group->pos.str() == "test.conf:3:15");
  CHECK_FALSE(parse("mroute from a1 group 225.1.1.1 to a2\n").config.admin_group);
}

TEST_CASE("access: bad socket-group and admin-group lines are errors at their token") {
  CHECK(test::diags(parse("socket-group\n")) ==
        Lines{"test.conf:1:13: error: expected a group name or GID after 'socket-group', got end "
              "of line"});
  CHECK(test::diags(parse("admin-group -wheel\n")) ==
        Lines{"test.conf:1:13: error: expected a group name or GID after 'admin-group', got "
              "'-wheel'"});
  CHECK(test::diags(parse("admin-group a/b\n")) ==
        Lines{"test.conf:1:13: error: expected a group name or GID after 'admin-group', got "
              "'a/b'"});
  CHECK(test::diags(parse("socket-group mfcread wheel\n")) ==
        Lines{"test.conf:1:22: error: expected end of line after the group, got 'wheel'"});
  const auto twice = parse("admin-group a\nadmin-group b\n");
  CHECK(test::diags(twice) ==
        Lines{"test.conf:2:13: error: 'admin-group' given twice; the first is at test.conf:1:13"});
  CHECK(twice.config.admin_group->group == "a");
}

// --- resolving the names -----------------------------------------------------------------

namespace {

GroupLookup fake_groups() {
  return [](const std::string& name) -> std::optional<gid_t> {
    static const std::map<std::string, gid_t> db{{"mfcread", 2000}, {"mfcadmin", 2001}};
    auto it = db.find(name);
    if (it == db.end()) return std::nullopt;
    return it->second;
  };
}

}  // namespace

TEST_CASE("access: a group is a name in the database or a numeric GID") {
  CHECK(resolve_group("mfcadmin", fake_groups())->gid == 2001);
  CHECK(resolve_group("3000", fake_groups())->gid == 3000);  // a GID needs no name
  CHECK(resolve_group("3000", fake_groups())->name == "3000");
  CHECK_FALSE(resolve_group("nosuch", fake_groups()));
  CHECK_FALSE(resolve_group("4294967295", fake_groups()));  // chown's "unchanged"
  CHECK_FALSE(resolve_group("", fake_groups()));
}

TEST_CASE("access: the options win over the config; unknown groups say where") {
  const auto config = parse("socket-group mfcread\nadmin-group nosuch\n").config;
  Options options;
  AccessGroups groups;
  CHECK(resolve_access_groups(options, config, fake_groups(), groups) ==
        Lines{"test.conf:2:13: error: unknown group 'nosuch' (not in the group database, nor a "
              "numeric GID)"});
  options.admin_group = "mfcadmin";
  CHECK(resolve_access_groups(options, config, fake_groups(), groups) == Lines{});
  CHECK(groups.socket->gid == 2000);
  CHECK(groups.admin->gid == 2001);
  const auto rules = access_rules(groups);
  CHECK(rules.admin_gid == 2001u);
  CHECK(rules.admin_group == "mfcadmin");
  options.socket_group = "typo";
  CHECK(resolve_access_groups(options, config, fake_groups(), groups) ==
        Lines{"--socket-group: unknown group 'typo' (not in the group database, nor a numeric "
              "GID)"});
  std::vector<core::Diagnostic> found;
  check_config_groups(config, fake_groups(), found);
  REQUIRE(found.size() == 1);
  CHECK(found[0].str() ==
        "test.conf:2:13: error: unknown group 'nosuch' (not in the group database, nor a numeric "
        "GID)");
  CHECK(access_rules(AccessGroups{}).admin_gid == std::nullopt);
}

// --- the socket's group ----------------------------------------------------------------

TEST_CASE("access: the claimed socket has the group asked for, and a reload may change it") {
  const auto dir =
      std::filesystem::temp_directory_path() / ("mfcd-access-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = dir / "s.sock";
  // Our own group is one any user may give a file it owns.
  auto claim = claim_socket(path, 0660, 8, ::getegid());
  REQUIRE(claim.socket);
  struct stat st {};
  REQUIRE(::lstat(path.c_str(), &st) == 0);
  CHECK(st.st_gid == ::getegid());
  CHECK((st.st_mode & 0777) == 0660);
  CHECK(set_socket_group(path, claim.socket->id, ::getegid()) == std::nullopt);
  // A group we are not in: root may give it, anyone else is refused. Both
  // show that the group is really set (our own would be there anyway).
  const gid_t other = 54321;
  const auto changed = set_socket_group(path, claim.socket->id, other);
  if (::geteuid() == 0) {
    CHECK(changed == std::nullopt);
    REQUIRE(::lstat(path.c_str(), &st) == 0);
    CHECK(st.st_gid == other);
  } else {
    CHECK(changed == "cannot give " + path +
                         " group 54321: Operation not permitted (this takes CAP_CHOWN, or the "
                         "daemon a member of that group)");
  }
  // Not ours any more (replaced by another file): left alone.
  // (Made while the socket still exists, so that it cannot reuse its inode.)
  { std::ofstream(path + ".new") << "x"; }
  std::filesystem::rename(path + ".new", path);
  ::close(claim.socket->fd);
  CHECK(set_socket_group(path, claim.socket->id, ::getegid()) ==
        path + " is no longer this daemon's socket");
  std::filesystem::remove_all(dir);
}
