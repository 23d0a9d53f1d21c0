// The state file (-S): what the API added survives a crash. The document
// (api/state.hpp) is tested on the router's fakes: what goes in it, and that
// replaying it into a fresh daemon gives the same routes, joins and kernel
// entries. The file (service/state_file.hpp) is tested on a real temporary
// directory: atomic saves, and a bad file that never blocks a start.
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "api/state.hpp"
#include "api_fixture.hpp"
#include "service/state_file.hpp"

namespace {

using mfcd::test::ApiFixture;
using nlohmann::json;
namespace fs = std::filesystem;

const char* kConfig =
    "phyint a1 enable\nphyint a2 enable\nphyint a3 enable\n"
    "mroute from a1 source 192.0.2.1 group 225.1.1.1 to a2\n";

// route.list and group.list as a client sees them, for comparing daemons.
json listing(ApiFixture& f) {
  return {{"routes", f.result("route.list", {{"detail", true}})},
          {"groups", f.result("group.list")}};
}

void fill(ApiFixture& f) {
  f.result("route.add", {{"iif", "a1"},
                         {"source", "192.0.2.7"},
                         {"group", "225.1.1.7"},
                         {"oifs", {"a2", "a3"}},
                         {"owner", "orch"}});
  // A share of a config route, and a (*,G) rule, by other owners.
  f.result("route.add", {{"iif", "a1"},
                         {"source", "192.0.2.1"},
                         {"group", "225.1.1.1"},
                         {"oifs", {"a3"}},
                         {"owner", "ops"}});
  f.result("route.add", {{"iif", "a2"}, {"group", "ff05::7"}, {"oifs", {"a1"}}});
  // A stop filter: an owner holding a route with no OIFs.
  f.result(
      "route.set",
      {{"iif", "a1"}, {"source", "192.0.2.9"}, {"group", "225.1.1.9"}, {"oifs", json::array()}});
  f.result("group.join", {{"iif", "a3"}, {"group", "225.5.5.5"}, {"owner", "orch"}});
  f.result("group.join", {{"iif", "a2"}, {"source", "192.0.2.5"}, {"group", "232.1.1.1"}});
}

}  // namespace

TEST_CASE("state: holds every API share and join with its owner, and nothing of the config") {
  ApiFixture f;
  f.start(kConfig);
  CHECK(mfcd::api::api_state(f.rf.router) ==
        json{{"version", 1}, {"routes", json::array()}, {"joins", json::array()}});
  fill(f);
  const json state = mfcd::api::api_state(f.rf.router);
  CHECK(state["routes"] == json::parse(R"([
    {"iif":"a1","source":"192.0.2.1","group":"225.1.1.1","oifs":["a3"],"owner":"ops"},
    {"iif":"a1","source":"192.0.2.7","group":"225.1.1.7","oifs":["a2","a3"],"owner":"orch"},
    {"iif":"a2","group":"ff05::7","oifs":["a1"],"owner":"api"},
    {"iif":"a1","source":"192.0.2.9","group":"225.1.1.9","oifs":[],"owner":"api"}])"));
  CHECK(state["joins"] == json::parse(R"([
    {"iif":"a3","group":"225.5.5.5","owner":"orch"},
    {"iif":"a2","source":"192.0.2.5","group":"232.1.1.1","owner":"api"}])"));
}

TEST_CASE("state: replayed into a fresh daemon, it gives the same routes, joins and kernel") {
  ApiFixture before;
  before.start(kConfig);
  fill(before);
  const json state = mfcd::api::api_state(before.rf.router);

  ApiFixture after;  // a restart: the same config, then the state file
  after.start(kConfig);
  mfcd::api::RestoreResult restored;
  std::string error;
  REQUIRE(mfcd::api::restore_api_state(after.rf.router, state, restored, error));
  CHECK(restored.problems.empty());
  CHECK(restored.routes == 4);
  CHECK(restored.joins == 2);
  CHECK(listing(after) == listing(before));
  CHECK(after.rf.kernel.table() == before.rf.kernel.table());
  CHECK(mfcd::api::api_state(after.rf.router) == state);
}

TEST_CASE("state: a bad entry is reported by its place and the others go in") {
  ApiFixture f;
  f.start(kConfig);
  const json state = json::parse(R"({"version":1,"routes":[
    {"iif":"a1","source":"192.0.2.7","group":"225.1.1.7","oifs":["a2"],"owner":"orch"},
    {"iif":"a1","source":"192.0.2.8","group":"10.0.0.1","oifs":["a2"]},
    {"iif":"a1","group":"225.1.1.8","oifs":["a2"],"colour":"red"}],
    "joins":[{"iif":"a2","group":"225.5.5.5"},{"iif":"a2"}]})");
  mfcd::api::RestoreResult restored;
  std::string error;
  REQUIRE(mfcd::api::restore_api_state(f.rf.router, state, restored, error));
  CHECK(restored.routes == 1);
  CHECK(restored.joins == 1);
  REQUIRE(restored.problems.size() == 3);
  CHECK(restored.problems[0].where == "routes[1]");
  CHECK(restored.problems[0].message.find("group") != std::string::npos);
  CHECK(restored.problems[1].where == "routes[2]");
  CHECK(restored.problems[1].message.find("colour") != std::string::npos);
  CHECK(restored.problems[2].where == "joins[1]");
  const json routes = f.result("route.list")["routes"];
  CHECK(routes["ssm"].size() + routes["asm"].size() == 2);  // the config's and orch's
}

