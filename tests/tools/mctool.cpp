// mctool: the multicast sender and receiver the end-to-end tests drive.
//
// A test needs two things from it: a sender that puts a known number of UDP
// datagrams on the wire with a chosen TTL out of a chosen interface, and a
// receiver that joins a group on one interface and says exactly how many
// arrived. Every datagram carries a magic word, a per-run tag and a sequence
// number, so the receiver counts only mctool traffic and can tell lost and
// duplicated datagrams apart. The receiver writes a "ready" file once its
// membership is in place, so a test starts sending the moment the receiver
// can hear it instead of sleeping. Both sides are bounded in count and time:
// nothing here can hang a test run.
//
// Plain C++ and POSIX sockets only; IPv4 or IPv6 follows the group's family.

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace {

constexpr std::uint32_t kMagic = 0x4d43544c;  // "MCTL"
constexpr long kMaxCount = 10'000'000;
constexpr double kMaxSeconds = 3600.0;
constexpr std::size_t kPayloadSize = 64;

volatile std::sig_atomic_t g_stop = 0;

void on_signal(int sig) {
  g_stop = sig;
}

// After an interrupt, die of it once the results are out: a shell running
// mctool in the foreground then knows that Ctrl-C was not handled and
// stops its script too.
void exit_like_signal() {
  if (g_stop != SIGINT) return;
  std::fflush(stdout);
  std::signal(SIGINT, SIG_DFL);
  std::raise(SIGINT);
}

[[noreturn]] void usage(const char* why) {
  if (why != nullptr) std::fprintf(stderr, "mctool: %s\n", why);
  std::fprintf(stderr,
               "usage: mctool send -g GROUP [-s SRCADDR] [-i IFNAME] [-t TTL] [-c COUNT]\n"
               "                   [-r RATE_PPS] [-p PORT] [--seq]\n"
               "       mctool recv -g GROUP -i IFNAME [-p PORT] [-s SOURCE] [-w SECONDS]\n"
               "                   [-c EXPECT] [--ready FILE] [--linger SECONDS]\n");
  std::exit(64);
}

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "mctool: %s: %s\n", what, std::strerror(errno));
  std::exit(71);
}

// An address of either family, with the port filled in.
struct Endpoint {
  sockaddr_storage storage{};
  socklen_t length = 0;
  int family = AF_UNSPEC;
};

std::optional<Endpoint> parse_address(const std::string& text, std::uint16_t port) {
  Endpoint ep;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&ep.storage);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&ep.storage);
  if (inet_pton(AF_INET, text.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    ep.length = sizeof(sockaddr_in);
    ep.family = AF_INET;
    return ep;
  }
  if (inet_pton(AF_INET6, text.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    ep.length = sizeof(sockaddr_in6);
    ep.family = AF_INET6;
    return ep;
  }
  return std::nullopt;
}

std::string address_text(const sockaddr_storage& ss) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (ss.ss_family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&ss)->sin_addr, buf, sizeof buf);
  } else if (ss.ss_family == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&ss)->sin6_addr, buf, sizeof buf);
  }
  return buf;
}

long parse_long(const char* text, long lo, long hi, const char* what) {
  char* end = nullptr;
  errno = 0;
  const long v = std::strtol(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || v < lo || v > hi) {
    std::fprintf(stderr, "mctool: bad %s '%s' (%ld..%ld)\n", what, text, lo, hi);
    std::exit(64);
  }
  return v;
}

double parse_seconds(const char* text, const char* what) {
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(text, &end);
  if (errno != 0 || end == text || *end != '\0' || !(v >= 0.0) || v > kMaxSeconds) {
    std::fprintf(stderr, "mctool: bad %s '%s' (0..%.0f seconds)\n", what, text, kMaxSeconds);
    std::exit(64);
  }
  return v;
}

double now_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

void put_u32(unsigned char* p, std::uint32_t v) {
  const std::uint32_t n = htonl(v);
  std::memcpy(p, &n, sizeof n);
}

std::uint32_t get_u32(const unsigned char* p) {
  std::uint32_t n = 0;
  std::memcpy(&n, p, sizeof n);
  return ntohl(n);
}

struct Options {
  std::string group;
  std::string source;
  std::string ifname;
  std::string ready_file;
  long ttl = 16;
  long count = -1;
  long rate = 1000;
  long port = 5000;
  double wait = 5.0;
  double linger = 0.1;
  bool print_seq = false;
};

