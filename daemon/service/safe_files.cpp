// See safe_files.hpp. Temporary names carry a random suffix so that a name
// planted in advance is never the one we use; O_EXCL (and bind(2), which
// fails on any existing name) make a planted name an error we retry past
// instead of a link we follow. Modes come from fchmod on the descriptor or
// from the umask around bind(2), never from chmod(2) on a path, which would
// follow a link swapped in after the create.
#include "service/safe_files.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace mfcd {

namespace {

constexpr int kNameAttempts = 16;

std::string errno_text(const std::string& what, int err = errno) {
  return what + ": " + std::strerror(err);
}

std::string dir_of(const std::string& path) {
  const auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::string random_suffix(size_t length) {
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string out(length, 'x');
  unsigned char bytes[16] = {};
  if (length > sizeof(bytes)) length = sizeof(bytes);
  // getrandom of at most 256 bytes never returns short; should it fail,
  // the mix below still differs per call and O_EXCL keeps us safe.
  if (::getrandom(bytes, length, 0) != static_cast<ssize_t>(length)) {
    static unsigned counter = 0;
    for (size_t i = 0; i < length; ++i)
      bytes[i] = static_cast<unsigned char>((::getpid() >> i) + counter++ * 31 + i * 7);
  }
  for (size_t i = 0; i < length; ++i)
    out[i] = kAlphabet[bytes[i] % (sizeof(kAlphabet) - 1)];
  return out;
}

bool fill_address(const std::string& path, sockaddr_un& addr) {
  addr = {};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(addr.sun_path)) return false;
  std::memcpy(addr.sun_path, path.data(), path.size());
  return true;
}

bool write_all(int fd, std::string_view data) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

// Holds an flock on a directory for as long as it lives.
class DirLock {
 public:
  explicit DirLock(const std::string& dir)
      : fd_(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) {
    if (fd_ >= 0 && ::flock(fd_, LOCK_EX) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  ~DirLock() {
    if (fd_ >= 0) ::close(fd_);
  }
  DirLock(const DirLock&) = delete;
  DirLock& operator=(const DirLock&) = delete;
  bool ok() const { return fd_ >= 0; }

 private:
  int fd_;
};

// Binds `fd` to a fresh name in `dir` under the umask that gives `mode`.
// Returns the name, or "" with `error` set.
std::string bind_temporary(int fd, const std::string& dir, mode_t mode, std::string& error) {
  for (int attempt = 0; attempt < kNameAttempts; ++attempt) {
    const std::string tmp = (dir == "/" ? "" : dir) + "/." + random_suffix(8);
    sockaddr_un addr{};
    if (!fill_address(tmp, addr)) {
      error = "cannot bind a temporary name in " + dir + ": path too long";
      return "";
    }
    const mode_t old = ::umask(static_cast<mode_t>(~mode & 0777));
    const int rc = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    const int err = errno;
    ::umask(old);
    if (rc == 0) return tmp;
    if (err != EADDRINUSE) {
      error = errno_text("cannot bind " + tmp, err);
      return "";
    }
  }
  error = "cannot find a free temporary name in " + dir;
  return "";
}

// A failed lchown(2). EPERM is the usual one: changing a file's group
// takes CAP_CHOWN, or an owner that is itself in the group.
std::string group_error(const std::string& path, gid_t group) {
  const int err = errno;
  std::string text = errno_text("cannot give " + path + " group " + std::to_string(group), err);
  if (err == EPERM) text += " (this takes CAP_CHOWN, or the daemon a member of that group)";
  return text;
}

}  // namespace

FileId file_id(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return {};
  return FileId{st.st_dev, st.st_ino};
}

bool remove_if_same(const std::string& path, FileId id) {
  if (!id.valid() || file_id(path) != id) return false;
  return ::unlink(path.c_str()) == 0;
}

std::optional<std::string> write_new_file(const std::string& path, std::string_view data,
                                          mode_t mode, FileId& id) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return errno_text("cannot create " + path);
  std::optional<std::string> error;
  struct stat st {};
  if (::fchmod(fd, mode) != 0)
    error = errno_text("fchmod " + path);
  else if (!write_all(fd, data))
    error = errno_text("write " + path);
  else if (::fsync(fd) != 0)
    error = errno_text("fsync " + path);
  else if (::fstat(fd, &st) != 0)
    error = errno_text("fstat " + path);
  if (::close(fd) != 0 && !error) error = errno_text("close " + path);
  if (error) {
    const int err = errno;
    ::unlink(path.c_str());
    errno = err;
    return error;
  }
  id = FileId{st.st_dev, st.st_ino};
  return std::nullopt;
}

std::optional<std::string> write_pid_file(const std::string& path, pid_t pid, FileId& id) {
  return replace_file(path, std::to_string(pid) + "\n", 0644, &id);
}

SocketProbe probe_socket(const std::string& path) {
  using State = SocketProbe::State;
  SocketProbe probe;
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return probe;
    probe.state = State::error;
    probe.error = errno_text("cannot look at " + path);
    return probe;
  }
  if (!S_ISSOCK(st.st_mode)) {
    probe.state = State::not_socket;
    return probe;
  }
  sockaddr_un addr{};
  if (!fill_address(path, addr)) {
    probe.state = State::error;
    probe.error = path + ": path too long for a UNIX socket";
    return probe;
  }
  // Non-blocking: a live daemon whose backlog is full answers EAGAIN at
  // once instead of holding us up, and counts as live.
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    probe.state = State::error;
    probe.error = errno_text("socket");
    return probe;
  }
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
    probe.state = State::live;
    struct ucred cred {};
    socklen_t len = sizeof(cred);
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0) probe.pid = cred.pid;
  } else if (errno == EAGAIN || errno == EINPROGRESS) {
    probe.state = State::live;
  } else if (errno == ECONNREFUSED) {
    probe.state = State::stale;
  } else if (errno == ENOENT) {
    probe.state = State::absent;
  } else {
    probe.state = State::error;
    probe.error = errno_text("cannot connect to " + path);
  }
  ::close(fd);
  return probe;
}