TEST_CASE("state: a document of another version or shape changes nothing") {
  ApiFixture f;
  f.start(kConfig);
  const json listed = listing(f);
  for (const json& doc : {json::parse(R"({"version":2,"routes":[]})"), json::parse("[1,2]"),
                          json::parse(R"({"version":1,"routes":{"iif":"a1"}})")}) {
    mfcd::api::RestoreResult restored;
    std::string error;
    CHECK_FALSE(mfcd::api::restore_api_state(f.rf.router, doc, restored, error));
    CHECK_FALSE(error.empty());
    CHECK(listing(f) == listed);
  }
}

namespace {

struct TempDir {
  TempDir() {
    char tmpl[] = "/tmp/mfcd-state-test-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    path = tmpl;
  }
  ~TempDir() { fs::remove_all(path); }
  fs::path path;
};

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

TEST_CASE("state file: saved atomically, read back, and not rewritten when nothing changed") {
  TempDir dir;
  const fs::path path = dir.path / "lib" / "mfcd.state";  // the directory is made
  mfcd::StateFile file(path.string());
  std::string problem;
  CHECK_FALSE(file.load(problem).has_value());
  CHECK(problem.empty());  // no file yet is no problem

  const json doc = {{"version", 1}, {"routes", json::array()}, {"joins", json::array()}};
  REQUIRE_FALSE(file.save(doc).has_value());
  CHECK(json::parse(slurp(path)) == doc);
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  const ino_t first = st.st_ino;
  REQUIRE_FALSE(file.save(doc).has_value());  // unchanged: not written again
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK(st.st_ino == first);
  json changed = doc;
  changed["joins"].push_back({{"iif", "a1"}, {"group", "225.1.1.1"}, {"owner", "api"}});
  REQUIRE_FALSE(file.save(changed).has_value());
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK(st.st_ino != first);  // a new file renamed over the old one
  CHECK(fs::directory_iterator(path.parent_path()) != fs::directory_iterator());
  size_t entries = 0;
  for (const auto& e : fs::directory_iterator(path.parent_path())) {
    (void)e;
    ++entries;
  }
  CHECK(entries == 1);  // no temporary left behind

  mfcd::StateFile again(path.string());
  auto loaded = again.load(problem);
  REQUIRE(loaded.has_value());
  CHECK(*loaded == changed);
}

TEST_CASE("state file: a corrupt, strange or linked file is reported and moved aside") {
  TempDir dir;
  const fs::path path = dir.path / "mfcd.state";
  const fs::path aside = dir.path / "mfcd.state.corrupt";
  std::string problem;

  SUBCASE("not JSON") {
    std::ofstream(path) << "{\"version\": 1, \"routes\": [\n";
  }
  SUBCASE("a FIFO, which must not block the start") {
    REQUIRE(::mkfifo(path.c_str(), 0600) == 0);
  }
  SUBCASE("a directory") {
    fs::create_directory(path);
  }
  SUBCASE("a symlink, never followed") {
    std::ofstream(dir.path / "elsewhere") << "{\"version\":1}";
    fs::create_symlink(dir.path / "elsewhere", path);
  }
  mfcd::StateFile file(path.string());
  CHECK_FALSE(file.load(problem).has_value());
  CHECK(problem.find(path.string()) != std::string::npos);
  CHECK(problem.find("moved aside to " + aside.string()) != std::string::npos);
  CHECK_FALSE(fs::exists(fs::symlink_status(path)));
  CHECK(fs::exists(fs::symlink_status(aside)));
  // The next save starts afresh.
  REQUIRE_FALSE(file.save({{"version", 1}}).has_value());
  CHECK(json::parse(slurp(path)) == json{{"version", 1}});
}

namespace {

struct CountingDaemon : mfcd::test::FakeDaemon {
  using FakeDaemon::FakeDaemon;
  void save_state() override { ++saves; }
  int saves = 0;
};

}  // namespace

TEST_CASE("state: saved once per message that held a write, before its reply") {
  mfcd::test::RouterFixture rf(mfcd::test::api_links(), {});
  CountingDaemon daemon(rf.router);
  mfcd::rpc::Dispatcher dispatcher;
  mfcd::api::register_methods(dispatcher, rf.router, daemon);
  const mfcd::rpc::CallContext root{0, 0, 1, {}};
  auto add = [](int id, const std::string& group) {
    return json{{"jsonrpc", "2.0"},
                {"id", id},
                {"method", "route.add"},
                {"params", {{"iif", "a1"}, {"group", group}, {"oifs", {"a2"}}}}};
  };

  // A batch of three adds: one save, after all of them.
  const json batch = {add(1, "225.1.1.1"), add(2, "225.1.1.2"), add(3, "225.1.1.3")};
  REQUIRE(dispatcher.handle(batch.dump(), root).has_value());
  CHECK(daemon.saves == 1);
  // A read: none.
  REQUIRE(dispatcher.handle(R"({"jsonrpc":"2.0","id":4,"method":"route.list"})", root));
  CHECK(daemon.saves == 1);
  // A write that is refused for its params still counts (it is harmless:
  // an unchanged state writes nothing).
  REQUIRE(dispatcher.handle(R"({"jsonrpc":"2.0","id":5,"method":"route.add","params":{}})", root));
  CHECK(daemon.saves == 2);
  // A write refused before it runs (not root): none.
  const mfcd::rpc::CallContext user{1000, 1000, 2, {}};
  REQUIRE(dispatcher.handle(add(6, "225.1.1.6").dump(), user));
  CHECK(daemon.saves == 2);
}
