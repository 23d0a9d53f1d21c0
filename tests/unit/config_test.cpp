// The config parser, checked the way an operator meets it: every directive
// parsed into the model, and every mistake reported with its exact text and
// its exact file:line:column. Files live in an in-memory FileSystem.
#include <doctest/doctest.h>
#include <fnmatch.h>

#include <map>

#include "core/config.hpp"
#include "fakes.hpp"

using namespace mfcd::core;

namespace {

using mfcd::test::MemFs;

ParseResult parse(const std::string& text) {
  MemFs mem;
  return parse_config_text("test.conf", text, mem.fs());
}

using mfcd::test::diags;

using Lines = std::vector<std::string>;

// The single diagnostic a one-line config produces.
std::string only_diag(const std::string& text) {
  const ParseResult r = parse(text);
  REQUIRE(r.diagnostics.size() == 1);
  return r.diagnostics[0].str();
}

Prefix pfx(const char* s) {
  return *parse_prefix(s).prefix;
}

}  // namespace

TEST_CASE("config: NameList keeps names in order, one string for all") {
  NameList none;
  CHECK(none.empty());
  CHECK(none.size() == 0);
  CHECK(none.begin() == none.end());
  CHECK(none == std::vector<std::string>{});

  NameList one{"eth0"};
  CHECK(one.size() == 1);
  CHECK(one.front() == "eth0");
  CHECK(one.back() == "eth0");
  CHECK(one == std::vector<std::string>{"eth0"});

  NameList list;
  list.push_back("a");
  list.push_back("veth-long-name1");
  list.push_back("b2");
  CHECK(list.size() == 3);
  CHECK(list.front() == "a");
  CHECK(list.back() == "b2");
  CHECK(list.to_vector() == std::vector<std::string>{"a", "veth-long-name1", "b2"});
  CHECK(list == NameList{"a", "veth-long-name1", "b2"});
  CHECK_FALSE(list == NameList{"a", "veth-long-name1"});
  // A name that is a prefix of another is still a different name.
  CHECK_FALSE(list == std::vector<std::string>{"a", "veth-long-name", "b2"});
  CHECK_FALSE(list == std::vector<std::string>{"a", "veth-long-name1", "b2", "c"});
  std::vector<std::string_view> seen(list.begin(), list.end());
  CHECK(seen == std::vector<std::string_view>{"a", "veth-long-name1", "b2"});
}

TEST_CASE("config: FileName compares by text, shared or not") {
  const FileName a("/etc/smcroute.conf");
  const FileName shared = a;
  const FileName other(std::string("/etc/smcroute.conf"));
  CHECK(shared == a);
  CHECK(other == a);
  CHECK(a == "/etc/smcroute.conf");
  CHECK(a == std::string("/etc/smcroute.conf"));
  CHECK_FALSE(a == "/etc/other.conf");
  CHECK(FileName().str().empty());
  CHECK(SourcePos{a, 3, 7}.str() == "/etc/smcroute.conf:3:7");
}

TEST_CASE("config: empty, blank and comment-only input") {
  const ParseResult r = parse("\n   \n# a comment\n\t# indented comment\n");
  CHECK(r.ok());
  CHECK(r.diagnostics.empty());
  CHECK(r.config.routes.empty());
  CHECK(r.config.files == Lines{"test.conf"});
  CHECK(parse("").ok());
}

TEST_CASE("config: phyint with options in any order") {
  const ParseResult r = parse(
      "phyint eth0\n"
      "phyint eth1 disable\n"
      "phyint eth2 enable mrdisc ttl-threshold 5\n"
      "phyint eth3 ttl-threshold 255 mrdisc disable\n"
      "phyint veth+ enable # wildcard\n");
  REQUIRE(r.ok());
  const auto& p = r.config.phyints;
  REQUIRE(p.size() == 5);
  CHECK(p[0].ifname == "eth0");
  CHECK(p[0].enabled);
  CHECK_FALSE(p[0].mrdisc);
  CHECK(p[0].ttl_threshold == 1);
  CHECK(p[0].pos == SourcePos{"test.conf", 1, 1});
  CHECK_FALSE(p[1].enabled);
  CHECK(p[2].enabled);
  CHECK(p[2].mrdisc);
  CHECK(p[2].ttl_threshold == 5);
  CHECK_FALSE(p[3].enabled);
  CHECK(p[3].mrdisc);
  CHECK(p[3].ttl_threshold == 255);
  CHECK(p[4].ifname == "veth+");
  CHECK(p[4].pos.line == 5);
}

TEST_CASE("config: mroute forms") {
  const ParseResult r = parse(
      "mroute from eth0 source 10.0.0.1 group 225.1.1.1 to eth1 eth2\n"
      "mroute from eth0 group 225.1.2.3 source 192.168.1.42 to eth1 eth2\n"  // SMCRoute's README
                                                                             // order
      "mroute from eth0 group 225.1.1.1 to eth1\n"
      "mroute from eth0 source 0.0.0.0 group 225.1.1.1 to eth1\n"
      "mroute from eth+ source 10.0.0.0/24 group 225.1.0.0/16 to eth1 wlan+\n"
      "  mroute   from\teth0 source 2001:db8::1 group ff05::1 to eth1\n"
      "mroute from eth0 source :: group ff05::/16 to eth1\n"
      "mroute group 225.1.1.1 from eth0 to eth1\n");
  CHECK(diags(r).empty());
  const auto& rt = r.config.routes;
  REQUIRE(rt.size() == 8);
  CHECK(rt[0].iif == "eth0");
  CHECK(rt[0].source == pfx("10.0.0.1"));
  CHECK(rt[0].group == pfx("225.1.1.1"));
  CHECK(rt[0].oifs == Lines{"eth1", "eth2"});
  CHECK(rt[0].pos == SourcePos{"test.conf", 1, 1});
  CHECK(rt[1].source == pfx("192.168.1.42"));
  CHECK(rt[1].group == pfx("225.1.2.3"));
  CHECK_FALSE(rt[2].source.has_value());
  CHECK_FALSE(rt[3].source.has_value());  // 0.0.0.0 means (*,G)
  CHECK(rt[4].iif == "eth+");
  CHECK(rt[4].source == pfx("10.0.0.0/24"));
  CHECK(rt[4].group == pfx("225.1.0.0/16"));
  CHECK(rt[4].oifs == Lines{"eth1", "wlan+"});
  CHECK(rt[5].source == pfx("2001:db8::1"));
  CHECK(rt[5].group == pfx("ff05::1"));
  CHECK(rt[5].pos == SourcePos{"test.conf", 6, 3});
  CHECK_FALSE(rt[6].source.has_value());  // :: means (*,G)
  CHECK(rt[6].group == pfx("ff05::/16"));
  CHECK(rt[7].iif == "eth0");
}

