// Talking to mfcd over its UNIX socket. The framing is one JSON text per
// line, so a request is written with a trailing newline and the reply is
// everything up to the first newline (or up to EOF, should the daemon close
// without one). Every blocking step waits in poll() against one deadline so
// that the whole call, not each step, is bounded.
#include "client/transport.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace mfcd::client {
namespace {

using Clock = std::chrono::steady_clock;

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() { reset(-1); }
  void reset(int fd) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

Exchange fail(Exchange::Status status, std::string error) {
  Exchange e;
  e.status = status;
  e.error = std::move(error);
  return e;
}

// Waits until `fd` is ready for `events` or the deadline passes.
// Returns false on timeout.
bool wait_for(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return false;
    pollfd p{fd, events, 0};
    const int n = ::poll(&p, 1, static_cast<int>(left));
    if (n > 0) return true;
    if (n < 0 && errno != EINTR) return true;  // let the following call report the error
  }
}

// Connects `sock` to the daemon and sends `request` with its newline;
// status ok once all of it is sent.
Exchange connect_and_send(Fd& sock, const std::string& socket_path, const std::string& request,
                          Clock::time_point deadline) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_path.size() >= sizeof(addr.sun_path)) {
    return fail(Exchange::Status::cannot_connect, "socket path too long");
  }
  std::memcpy(addr.sun_path, socket_path.c_str(), socket_path.size() + 1);

  sock.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (sock.get() < 0) return fail(Exchange::Status::cannot_connect, std::strerror(errno));

  if (::connect(sock.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) < 0) {
    // A UNIX connect only blocks when the listen backlog is full.
    if (errno != EAGAIN && errno != EINPROGRESS) {
      return fail(Exchange::Status::cannot_connect, std::strerror(errno));
    }
    if (!wait_for(sock.get(), POLLOUT, deadline)) {
      return fail(Exchange::Status::timeout, "timed out connecting");
    }
    int err = 0;
    socklen_t len = sizeof(err);
    ::getsockopt(sock.get(), SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) return fail(Exchange::Status::cannot_connect, std::strerror(err));
  }

  std::string out = request;
  if (out.empty() || out.back() != '\n') out.push_back('\n');
  size_t sent = 0;
  while (sent < out.size()) {
    if (!wait_for(sock.get(), POLLOUT, deadline)) {
      return fail(Exchange::Status::timeout, "timed out sending the request");
    }
    const ssize_t n = ::send(sock.get(), out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      return fail(Exchange::Status::io_error, std::strerror(errno));
    }
    sent += static_cast<size_t>(n);
  }
  return Exchange{};
}

// Reads lines from `fd` and hands each, without its newline, to `on_line`
// until that returns false (ok). The first line must come by `deadline`;
// the later ones may take as long as they take. When the daemon closes the
// connection, what it sent after the last newline is left in `rest`.
Exchange read_lines(int fd, Clock::time_point deadline, const LineHandler& on_line,
                    std::string& rest) {
  bool replied = false;
  char buf[65536];
  for (;;) {
    if (!replied && !wait_for(fd, POLLIN, deadline))
      return fail(Exchange::Status::timeout, "timed out waiting for the reply");
    if (replied) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, -1) < 0 && errno != EINTR)
        return fail(Exchange::Status::io_error, std::strerror(errno));
    }
    const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      return fail(Exchange::Status::io_error, std::strerror(errno));
    }
    if (n == 0) return fail(Exchange::Status::no_reply, "the daemon closed the connection");
    // Only the bytes just read can hold a new line's end: a reply of
    // megabytes comes in many reads, and looking again from its start
    // every time would make reading it quadratic.
    const size_t scanned = rest.size();
    rest.append(buf, static_cast<size_t>(n));
    size_t at = 0;
    for (size_t nl, from = scanned; (nl = rest.find('\n', from)) != std::string::npos;
         at = nl + 1, from = at) {
      replied = true;
      if (!on_line(rest.substr(at, nl - at))) return Exchange{};
    }
    rest.erase(0, at);
  }
}

}  // namespace

Exchange exchange(const std::string& socket_path, const std::string& request,
                  std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  Fd sock(-1);
  if (auto sent = connect_and_send(sock, socket_path, request, deadline);
      sent.status != Exchange::Status::ok)
    return sent;
  std::string reply;
  std::string rest;
  auto read = read_lines(
      sock.get(), deadline,
      [&](const std::string& line) {
        reply = line;
        return false;
      },
      rest);
  if (read.status == Exchange::Status::ok) {
    read.reply = std::move(reply);
    return read;
  }
  // A last line without its newline is still the reply.
  if (read.status == Exchange::Status::no_reply && !rest.empty()) {
    Exchange e;
    e.reply = std::move(rest);
    return e;
  }
  return read;
}

Exchange stream(const std::string& socket_path, const std::string& request,
                const LineHandler& on_line, std::chrono::milliseconds timeout) {
  Fd sock(-1);
  const auto deadline = Clock::now() + timeout;
  if (auto sent = connect_and_send(sock, socket_path, request, deadline);
      sent.status != Exchange::Status::ok)
    return sent;
  // The reply within the deadline; then lines as they come, for as long
  // as the daemon sends them.
  std::string rest;
  return read_lines(sock.get(), deadline, on_line, rest);
}

}  // namespace mfcd::client
