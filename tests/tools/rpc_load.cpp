// rpc_load: careless and hostile clients against mfcd's control socket,
// with well-behaved ones timed among them (issue 14's load test; the e2e
// test test_rpc_load.sh runs it while a flow crosses the router).
//
//   rpc_load SOCKET IIF SOURCE OIF [--clients N] [--malformed N]
//            [--nonreaders N] [--idle N] [--probes N] [--timeout SEC]
//
// In this order:
//   1. N well-behaved clients, one after the other: connect, route.add (one
//      of ten routes, so the table does not grow with N), route.list,
//      disconnect. Each round trip is timed from connect to the last reply.
//   2. N clients sending malformed input (broken JSON, wrong envelopes,
//      bad params, binary noise, an overlong line): each must get an error
//      reply or be disconnected, never hang.
//   3. N clients that pipeline route.list requests and never read; they
//      stay connected.
//   4. N idle clients that connect and send nothing; they stay connected.
//   5. With 3 and 4 still connected, N more well-behaved clients, timed.
// Then everything is closed. One line of JSON on stdout gives the counts
// and the latencies (p50, p99, max, in ms) of phases 1 and 5; the exit
// status is 1 if any well-behaved client was not answered correctly.
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string socket, iif, source, oif;
  int clients = 1000, malformed = 50, nonreaders = 10, idle = 64, probes = 100;
  double timeout_s = 10;
};

[[noreturn]] void die(const std::string& why) {
  std::fprintf(stderr, "rpc_load: %s\n", why.c_str());
  std::exit(2);
}

int connect_to(const std::string& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) die(std::string("socket: ") + std::strerror(errno));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) die("socket path too long");
  std::memcpy(addr.sun_path, path.c_str(), path.size());
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  // A daemon that neither reads nor closes must not hang the load test.
  const timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  return fd;
}

bool send_all(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

// Reads until `lines` newline-terminated replies have come, the peer
// closes, or the deadline passes. Returns the replies read.
std::vector<std::string> read_lines(int fd, size_t lines, double timeout_s) {
  std::vector<std::string> out;
  std::string buf;
  const auto deadline = Clock::now() + std::chrono::duration<double>(timeout_s);
  char chunk[65536];
  while (out.size() < lines) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) break;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
    const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) break;
    buf.append(chunk, static_cast<size_t>(n));
    size_t nl;
    while ((nl = buf.find('\n')) != std::string::npos) {
      out.push_back(buf.substr(0, nl));
      buf.erase(0, nl + 1);
    }
  }
  return out;
}

std::string route_params(const Options& o, int i) {
  return "{\"iif\":\"" + o.iif + "\",\"source\":\"" + o.source + "\",\"group\":\"225.77.0." +
         std::to_string(i % 10 + 1) + "\",\"oifs\":[\"" + o.oif + "\"],\"owner\":\"load\"}";
}

// One well-behaved client; its round trip in ms, or a negative number if it
// was not answered correctly.
double well_behaved(const Options& o, int i) {
  const auto t0 = Clock::now();
  const int fd = connect_to(o.socket);
  if (fd < 0) return -1;
  const std::string req =
      "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"route.add\",\"params\":" + route_params(o, i) +
      "}\n{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"route.list\"}\n";
  double ms = -1;
  if (send_all(fd, req)) {
    const auto replies = read_lines(fd, 2, o.timeout_s);
    const bool ok = replies.size() == 2 && replies[0].find("\"result\"") != std::string::npos &&
                    replies[1].find("\"result\"") != std::string::npos &&
                    replies[1].find("225.77.0.") != std::string::npos;
    if (ok) ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  }
  ::close(fd);
  return ms;
}

// One malformed client: true if it got an error reply or was disconnected.
bool malformed(const Options& o, int i) {
  static const std::vector<std::string> kBad = {
      "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"route.add\",\"params\":{\"iif\":\n",
      "[]\n",
      "{\"jsonrpc\":\"1.0\",\"id\":[1],\"method\":7}\n",
      "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"route.add\",\"params\":{\"iif\":\"" +
          std::string(4000, 'x') + "\",\"group\":\"225.1.1.1\",\"oifs\":[\"../../etc\"]}}\n",
      "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"no.such\"}\n",
      std::string("\x01\x02\xff\xfe garbage\n", 13),
      "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"route.add\",\"params\":{\"iif\":\"a\\nfake log "
      "line\",\"group\":\"225.1.1.1\",\"oifs\":[]}}\n",
      std::string(2 << 20, '['),  // an overlong line, never finished
  };
  const int fd = connect_to(o.socket);
  if (fd < 0) return false;
  const std::string& bad = kBad[static_cast<size_t>(i) % kBad.size()];
  (void)send_all(fd, bad);  // the daemon may close on us half-way: fine
  const auto replies = read_lines(fd, 1, o.timeout_s);
  bool ok = replies.empty() ? true : replies[0].find("\"error\"") != std::string::npos;
  if (replies.empty()) {
    // No reply: it must have closed the connection, not left us hanging.
    pollfd p{fd, POLLIN, 0};
    char c;
    ok = ::poll(&p, 1, 0) > 0 && ::recv(fd, &c, 1, MSG_DONTWAIT) == 0;
  }
  ::close(fd);
  return ok;
}