TEST_CASE("config: mgroup and ssmgroup") {
  const ParseResult r = parse(
      "mgroup from eth0 group 225.1.2.3\n"
      "mgroup from eth0 source 10.0.0.1 group 232.1.1.1\n"
      "mgroup from eth0 group 225.1.2.0/24\n"
      "ssmgroup from eth1 source 10.0.0.2 group 232.2.2.2\n"
      "mgroup from eth0 group ff02::114\n");
  CHECK(diags(r).empty());
  const auto& j = r.config.joins;
  REQUIRE(j.size() == 5);
  CHECK(j[0].iif == "eth0");
  CHECK_FALSE(j[0].source.has_value());
  CHECK(j[0].group == pfx("225.1.2.3"));
  CHECK(j[1].source == pfx("10.0.0.1"));
  CHECK(j[2].group == pfx("225.1.2.0/24"));
  CHECK(j[3].iif == "eth1");
  CHECK(j[3].source == pfx("10.0.0.2"));
  CHECK(j[3].pos == SourcePos{"test.conf", 4, 1});
  CHECK(j[4].group.addr.family == Family::v6);
  CHECK(r.config.routes.empty());
}

TEST_CASE("config: comments end a line anywhere") {
  const ParseResult r = parse(
      "mroute from eth0 group 225.1.1.1 to eth1 # eth2\n"
      "mroute from eth0 group 225.1.1.2 to eth1#eth2\n");
  CHECK(r.ok());
  REQUIRE(r.config.routes.size() == 2);
  CHECK(r.config.routes[0].oifs == Lines{"eth1"});
  CHECK(r.config.routes[1].oifs == Lines{"eth1"});
}

TEST_CASE("config: CRLF line ends and a missing final newline") {
  const ParseResult r =
      parse("phyint eth0\r\nmroute from eth0 group 225.1.1.1 to eth1\r\nphyint eth9");
  CHECK(diags(r).empty());
  CHECK(r.config.phyints.size() == 2);
  REQUIRE(r.config.routes.size() == 1);
  CHECK(r.config.routes[0].oifs == Lines{"eth1"});
}

TEST_CASE("config: unknown keyword") {
  CHECK(only_diag("mrute from eth0 group 225.1.1.1 to eth1") ==
        "test.conf:1:1: error: unknown keyword 'mrute'");
  CHECK(only_diag("\n  Mroute from eth0 group 225.1.1.1 to eth1") ==
        "test.conf:2:3: error: unknown keyword 'Mroute'");
}

TEST_CASE("config: mroute structure errors") {
  CHECK(only_diag("mroute from eth0 source 10.0.0.1 to eth1") ==
        "test.conf:1:34: error: expected 'group' after the source address, got 'to'");
  CHECK(only_diag("mroute from eth0 group 225.1.1.1") ==
        "test.conf:1:33: error: expected 'to' after the group address, got end of line");
  CHECK(only_diag("mroute from eth0 group 225.1.1.1 to") ==
        "test.conf:1:36: error: expected an output interface after 'to', got end of line");
  CHECK(only_diag("mroute from eth0 group 225.1.1.1 eth1") ==
        "test.conf:1:34: error: expected 'to' after the group address, got 'eth1'");
  CHECK(only_diag("mroute eth0 group 225.1.1.1 to eth1") ==
        "test.conf:1:8: error: expected 'from' after 'mroute', got 'eth0'");
  CHECK(only_diag("mroute") ==
        "test.conf:1:7: error: expected 'from' after 'mroute', got end of line");
  CHECK(only_diag("mroute from") ==
        "test.conf:1:12: error: expected an interface name after 'from', got end of line");
  CHECK(only_diag("mroute from group 225.1.1.1 to eth1") ==
        "test.conf:1:13: error: expected an interface name after 'from', got 'group'");
  CHECK(only_diag("mroute from eth0 to eth1") ==
        "test.conf:1:18: error: expected 'group' after the input interface, got 'to'");
  CHECK(only_diag("mroute from eth0 source") ==
        "test.conf:1:24: error: expected an address after 'source', got end of line");
  CHECK(only_diag("mroute from eth0 group to eth1") ==
        "test.conf:1:24: error: expected an address after 'group', got 'to'");
  CHECK(only_diag("mroute from eth0 group 225.1.1.1 group 225.1.1.2 to eth1") ==
        "test.conf:1:34: error: 'group' given twice on one line");
  CHECK(only_diag("mroute from eth0 group 225.1.1.1 to eth1 source 10.0.0.1") ==
        "test.conf:1:42: error: expected an output interface name, got keyword 'source' "
        "(it must come before 'to')");
}

TEST_CASE("config: address and prefix errors") {
  CHECK(only_diag("mroute from eth0 source 300.1.1.1 group 225.1.1.1 to eth1") ==
        "test.conf:1:25: error: '300.1.1.1' is not a valid source address (expected an IPv4 or "
        "IPv6 address, optionally with /LEN)");
  CHECK(only_diag("mroute from eth0 group 225.1.1.x to eth1") ==
        "test.conf:1:24: error: '225.1.1.x' is not a valid group address (expected a multicast "
        "IPv4 or IPv6 address, optionally with /LEN)");
  CHECK(only_diag("mroute from eth0 group 225.1.1.0/33 to eth1") ==
        "test.conf:1:24: error: prefix length 33 out of range 0..32");
  CHECK(only_diag("mroute from eth0 group 225.1.1.1/16 to eth1") ==
        "test.conf:1:24: error: host bits set in 225.1.1.1/16 (did you mean 225.1.0.0/16?)");
  CHECK(only_diag("mgroup from eth0 group 225.1.1.0/abc") ==
        "test.conf:1:24: error: invalid prefix length 'abc'");
  CHECK(only_diag("mroute from eth0 group 10.1.1.1 to eth1") ==
        "test.conf:1:24: error: group 10.1.1.1 is not a multicast address");
  CHECK(only_diag("mroute from eth0 group 2001:db8::1 to eth1") ==
        "test.conf:1:24: error: group 2001:db8::1 is not a multicast address");
  CHECK(only_diag("mroute from eth0 group 224.0.0.0/3 to eth1") ==
        "test.conf:1:24: error: group range 224.0.0.0/3 reaches outside the multicast range "
        "224.0.0.0/4");
  CHECK(only_diag("mroute from eth0 source 225.1.1.1 group 225.1.1.2 to eth1") ==
        "test.conf:1:25: error: source 225.1.1.1 is a multicast address, not a sender");
  CHECK(only_diag("mroute from eth0 source 10.0.0.1 group ff05::1 to eth1") ==
        "test.conf:1:40: error: source 10.0.0.1 and group ff05::1 are not the same address "
        "family");
  CHECK(only_diag("mroute from eth0 group ff05::1 source 10.0.0.1 to eth1") ==
        "test.conf:1:39: error: source 10.0.0.1 and group ff05::1 are not the same address "
        "family");
  CHECK(only_diag("mgroup from eth0 source 2001:db8::1 group 225.1.1.1") ==
        "test.conf:1:43: error: source 2001:db8::1 and group 225.1.1.1 are not the same address "
        "family");
}

