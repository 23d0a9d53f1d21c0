// Control-socket slots per peer uid (service/conn_limits.hpp): one user
// cannot take every slot, and root always finds one.
#include <doctest/doctest.h>
#include <sys/resource.h>

#include <algorithm>
#include <string>

#include "service/conn_limits.hpp"

using mfcd::ConnLimits;
using mfcd::ConnTable;

TEST_CASE("a user is held to its own share of the connections") {
  ConnTable table(ConnLimits{.shared = 10, .per_uid = 3, .root_reserve = 2});
  for (int i = 0; i < 3; ++i)
    CHECK(table.admit(1000) == "");
  CHECK(table.admit(1000) == "too many connections from uid 1000 (limit 3)");
  CHECK(table.count(1000) == 3);
  // Others are not affected.
  CHECK(table.admit(1001) == "");
  CHECK(table.admit(0) == "");
  table.release(1000);
  CHECK(table.admit(1000) == "");
  CHECK(table.total() == 5);
}

TEST_CASE("root connects when every shared slot is taken, up to its reserve") {
  ConnTable table(ConnLimits{.shared = 4, .per_uid = 2, .root_reserve = 2});
  CHECK(table.admit(1000) == "");
  CHECK(table.admit(1000) == "");
  CHECK(table.admit(1001) == "");
  CHECK(table.admit(1001) == "");
  CHECK(table.admit(1002) == "too many clients connected (4)");
  CHECK(table.admit(0) == "");
  CHECK(table.admit(0) == "");
  CHECK(table.admit(0) == "too many clients connected (6)");
  // A slot a user gives back goes to whoever asks next; root's extra
  // connections do not count against the users.
  table.release(1001);
  CHECK(table.admit(0) == "");
  CHECK(table.admit(1002) == "too many clients connected (6)");
  table.release(0);
  table.release(0);
  table.release(0);
  CHECK(table.admit(1002) == "");
}

TEST_CASE("root's own connections can fill the shared slots as well") {
  ConnTable table(ConnLimits{.shared = 2, .per_uid = 1, .root_reserve = 1});
  CHECK(table.admit(0) == "");
  CHECK(table.admit(0) == "");
  CHECK(table.admit(0) == "");
  CHECK(table.admit(0) == "too many clients connected (3)");
  CHECK(table.admit(5) == "too many clients connected (3)");
}

TEST_CASE("releasing what was never admitted changes nothing") {
  ConnTable table;
  table.release(1000);
  CHECK(table.total() == 0);
  CHECK(table.admit(1000) == "");
  CHECK(table.total() == 1);
}

TEST_CASE("the defaults allow at least 1024 connections") {
  const ConnLimits defaults;
  CHECK(defaults.shared >= 1024);
  CHECK(defaults.root_reserve > 0);
  CHECK(defaults.per_uid < defaults.shared);
}

TEST_CASE("the open file limit is raised to the hard limit and fitted") {
  rlimit saved{};
  REQUIRE(::getrlimit(RLIMIT_NOFILE, &saved) == 0);
  rlimit low = saved;
  low.rlim_cur = saved.rlim_max == RLIM_INFINITY ? 512 : std::min<rlim_t>(512, saved.rlim_max);
  REQUIRE(::setrlimit(RLIMIT_NOFILE, &low) == 0);

  std::string note;
  const size_t fit = mfcd::fit_descriptor_limit(100, 50, note);
  rlimit now{};
  REQUIRE(::getrlimit(RLIMIT_NOFILE, &now) == 0);
  CHECK(now.rlim_cur == saved.rlim_max);
  CHECK(fit == 100);
  if (low.rlim_cur < saved.rlim_max) CHECK(note.find("raised the open file limit from 512") == 0);

  // More than the hard limit allows: what fits next to the reserved.
  if (saved.rlim_max != RLIM_INFINITY && saved.rlim_max < 1'000'000) {
    note.clear();
    CHECK(mfcd::fit_descriptor_limit(2'000'000, 100, note) == saved.rlim_max - 100);
    CHECK(note.find("allows only") != std::string::npos);
  }
  REQUIRE(::setrlimit(RLIMIT_NOFILE, &saved) == 0);
}
