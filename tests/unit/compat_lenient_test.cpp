// What SMCRoute tolerates and scripts written for it rely on (issue 19,
// compat.md): under the smcrouted name a missing file, a malformed line and
// host bits in a range are warnings, and the rest of the file loads; under
// mfcd's own name they stay errors, in the same words for `mfcd -F` and
// config.check. An outbound interface equal to the inbound one is a hairpin,
// kept under every name, from the file and from the API alike.
#include <doctest/doctest.h>

#include <map>

#include "api/params.hpp"
#include "core/config.hpp"
#include "core/quick_start.hpp"
#include "core/rules.hpp"
#include "fakes.hpp"
#include "router_fixture.hpp"

namespace mfcd::core {
namespace {

using Lines = std::vector<std::string>;
using Names = std::vector<std::string>;

using Files = test::MemFs;

using test::diags;

ParseResult parse(const std::string& text, const ParseOptions& options) {
  Files none;
  return parse_config_text("s.conf", text, none.fs(), options);
}

const ParseOptions kMfcd{};
const ParseOptions kSmcroute = ParseOptions::smcroute();
const ParseOptions kSmcrouteCheck = ParseOptions::smcroute_check();

// The issue's own config: a bare phyint among valid lines, host bits in
// an SSM and an ASM range, and a hairpin.
const std::string kIssueConf =
    "phyint a1 enable\n"
    "phyint\n"
    "mgroup from a1 source 10.0.0.10 group 225.1.2.40/24\n"
    "mgroup from a2 group 225.3.2.250/24\n"
    "mroute from a1 group 225.2.2.5 to a1\n";

const Links kLinks{{"a1", 2}, {"a2", 3}, {"a3", 4}};

}  // namespace

TEST_CASE("compat: a bad line is skipped with a warning under smcrouted, refused under mfcd") {
  const ParseResult lenient = parse(kIssueConf, kSmcroute);
  CHECK(diags(lenient) ==
        Lines{"s.conf:2:7: warning: expected an interface name after 'phyint', got end of line; "
              "line skipped",
              "s.conf:3:39: warning: host bits set in 225.1.2.40/24; read as 225.1.2.0/24",
              "s.conf:4:22: warning: host bits set in 225.3.2.250/24; read as 225.3.2.0/24"});
  CHECK(lenient.ok());
  REQUIRE(lenient.config.phyints.size() == 1);
  REQUIRE(lenient.config.joins.size() == 2);
  CHECK(lenient.config.joins[0].source->str() == "10.0.0.10");
  CHECK(lenient.config.joins[0].group.str() == "225.1.2.0/24");
  CHECK(lenient.config.joins[1].group.str() == "225.3.2.0/24");
  REQUIRE(lenient.config.routes.size() == 1);
  CHECK(lenient.config.routes[0].oifs == Names{"a1"});

  // mfcd: the same lines, the same positions, as errors; nothing to start.
  const ParseResult strict = parse(kIssueConf, kMfcd);
  CHECK(diags(strict) ==
        Lines{"s.conf:2:7: error: expected an interface name after 'phyint', got end of line",
              "s.conf:3:39: error: host bits set in 225.1.2.40/24 (did you mean 225.1.2.0/24?)",
              "s.conf:4:22: error: host bits set in 225.3.2.250/24 (did you mean 225.3.2.0/24?)"});
  CHECK_FALSE(strict.ok());
  // The hairpin is no error under either name.
  CHECK(strict.config.routes.size() == 1);

  // smcrouted -F: host bits forgiven, the bad line not (SMCRoute's -F
  // fails on a bare phyint).
  const ParseResult check = parse(kIssueConf, kSmcrouteCheck);
  CHECK(diags(check) ==
        Lines{"s.conf:2:7: error: expected an interface name after 'phyint', got end of line",
              "s.conf:3:39: warning: host bits set in 225.1.2.40/24; read as 225.1.2.0/24",
              "s.conf:4:22: warning: host bits set in 225.3.2.250/24; read as 225.3.2.0/24"});
  CHECK_FALSE(check.ok());
}

TEST_CASE("compat: every kind of line error is a skipped line under smcrouted") {
  const std::string text =
      "bogus word\n"
      "phyint\n"
      "phyint 0123456789abcdef disable\n"
      "mroute from a1 group 225.1.1.1\n"
      "mroute from a1 source 225.9.9.9 group 300.1.1.1 to a2\n"
      "mgroup from a1 group 225.1.1.1 to a2\n"
      "mroute from a1 group 225.1.1.1 to a2 a3\n";
  const ParseResult r = parse(text, kSmcroute);
  CHECK(diags(r) ==
        Lines{"s.conf:1:1: warning: unknown keyword 'bogus'; line skipped",
              "s.conf:2:7: warning: expected an interface name after 'phyint', got end of line; "
              "line skipped",
              "s.conf:3:8: warning: interface name '0123456789abcdef' is longer than 15 "
              "characters; line skipped",
              "s.conf:4:31: warning: expected 'to' after the group address, got end of line; line "
              "skipped",
              // Two mistakes on one line: both reported, one line skipped.
              "s.conf:5:23: warning: source 225.9.9.9 is a multicast address, not a sender; "
              "line skipped",
              "s.conf:5:39: warning: '300.1.1.1' is not a valid group address (expected a "
              "multicast IPv4 or IPv6 address, optionally with /LEN); line skipped",
              // Words SMCRoute does not know are passed over, the rest read.
              "s.conf:6:32: warning: unexpected 'to' after the group address; ignored",
              "s.conf:6:35: warning: unexpected 'a2' after the group address; ignored"});
  CHECK(r.ok());
  CHECK(r.config.phyints.empty());
  REQUIRE(r.config.joins.size() == 1);
  CHECK(r.config.joins[0].iif == "a1");
  CHECK(r.config.joins[0].group.str() == "225.1.1.1");
  REQUIRE(r.config.routes.size() == 1);
  CHECK(r.config.routes[0].pos.line == 7);
  // The same file under mfcd: errors, each line refused at its first
  // stray word.
  const ParseResult strict = parse(text, kMfcd);
  CHECK(strict.diagnostics.size() == 7);
  CHECK_FALSE(strict.ok());
}

TEST_CASE("compat: a phyint line keeps what it can under smcrouted") {
  // Skipping these lines would enable what they disable.
  const std::string text =
      "phyint a1 disable ttl-threshold 0\n"
      "phyint a2 enable disable\n"
      "phyint a3 disable threshold 5 mrdisc\n"
      "phyint a4 disable ttl-threshold\n";
  const ParseResult r = parse(text, kSmcroute);
  CHECK(diags(r) ==
        Lines{"s.conf:1:33: warning: ttl-threshold must be 1..255, got 0; ignored",
              "s.conf:2:18: warning: 'disable' contradicts 'enable' earlier on this line; the "
              "later one counts",
              "s.conf:3:19: warning: unknown phyint option 'threshold' (expected 'enable', "
              "'disable', 'mrdisc' or 'ttl-threshold'); ignored",
              "s.conf:3:29: warning: unknown phyint option '5' (expected 'enable', 'disable', "
              "'mrdisc' or 'ttl-threshold'); ignored",
              "s.conf:4:32: warning: expected a number after 'ttl-threshold', got end of line; "
              "ignored"});
  REQUIRE(r.config.phyints.size() == 4);
  for (const PhyintConf& p : r.config.phyints) {
    CAPTURE(p.ifname);
    CHECK_FALSE(p.enabled);
    CHECK(p.ttl_threshold == 1);
  }
  CHECK(r.config.phyints[2].mrdisc);
  // mfcd: each line is an error and adds nothing.
  const ParseResult strict = parse(text, kMfcd);
  CHECK(strict.config.phyints.empty());
  CHECK(strict.diagnostics.size() == 4);
  CHECK_FALSE(strict.ok());
}

TEST_CASE("compat: host bits in sources and in route ranges are masked under smcrouted") {
  const ParseResult r = parse(
      "mroute from a1 source 10.0.0.10/24 group 225.1.2.3 to a2\n"
      "mroute from a1 group ff05::1:2/112 to a2\n"
      "mroute from a1 group 225.1.2.3/0 to a2\n",  // outside 224/4 once masked: still an error
      kSmcroute);
  CHECK(diags(r) ==
        Lines{"s.conf:1:23: warning: host bits set in 10.0.0.10/24; read as 10.0.0.0/24",
              "s.conf:2:22: warning: host bits set in ff05::1:2/112; read as ff05::1:0/112",
              "s.conf:3:22: warning: host bits set in 225.1.2.3/0; read as 0.0.0.0/0",
              "s.conf:3:22: warning: group 0.0.0.0/0 is not a multicast address; line skipped"});
  REQUIRE(r.config.routes.size() == 2);
  CHECK(r.config.routes[0].source->str() == "10.0.0.0/24");
  CHECK(r.config.routes[1].group.str() == "ff05::1:0/112");
}

TEST_CASE("compat: parse_prefix masks host bits only when asked") {
  const PrefixParse strict = parse_prefix("225.3.2.250/24");
  CHECK_FALSE(strict.prefix);
  CHECK(strict.error == "host bits set in 225.3.2.250/24 (did you mean 225.3.2.0/24?)");
  const PrefixParse masked = parse_prefix("225.3.2.250/24", true);
  REQUIRE(masked.prefix);
  CHECK(masked.masked);
  CHECK(masked.prefix->str() == "225.3.2.0/24");
  CHECK(masked.error == "host bits set in 225.3.2.250/24; read as 225.3.2.0/24");
  const PrefixParse clean = parse_prefix("225.3.2.0/24", true);
  CHECK_FALSE(clean.masked);
  CHECK(clean.error.empty());
  // Other mistakes stay mistakes.
  CHECK_FALSE(parse_prefix("225.3.2.0/33", true).prefix);
  CHECK_FALSE(parse_prefix("225.3.2.x/24", true).prefix);
}

TEST_CASE("compat: a missing file is an empty file under smcrouted, an error under mfcd") {
  Files files;
  const ParseResult lenient = parse_config_file("/etc/smcroute.conf", files.fs(), kSmcroute);
  CHECK(diags(lenient) == Lines{"/etc/smcroute.conf: warning: cannot read '/etc/smcroute.conf': "
                                "No such file or directory; taken as empty"});
  CHECK(lenient.ok());
  CHECK(lenient.config.routes.empty());

  const std::string error =
      "/etc/mfcd.conf: error: cannot read '/etc/mfcd.conf': No such file or directory";
  CHECK(diags(parse_config_file("/etc/mfcd.conf", files.fs(), kMfcd)) == Lines{error});
  // smcrouted -F on a missing file fails too.
  CHECK_FALSE(parse_config_file("/etc/smcroute.conf", files.fs(), kSmcrouteCheck).ok());
}

TEST_CASE("compat: an include that cannot be read is a skipped line under smcrouted") {
  Files files;
  files.files["/etc/smcroute.conf"] =
      "include /etc/smcroute.d/missing.conf\n"
      "include /etc/smcroute.d/bad.conf\n"
      "mroute from a1 group 225.1.1.1 to a2\n";
  files.files["/etc/smcroute.d/bad.conf"] = "phyint\nmroute from a1 group 225.1.1.2 to a2\n";
  const ParseResult r = parse_config_file("/etc/smcroute.conf", files.fs(), kSmcroute);
  // Each error once, turned where it was made: the file's own bad line
  // in that file, not again at the include line.
  CHECK(diags(r) ==
        Lines{"/etc/smcroute.conf:1:9: warning: cannot read '/etc/smcroute.d/missing.conf': No "
              "such file or directory; line skipped",
              "/etc/smcroute.d/bad.conf:1:7: warning: expected an interface name after 'phyint', "
              "got end of line; line skipped"});
  CHECK(r.ok());
  CHECK(r.config.routes.size() == 2);
  CHECK_FALSE(parse_config_file("/etc/smcroute.conf", files.fs(), kMfcd).ok());

  // An include loop is one more line to skip, not a hang.
  files.files["/etc/loop.conf"] = "include /etc/loop.conf\nmroute from a1 group 225.1.1.3 to a2\n";
  const ParseResult loop = parse_config_file("/etc/loop.conf", files.fs(), kSmcroute);
  CHECK(loop.ok());
  CHECK(loop.config.routes.size() == 1);
  REQUIRE(loop.diagnostics.size() == 1);
  CHECK(loop.diagnostics[0].str() ==
        "/etc/loop.conf:1:9: warning: include loop: /etc/loop.conf -> /etc/loop.conf; line "
        "skipped");
}

TEST_CASE("compat: a hairpin reaches the kernel entry, from the file") {
  const Desired d = test::desired(
      "mroute from a1 source 10.0.0.1 group 225.2.2.5 to a1\n"
      "mroute from a1 source 10.0.0.1 group 225.2.2.6 to a2 a1\n"
      // A wildcard does not make one: eth+ to eth+ is "among them".
      "mroute from a+ source 10.0.0.1 group 225.2.2.7 to a+\n"
      "mroute from a+ source 10.0.0.1 group 225.2.2.8 to a1 a2\n"
      "mroute from a1 source 10.0.0.1 group 225.2.2.9 to a+\n",
      kLinks);
  const auto oifs = [&](const char* group) {
    auto it = d.mfc.find(SgKey{*Addr::parse("10.0.0.1"), *Addr::parse(group)});
    REQUIRE(it != d.mfc.end());
    CHECK(it->second.iif == "a1");
    return it->second.oifs;
  };
  CHECK(oifs("225.2.2.5") == Names{"a1"});
  CHECK(oifs("225.2.2.6") == Names{"a2", "a1"});
  CHECK(oifs("225.2.2.7") == Names{"a2", "a3"});
  CHECK(oifs("225.2.2.8") == Names{"a2"});
  CHECK(oifs("225.2.2.9") == Names{"a2", "a3"});
}

TEST_CASE("compat: the quick start writes a hairpin as the regular start does") {
  const Config config = test::config_from(
      "mroute from a1 source 10.0.0.1 group 225.2.2.5 to a1\n"
      "mroute from a2 source 10.0.0.1 group 225.2.2.6 to a3 a2\n");
  auto quick = plan_quick_start(config, kLinks, true);
  REQUIRE(quick);
  test::FakeKernel fast;
  Installed fast_installed;
  (void)test::apply(fast, fast_installed, quick_start_plan(config, *quick));
  test::FakeKernel regular;
  Installed installed;
  Intent intent;
  intent.load_config(config);
  (void)test::apply(regular, installed, make_plan(installed, compute_desired(intent, kLinks)));
  CHECK(fast.table() == regular.table());
  // And the regular reconcile after the quick start has nothing to do.
  CHECK(make_plan(fast_installed, compute_desired(intent, kLinks)).ops.empty());
  const auto calls = fast.calls;
  CHECK(std::find(calls.begin(), calls.end(), "add_mfc 10.0.0.1,225.2.2.5 iif=a1 oifs=a1") !=
        calls.end());
}

}  // namespace mfcd::core

