// core::Joins: owners, ranges, links and the diffs they produce. Each diff
// is printed as lines ("+a1#2 (*, 225.1.1.1)" to join, "-..." to leave) so
// a test reads like the kernel changes it expects.
#include <doctest/doctest.h>

#include <unistd.h>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "budget.hpp"
#include "core/joins.hpp"
#include "kernel/membership.hpp"

using namespace mfcd::core;

namespace {

using Lines = std::vector<std::string>;

Prefix pfx(const std::string& text) {
  auto p = parse_prefix(text);
  REQUIRE_MESSAGE(p.prefix, p.error);
  return *p.prefix;
}

JoinKey key(const std::string& iif, const std::string& source, const std::string& group) {
  JoinKey k;
  k.iif = iif;
  if (!source.empty()) k.source = pfx(source);
  k.group = pfx(group);
  return k;
}

JoinConf conf(const std::string& iif, const std::string& source, const std::string& group,
              int line = 1) {
  auto k = key(iif, source, group);
  return JoinConf{k.iif, k.source, k.group, SourcePos{"test.conf", line, 1}};
}

Lines lines(const JoinDiff& d) {
  Lines out;
  for (const auto& m : d.join)
    out.push_back("+" + m.ifname + "#" + std::to_string(m.ifindex) + " " +
                  m.str().substr(m.ifname.size() + 1));
  for (const auto& m : d.leave)
    out.push_back("-" + m.ifname + "#" + std::to_string(m.ifindex) + " " +
                  m.str().substr(m.ifname.size() + 1));
  return out;
}

Links links(std::initializer_list<std::pair<const char*, int>> l) {
  Links out;
  for (const auto& [name, index] : l)
    out.push_back(Link{name, index, true, true, false});
  return out;
}

}  // namespace

TEST_CASE("expand_join covers exactly the range, group-major") {
  auto asm_range = expand_join(key("a1", "", "225.1.1.0/30"), 1024);
  REQUIRE(asm_range);
  REQUIRE(asm_range->size() == 4);
  CHECK(asm_range->front().group.str() == "225.1.1.0");
  CHECK(asm_range->back().group.str() == "225.1.1.3");
  CHECK(!asm_range->front().source);

  auto ssm = expand_join(key("a1", "10.0.0.0/31", "232.1.1.254/31"), 1024);
  REQUIRE(ssm);
  Lines got;
  for (const auto& sg : *ssm)
    got.push_back(sg.source->str() + "," + sg.group.str());
  CHECK(got == Lines{"10.0.0.0,232.1.1.254", "10.0.0.1,232.1.1.254", "10.0.0.0,232.1.1.255",
                     "10.0.0.1,232.1.1.255"});

  // Carries across bytes.
  auto carry = expand_join(key("a1", "", "225.1.0.0/23"), 1024);
  REQUIRE(carry);
  CHECK((*carry)[256].group.str() == "225.1.1.0");

  auto v6 = expand_join(key("a1", "2001:db8::/127", "ff05::1:0/126"), 1024);
  REQUIRE(v6);
  CHECK(v6->size() == 8);
  CHECK(v6->back().group.str() == "ff05::1:3");
  CHECK(v6->back().source->str() == "2001:db8::1");
}

TEST_CASE("expand_join refuses more than the limit, with a clear message") {
  CHECK(expand_join(key("a1", "", "225.1.0.0/22"), 1024));
  auto big = expand_join(key("a1", "", "225.1.0.0/21"), 1024);
  REQUIRE(!big);
  CHECK(big.error().code == Errc::limit);
  CHECK(big.error().message ==
        "join a1 (*, 225.1.0.0/21) covers 2048 memberships, more than the limit of 1024");
  // Sources times groups count.
  auto product = expand_join(key("a1", "10.0.0.0/26", "232.1.1.0/28"), 1000);
  REQUIRE(!product);
  CHECK(product.error().message.find("covers 1024 memberships") != std::string::npos);
  // The bound is a parameter.
  CHECK(!expand_join(key("a1", "", "225.1.1.0/30"), 3));
  // Enormous ranges do not wrap around.
  CHECK(!expand_join(key("a1", "::/0", "ff00::/8"), 1024));
}

