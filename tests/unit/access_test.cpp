// Read-only access (issue 17): the policy that lets root and the admin
// group's members write, the --socket-group / --admin-group options, the
// socket-group / admin-group config lines, and how the service resolves
// them (with a fake group database: the tests must not depend on the
// host's /etc/group).
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/api.hpp"

using nlohmann::json;

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