Options parse_options(int argc, char** argv, bool sending) {
  Options o;
  for (int i = 2; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--seq") {
      o.print_seq = true;
      continue;
    }
    if (i + 1 >= argc) usage("option needs a value");
    const char* val = argv[++i];
    if (arg == "-g") {
      o.group = val;
    } else if (arg == "-s") {
      o.source = val;
    } else if (arg == "-i") {
      o.ifname = val;
    } else if (arg == "-p") {
      o.port = parse_long(val, 1, 65535, "port");
    } else if (arg == "-c") {
      o.count = parse_long(val, 0, kMaxCount, "count");
    } else if (sending && arg == "-t") {
      o.ttl = parse_long(val, 0, 255, "ttl");
    } else if (sending && arg == "-r") {
      o.rate = parse_long(val, 0, 1'000'000, "rate");
    } else if (!sending && arg == "-w") {
      o.wait = parse_seconds(val, "wait");
    } else if (!sending && arg == "--linger") {
      o.linger = parse_seconds(val, "linger");
    } else if (!sending && arg == "--ready") {
      o.ready_file = val;
    } else {
      usage(("unknown option " + std::string(arg)).c_str());
    }
  }
  if (o.group.empty()) usage("-g GROUP is required");
  return o;
}

unsigned interface_index(const std::string& name) {
  const unsigned index = if_nametoindex(name.c_str());
  if (index == 0) {
    std::fprintf(stderr, "mctool: no interface '%s'\n", name.c_str());
    std::exit(71);
  }
  return index;
}

int run_send(const Options& o) {
  const auto group = parse_address(o.group, static_cast<std::uint16_t>(o.port));
  if (!group) usage("group is not an address");
  const int fd = socket(group->family, SOCK_DGRAM, 0);
  if (fd < 0) die("socket");

  const int off = 0;
  const int ttl = static_cast<int>(o.ttl);
  if (group->family == AF_INET) {
    if (setsockopt(fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof ttl) < 0) die("IP_MULTICAST_TTL");
    if (setsockopt(fd, IPPROTO_IP, IP_MULTICAST_LOOP, &off, sizeof off) < 0) {
      die("IP_MULTICAST_LOOP");
    }
    if (!o.ifname.empty()) {
      ip_mreqn mreq{};
      mreq.imr_ifindex = static_cast<int>(interface_index(o.ifname));
      if (setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &mreq, sizeof mreq) < 0) {
        die("IP_MULTICAST_IF");
      }
    }
  } else {
    if (setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &ttl, sizeof ttl) < 0) {
      die("IPV6_MULTICAST_HOPS");
    }
    if (setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, &off, sizeof off) < 0) {
      die("IPV6_MULTICAST_LOOP");
    }
    if (!o.ifname.empty()) {
      const unsigned index = interface_index(o.ifname);
      if (setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, &index, sizeof index) < 0) {
        die("IPV6_MULTICAST_IF");
      }
    }
  }
  if (!o.source.empty()) {
    const auto src = parse_address(o.source, 0);
    if (!src || src->family != group->family)
      usage("source must be an address of the group's family");
    if (bind(fd, reinterpret_cast<const sockaddr*>(&src->storage), src->length) < 0) die("bind");
  }

  const long count = o.count < 0 ? 10 : o.count;
  // Each run gets its own tag so that a receiver can tell two senders apart.
  const std::uint32_t tag =
      static_cast<std::uint32_t>(getpid()) ^ static_cast<std::uint32_t>(time(nullptr));
  unsigned char payload[kPayloadSize] = {};
  put_u32(payload, kMagic);
  put_u32(payload + 4, tag);

  // Pace against absolute deadlines so that rounding never accumulates.
  timespec next{};
  clock_gettime(CLOCK_MONOTONIC, &next);
  const long step_ns = o.rate > 0 ? 1'000'000'000L / o.rate : 0;
  long sent = 0;
  for (long seq = 0; seq < count && g_stop == 0; ++seq) {
    put_u32(payload + 8, static_cast<std::uint32_t>(seq));
    const ssize_t n = sendto(fd, payload, sizeof payload, 0,
                             reinterpret_cast<const sockaddr*>(&group->storage), group->length);
    if (n < 0) die("sendto");
    ++sent;
    if (o.print_seq) std::printf("seq %ld\n", seq);
    if (step_ns > 0 && seq + 1 < count) {
      next.tv_nsec += step_ns;
      while (next.tv_nsec >= 1'000'000'000L) {
        next.tv_nsec -= 1'000'000'000L;
        ++next.tv_sec;
      }
      while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, nullptr) == EINTR) {
        if (g_stop != 0) break;
      }
    }
  }
  std::printf("sent %ld\n", sent);
  close(fd);
  exit_like_signal();
  return 0;
}

void join(int fd, const Endpoint& group, const Options& o, unsigned ifindex) {
  const int level = group.family == AF_INET ? IPPROTO_IP : IPPROTO_IPV6;
  if (o.source.empty()) {
    group_req req{};
    req.gr_interface = ifindex;
    std::memcpy(&req.gr_group, &group.storage, group.length);
    if (setsockopt(fd, level, MCAST_JOIN_GROUP, &req, sizeof req) < 0) die("MCAST_JOIN_GROUP");
    return;
  }
  const auto src = parse_address(o.source, 0);
  if (!src || src->family != group.family) usage("source must be an address of the group's family");
  group_source_req req{};
  req.gsr_interface = ifindex;
  std::memcpy(&req.gsr_group, &group.storage, group.length);
  std::memcpy(&req.gsr_source, &src->storage, src->length);
  if (setsockopt(fd, level, MCAST_JOIN_SOURCE_GROUP, &req, sizeof req) < 0) {
    die("MCAST_JOIN_SOURCE_GROUP");
  }
}