TEST_CASE("validate_flow_key refuses bad addresses") {
  CHECK(validate_flow_key(key("a1", "", "225.1.1.1")));
  CHECK(validate_flow_key(key("a1", "2001:db8::1", "ff3e::1")));
  auto unicast = validate_flow_key(key("a1", "", "192.0.2.1"));
  REQUIRE(!unicast);
  CHECK(unicast.error().message == "group 192.0.2.1 is not a multicast address");
  auto mixed = validate_flow_key(key("a1", "2001:db8::1", "225.1.1.1"));
  REQUIRE(!mixed);
  CHECK(mixed.error().message ==
        "source 2001:db8::1 and group 225.1.1.1 are not the same address family");
  auto msrc = validate_flow_key(key("a1", "225.1.1.2", "225.1.1.1"));
  REQUIRE(!msrc);
  CHECK(msrc.error().message == "source 225.1.1.2 is a multicast address, not a sender");
  CHECK(!validate_flow_key(key("a1", "", "224.0.0.0/3")));
  CHECK(normalized(key("a1", "0.0.0.0", "225.1.1.1")).source == std::nullopt);
}

TEST_CASE("API joins are counted per owner; leave takes only the caller's share") {
  Joins j;
  j.set_links(links({{"a1", 2}}));
  auto first = j.join(key("a1", "", "225.1.1.1"), "alice");
  REQUIRE(first);
  CHECK(lines(*first) == Lines{"+a1#2 (*, 225.1.1.1)"});
  auto second = j.join(key("a1", "", "225.1.1.1"), "bob");
  REQUIRE(second);
  CHECK(second->empty());
  auto again = j.join(key("a1", "", "225.1.1.1"), "bob");
  REQUIRE(again);
  CHECK(again->empty());

  auto l1 = j.leave(key("a1", "", "225.1.1.1"), "alice");
  REQUIRE(l1);
  CHECK(l1->empty());
  REQUIRE(j.find(key("a1", "", "225.1.1.1")));
  CHECK(j.find(key("a1", "", "225.1.1.1"))->api_owners() == std::vector<std::string>{"bob"});

  auto other = j.leave(key("a1", "", "225.1.1.1"), "carol");
  REQUIRE(!other);
  CHECK(other.error().code == Errc::not_found);
  CHECK(other.error().message ==
        "join a1 (*, 225.1.1.1) is not held by owner 'carol' (held by bob)");

  auto l2 = j.leave(key("a1", "", "225.1.1.1"), "bob");
  REQUIRE(l2);
  CHECK(lines(*l2) == Lines{"-a1#2 (*, 225.1.1.1)"});
  CHECK(j.size() == 0);
  CHECK(j.wanted().empty());
}

TEST_CASE("leaving what was never joined is not_found; SSM needs the same source") {
  Joins j;
  j.set_links(links({{"a1", 2}}));
  auto none = j.leave(key("a1", "", "225.1.1.1"), "api");
  REQUIRE(!none);
  CHECK(none.error().code == Errc::not_found);
  CHECK(none.error().message == "no join a1 (*, 225.1.1.1)");

  REQUIRE(j.join(key("a1", "10.0.0.1", "232.1.1.1"), "api"));
  auto wrong = j.leave(key("a1", "10.0.0.2", "232.1.1.1"), "api");
  REQUIRE(!wrong);
  CHECK(wrong.error().message ==
        "no join a1 (10.0.0.2, 232.1.1.1); joined is a1 (10.0.0.1, 232.1.1.1)");
  auto asm_leave = j.leave(key("a1", "", "232.1.1.1"), "api");
  REQUIRE(!asm_leave);
  CHECK(j.size() == 1);
  auto right = j.leave(key("a1", "10.0.0.1", "232.1.1.1"), "api");
  REQUIRE(right);
  CHECK(lines(*right) == Lines{"-a1#2 (10.0.0.1, 232.1.1.1)"});
}

TEST_CASE("API joins refuse bad input and change nothing") {
  Joins j(4);
  j.set_links(links({{"a1", 2}}));
  auto missing = j.join(key("eth9", "", "225.1.1.1"), "api");
  REQUIRE(!missing);
  CHECK(missing.error().code == Errc::interface_unknown);
  CHECK(missing.error().message == "no interface eth9");
  auto unicast = j.join(key("a1", "", "10.1.1.1"), "api");
  REQUIRE(!unicast);
  CHECK(unicast.error().code == Errc::invalid_argument);
  auto big = j.join(key("a1", "", "225.1.1.0/29"), "api");
  REQUIRE(!big);
  CHECK(big.error().code == Errc::limit);
  CHECK(j.size() == 0);
  CHECK(j.wanted().empty());
  // Without require_link (config-like callers) a missing interface waits.
  auto waits = j.join(key("eth9", "", "225.1.1.1"), "api", false);
  REQUIRE(waits);
  CHECK(waits->empty());
  CHECK(!j.find(key("eth9", "", "225.1.1.1"))->ifindex);
}