TEST_CASE("config: two bad values on one line are both reported") {
  const ParseResult r = parse("mroute from eth0 source 300.1.1.1 group 10.1.1.1 to eth1\n");
  CHECK(diags(r) == Lines{"test.conf:1:25: error: '300.1.1.1' is not a valid source address "
                          "(expected an IPv4 or IPv6 address, optionally with /LEN)",
                          "test.conf:1:41: error: group 10.1.1.1 is not a multicast address"});
  CHECK(r.config.routes.empty());
}

TEST_CASE("config: mgroup and ssmgroup errors") {
  CHECK(only_diag("mgroup from eth0 group 225.1.1.1 to eth1") ==
        "test.conf:1:34: error: expected end of line after the group address, got 'to'");
  CHECK(only_diag("mgroup from eth0") ==
        "test.conf:1:17: error: expected 'group' after the input interface, got end of line");
  CHECK(only_diag("ssmgroup from eth0 group 232.1.1.1") ==
        "test.conf:1:35: error: expected 'source' after the group address, got end of line");
  CHECK(only_diag("ssmgroup from eth0 source 0.0.0.0 group 232.1.1.1") ==
        "test.conf:1:27: error: ssmgroup needs a specific source, got 0.0.0.0");
}

TEST_CASE("config: interface names") {
  CHECK(only_diag("mroute from eth0123456789abcd group 225.1.1.1 to eth1") ==
        "test.conf:1:13: error: interface name 'eth0123456789abcd' is longer than 15 characters");
  CHECK(only_diag("mroute from eth0 group 225.1.1.1 to eth1 eth0123456789abcd") ==
        "test.conf:1:42: error: interface name 'eth0123456789abcd' is longer than 15 characters");
  CHECK(only_diag("phyint eth0123456789abcd") ==
        "test.conf:1:8: error: interface name 'eth0123456789abcd' is longer than 15 characters");
  // Exactly 15 bytes is the longest a kernel name can be.
  const ParseResult r = parse("mroute from eth0123456789ab group 225.1.1.1 to eth1\n");
  CHECK(r.ok());
  CHECK(r.config.routes.at(0).iif == "eth0123456789ab");
}

TEST_CASE("config: OIF duplicates and the IIF among the OIFs") {
  const ParseResult r = parse("mroute from eth0 group 225.1.1.1 to eth1 eth2 eth1 eth0 eth2\n");
  CHECK(diags(r) ==
        Lines{"test.conf:1:47: warning: output interface 'eth1' listed twice; kept once",
              "test.conf:1:57: warning: output interface 'eth2' listed twice; kept once"});
  CHECK(r.ok());
  REQUIRE(r.config.routes.size() == 1);
  // The inbound interface as an outbound one is a hairpin, kept in place.
  CHECK(r.config.routes[0].oifs == Lines{"eth1", "eth2", "eth0"});

  // Even as the only one, on the fixed-position path and the general one.
  for (const char* line :
       {"mroute from eth0 group 225.1.1.1 to eth0\n", "mroute group 225.1.1.1 from eth0 to eth0\n",
        "mroute from eth+ source 10.0.0.1 group 225.1.1.1 to eth+\n"}) {
    CAPTURE(line);
    const ParseResult only_iif = parse(line);
    CHECK(only_iif.diagnostics.empty());
    REQUIRE(only_iif.config.routes.size() == 1);
    CHECK(only_iif.config.routes[0].oifs == Lines{only_iif.config.routes[0].iif});
  }
}

TEST_CASE("config: phyint errors") {
  CHECK(only_diag("phyint") ==
        "test.conf:1:7: error: expected an interface name after 'phyint', got end of line");
  CHECK(only_diag("phyint enable") ==
        "test.conf:1:8: error: expected an interface name after 'phyint', got 'enable'");
  CHECK(only_diag("phyint eth0 ttl-threshold 0") ==
        "test.conf:1:27: error: ttl-threshold must be 1..255, got 0");
  CHECK(only_diag("phyint eth0 ttl-threshold 256") ==
        "test.conf:1:27: error: ttl-threshold must be 1..255, got 256");
  CHECK(only_diag("phyint eth0 ttl-threshold -3") ==
        "test.conf:1:27: error: ttl-threshold must be 1..255, got -3");
  CHECK(only_diag("phyint eth0 ttl-threshold 99999999999999") ==
        "test.conf:1:27: error: ttl-threshold must be 1..255, got 99999999999999");
  CHECK(only_diag("phyint eth0 ttl-threshold 5x") ==
        "test.conf:1:27: error: ttl-threshold must be 1..255, got '5x'");
  CHECK(only_diag("phyint eth0 ttl-threshold") ==
        "test.conf:1:26: error: expected a number after 'ttl-threshold', got end of line");
  CHECK(only_diag("phyint eth0 enable disable") ==
        "test.conf:1:20: error: 'disable' contradicts 'enable' earlier on this line");
  CHECK(only_diag("phyint eth0 mrdsic") ==
        "test.conf:1:13: error: unknown phyint option 'mrdsic' (expected 'enable', 'disable', "
        "'mrdisc' or 'ttl-threshold')");
  CHECK(parse("phyint eth0 enable enable").ok());
}

TEST_CASE("config: every error in a file is reported, broken lines contribute nothing") {
  const ParseResult r = parse(
      "phyint eth0 enable\n"
      "mroute from eth0 source 10.0.0.1 to eth1\n"
      "mroute from eth0 group 225.1.1.1 to eth1\n"
      "mrute from eth0 group 225.1.1.1 to eth1\n"
      "\n"
      "phyint eth1 ttl-threshold 0\n"
      "mgroup from eth0 group 10.1.1.1\n"
      "mgroup from eth0 group 225.1.1.1\n");
  CHECK(diags(r) ==
        Lines{"test.conf:2:34: error: expected 'group' after the source address, got 'to'",
              "test.conf:4:1: error: unknown keyword 'mrute'",
              "test.conf:6:27: error: ttl-threshold must be 1..255, got 0",
              "test.conf:7:24: error: group 10.1.1.1 is not a multicast address"});
  CHECK_FALSE(r.ok());
  CHECK(r.config.phyints.size() == 1);
  REQUIRE(r.config.routes.size() == 1);
  CHECK(r.config.routes[0].pos.line == 3);
  REQUIRE(r.config.joins.size() == 1);
  CHECK(r.config.joins[0].pos.line == 8);
}