ClaimResult claim_socket(const std::string& path, mode_t mode, int backlog,
                         std::optional<gid_t> group) {
  ClaimResult out;
  auto fail = [&](std::string message) {
    out.error.message = std::move(message);
    return out;
  };
  sockaddr_un check{};
  if (!fill_address(path, check)) return fail(path + ": path too long for a UNIX socket");
  const std::string dir = dir_of(path);
  DirLock lock(dir);
  if (!lock.ok()) return fail(errno_text("cannot lock directory " + dir));

  using State = SocketProbe::State;
  const auto probe = probe_socket(path);
  switch (probe.state) {
    case State::live:
      out.error.live = true;
      return fail("another daemon" +
                  (probe.pid ? " (pid " + std::to_string(probe.pid) + ")" : std::string()) +
                  " answers on " + path + "; not taking it over");
    case State::not_socket:
      return fail(path + " exists and is not a socket; not replacing it");
    case State::error:
      return fail(probe.error);
    case State::absent:
    case State::stale:
      break;
  }

  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return fail(errno_text("socket"));
  std::string error;
  const std::string tmp = bind_temporary(fd, dir, mode, error);
  if (tmp.empty()) {
    ::close(fd);
    return fail(error);
  }
  // Listening before the rename: a daemon probing the final name must
  // never see it refuse connections (that would read as stale).
  const FileId id = file_id(tmp);
  if (group && ::lchown(tmp.c_str(), static_cast<uid_t>(-1), *group) != 0) {
    out.error.permission = errno == EPERM;
    error = group_error(tmp, *group);
  } else if (::listen(fd, backlog) != 0) {
    error = errno_text("listen on " + tmp);
  } else if (::rename(tmp.c_str(), path.c_str()) != 0) {
    error = errno_text("cannot rename " + tmp + " to " + path);
  }
  if (!error.empty()) {
    ::unlink(tmp.c_str());
    ::close(fd);
    return fail(error);
  }
  out.socket = ClaimedSocket{fd, id, path};
  return out;
}

std::optional<std::string> set_socket_group(const std::string& path, FileId id, gid_t group) {
  if (!id.valid() || file_id(path) != id) return path + " is no longer this daemon's socket";
  if (::lchown(path.c_str(), static_cast<uid_t>(-1), group) != 0) return group_error(path, group);
  return std::nullopt;
}

std::optional<std::string> replace_file(const std::string& path, std::string_view data, mode_t mode,
                                        FileId* made) {
  for (int attempt = 0; attempt < kNameAttempts; ++attempt) {
    const std::string tmp = path + "." + random_suffix(6);
    FileId id;
    auto error = write_new_file(tmp, data, mode, id);
    if (error && errno == EEXIST) continue;  // taken, maybe planted: another name
    if (error) return error;
    // rename(2) replaces whatever is at `path`, a symlink included, without
    // following it, and a reader sees the old file or the whole new one.
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
      error = errno_text("cannot rename " + tmp + " to " + path);
      ::unlink(tmp.c_str());
      return error;
    }
    // The rename itself lasts only once the directory is on disk too.
    const auto slash = path.find_last_of('/');
    const std::string dir = slash == std::string::npos ? "."
                            : slash == 0               ? "/"
                                                       : path.substr(0, slash);
    const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
      ::fsync(dfd);
      ::close(dfd);
    }
    if (made) *made = id;
    return std::nullopt;
  }
  return "cannot find a free temporary name for " + path;
}

}  // namespace mfcd