TEST_CASE("config joins wait for their interface and follow it") {
  Joins j;
  auto d0 = j.load_config({conf("a1", "", "225.1.1.1"), conf("wg0", "10.0.0.1", "232.1.1.1")});
  CHECK(d0.empty());  // no links known yet
  CHECK(lines(j.set_links(links({{"a1", 2}}))) == Lines{"+a1#2 (*, 225.1.1.1)"});
  CHECK(!j.find(key("wg0", "10.0.0.1", "232.1.1.1"))->ifindex);

  // wg0 appears: only its join is made.
  CHECK(lines(j.set_links(links({{"a1", 2}, {"wg0", 7}}))) ==
        Lines{"+wg0#7 (10.0.0.1, 232.1.1.1)"});
  // Unrelated changes touch nothing.
  CHECK(j.set_links(links({{"a1", 2}, {"wg0", 7}, {"b1", 9}})).empty());
  // wg0 goes: its membership is dropped, the join waits.
  CHECK(lines(j.set_links(links({{"a1", 2}, {"b1", 9}}))) == Lines{"-wg0#7 (10.0.0.1, 232.1.1.1)"});
  // ... and comes back with a new ifindex.
  CHECK(lines(j.set_links(links({{"a1", 2}, {"b1", 9}, {"wg0", 11}}))) ==
        Lines{"+wg0#11 (10.0.0.1, 232.1.1.1)"});
  // Same name, new ifindex in one step: the new one joins, the old leaves.
  CHECK(lines(j.set_links(links({{"a1", 3}, {"b1", 9}, {"wg0", 11}}))) ==
        Lines{"+a1#3 (*, 225.1.1.1)", "-a1#2 (*, 225.1.1.1)"});
}

TEST_CASE("reload leaves exactly the removed lines and keeps API joins") {
  Joins j;
  j.set_links(links({{"a1", 2}, {"a2", 3}}));
  auto d0 = j.load_config({conf("a1", "", "225.1.1.1", 1), conf("a1", "", "225.1.1.2", 2),
                           conf("a2", "10.0.0.1", "232.1.1.1", 3)});
  CHECK(d0.join.size() == 3);
  REQUIRE(j.join(key("a1", "", "225.9.9.9"), "orch"));
  // The API also holds a config line.
  REQUIRE(j.join(key("a1", "", "225.1.1.2"), "orch"));

  auto d1 = j.load_config({conf("a1", "", "225.1.1.1", 1), conf("a1", "", "225.3.3.3", 2)});
  CHECK(lines(d1) == Lines{"+a1#2 (*, 225.3.3.3)", "-a2#3 (10.0.0.1, 232.1.1.1)"});
  // 225.1.1.2 stays (orch holds it), now only from the API.
  const auto* kept = j.find(key("a1", "", "225.1.1.2"));
  REQUIRE(kept);
  CHECK(!kept->from_config());
  CHECK(kept->from_api());
  REQUIRE(j.find(key("a1", "", "225.9.9.9")));

  // The same config again changes nothing at all.
  CHECK(j.load_config({conf("a1", "", "225.1.1.1", 1), conf("a1", "", "225.3.3.3", 2)}).empty());
}

TEST_CASE("overlapping joins share memberships; handing one over never leaves it") {
  Joins j;
  j.set_links(links({{"a1", 2}}));
  CHECK(j.load_config({conf("a1", "", "225.1.1.0/30")}).join.size() == 4);
  REQUIRE(j.join(key("a1", "", "225.1.1.1"), "api"));
  CHECK(j.wanted().at(Membership{2, "a1", pfx("225.1.1.1").addr, std::nullopt}) == 2);
  // The range line goes, a single line for .2 arrives: .2 is kept, .1 is kept
  // (API), .0 and .3 leave.
  auto d = j.load_config({conf("a1", "", "225.1.1.2")});
  CHECK(lines(d) == Lines{"-a1#2 (*, 225.1.1.0)", "-a1#2 (*, 225.1.1.3)"});
}