TEST_CASE("config: diagnostic and position formatting") {
  const Diagnostic e{SourcePos{"/etc/mfcd.conf", 3, 14}, "boom", false};
  CHECK(e.str() == "/etc/mfcd.conf:3:14: error: boom");
  const Diagnostic w{SourcePos{"a.conf", 1, 2}, "hmm", true};
  CHECK(w.str() == "a.conf:1:2: warning: hmm");
  CHECK(SourcePos{"x.conf", 7, 9}.str() == "x.conf:7:9");
  ParseResult r;
  r.diagnostics.push_back(w);
  CHECK(r.ok());
  r.diagnostics.push_back(e);
  CHECK_FALSE(r.ok());
}

TEST_CASE("config: interface wildcards") {
  CHECK(is_wildcard("eth+"));
  CHECK(is_wildcard("+"));
  CHECK_FALSE(is_wildcard("eth0"));
  CHECK_FALSE(is_wildcard(""));
  CHECK(ifname_matches("eth+", "eth0"));
  CHECK(ifname_matches("eth+", "eth15"));
  CHECK(ifname_matches("eth+", "eth"));
  CHECK_FALSE(ifname_matches("eth+", "et"));
  CHECK_FALSE(ifname_matches("eth+", "veth0"));
  CHECK(ifname_matches("+", "anything"));
  CHECK(ifname_matches("eth0", "eth0"));
  CHECK_FALSE(ifname_matches("eth0", "eth01"));
}

TEST_CASE("config: parse_config_file reads the main file and reports a missing one") {
  MemFs mem;
  mem.files["/etc/mfcd.conf"] = "mroute from eth0 group 225.1.1.1 to eth1\n";
  const ParseResult r = parse_config_file("/etc/mfcd.conf", mem.fs());
  CHECK(r.ok());
  CHECK(r.config.routes.size() == 1);
  CHECK(r.config.routes[0].pos == SourcePos{"/etc/mfcd.conf", 1, 1});
  CHECK(r.config.files == Lines{"/etc/mfcd.conf"});

  const ParseResult missing = parse_config_file("/etc/nope.conf", mem.fs());
  CHECK(diags(missing) ==
        Lines{"/etc/nope.conf: error: cannot read '/etc/nope.conf': No such file or directory"});
  CHECK(missing.config.files.empty());
}

TEST_CASE("config: include a file, relative to the including file") {
  MemFs mem;
  mem.files["/etc/mfcd.conf"] =
      "phyint eth0\n"
      "include routes.conf\n"
      "include /etc/more/../abs.conf\n"
      "phyint eth9\n";
  mem.files["/etc/routes.conf"] = "mroute from eth0 group 225.1.1.1 to eth1\n";
  mem.files["/etc/abs.conf"] = "mroute from eth0 group 225.1.1.2 to eth1\n";
  const ParseResult r = parse_config_file("/etc/mfcd.conf", mem.fs());
  CHECK(diags(r).empty());
  REQUIRE(r.config.routes.size() == 2);
  CHECK(r.config.routes[0].pos == SourcePos{"/etc/routes.conf", 1, 1});
  CHECK(r.config.routes[1].pos == SourcePos{"/etc/abs.conf", 1, 1});
  CHECK(r.config.phyints.size() == 2);
  CHECK(r.config.files == Lines{"/etc/mfcd.conf", "/etc/routes.conf", "/etc/abs.conf"});
}

TEST_CASE("config: include in a nested directory resolves against that file's directory") {
  MemFs mem;
  mem.files["/etc/mfcd.conf"] = "include d/a.conf\n";
  mem.files["/etc/d/a.conf"] = "include b.conf\n";
  mem.files["/etc/d/b.conf"] = "mgroup from eth0 group 225.1.1.1\n";
  const ParseResult r = parse_config_file("/etc/mfcd.conf", mem.fs());
  CHECK(diags(r).empty());
  REQUIRE(r.config.joins.size() == 1);
  CHECK(r.config.joins[0].pos.file == "/etc/d/b.conf");
}

TEST_CASE("config: include glob reads matches in sorted order") {
  MemFs mem;
  mem.files["/etc/mfcd.conf"] = "include mfcd.d/*.conf\nphyint last\n";
  mem.files["/etc/mfcd.d/20-b.conf"] = "phyint b\n";
  mem.files["/etc/mfcd.d/10-a.conf"] = "phyint a\n";
  mem.files["/etc/mfcd.d/30-c.conf"] = "phyint c\n";
  mem.files["/etc/mfcd.d/notes.txt"] = "garbage\n";
  const ParseResult r = parse_config_file("/etc/mfcd.conf", mem.fs());
  CHECK(diags(r).empty());
  std::vector<std::string> names;
  for (const auto& p : r.config.phyints)
    names.push_back(p.ifname);
  CHECK(names == Lines{"a", "b", "c", "last"});
  CHECK(r.config.files == Lines{"/etc/mfcd.conf", "/etc/mfcd.d/10-a.conf", "/etc/mfcd.d/20-b.conf",
                                "/etc/mfcd.d/30-c.conf"});
}

TEST_CASE("config: include glob matching nothing is a warning") {
  MemFs mem;
  mem.files["/etc/mfcd.conf"] = "include /etc/mfcd.d/*.conf\nphyint eth0\n";
  const ParseResult r = parse_config_file("/etc/mfcd.conf", mem.fs());
  CHECK(
      diags(r) ==
      Lines{"/etc/mfcd.conf:1:9: warning: include pattern '/etc/mfcd.d/*.conf' matches no files"});
  CHECK(r.ok());
  CHECK(r.config.phyints.size() == 1);
}

TEST_CASE("config: include of a missing file is an error at the include line") {
  MemFs mem;
  mem.files["/etc/mfcd.conf"] = "phyint eth0\n  include   missing.conf\nphyint eth1\n";
  const ParseResult r = parse_config_file("/etc/mfcd.conf", mem.fs());
  CHECK(diags(r) == Lines{"/etc/mfcd.conf:2:13: error: cannot read '/etc/missing.conf': No such "
                          "file or directory"});
  CHECK(r.config.phyints.size() == 2);
}

TEST_CASE("config: include syntax errors") {
  CHECK(only_diag("include") ==
        "test.conf:1:8: error: expected a path after 'include', got end of line");
  CHECK(only_diag("include a.conf b.conf") ==
        "test.conf:1:16: error: expected end of line after the include path, got 'b.conf'");
}

