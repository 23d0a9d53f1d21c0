// A load of the config is bounded whatever the files hold (issue 14): only
// regular files are read, each once, with caps on bytes, line length, files
// and listed diagnostics, each reported at its position. Messages quote
// only the token they are about, cut short and escaped. And the config
// parser and the API judge names, owners, OIF counts and addresses with the
// same function, in the same words.
#include <doctest/doctest.h>
#include <fnmatch.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "api/params.hpp"
#include "budget.hpp"
#include "core/config.hpp"
#include "core/flow_key.hpp"
#include "core/quote.hpp"
#include "fakes.hpp"
#include "service/config_files.hpp"

using namespace mfcd::core;
using Lines = std::vector<std::string>;

namespace {

using mfcd::test::MemFs;

using mfcd::test::diags;

ParseResult parse(const std::string& text, const ParseOptions& options = {}) {
  MemFs mem;
  return parse_config_text("test.conf", text, mem.fs(), options);
}

double ms_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

// `count` lines of exactly `width` bytes each, '\n' included: comments.
std::string comment_lines(size_t count, size_t width) {
  std::string line = "#" + std::string(width - 2, 'x') + "\n";
  std::string out;
  out.reserve(count * width);
  for (size_t i = 0; i < count; ++i)
    out += line;
  return out;
}

// A fresh directory under the system's temporary one, removed at the end.
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "mfcd-limits.XXXXXX").string();
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string file(const std::string& name, const std::string& text) const {
    const std::string p = (path / name).string();
    std::ofstream(p) << text;
    return p;
  }
};

}  // namespace

// ---------------------------------------------------------------------------
// Quoting

TEST_CASE("quote: short tokens as they are, in single quotes") {
  CHECK(quote("eth0") == "'eth0'");
  CHECK(quote("") == "''");
  CHECK(quote("h\xc3\xa9") == "'h\xc3\xa9'");  // UTF-8 kept
}

TEST_CASE("quote: control characters and backslashes are escaped") {
  CHECK(quote(std::string("a\nb", 3)) == "'a\\x0ab'");
  CHECK(quote("\x1b[2J") == "'\\x1b[2J'");
  CHECK(quote(std::string("\0x", 2)) == "'\\x00x'");
  CHECK(quote("\x7f") == "'\\x7f'");
  CHECK(quote("a\\x0a") == "'a\\\\x0a'");  // a literal backslash reads back as one
}

TEST_CASE("quote: long input is cut at 64 bytes, on a character boundary") {
  CHECK(quote(std::string(64, 'x')) == "'" + std::string(64, 'x') + "'");
  CHECK(quote(std::string(10'000'000, 'x')) == "'" + std::string(64, 'x') + "\u2026'");
  // A two-byte character across the cut is left out whole.
  CHECK(quote(std::string(63, 'x') + "\xc3\xa9" + "tail") ==
        "'" + std::string(63, 'x') + "\u2026'");
  // Escapes count the input's bytes, not the output's.
  CHECK(escaped_cut(std::string(100, '\x01')).size() == 64 * 4 + 3);
  // Paths are cut only past PATH_MAX.
  const std::string path = "/" + std::string(200, 'd') + "/f.conf";
  CHECK(quote_path(path) == "'" + path + "'");
}

TEST_CASE("config: messages quote the offending token, escaped and cut") {
  CHECK(diags(parse("mroute from eth0 group 225.1.1.\x1b[2J to eth1\n")) ==
        Lines{"test.conf:1:24: error: '225.1.1.\\x1b[2J' is not a valid group address (expected a "
              "multicast IPv4 or IPv6 address, optionally with /LEN)"});
  const std::string junk(5000, 'z');
  CHECK(diags(parse("mroute from eth0 group 225.1.1.1/" + junk + " to eth1\n")) ==
        Lines{"test.conf:1:24: error: invalid prefix length '" + std::string(64, 'z') + "\u2026'"});
  CHECK(diags(parse("phyint eth0 ttl-threshold " + std::string(100, '9') + "\n")) ==
        Lines{"test.conf:1:27: error: ttl-threshold must be 1..255, got " + std::string(64, '9') +
              "\u2026"});
}