// A client that asks for listings and never reads them.
int nonreader(const Options& o) {
  const int fd = connect_to(o.socket);
  if (fd < 0) return -1;
  ::fcntl(fd, F_SETFL, O_NONBLOCK);
  std::string burst;
  for (int i = 0; i < 200; ++i)
    burst += "{\"jsonrpc\":\"2.0\",\"id\":" + std::to_string(i) +
             ",\"method\":\"route.list\",\"params\":{\"detail\":true}}\n";
  // Non-blocking: once the daemon stops reading, our sends would block.
  (void)::send(fd, burst.data(), burst.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  return fd;
}

struct Latency {
  int asked = 0, answered = 0;
  double p50 = 0, p99 = 0, max = 0;
};

Latency summarize(int asked, std::vector<double> ms) {
  Latency l;
  l.asked = asked;
  l.answered = static_cast<int>(ms.size());
  if (ms.empty()) return l;
  std::sort(ms.begin(), ms.end());
  auto at = [&](double q) {
    return ms[std::min(ms.size() - 1, static_cast<size_t>(q * static_cast<double>(ms.size())))];
  };
  l.p50 = at(0.50);
  l.p99 = at(0.99);
  l.max = ms.back();
  return l;
}

Latency run_well_behaved(const Options& o, int n, int first) {
  std::vector<double> ms;
  for (int i = 0; i < n; ++i) {
    const double t = well_behaved(o, first + i);
    if (t >= 0) ms.push_back(t);
  }
  return summarize(n, ms);
}

std::string latency_json(const Latency& l) {
  char buf[160];
  std::snprintf(buf, sizeof buf,
                "{\"asked\":%d,\"answered\":%d,\"p50_ms\":%.2f,\"p99_ms\":%.2f,\"max_ms\":%.2f}",
                l.asked, l.answered, l.p50, l.p99, l.max);
  return buf;
}

Options parse(int argc, char** argv) {
  if (argc < 5) die("usage: rpc_load SOCKET IIF SOURCE OIF [--clients N] ...");
  Options o;
  o.socket = argv[1];
  o.iif = argv[2];
  o.source = argv[3];
  o.oif = argv[4];
  for (int i = 5; i < argc; i += 2) {
    if (i + 1 >= argc) die(std::string(argv[i]) + " needs a value");
    const std::string opt = argv[i];
    const double v = std::atof(argv[i + 1]);
    if (opt == "--clients")
      o.clients = static_cast<int>(v);
    else if (opt == "--malformed")
      o.malformed = static_cast<int>(v);
    else if (opt == "--nonreaders")
      o.nonreaders = static_cast<int>(v);
    else if (opt == "--idle")
      o.idle = static_cast<int>(v);
    else if (opt == "--probes")
      o.probes = static_cast<int>(v);
    else if (opt == "--timeout")
      o.timeout_s = v;
    else
      die("unknown option " + opt);
  }
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  const Latency first = run_well_behaved(o, o.clients, 0);

  int malformed_ok = 0;
  for (int i = 0; i < o.malformed; ++i)
    malformed_ok += malformed(o, i) ? 1 : 0;

  std::vector<int> held;
  int nonreaders = 0, idle = 0;
  for (int i = 0; i < o.nonreaders; ++i)
    if (const int fd = nonreader(o); fd >= 0) held.push_back(fd), ++nonreaders;
  for (int i = 0; i < o.idle; ++i)
    if (const int fd = connect_to(o.socket); fd >= 0) held.push_back(fd), ++idle;

  const Latency during = run_well_behaved(o, o.probes, o.clients);
  for (const int fd : held)
    ::close(fd);

  std::printf(
      "{\"well_behaved\":%s,\"malformed\":{\"asked\":%d,\"handled\":%d},"
      "\"nonreaders_connected\":%d,\"idle_connected\":%d,\"during_abuse\":%s}\n",
      latency_json(first).c_str(), o.malformed, malformed_ok, nonreaders, idle,
      latency_json(during).c_str());
  const bool ok = first.answered == first.asked && during.answered == during.asked &&
                  malformed_ok == o.malformed;
  return ok ? 0 : 1;
}