TEST_CASE("config: a file including itself is a loop, not a hang") {
  MemFs mem;
  mem.files["/etc/mfcd.conf"] = "phyint eth0\ninclude mfcd.conf\nphyint eth1\n";
  const ParseResult r = parse_config_file("/etc/mfcd.conf", mem.fs());
  CHECK(diags(r) == Lines{"/etc/mfcd.conf:2:9: error: include loop: /etc/mfcd.conf -> "
                          "/etc/mfcd.conf"});
  CHECK(r.config.phyints.size() == 2);
}

TEST_CASE("config: an indirect include loop is reported where it closes") {
  MemFs mem;
  mem.files["/etc/mfcd.conf"] = "include a.conf\n";
  mem.files["/etc/a.conf"] = "phyint a\ninclude ./sub/../b.conf\n";
  mem.files["/etc/b.conf"] = "phyint b\ninclude /etc/a.conf\n";
  const ParseResult r = parse_config_file("/etc/mfcd.conf", mem.fs());
  CHECK(diags(r) == Lines{"/etc/b.conf:2:9: error: include loop: /etc/mfcd.conf -> /etc/a.conf "
                          "-> /etc/b.conf -> /etc/a.conf"});
  CHECK(r.config.phyints.size() == 2);
}

TEST_CASE("config: a glob that matches its own file is a loop") {
  MemFs mem;
  mem.files["/etc/mfcd.d/a.conf"] = "phyint a\ninclude *.conf\n";
  mem.files["/etc/mfcd.d/b.conf"] = "phyint b\n";
  const ParseResult r = parse_config_file("/etc/mfcd.d/a.conf", mem.fs());
  CHECK(diags(r) == Lines{"/etc/mfcd.d/a.conf:2:9: error: include loop: /etc/mfcd.d/a.conf -> "
                          "/etc/mfcd.d/a.conf"});
  CHECK(r.config.phyints.size() == 2);  // b.conf is still read
}

TEST_CASE("config: the same file included twice (no loop) is read once, with a warning") {
  MemFs mem;
  mem.files["/m.conf"] = "include /x.conf\ninclude /x.conf\n";
  mem.files["/x.conf"] = "phyint x\n";
  const ParseResult r = parse_config_file("/m.conf", mem.fs());
  CHECK(diags(r) == Lines{"/m.conf:2:9: warning: '/x.conf' is already read in this load "
                          "(included at /m.conf:1:9); not read again"});
  CHECK(r.ok());
  CHECK(r.config.phyints.size() == 1);
  CHECK(r.config.files == Lines{"/m.conf", "/x.conf"});
  CHECK(mem.reads == Lines{"/m.conf", "/x.conf"});
}

TEST_CASE("config: errors in included files carry their own file name, in file order") {
  MemFs mem;
  mem.files["/etc/mfcd.conf"] = "bogus\ninclude inc.conf\nmroute from a group 10.0.0.1 to b\n";
  mem.files["/etc/inc.conf"] = "\n\nphyint x ttl-threshold 300\n";
  const ParseResult r = parse_config_file("/etc/mfcd.conf", mem.fs());
  CHECK(diags(r) == Lines{"/etc/mfcd.conf:1:1: error: unknown keyword 'bogus'",
                          "/etc/inc.conf:3:24: error: ttl-threshold must be 1..255, got 300",
                          "/etc/mfcd.conf:3:21: error: group 10.0.0.1 is not a multicast address"});
}

TEST_CASE("config: parse_config_text resolves includes through the file system") {
  MemFs mem;
  mem.files["/etc/inc.conf"] = "phyint y\n";
  const ParseResult r =
      parse_config_text("/etc/demo.conf", "include inc.conf\nphyint z\n", mem.fs());
  CHECK(diags(r).empty());
  CHECK(r.config.phyints.size() == 2);
  CHECK(r.config.files == Lines{"/etc/demo.conf", "/etc/inc.conf"});
}

TEST_CASE("config: include nesting is bounded") {
  MemFs mem;
  // Each file includes the next under a new name: no loop, but no end either.
  for (int i = 0; i < 40; ++i) {
    mem.files["/c" + std::to_string(i) + ".conf"] =
        "include /c" + std::to_string(i + 1) + ".conf\n";
  }
  const ParseResult r = parse_config_file("/c0.conf", mem.fs());
  REQUIRE(r.diagnostics.size() == 1);
  CHECK(r.diagnostics[0].str() ==
        "/c31.conf:1:9: error: includes nested deeper than 32 levels at '/c32.conf'");
}

TEST_CASE("config: many routes parse") {
  std::string text;
  for (int i = 0; i < 20000; ++i) {
    text += "mroute from eth0 source 10.0." + std::to_string(i / 256) + "." +
            std::to_string(i % 256) + " group 225.1.1.1 to eth1 eth2\n";
  }
  const ParseResult r = parse(text);
  CHECK(r.ok());
  CHECK(r.config.routes.size() == 20000);
  CHECK(r.config.routes.back().pos.line == 20000);
}

// ---------------------------------------------------------------------------
// The parser reads lines and tokens off SIMD bit masks 64 bytes at a time,
// takes plain "mroute from I [source S] group G to O..." lines by a
// fixed-position path, and parses addresses with its own code before
// inet_pton. The cases below pin what it must do exactly as the plain
// byte-by-byte parser it replaced did: every expectation here was produced
// by that parser, so a difference in any accepted line, diagnostic text or
// column shows up as a failure.