int run_recv(const Options& o) {
  if (o.ifname.empty()) usage("-i IFNAME is required");
  const auto group = parse_address(o.group, static_cast<std::uint16_t>(o.port));
  if (!group) usage("group is not an address");
  const unsigned ifindex = interface_index(o.ifname);

  const int fd = socket(group->family, SOCK_DGRAM, 0);
  if (fd < 0) die("socket");
  const int on = 1;
  const int off = 0;
  if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) < 0) die("SO_REUSEADDR");
  // Hear only this interface and only the groups this socket joined, so two
  // receivers in one namespace never count each other's traffic.
  if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, o.ifname.c_str(),
                 static_cast<socklen_t>(o.ifname.size())) < 0) {
    die("SO_BINDTODEVICE");
  }
  if (group->family == AF_INET) {
    if (setsockopt(fd, IPPROTO_IP, IP_MULTICAST_ALL, &off, sizeof off) < 0) {
      die("IP_MULTICAST_ALL");
    }
  } else {
#ifdef IPV6_MULTICAST_ALL
    (void)setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_ALL, &off, sizeof off);
#endif
  }
  // Binding to the group address filters out datagrams to other groups.
  if (bind(fd, reinterpret_cast<const sockaddr*>(&group->storage), group->length) < 0) {
    die("bind");
  }
  join(fd, *group, o, ifindex);

  if (!o.ready_file.empty()) {
    // Written last: once it exists the membership is in place.
    const std::string tmp = o.ready_file + ".tmp";
    FILE* f = std::fopen(tmp.c_str(), "w");
    if (f == nullptr) die("ready file");
    std::fprintf(f, "%d\n", getpid());
    std::fclose(f);
    if (std::rename(tmp.c_str(), o.ready_file.c_str()) < 0) die("rename ready file");
  }

  const double start = now_seconds();
  double deadline = start + o.wait;
  long received = 0;
  long duplicates = 0;
  long first_seq = -1;
  long last_seq = -1;
  std::set<std::uint32_t> seen;
  std::uint32_t tag = 0;
  std::string first_source;
  unsigned char buf[2048];

  // Counts one datagram; true once the expected count is reached.
  auto take = [&](ssize_t n, const sockaddr_storage& from) {
    if (n < 12 || get_u32(buf) != kMagic) return false;  // not ours
    const std::uint32_t this_tag = get_u32(buf + 4);
    const std::uint32_t seq = get_u32(buf + 8);
    if (received == 0) {
      tag = this_tag;
      first_seq = seq;
      first_source = address_text(from);
    } else if (this_tag != tag) {
      return false;  // a second sender run; count the first one only
    }
    if (!seen.insert(seq).second) {
      ++duplicates;
      return false;
    }
    ++received;
    if (static_cast<long>(seq) > last_seq) last_seq = seq;
    return o.count >= 0 && received == o.count;
  };

  while (g_stop == 0) {
    const double left = deadline - now_seconds();
    if (left <= 0) break;
    pollfd pfd{fd, POLLIN, 0};
    const int r = poll(&pfd, 1, static_cast<int>(left * 1000.0) + 1);
    if (r < 0) {
      if (errno == EINTR) continue;
      die("poll");
    }
    if (r == 0) continue;
    sockaddr_storage from{};
    socklen_t from_len = sizeof from;
    const ssize_t n =
        recvfrom(fd, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &from_len);
    if (n < 0) {
      if (errno == EINTR) continue;
      die("recvfrom");
    }
    if (take(n, from)) {
      // Stay a little longer so that an extra or duplicated datagram is seen.
      const double until = now_seconds() + o.linger;
      if (until < deadline) deadline = until;
    }
  }
  // Stopped by a signal (a test that decides when listening is over, after
  // its sender is done): what is already queued arrived in time, so it
  // counts too, however slowly this process was scheduled.
  if (g_stop != 0) {
    for (;;) {
      sockaddr_storage from{};
      socklen_t from_len = sizeof from;
      const ssize_t n = recvfrom(fd, buf, sizeof buf, MSG_DONTWAIT,
                                 reinterpret_cast<sockaddr*>(&from), &from_len);
      if (n < 0) break;
      take(n, from);
    }
  }

  const long lost = received == 0 ? 0 : (last_seq - first_seq + 1) - received;
  std::printf("received %ld\nfirst_seq %ld\nlast_seq %ld\nlost %ld\nduplicates %ld\nsource %s\n",
              received, first_seq, last_seq, lost, duplicates,
              first_source.empty() ? "-" : first_source.c_str());
  close(fd);
  exit_like_signal();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) usage(nullptr);
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);

  const std::string_view mode = argv[1];
  if (mode == "send") return run_send(parse_options(argc, argv, true));
  if (mode == "recv") return run_recv(parse_options(argc, argv, false));
  usage("mode must be send or recv");
}
