// The one place mfcctl touches a socket: connect to the daemon's UNIX stream
// socket, send one request line, read one reply line. Plain POSIX calls with
// poll() deadlines, because a command-line tool needs no event loop and must
// never hang a shell script when the daemon is wedged.
#pragma once

#include <chrono>
#include <functional>
#include <string>

namespace mfcd::client {

struct Exchange {
  enum class Status {
    ok,              // reply holds one line (without its '\n')
    cannot_connect,  // socket missing, refused, or not permitted
    timeout,         // no complete reply before the deadline
    io_error,        // write/read failed after connecting
    no_reply,        // the daemon closed without sending anything
  };
  Status status = Status::ok;
  std::string reply;
  std::string error;  // human text for everything but ok, e.g. "No such file or directory"
};

inline constexpr std::chrono::milliseconds kReplyTimeout{10'000};
// A batch (-b) is answered only when the daemon has carried out every
// command in it, and each may change the kernel: the deadline grows with
// the batch. 60 routes that each add a VIF took 12 s in the test bed.
inline constexpr std::chrono::milliseconds kBatchTimeoutPerCommand{250};

// Sends `request` (a '\n' is appended when missing) and waits for one reply
// line. The whole exchange shares one deadline.
Exchange exchange(const std::string& socket_path, const std::string& request,
                  std::chrono::milliseconds timeout = kReplyTimeout);

// For `monitor`: sends `request`, then hands each line the daemon sends,
// the reply first, to `on_line`, until the daemon closes the connection
// (status no_reply) or on_line returns false (status ok). Only the reply
// has a deadline: events come when they come.
using LineHandler = std::function<bool(const std::string& line)>;
Exchange stream(const std::string& socket_path, const std::string& request,
                const LineHandler& on_line, std::chrono::milliseconds timeout = kReplyTimeout);

// What run() uses to reach the daemon; tests pass a fake.
using Transport = std::function<Exchange(const std::string& socket_path, const std::string& request,
                                         std::chrono::milliseconds timeout)>;
using StreamTransport = std::function<Exchange(
    const std::string& socket_path, const std::string& request, const LineHandler& on_line)>;

}  // namespace mfcd::client