namespace {

// Everything a parse produced, one line per item, in a form that compares
// as text: diagnostics as the operator sees them, then the config.
Lines summary(const ParseResult& r) {
  Lines out;
  for (const Diagnostic& d : r.diagnostics)
    out.push_back(d.str());
  const auto at = [](const SourcePos& p) {
    return "@" + std::to_string(p.line) + ":" + std::to_string(p.column);
  };
  for (const PhyintConf& p : r.config.phyints) {
    out.push_back("phyint " + p.ifname + (p.enabled ? " enable" : " disable") +
                  (p.mrdisc ? " mrdisc" : "") + " ttl " + std::to_string(p.ttl_threshold) + " " +
                  at(p.pos));
  }
  for (const RouteConf& rt : r.config.routes) {
    std::string oifs;
    for (std::string_view o : rt.oifs)
      oifs += (oifs.empty() ? "" : ",") + std::string(o);
    out.push_back("route " + rt.iif + " " + (rt.source ? rt.source->str() : "*") + " " +
                  rt.group.str() + " [" + oifs + "] " + at(rt.pos));
  }
  for (const JoinConf& j : r.config.joins) {
    out.push_back("join " + j.iif + " " + (j.source ? j.source->str() : "*") + " " + j.group.str() +
                  " " + at(j.pos));
  }
  return out;
}

struct Expected {
  const char* text;
  Lines summary;
};

// Each text is a whole config file named c.conf.
const Expected kTricky[] = {
    {"mroute from eth0 group 225.1.2.3 to eth1", {"route eth0 * 225.1.2.3 [eth1] @1:1"}},
    {"mroute from eth0 group 225.1.2.3 to eth1\r\n", {"route eth0 * 225.1.2.3 [eth1] @1:1"}},
    {"mroute\tfrom\teth0\tgroup\t225.1.2.3\tto\teth1\n", {"route eth0 * 225.1.2.3 [eth1] @1:1"}},
    {"\v\fmroute from eth0 group 225.1.2.3 to eth1\f\n", {"route eth0 * 225.1.2.3 [eth1] @1:3"}},
    {"mroute from eth0 group 225.1.2.3 to eth1#comment\n", {"route eth0 * 225.1.2.3 [eth1] @1:1"}},
    {"mroute from eth0 group 225.1.2.3#comment to eth1\n",
     {"c.conf:1:33: error: expected 'to' after the group address, got end of line"}},
    {"mroute from eth0 source 192.0.2.1#x group 225.1.2.3 to eth1\n",
     {"c.conf:1:34: error: expected 'group' after the source address, got end of line"}},
    {"mroute from eth0 group 225.1.2.3 to eth1 # to eth2 mroute\n",
     {"route eth0 * 225.1.2.3 [eth1] @1:1"}},
    {"mroute from eth0 group 225.1.2.3 to\n",
     {"c.conf:1:36: error: expected an output interface after 'to', got end of line"}},
    {"mroute from eth0 group 225.1.2.3 to \r\n",
     {"c.conf:1:36: error: expected an output interface after 'to', got end of line"}},
    {"mroute from eth0 group 225.1.2.3\n",
     {"c.conf:1:33: error: expected 'to' after the group address, got end of line"}},
    {"mroute from eth0 group 225.1.2.3",
     {"c.conf:1:33: error: expected 'to' after the group address, got end of line"}},
    {"mroute from eth0 source 010.1.1.1 group 225.1.2.3 to eth1\n",
     {"c.conf:1:25: error: '010.1.1.1' is not a valid source address (expected an IPv4 or IPv6 "
      "address, optionally with /LEN)"}},
    {"mroute from eth0 source 10.1.1.1 group 225.01.2.3 to eth1\n",
     {"c.conf:1:40: error: '225.01.2.3' is not a valid group address (expected a multicast IPv4 or "
      "IPv6 address, optionally with /LEN)"}},
    {"mroute from eth0 source 10.1.1.00 group 225.1.2.3 to eth1\n",
     {"c.conf:1:25: error: '10.1.1.00' is not a valid source address (expected an IPv4 or IPv6 "
      "address, optionally with /LEN)"}},
    {"mroute from eth0 source 0.0.0.0 group 225.1.2.0 to eth1\n",
     {"route eth0 * 225.1.2.0 [eth1] @1:1"}},
    {"mroute from eth0 group 225.1.2.3/032 to eth1\n", {"route eth0 * 225.1.2.3 [eth1] @1:1"}},
    {"mroute from eth0 group 225.0.0.0/08 to eth1\n", {"route eth0 * 225.0.0.0/8 [eth1] @1:1"}},
    {"mroute from eth0 group 225.1.2.3/ to eth1\n",
     {"c.conf:1:24: error: invalid prefix length ''"}},
    {"mroute from eth0 group 225.1.2.3/0032 to eth1\n",
     {"c.conf:1:24: error: invalid prefix length '0032'"}},
    {"mroute from eth0 group 225.1.2.3/+8 to eth1\n",
     {"c.conf:1:24: error: invalid prefix length '+8'"}},
    {"mroute from eth0 group 225.1.2.3/16 to eth1\n",
     {"c.conf:1:24: error: host bits set in 225.1.2.3/16 (did you mean 225.1.0.0/16?)"}},
    {"mroute from eth0 group 225.1.2.3/33 to eth1\n",
     {"c.conf:1:24: error: prefix length 33 out of range 0..32"}},
    {"mroute from eth0 group 224.0.0.0/3 to eth1\n",
     {"c.conf:1:24: error: group range 224.0.0.0/3 reaches outside the multicast range "
      "224.0.0.0/4"}},
    {"mroute from eth0 group 256.1.2.3 to eth1\n",
     {"c.conf:1:24: error: '256.1.2.3' is not a valid group address (expected a multicast IPv4 or "
      "IPv6 address, optionally with /LEN)"}},
    {"mroute from eth0 group 225.1.2.3.4 to eth1\n",
     {"c.conf:1:24: error: '225.1.2.3.4' is not a valid group address (expected a multicast IPv4 "
      "or IPv6 address, optionally with /LEN)"}},
    {"mroute from eth0 group 225.1.2 to eth1\n",
     {"c.conf:1:24: error: '225.1.2' is not a valid group address (expected a multicast IPv4 or "
      "IPv6 address, optionally with /LEN)"}},
    {"mroute from eth0 group 225.1.2.1234 to eth1\n",
     {"c.conf:1:24: error: '225.1.2.1234' is not a valid group address (expected a multicast IPv4 "
      "or IPv6 address, optionally with /LEN)"}},
    {"mroute from eth0 group 225..2.3 to eth1\n",
     {"c.conf:1:24: error: '225..2.3' is not a valid group address (expected a multicast IPv4 or "
      "IPv6 address, optionally with /LEN)"}},
    {"mroute from eth0 group .225.1.2.3 to eth1\n",
     {"c.conf:1:24: error: '.225.1.2.3' is not a valid group address (expected a multicast IPv4 or "
      "IPv6 address, optionally with /LEN)"}},
    {"mroute from eth0 group 225.1.2.3. to eth1\n",
     {"c.conf:1:24: error: '225.1.2.3.' is not a valid group address (expected a multicast IPv4 or "
      "IPv6 address, optionally with /LEN)"}},
    {"mroute from eth0 group 10.1.2.3 to eth1\n",
     {"c.conf:1:24: error: group 10.1.2.3 is not a multicast address"}},
    {"mroute from eth0 source 225.1.1.1 group 225.1.2.3 to eth1\n",
     {"c.conf:1:25: error: source 225.1.1.1 is a multicast address, not a sender"}},
    {"mroute from eth0 source 10.0.0.1 group ff05::1 to eth1\n",
     {"c.conf:1:40: error: source 10.0.0.1 and group ff05::1 are not the same address family"}},
    {"mroute from eth0 group 225.1.2.3 source 10.0.0.1 to eth1\n",
     {"route eth0 10.0.0.1 225.1.2.3 [eth1] @1:1"}},
    {"mroute from eth0 source ::ffff:192.0.2.1 group ff05::1 to eth1\n",
     {"route eth0 ::ffff:192.0.2.1 ff05::1 [eth1] @1:1"}},
    {"mroute from eth0 source 2001:DB8::A group FF05::AB to eth1\n",
     {"route eth0 2001:db8::a ff05::ab [eth1] @1:1"}},
    {"mroute from eth0 source :: group ff05::1 to eth1\n", {"route eth0 * ff05::1 [eth1] @1:1"}},
    {"mroute from eth0 group ff05:: to eth1\n", {"route eth0 * ff05:: [eth1] @1:1"}},
    {"mroute from eth0 group ff05::1::2 to eth1\n",
     {"c.conf:1:24: error: 'ff05::1::2' is not a valid group address (expected a multicast IPv4 or "
      "IPv6 address, optionally with /LEN)"}},
    {"mroute from eth0 group ff05:::1 to eth1\n",
     {"c.conf:1:24: error: 'ff05:::1' is not a valid group address (expected a multicast IPv4 or "
      "IPv6 address, optionally with /LEN)"}},
    {"mroute from eth0 group :ff05::1 to eth1\n",
     {"c.conf:1:24: error: ':ff05::1' is not a valid group address (expected a multicast IPv4 or "
      "IPv6 address, optionally with /LEN)"}},
    {"mroute from eth0 group ff05::1: to eth1\n",
     {"c.conf:1:24: error: 'ff05::1:' is not a valid group address (expected a multicast IPv4 or "
      "IPv6 address, optionally with /LEN)"}},
    {"mroute from eth0 group ff05::00001 to eth1\n",
     {"c.conf:1:24: error: 'ff05::00001' is not a valid group address (expected a multicast IPv4 "
      "or IPv6 address, optionally with /LEN)"}},
    {"mroute from eth0 group ff05:0:0:0:0:0:0:1 to eth1\n", {"route eth0 * ff05::1 [eth1] @1:1"}},
    {"mroute from eth0 group ff05:0:0:0:0:0:0:0:1 to eth1\n",
     {"c.conf:1:24: error: 'ff05:0:0:0:0:0:0:0:1' is not a valid group address (expected a "
      "multicast IPv4 or IPv6 address, optionally with /LEN)"}},
    {"mroute from eth0 group ff05:0:0:0:0:0:0::1 to eth1\n",
     {"c.conf:1:24: error: 'ff05:0:0:0:0:0:0::1' is not a valid group address (expected a "
      "multicast IPv4 or IPv6 address, optionally with /LEN)"}},
    {"mroute from eth0 group ff05::1/129 to eth1\n",
     {"c.conf:1:24: error: prefix length 129 out of range 0..128"}},
    {"mroute from eth0 group ff00::/7 to eth1\n",
     {"c.conf:1:24: error: host bits set in ff00::/7 (did you mean fe00::/7?)"}},
    {"mroute from eth0 group ff0e::/16 to eth1\n", {"route eth0 * ff0e::/16 [eth1] @1:1"}},
    {"mroute from eth0 group ff05::g to eth1\n",
     {"c.conf:1:24: error: 'ff05::g' is not a valid group address (expected a multicast IPv4 or "
      "IPv6 address, optionally with /LEN)"}},
    {"mroute from eth0 group 225.1.2.3 to eth1 eth1 eth0 eth2\n",
     {"c.conf:1:42: warning: output interface 'eth1' listed twice; kept once",
      "route eth0 * 225.1.2.3 [eth1,eth0,eth2] @1:1"}},
    {"mroute from eth0 group 225.1.2.3 to eth0\n", {"route eth0 * 225.1.2.3 [eth0] @1:1"}},
    {"mroute from eth0 group 225.1.2.3 to eth1 from\n",
     {"c.conf:1:42: error: expected an output interface name, got keyword 'from' (it must come "
      "before 'to')"}},
    {"mroute from sixteen_chars_ab group 225.1.2.3 to eth1\n",
     {"c.conf:1:13: error: interface name 'sixteen_chars_ab' is longer than 15 characters"}},
    {"mroute from exactly15chars_ group 225.1.2.3 to exactly15chars_\n",
     {"route exactly15chars_ * 225.1.2.3 [exactly15chars_] @1:1"}},
    {"mroute from eth0 group 225.1.2.3 to sixteen_chars_ab eth1\n",
     {"c.conf:1:37: error: interface name 'sixteen_chars_ab' is longer than 15 characters"}},
    {"mroute from eth+ group 225.1.2.3 to eth1 br+\n", {"route eth+ * 225.1.2.3 [eth1,br+] @1:1"}},
    {"mroute from from group 225.1.2.3 to eth1\n",
     {"c.conf:1:13: error: expected an interface name after 'from', got 'from'"}},
    {"mroute from eth0 group to eth1\n",
     {"c.conf:1:24: error: expected an address after 'group', got 'to'"}},
    {"mroute from eth0 from eth1 group 225.1.2.3 to eth2\n",
     {"c.conf:1:18: error: 'from' given twice on one line"}},
    {"mroute to eth1\n", {"c.conf:1:8: error: expected 'from' after 'mroute', got 'to'"}},
    {"mroute\n", {"c.conf:1:7: error: expected 'from' after 'mroute', got end of line"}},
    {"mgroup from eth0 group 225.1.2.3\n", {"join eth0 * 225.1.2.3 @1:1"}},
    {"mgroup from eth0 group 225.1.2.3 to eth1\n",
     {"c.conf:1:34: error: expected end of line after the group address, got 'to'"}},
    {"ssmgroup from eth0 source 0.0.0.0 group 232.1.1.1\n",
     {"c.conf:1:27: error: ssmgroup needs a specific source, got 0.0.0.0"}},
    {"ssmgroup from eth0 group 232.1.1.1\n",
     {"c.conf:1:35: error: expected 'source' after the group address, got end of line"}},
    {"phyint eth0 ttl-threshold 0255\n", {"phyint eth0 enable ttl 255 @1:1"}},
    {"phyint eth0 ttl-threshold 256 mrdisc\n",
     {"c.conf:1:27: error: ttl-threshold must be 1..255, got 256"}},
    {"phyint eth0 enable disable\n",
     {"c.conf:1:20: error: 'disable' contradicts 'enable' earlier on this line"}},
    {"mroute  from  eth0   source   192.0.2.1   group   225.1.2.3   to   eth1   eth2\n",
     {"route eth0 192.0.2.1 225.1.2.3 [eth1,eth2] @1:1"}},
    {"\n\n   \n\t\nmroute from eth0 group 225.1.2.3 to eth1\n\n",
     {"route eth0 * 225.1.2.3 [eth1] @5:1"}},
    {"# mroute from eth0 group 225.1.2.3 to eth1\n#\n##\nmroute from eth0 group 225.1.2.3 to "
     "eth1\n",
     {"route eth0 * 225.1.2.3 [eth1] @4:1"}},
    {"mroute from eth0 group 225.1.2.3 to eth1\rmroute\n",
     {"route eth0 * 225.1.2.3 [eth1,mroute] @1:1"}},
    {"bogus\nmroute from eth0 group 225.1.2.3 to eth1\nbogus2 x\n",
     {"c.conf:1:1: error: unknown keyword 'bogus'", "c.conf:3:1: error: unknown keyword 'bogus2'",
      "route eth0 * 225.1.2.3 [eth1] @2:1"}},
};

}  // namespace