namespace mfcd::test {

TEST_CASE("compat: a hairpin from the API, and one learned from a (*,G) rule") {
  RouterFixture f({{"a1", 2}, {"a2", 3}});
  f.start("phyint a1 enable\nphyint a2 enable\nmroute from a1 group 225.1.1.0/24 to a1\n");
  f.kernel.calls.clear();

  // smcroutectl add a1 10.0.0.1 224.0.1.20 a1
  const auto out = f.router.add_route(route_request("a1", "10.0.0.1", "224.0.1.20", {"a1"}));
  CHECK(std::holds_alternative<std::optional<core::RouteIntent>>(out));
  CHECK(f.kernel.calls == Calls{"add_mfc 10.0.0.1,224.0.1.20 iif=a1 oifs=a1"});
  f.kernel.calls.clear();

  // Traffic for the rule arrives on a1 (VIF 0): its entry goes back out a1.
  f.upcall(core::UpcallType::nocache, 0, "192.0.2.7", "225.1.1.9");
  CHECK(f.kernel.calls == Calls{"add_mfc 192.0.2.7,225.1.1.9 iif=a1 oifs=a1"});
  f.check_consistent();
}

TEST_CASE("compat: API requests with host bits: masked under smcrouted, refused under mfcd") {
  const nlohmann::json join = {{"iif", "a2"}, {"group", "225.3.2.250/24"}};
  CHECK_THROWS_AS(api::join_request(join), rpc::ParamError);
  try {
    (void)api::join_request(join);
  } catch (const rpc::ParamError& e) {
    CHECK(e.param == "group");
    CHECK(e.message == "host bits set in 225.3.2.250/24 (did you mean 225.3.2.0/24?)");
  }
  const api::JoinRequest masked = api::join_request(join, true);
  CHECK(masked.key.group.str() == "225.3.2.0/24");

  const nlohmann::json ssm = {
      {"iif", "a1"}, {"source", "10.0.0.10"}, {"group", "225.1.2.40/24"}, {"owner", "x"}};
  const api::JoinRequest s = api::join_request(ssm, true);
  CHECK(s.key.source->str() == "10.0.0.10");
  CHECK(s.key.group.str() == "225.1.2.0/24");

  const nlohmann::json route = {
      {"iif", "a1"}, {"source", "10.0.0.10/24"}, {"group", "225.1.2.40/24"}, {"oifs", {"a1"}}};
  CHECK_THROWS_AS(api::route_request(route, true), rpc::ParamError);
  const core::RouteRequest r = api::route_request(route, true, true);
  CHECK(r.key.source->str() == "10.0.0.0/24");
  CHECK(r.key.group.str() == "225.1.2.0/24");
  // The inbound interface as the only outbound one is a request like any.
  CHECK(r.oifs == std::vector<std::string>{"a1"});
}

}  // namespace mfcd::test
