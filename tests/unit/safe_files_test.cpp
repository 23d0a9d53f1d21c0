// The PID file and the control socket are made without following links and
// without taking over a live daemon's socket (service/safe_files.hpp). Real
// files and sockets in a temporary directory: these syscalls need no root.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "service/safe_files.hpp"

namespace fs = std::filesystem;
using mfcd::FileId;
using State = mfcd::SocketProbe::State;

namespace {

struct TempDir {
  std::string path;
  TempDir() {
    char name[] = "/tmp/mfcd-safe-files.XXXXXX";
    REQUIRE(::mkdtemp(name) != nullptr);
    path = name;
  }
  ~TempDir() { fs::remove_all(path); }
  std::string operator/(const std::string& name) const { return path + "/" + name; }
};

std::string read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void write(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

mode_t mode_of(const std::string& path) {
  struct stat st {};
  REQUIRE(::lstat(path.c_str(), &st) == 0);
  return st.st_mode;
}

// A UNIX socket bound to `path`; listening unless `listen` is false.
int bound_socket(const std::string& path, bool listen = true) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  if (listen) REQUIRE(::listen(fd, 4) == 0);
  return fd;
}

bool connects(const std::string& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

TEST_CASE("a new file is never written through a symlink planted at its name") {
  TempDir dir;
  const auto target = dir / "target";
  write(target, "precious\n");
  const auto tmp = dir / "mfcd.pid.tmp";
  fs::create_symlink(target, tmp);

  FileId id;
  auto err = mfcd::write_new_file(tmp, "42\n", 0644, id);
  REQUIRE(err);
  CHECK(errno == EEXIST);
  CHECK(err->find("cannot create " + tmp) == 0);
  CHECK(read(target) == "precious\n");
  CHECK(fs::is_symlink(tmp));

  // A dangling link is not followed either: its target is not created.
  const auto dangling = dir / "dangling";
  fs::create_symlink(dir / "nowhere", dangling);
  CHECK(mfcd::write_new_file(dangling, "42\n", 0644, id));
  CHECK(!fs::exists(dir / "nowhere"));
}

TEST_CASE("the PID file is written whole, mode 0644 whatever the umask, and recorded") {
  TempDir dir;
  const auto pid_file = dir / "mfcd.pid";
  const mode_t old = ::umask(0077);
  FileId id;
  auto err = mfcd::write_pid_file(pid_file, 4242, id);
  ::umask(old);
  REQUIRE(!err);
  CHECK(read(pid_file) == "4242\n");
  CHECK((mode_of(pid_file) & 07777) == 0644);
  CHECK(id == mfcd::file_id(pid_file));
  // Nothing else is left in the directory (no temporary name).
  CHECK(std::distance(fs::directory_iterator(dir.path), fs::directory_iterator()) == 1);
}

TEST_CASE("a symlink at the PID file's name is replaced, its target left alone") {
  TempDir dir;
  const auto target = dir / "target";
  write(target, "precious\n");
  const auto pid_file = dir / "mfcd.pid";
  fs::create_symlink(target, pid_file);
  // The old fixed temporary name, planted too: never used.
  fs::create_symlink(target, pid_file + ".tmp");

  FileId id;
  REQUIRE(!mfcd::write_pid_file(pid_file, 7, id));
  CHECK(!fs::is_symlink(pid_file));
  CHECK(read(pid_file) == "7\n");
  CHECK(read(target) == "precious\n");
}

TEST_CASE("a PID file that is not ours any more is not removed") {
  TempDir dir;
  const auto pid_file = dir / "mfcd.pid";
  FileId ours;
  REQUIRE(!mfcd::write_pid_file(pid_file, 1, ours));
  FileId theirs;
  REQUIRE(!mfcd::write_pid_file(pid_file, 2, theirs));  // another daemon's, renamed over
  CHECK(!mfcd::remove_if_same(pid_file, ours));
  CHECK(read(pid_file) == "2\n");
  CHECK(mfcd::remove_if_same(pid_file, theirs));
  CHECK(!fs::exists(pid_file));
  CHECK(!mfcd::remove_if_same(pid_file, theirs));  // gone: nothing to do
}

TEST_CASE("probing a socket path tells absent, stale, live and foreign apart") {
  TempDir dir;
  const auto path = dir / "mfcd.sock";
  CHECK(mfcd::probe_socket(path).state == State::absent);

  const int live = bound_socket(path);
  auto probe = mfcd::probe_socket(path);
  CHECK(probe.state == State::live);
  CHECK(probe.pid == ::getpid());
  ::close(live);  // the file stays behind, as after a crash
  CHECK(mfcd::probe_socket(path).state == State::stale);

  // Bound but not listening refuses connections: stale too.
  const auto quiet = dir / "quiet.sock";
  const int fd = bound_socket(quiet, false);
  CHECK(mfcd::probe_socket(quiet).state == State::stale);
  ::close(fd);

  const auto file = dir / "file";
  write(file, "x");
  CHECK(mfcd::probe_socket(file).state == State::not_socket);
}

TEST_CASE("claiming a socket replaces a stale one, mode 0660 whatever the umask") {
  TempDir dir;
  const auto path = dir / "mfcd.sock";
  ::close(bound_socket(path));
  const FileId stale = mfcd::file_id(path);

  const mode_t old = ::umask(0);
  auto claim = mfcd::claim_socket(path, 0660, 8);
  ::umask(old);
  REQUIRE(claim.socket);
  CHECK(claim.socket->path == path);
  CHECK(claim.socket->id == mfcd::file_id(path));
  CHECK(claim.socket->id != stale);
  CHECK(S_ISSOCK(mode_of(path)));
  CHECK((mode_of(path) & 07777) == 0660);
  CHECK(connects(path));
  CHECK(std::distance(fs::directory_iterator(dir.path), fs::directory_iterator()) == 1);

  // A second daemon finds it live, names the first one and leaves it alone.
  auto second = mfcd::claim_socket(path, 0660, 8);
  CHECK(!second.socket);
  CHECK(second.error.live);
  CHECK(second.error.message == "another daemon (pid " + std::to_string(::getpid()) +
                                    ") answers on " + path + "; not taking it over");
  CHECK(claim.socket->id == mfcd::file_id(path));
  CHECK(connects(path));

  ::close(claim.socket->fd);
  CHECK(mfcd::remove_if_same(path, claim.socket->id));
}

TEST_CASE("a path that is not a socket is never replaced by one") {
  TempDir dir;
  const auto path = dir / "mfcd.sock";
  write(path, "precious\n");
  auto claim = mfcd::claim_socket(path, 0660, 8);
  CHECK(!claim.socket);
  CHECK(!claim.error.live);
  CHECK(claim.error.message == path + " exists and is not a socket; not replacing it");
  CHECK(read(path) == "precious\n");

  auto missing = mfcd::claim_socket(dir / "no/such/dir/mfcd.sock", 0660, 8);
  CHECK(!missing.socket);
  CHECK(missing.error.message.find("cannot lock directory " + dir / "no/such/dir") == 0);
}