TEST_CASE("config: tricky lines give the same diagnostics and config as before") {
  MemFs mem;
  for (const Expected& e : kTricky) {
    CAPTURE(e.text);
    CHECK(summary(parse_config_text("c.conf", e.text, mem.fs())) == e.summary);
  }
}

TEST_CASE("config: a NUL inside an address token ends the address, as inet_pton reads it") {
  // The byte is part of the token (it is not blank); the address is what
  // precedes it, which is how the parser has always read such a file.
  const std::string text("mroute from eth0 group 225.1.2.3\0junk to eth1\n", 46);
  CHECK(summary(parse(text)) == Lines{"route eth0 * 225.1.2.3 [eth1] @1:1"});
  const std::string bad("mroute from eth0 group 225.1\0.2.3 to eth1\n", 42);
  // Quoted with the NUL escaped (core/quote.hpp).
  CHECK(summary(parse(bad)) ==
        Lines{"test.conf:1:24: error: '225.1\\x00.2.3' is not a valid group address (expected a "
              "multicast IPv4 or IPv6 address, optionally with /LEN)"});
}

TEST_CASE("config: positions are right wherever a line and its tokens fall in the text") {
  // Shifts one route line through every alignment against the tokenizer's
  // 64-byte blocks, with the line's own tokens spread by a varying run of
  // blanks: tokens cross block boundaries at every byte, and the line ends
  // with and without a newline.
  for (size_t before = 0; before < 140; ++before) {
    for (size_t gap : {1, 7, 40, 70}) {
      const std::string sp(gap, ' ');
      const std::string lead = before ? "#" + std::string(before - 1, 'x') + "\n" : "";
      const std::string line = "mroute" + sp + "from" + sp + "eth0" + sp + "group" + sp +
                               "225.1.2.3" + sp + "to" + sp + "eth1" + sp + "eth1";
      const int dup_column = static_cast<int>(line.size()) - 3;
      for (const char* end : {"\n", "", "\r\n", " # comment\n"}) {
        CAPTURE(before);
        CAPTURE(gap);
        CAPTURE(end);
        const ParseResult r = parse(lead + line + end);
        const int line_no = before ? 2 : 1;
        CHECK(summary(r) ==
              Lines{"test.conf:" + std::to_string(line_no) + ":" + std::to_string(dup_column) +
                        ": warning: output interface 'eth1' listed twice; kept once",
                    "route eth0 * 225.1.2.3 [eth1] @" + std::to_string(line_no) + ":1"});
      }
    }
  }
}