TEST_CASE("config: lines of a file that is not a config do not come back in messages") {
  // As /etc/shadow would be: each line one token, nothing like a keyword.
  const std::string shadow =
      "root:$y$j9T$F5Jx7fGq1Jt0bV4bqkNQ1/$Qs3cretHashQs3cretHashQs3cretHash:19000:0:99999:7:::\n"
      "daemon:*:19000:0:99999:7:::\n"
      "bin:*:19000:0:99999:7:::\n";
  const ParseResult r = parse(shadow);
  const std::string expected =
      ": error: expected a keyword (mroute, mgroup, ssmgroup, phyint, include, metrics-listen, "
      "socket-group or admin-group) at the start of the line";
  CHECK(diags(r) ==
        Lines{"test.conf:1:1" + expected, "test.conf:2:1" + expected, "test.conf:3:1" + expected});
  for (const auto& d : r.diagnostics) {
    CHECK(d.message.find("root") == std::string::npos);
    CHECK(d.message.find("19000") == std::string::npos);
  }
  // A word that could be a mistyped keyword is still quoted.
  CHECK(diags(parse("mrute from eth0\n")) ==
        Lines{"test.conf:1:1: error: unknown keyword 'mrute'"});
}

// ---------------------------------------------------------------------------
// Bounds of a load

TEST_CASE("config: a line longer than 64 KiB is an error at its 65537th byte") {
  const std::string text =
      "phyint a\n" + std::string(70'000, 'x') + "\nphyint b\n" + std::string(65'537, '#');
  const ParseResult r = parse(text);
  const std::string message =
      ": error: line longer than 65536 bytes (64 KiB), the most a line may hold; line not read";
  CHECK(diags(r) == Lines{"test.conf:2:65537" + message, "test.conf:4:65537" + message});
  REQUIRE(r.config.phyints.size() == 2);
  CHECK(r.config.phyints[1].ifname == "b");
}

TEST_CASE("config: a line of exactly 64 KiB is read") {
  std::string line = "mroute from a group 225.1.1.1 to b";
  line += std::string(kMaxLineBytes - line.size(), ' ');
  REQUIRE(line.size() == 65536);
  const ParseResult r = parse(line + "\n" + line);
  CHECK(diags(r).empty());
  CHECK(r.config.routes.size() == 2);
}

