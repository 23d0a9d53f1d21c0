// mfcctl's socket layer (client/transport.hpp) against a real UNIX socket
// served by a thread: one reply line, a last line without its newline, a
// daemon that never answers, and a stream of lines until the close.
#include <doctest/doctest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "client/transport.hpp"

namespace {

using mfcd::client::Exchange;
using namespace std::chrono_literals;

// A listening socket in a fresh directory; serve() answers one client by
// reading its request line and sending `answer`, then closes (or, with
// `hold`, keeps the connection open until the client goes).
struct Daemon {
  std::string dir;
  std::string path;
  int fd = -1;
  std::string request;

  Daemon() {
    char tmpl[] = "/tmp/mfcd-transport-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    dir = tmpl;
    path = dir + "/s.sock";
    fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    path.copy(a.sun_path, sizeof(a.sun_path) - 1);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0);
    REQUIRE(::listen(fd, 4) == 0);
  }
  ~Daemon() {
    ::close(fd);
    ::unlink(path.c_str());
    ::rmdir(dir.c_str());
  }

  std::thread serve(std::string answer, bool hold = false) {
    return std::thread([this, answer = std::move(answer), hold] {
      const int c = ::accept(fd, nullptr, nullptr);
      if (c < 0) return;
      char ch;
      while (::recv(c, &ch, 1, 0) == 1 && ch != '\n')
        request += ch;
      (void)!::send(c, answer.data(), answer.size(), MSG_NOSIGNAL);
      if (hold)
        while (::recv(c, &ch, 1, 0) > 0) {
        }
      ::close(c);
    });
  }
};

}  // namespace

TEST_CASE("transport: one reply line, the rest ignored") {
  Daemon d;
  auto t = d.serve("{\"id\":1}\n{\"more\":2}\n");
  const Exchange e = mfcd::client::exchange(d.path, "{\"method\":\"x\"}");
  t.join();
  CHECK(e.status == Exchange::Status::ok);
  CHECK(e.reply == "{\"id\":1}");
  CHECK(d.request == "{\"method\":\"x\"}");
}

TEST_CASE("transport: a last line without its newline is the reply; nothing at all is no reply") {
  Daemon d;
  auto t = d.serve("{\"id\":1}");
  const Exchange e = mfcd::client::exchange(d.path, "r\n");
  t.join();
  CHECK(e.status == Exchange::Status::ok);
  CHECK(e.reply == "{\"id\":1}");
  auto t2 = d.serve("");
  const Exchange none = mfcd::client::exchange(d.path, "r\n");
  t2.join();
  CHECK(none.status == Exchange::Status::no_reply);
}

TEST_CASE("transport: a daemon that never answers times out") {
  Daemon d;
  auto t = d.serve("", /*hold=*/true);
  const Exchange e = mfcd::client::exchange(d.path, "r\n", 200ms);
  CHECK(e.status == Exchange::Status::timeout);
  // The client's socket is closed with the exchange: the server sees the end.
  t.join();
}

TEST_CASE("transport: a stream hands every line until the close, or until told to stop") {
  Daemon d;
  auto t = d.serve("reply\ne1\ne2\n");
  std::vector<std::string> got;
  const Exchange e = mfcd::client::stream(d.path, "sub\n", [&](const std::string& line) {
    got.push_back(line);
    return true;
  });
  t.join();
  CHECK(e.status == Exchange::Status::no_reply);
  CHECK(got == std::vector<std::string>{"reply", "e1", "e2"});

  auto t2 = d.serve("reply\ne1\ne2\n", /*hold=*/true);
  got.clear();
  const Exchange stopped = mfcd::client::stream(d.path, "sub\n", [&](const std::string& line) {
    got.push_back(line);
    return got.size() < 2;
  });
  t2.join();
  CHECK(stopped.status == Exchange::Status::ok);
  CHECK(got == std::vector<std::string>{"reply", "e1"});
}

TEST_CASE("transport: no daemon on the path cannot connect") {
  const Exchange e = mfcd::client::exchange("/nonexistent/mfcd-test.sock", "r\n");
  CHECK(e.status == Exchange::Status::cannot_connect);
}