TEST_CASE("config: the end of line is where the last token ends, at any length") {
  // "expected ... got end of line" points just past the last token; check it
  // for lines of every length across two blocks, with trailing blanks and
  // a comment after the last token.
  for (size_t pad = 0; pad < 140; ++pad) {
    const std::string line = "mroute from eth0 group " + std::string(pad, '\t') + "225.1.2.3";
    const std::string col = std::to_string(line.size() + 1);
    for (const char* end : {"", "\n", "   ", "\t#c", "#", "\r\n"}) {
      CAPTURE(pad);
      CAPTURE(end);
      CHECK(summary(parse(line + end)) ==
            Lines{"test.conf:1:" + col + ": error: expected 'to' after the group address, " +
                  "got end of line"});
    }
  }
}

TEST_CASE("config: long lines, long tokens and long comments") {
  // An interface name of 300 bytes: one token over several blocks.
  // It is quoted cut short (core/quote.hpp).
  const std::string name(300, 'n');
  CHECK(summary(parse("mroute from " + name + " group 225.1.2.3 to eth1\n")) ==
        Lines{"test.conf:1:13: error: interface name '" + name.substr(0, 64) +
              "\u2026' is longer than 15 characters"});

  // As many OIFs as a route may name (256), kept in order.
  std::string line = "mroute from eth0 group 225.1.2.3 to";
  for (int i = 0; i < 256; ++i)
    line += " o" + std::to_string(i);
  ParseResult r = parse(line);
  REQUIRE(r.ok());
  REQUIRE(r.config.routes.size() == 1);
  REQUIRE(r.config.routes[0].oifs.size() == 256);
  CHECK(r.config.routes[0].oifs.front() == "o0");
  CHECK(r.config.routes[0].oifs.back() == "o255");

  // A comment spanning several blocks, holding what looks like directives,
  // then a route on the next line.
  const std::string comment = "# " + std::string(200, '#') + " mroute from x group y to z\t\r";
  r = parse("mroute from eth0 group 225.1.2.3 to eth1 " + comment + "\nbogus\n");
  CHECK(summary(r) == Lines{"test.conf:2:1: error: unknown keyword 'bogus'",
                            "route eth0 * 225.1.2.3 [eth1] @1:1"});

  // A line of blanks only, longer than a block.
  CHECK(parse(std::string(200, ' ') + "\n" + std::string(130, '\t')).diagnostics.empty());
}

TEST_CASE("config: metrics-listen sets the HTTP listener, checked at its token") {
  const ParseResult r = parse("phyint a1\nmetrics-listen 192.0.2.1:9468\n");
  REQUIRE(r.ok());
  REQUIRE(r.config.metrics_listen.has_value());
  CHECK(r.config.metrics_listen->address.str() == "192.0.2.1:9468");
  CHECK(r.config.metrics_listen->pos.str() == "test.conf:2:1");
  CHECK(parse("metrics-listen 9468\n").config.metrics_listen->address.str() == "127.0.0.1:9468");
  CHECK_FALSE(parse("phyint a1\n").config.metrics_listen.has_value());

  CHECK(only_diag("metrics-listen 127.0.0.1:99999\n") ==
        "test.conf:1:16: error: invalid listen address '127.0.0.1:99999': the port must be "
        "1..65535 (expected PORT, ADDR:PORT or [ADDR6]:PORT)");
  CHECK(only_diag("metrics-listen\n") ==
        "test.conf:1:15: error: expected ADDR:PORT after 'metrics-listen', got end of line");
  CHECK(only_diag("metrics-listen 9468 now\n") ==
        "test.conf:1:21: error: expected end of line after the address, got 'now'");
  CHECK(only_diag("metrics-listen 9468\nmetrics-listen 9469\n") ==
        "test.conf:2:1: error: metrics-listen given twice (first at test.conf:1:1)");
  CHECK_FALSE(parse("metrics-listen host:1\n").ok());
}