TEST_CASE("a config line beyond the range bound is kept as failed and joins nothing") {
  Joins j(16);
  j.set_links(links({{"a1", 2}}));
  auto d = j.load_config({conf("a1", "", "225.1.0.0/16"), conf("a1", "", "225.2.2.2")});
  CHECK(lines(d) == Lines{"+a1#2 (*, 225.2.2.2)"});
  const auto* bad = j.find(key("a1", "", "225.1.0.0/16"));
  REQUIRE(bad);
  CHECK(bad->error ==
        "join a1 (*, 225.1.0.0/16) covers 65536 memberships, more than the limit of 16");
  CHECK(lines(j.load_config({conf("a1", "", "225.2.2.2")})).empty());
  CHECK(!j.find(key("a1", "", "225.1.0.0/16")));
}

TEST_CASE("plan_config tells what a reload would join and leave, changing nothing") {
  Joins j;
  j.set_links(links({{"a1", 2}}));
  j.load_config({conf("a1", "", "225.1.1.1"), conf("a1", "", "225.1.1.2")});
  REQUIRE(j.join(key("a1", "", "225.1.1.2"), "api"));
  auto plan = j.plan_config({conf("a1", "", "225.1.1.1"), conf("a1", "", "225.1.1.3")});
  CHECK(plan.joined == std::vector<JoinKey>{key("a1", "", "225.1.1.3")});
  CHECK(plan.left.empty());  // 225.1.1.2 stays for the API owner
  auto plan2 = j.plan_config({});
  CHECK(plan2.left == std::vector<JoinKey>{key("a1", "", "225.1.1.1")});
  CHECK(j.size() == 2);
  CHECK(j.wanted().size() == 2);
}

TEST_CASE("200 joins on one interface from one config") {
  Joins j;
  j.set_links(links({{"a1", 2}}));
  std::vector<JoinConf> confs;
  for (int i = 0; i < 200; ++i)
    confs.push_back(
        conf("a1", "", "225.1." + std::to_string(i / 100) + "." + std::to_string(i % 100 + 1)));
  CHECK(j.load_config(confs).join.size() == 200);
  CHECK(j.wanted().size() == 200);
}

TEST_CASE("one API call costs work proportional to it, not to the table") {
  Joins j;
  j.set_links(links({{"a1", 2}}));
  std::vector<JoinConf> confs;
  for (int i = 0; i < 50000; ++i)
    confs.push_back(conf("a1", "",
                         "225." + std::to_string(i / 65536 + 1) + "." +
                             std::to_string(i / 256 % 256) + "." + std::to_string(i % 256)));
  CHECK(j.load_config(confs).join.size() == 50000);
  const mfcd::test::CpuTimer timer;
  for (int i = 0; i < 1000; ++i) {
    auto d = j.join(key("a1", "", "226.0.0.1"), "api");
    REQUIRE(d);
    auto l = j.leave(key("a1", "", "226.0.0.1"), "api");
    REQUIRE(l);
    REQUIRE(l->leave.size() == 1);
  }
  // 2000 calls against 50,000 joins: a full rescan would be ~10^8 steps.
  CHECK(timer.ms() < mfcd::test::budget_ms(500));
  // An unrelated link change looks at nothing.
  CHECK(j.set_links(links({{"a1", 2}, {"b9", 40}})).empty());
}

TEST_CASE("membership limits are read from the sysctls, with defaults") {
  namespace fs = std::filesystem;
  const fs::path root =
      fs::temp_directory_path() / ("joins_test_sysctl_" + std::to_string(::getpid()));
  fs::create_directories(root / "net/ipv4");
  fs::create_directories(root / "net/ipv6");
  std::ofstream(root / "net/ipv4/igmp_max_memberships") << "50\n";
  std::ofstream(root / "net/ipv6/mld_max_msf") << "32\n";
  auto l = mfcd::kernel::MembershipLimits::read(root.string());
  CHECK(l.v4_groups == 50);
  CHECK(l.v4_sources == 10);  // unreadable: default
  CHECK(l.v6_groups == 50);
  CHECK(l.v6_sources == 32);
  fs::remove_all(root);
}