TEST_CASE("config: the line bound holds under SMCRoute's reading too") {
  const ParseResult r = parse(std::string(70'000, 'x') + "\n", ParseOptions::smcroute());
  REQUIRE(r.diagnostics.size() == 1);
  CHECK_FALSE(r.diagnostics[0].warning);
  CHECK_FALSE(r.ok());
}

TEST_CASE("config: a 10 MB line is refused in linear time, its tokens not kept") {
  std::string line;
  line.reserve(10'000'000);
  line = "mroute from a group 225.1.1.1 to";
  while (line.size() < 10'000'000)
    line += " o";
  const mfcd::test::CpuTimer timer;
  const ParseResult r = parse(line + "\n");
  CHECK(timer.ms() < mfcd::test::budget_ms(2000));
  CHECK(diags(r) == Lines{"test.conf:1:65537: error: line longer than 65536 bytes (64 KiB), the "
                          "most a line may hold; line not read"});
  CHECK(r.config.routes.empty());
}

TEST_CASE("config: a line of 256 OIFs finds a duplicate through its set") {
  std::string line = "mroute from a group 225.1.1.1 to";
  for (size_t n = 0; n < kMaxOifNames; ++n)
    line += " o" + std::to_string(n);
  line += " o17";  // a duplicate, found through the set
  const ParseResult r = parse(line);
  CHECK(diags(r) == Lines{"test.conf:1:" + std::to_string(line.size() - 2) +
                          ": warning: output interface 'o17' listed twice; kept once"});
  REQUIRE(r.config.routes.size() == 1);
  CHECK(r.config.routes[0].oifs.size() == kMaxOifNames);
}

TEST_CASE("config: a line of thousands of OIFs is refused at the 257th, in linear time") {
  std::string line = "mroute from a group 225.1.1.1 to";
  size_t column_257 = 0;
  for (size_t n = 0; line.size() < kMaxLineBytes - 16; ++n) {
    if (n == kMaxOifNames) column_257 = line.size() + 2;
    line += " o" + std::to_string(n);
  }
  const mfcd::test::CpuTimer timer;
  const ParseResult r = parse(line);
  CHECK(timer.ms() < mfcd::test::budget_ms(2000));
  CHECK(diags(r) == Lines{"test.conf:1:" + std::to_string(column_257) +
                          ": error: 257 output interfaces; a route names at most 256"});
  CHECK(r.config.routes.empty());

  // Under SMCRoute's reading, a bad line like any other: a warning, the
  // line skipped, the lines after it read.
  const ParseResult lenient =
      parse(line + "\nmroute from a group 225.1.1.2 to b\n", ParseOptions::smcroute());
  REQUIRE(lenient.diagnostics.size() == 1);
  CHECK(lenient.diagnostics[0].warning);
  CHECK(lenient.ok());
  REQUIRE(lenient.config.routes.size() == 1);
  CHECK(lenient.config.routes[0].oifs.size() == 1);
}

TEST_CASE("config: the files of a load together may hold 64 MiB") {
  MemFs mem;
  mem.files["/m.conf"] = "include /a.conf\ninclude /b.conf\nphyint m\n";
  mem.files["/a.conf"] = comment_lines(40 * 1024, 1024);  // 40 MiB
  mem.files["/b.conf"] = comment_lines(30 * 1024, 1024);  // 30 MiB
  const ParseResult r = parse_config_file("/m.conf", mem.fs());
  // What was left for b.conf, and so where in it the bound falls.
  const size_t left = kMaxLoadBytes - mem.files["/m.conf"].size() - mem.files["/a.conf"].size();
  CHECK(mem.asked["/b.conf"] == left);
  CHECK(diags(r) ==
        Lines{"/b.conf:" + std::to_string(left / 1024 + 1) + ":" + std::to_string(left % 1024 + 1) +
              ": error: the config and its includes pass 67108864 bytes (64 MiB) "
              "here, the most one load may read; the rest is not read"});
  // The main file's own lines still count; the load is refused as a whole.
  CHECK(r.config.phyints.size() == 1);
  CHECK_FALSE(r.ok());
}

TEST_CASE("config: a main file over 64 MiB is not parsed") {
  MemFs mem;
  mem.files["/m.conf"] = comment_lines(64 * 1024, 1024) + "phyint x\n";
  const ParseResult r = parse_config_file("/m.conf", mem.fs());
  CHECK(mem.asked["/m.conf"] == kMaxLoadBytes);
  CHECK(diags(r) == Lines{"/m.conf:65537:1: error: the config and its includes pass 67108864 "
                          "bytes (64 MiB) here, the most one load may read; the rest is not read"});
  CHECK(r.config.phyints.empty());
}

TEST_CASE("config: a load reads at most 1024 files") {
  MemFs mem;
  mem.files["/m.conf"] = "include /d/*.conf\n";
  for (int i = 0; i < 1100; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "/d/f%04d.conf", i);
    mem.files[name] = "phyint x" + std::to_string(i) + "\n";
  }
  const ParseResult r = parse_config_file("/m.conf", mem.fs());
  CHECK(diags(r) == Lines{"/m.conf:1:9: error: more than 1024 files in one load, the most a load "
                          "may read; '/d/f1023.conf' and the rest are not read"});
  CHECK(mem.reads.size() == 1024);
  CHECK(r.config.phyints.size() == 1023);
}

TEST_CASE("config: a load lists at most 1000 diagnostics, and counts the rest") {
  std::string text;
  for (int i = 0; i < 1500; ++i)
    text += "bogus\n";
  ParseResult r = parse(text);
  REQUIRE(r.diagnostics.size() == 1001);
  CHECK(r.diagnostics[999].str() == "test.conf:1000:1: error: unknown keyword 'bogus'");
  CHECK(r.diagnostics[1000].str() ==
        "test.conf:1001:1: error: 500 more errors and warnings not listed (a load lists the "
        "first 1000)");
  CHECK_FALSE(r.ok());

  // Read SMCRoute's way each was a warning, and so is the count.
  r = parse(text, ParseOptions::smcroute());
  REQUIRE(r.diagnostics.size() == 1001);
  CHECK(r.diagnostics[1000].warning);
  CHECK(r.ok());
}

// ---------------------------------------------------------------------------
// Each file once per load

TEST_CASE("config: a chain of 26 files each including the next twice reads each once") {
  MemFs mem;
  const int levels = 26;
  for (int i = 0; i < levels; ++i) {
    const std::string next = "/c" + std::to_string(i + 1) + ".conf";
    mem.files["/c" + std::to_string(i) + ".conf"] =
        i + 1 < levels ? "include " + next + "\ninclude " + next + "\n" : "phyint last\n";
  }
  const mfcd::test::CpuTimer timer;
  const ParseResult r = parse_config_file("/c0.conf", mem.fs());
  CHECK(timer.ms() < mfcd::test::budget_ms(1000));
  CHECK(mem.reads.size() == levels);
  CHECK(r.ok());
  CHECK(r.config.phyints.size() == 1);
  REQUIRE(r.diagnostics.size() == levels - 1);
  CHECK(r.diagnostics[0].str() ==
        "/c24.conf:2:9: warning: '/c25.conf' is already read in this load (included at "
        "/c24.conf:1:9); not read again");
}

TEST_CASE("config: a diamond reads the shared file once; a loop is still an error") {
  MemFs mem;
  mem.files["/m.conf"] = "include /a.conf\ninclude /b.conf\n";
  mem.files["/a.conf"] = "include /shared.conf\n";
  mem.files["/b.conf"] = "include /d/../shared.conf\n";
  mem.files["/shared.conf"] = "phyint s\ninclude /m.conf\n";
  const ParseResult r = parse_config_file("/m.conf", mem.fs());
  CHECK(diags(r) ==
        Lines{"/shared.conf:2:9: error: include loop: /m.conf -> /a.conf -> /shared.conf -> "
              "/m.conf",
              "/b.conf:1:9: warning: '/shared.conf' is already read in this load (included at "
              "/a.conf:1:9); not read again"});
  CHECK(mem.reads == Lines{"/m.conf", "/a.conf", "/shared.conf", "/b.conf"});
  CHECK(r.config.phyints.size() == 1);
}

// ---------------------------------------------------------------------------
// The real file system: regular files only, never blocking

TEST_CASE("config files: only regular files are read, whatever else the path is") {
  TempDir dir;
  const std::string fifo = (dir.path / "fifo").string();
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  const std::string sub = (dir.path / "sub").string();
  REQUIRE(::mkdir(sub.c_str(), 0700) == 0);
  const std::string sock = (dir.path / "sock").string();
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", sock.c_str());
  REQUIRE(::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0);
  const std::string zero_link = (dir.path / "zero.conf").string();
  REQUIRE(::symlink("/dev/zero", zero_link.c_str()) == 0);

  const std::vector<std::pair<std::string, std::string>> cases = {
      {fifo, "a FIFO"},
      {sub, "a directory"},
      {sock, "a socket"},
      {"/dev/zero", "a character device"},
      {zero_link, "a character device"},  // what the link leads to is judged
  };
  for (const auto& [path, kind] : cases) {
    CAPTURE(path);
    const auto start = std::chrono::steady_clock::now();
    const ParseResult r = mfcd::load_config_file(path);
    CHECK(ms_since(start) < 1000);  // no FIFO open or read waits for a writer
    CHECK(diags(r) ==
          Lines{path + ": error: cannot read '" + path + "': not a regular file (" + kind + ")"});
  }
  ::close(fd);

  // From an include line, the error is at the line.
  const std::string main =
      dir.file("main.conf", "phyint a\ninclude " + fifo + "\ninclude /dev/zero\n");
  CHECK(diags(mfcd::load_config_file(main)) ==
        Lines{main + ":2:9: error: cannot read '" + fifo + "': not a regular file (a FIFO)",
              main + ":3:9: error: cannot read '/dev/zero': not a regular file (a character "
                     "device)"});
}

TEST_CASE("config files: a read stops one byte past the bound it is given") {
  TempDir dir;
  const std::string path = dir.file("big.conf", std::string(100'000, '#'));
  auto text = mfcd::read_config_file(path, 10);
  REQUIRE(text.has_value());
  CHECK(text->size() == 11);
  text = mfcd::read_config_file(path, 1'000'000);
  REQUIRE(text.has_value());
  CHECK(text->size() == 100'000);
  const auto missing = mfcd::read_config_file((dir.path / "none").string(), 10);
  REQUIRE_FALSE(missing.has_value());
  CHECK(missing.error().message == "No such file or directory");
}

// ---------------------------------------------------------------------------
// One judge for the config and the API

namespace {

// The message the config parser gives for `line`, without its position.
std::string config_says(const std::string& line) {
  const ParseResult r = parse(line + "\n");
  REQUIRE(r.diagnostics.size() == 1);
  const std::string text = r.diagnostics[0].str();
  const std::string marker = ": error: ";
  return text.substr(text.find(marker) + marker.size());
}

// The param and message the API gives for route.add's `params`.
std::pair<std::string, std::string> api_says(const nlohmann::json& params) {
  try {
    (void)mfcd::api::route_request(params, true);
  } catch (const mfcd::rpc::ParamError& e) {
    return {e.param, e.message};
  }
  FAIL("route.add params accepted: " << params.dump());
  return {};
}

nlohmann::json route(const std::string& iif, const std::string& oif,
                     const std::string& group = "225.1.1.1", const std::string& source = "") {
  nlohmann::json p{{"iif", iif}, {"group", group}, {"oifs", {oif}}};
  if (!source.empty()) p["source"] = source;
  return p;
}

}  // namespace

TEST_CASE("validation parity: interface names are judged alike, in the same words") {
  // Names a config line can hold (no blank inside a token).
  for (const std::string& name :
       std::vector<std::string>{"eth0123456789abcd", std::string(4000, 'i'), "../../etc", "a/b",
                                ".", "..", "x\x01y", "n\x7f"}) {
    CAPTURE(name);
    const auto as_iif = api_says(route(name, "eth1"));
    CHECK(as_iif.first == "iif");
    CHECK(as_iif.second == config_says("mroute from " + name + " group 225.1.1.1 to eth1"));
    const auto as_oif = api_says(route("eth0", name));
    CHECK(as_oif.first == "oifs");
    CHECK(as_oif.second == config_says("mroute from eth0 group 225.1.1.1 to " + name));
    CHECK(as_oif.second == config_says("phyint " + name));
    try {
      (void)mfcd::api::join_request({{"iif", name}, {"group", "225.1.1.1"}});
      FAIL("join accepted");
    } catch (const mfcd::rpc::ParamError& e) {
      CHECK(e.param == "iif");
      CHECK(e.message == as_iif.second);
    }
  }
  // What a token cannot hold, the API is told plainly.
  CHECK(api_says(route("d 2", "eth1")).second == "interface name 'd 2' contains a space");
  CHECK(api_says(route("a\nb", "eth1")).second ==
        "interface name 'a\\x0ab' contains a control character");
  CHECK(api_says(route("", "eth1")).second == "interface name is empty");
  CHECK(api_says(route("eth0", "")).second == "interface name is empty");
  CHECK(api_says(route(std::string(4000, 'i'), "eth1")).second ==
        "interface name '" + std::string(64, 'i') + "\u2026' is longer than 15 characters");
}

TEST_CASE("validation parity: at most 256 OIFs, in the same words") {
  nlohmann::json params = route("eth0", "o0");
  std::string line = "mroute from eth0 group 225.1.1.1 to o0";
  for (size_t n = 1; n < kMaxOifNames; ++n) {
    params["oifs"].push_back("o" + std::to_string(n));
    line += " o" + std::to_string(n);
  }
  CHECK(mfcd::api::route_request(params, true).oifs.size() == 256);
  CHECK(parse(line).ok());
  params["oifs"].push_back("o256");
  line += " o256";
  const auto api = api_says(params);
  CHECK(api.first == "oifs");
  CHECK(api.second == "257 output interfaces; a route names at most 256");
  CHECK(api.second == config_says(line));
  // route.remove's optional list is bounded alike.
  try {
    (void)mfcd::api::route_request(params, false);
    FAIL("257 OIFs accepted by route.remove");
  } catch (const mfcd::rpc::ParamError& e) {
    CHECK(e.param == "oifs");
  }
}

TEST_CASE("validation parity: names both accept") {
  for (const std::string& name : Lines{"eth0", "eth+", "eth0.100", "br-lan_2", "e123456789abcde"}) {
    CAPTURE(name);
    CHECK(validate_ifname(name));
    CHECK(parse("mroute from " + name + " group 225.1.1.1 to " + name + " x1\n").ok());
    // An OIF equal to the iif is allowed by both: a hairpin.
    const auto req = mfcd::api::route_request(route(name, name), true);
    CHECK(req.key.iif == name);
  }
}

TEST_CASE("validation parity: addresses and families, in the same words") {
  struct Case {
    std::string source, group;
    std::string param;
  };
  for (const Case& c : std::vector<Case>{
           {"10.0.0.1", "ff05::1", "source"},
           {"2001:db8::1", "225.1.1.1", "source"},
           {"225.1.1.2", "225.1.1.1", "source"},
           {"", "10.1.1.1", "group"},
           {"", "224.0.0.0/3", "group"},
           {"", "ff05::1/200", "group"},
       }) {
    CAPTURE(c.source);
    CAPTURE(c.group);
    const auto api = api_says(route("eth0", "eth1", c.group, c.source));
    CHECK(api.first == c.param);
    const std::string source = c.source.empty() ? "" : " source " + c.source;
    CHECK(api.second ==
          config_says("mroute from eth0" + source + " group " + c.group + " to eth1"));
  }
}

TEST_CASE("owners: at most 64 printable characters, no space") {
  CHECK(validate_owner("api"));
  CHECK(validate_owner(std::string(64, 'o')));
  CHECK(validate_owner("orchestrator-7@host.example"));
  CHECK(validate_owner("").error().message == "owner is empty");
  CHECK(validate_owner(std::string(100'000, 'o')).error().message ==
        "owner '" + std::string(64, 'o') + "\u2026' is longer than 64 characters");
  CHECK(validate_owner("a b").error().message ==
        "owner 'a b' may hold only printable ASCII characters, no space");
  CHECK(validate_owner("a\nb").error().message ==
        "owner 'a\\x0ab' may hold only printable ASCII characters, no space");

  nlohmann::json p = route("eth0", "eth1");
  p["owner"] = std::string(100'000, 'o');
  const auto api = api_says(p);
  CHECK(api.first == "owner");
  CHECK(api.second == validate_owner(std::string(100'000, 'o')).error().message);
}
