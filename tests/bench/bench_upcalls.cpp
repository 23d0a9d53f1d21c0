// bench_upcalls: how mfcd copes with many new flows of one (*,G/15) rule.
//
// For K = 100, 1,000 and 10,000 new flows (at most 131,071), once as a
// burst (every first packet sent as fast as one socket can) and once paced
// at 2,000 new flows per second, a fresh mfcd forwards 225.20.0.0/15 from
// r-in to r-out. Each
// flow is one packet to its own group. Printed per run: flows installed
// (daemon.status routes.dynamic), upcalls lost (the kernel's drop count of
// the mroute socket, daemon.status upcalls.lost), time from the first send
// until all are installed, first packets that reached the receiver, and
// the latency from a flow's send to its first packet's arrival (p50/p99):
// the upcall, the rule lookup, MRT_ADD_MFC and the kernel forwarding the
// queued packet. The receiver is an AF_PACKET socket, so no joins needed.
//
// Run by hand as root: bench_upcalls [--mfcd PATH] [--sizes 100,1000,10000]
// [--family 4|6]
// Everything happens in namespaces named bench-up-PID-*, deleted at exit.
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <netinet/udp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

std::string g_prefix;
bool g_v6 = false;  // --family 6: ff0e::20:0/111 instead of 225.20.0.0/15
// Flow i (from 1) goes to group 225.20.0.0 + i, or ff0e::20:0 + i: the
// rule's range holds 2^17 groups.
constexpr size_t kMaxFlows = (1u << 17) - 1;

int sh(const std::string& cmd) {
  return std::system(cmd.c_str());
}

std::string ns(const char* role) {
  return g_prefix + role;
}

void enter(const std::string& name) {
  const int fd = ::open(("/run/netns/" + name).c_str(), O_RDONLY);
  if (fd < 0 || ::setns(fd, CLONE_NEWNET) != 0) {
    std::perror(("setns " + name).c_str());
    std::exit(1);
  }
  ::close(fd);
}

void topology() {
  for (const char* r : {"s", "r", "d"})
    sh("ip netns add " + ns(r));
  const std::string s = ns("s"), r = ns("r"), d = ns("d");
  sh("ip -n " + r + " link add r-in type veth peer name eth0 netns " + s);
  sh("ip -n " + r + " link add r-out type veth peer name eth0 netns " + d);
  sh("ip -n " + r + " addr add 192.0.2.1/24 dev r-in");
  sh("ip -n " + r + " addr add 198.51.100.1/24 dev r-out");
  sh("ip -n " + s + " addr add 192.0.2.2/24 dev eth0");
  sh("ip -n " + d + " addr add 198.51.100.2/24 dev eth0");
  for (const auto& n : {s, r, d})
    sh("ip -n " + n + " link set lo up; ip netns exec " + n +
       " sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 "
       "net.ipv4.ip_forward=1");
  sh("ip -n " + r + " link set r-in up; ip -n " + r + " link set r-out up");
  sh("ip -n " + s + " link set eth0 up; ip -n " + d + " link set eth0 up");
  sh("ip netns exec " + r + " sysctl -qw net.ipv4.conf.r-in.rp_filter=0");
  sh("ip -n " + s + " route add 224.0.0.0/4 dev eth0");
  sh("ip netns exec " + r + " sysctl -qw net.ipv6.conf.all.forwarding=1");
  sh("ip -n " + r + " addr add 2001:db8:1::1/64 dev r-in nodad");
  sh("ip -n " + r + " addr add 2001:db8:2::1/64 dev r-out nodad");
  sh("ip -n " + s + " addr add 2001:db8:1::2/64 dev eth0 nodad");
  sh("ip -n " + s + " -6 route add ff00::/8 dev eth0 table main");
  sh("sleep 1");
}

void cleanup() {
  for (const char* r : {"s", "r", "d"})
    sh("ip netns del " + ns(r) + " 2>/dev/null");
}

// One JSON-RPC call; returns the reply line.
std::string rpc(const std::string& sock, const std::string& method) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", sock.c_str());
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return "";
  }
  const std::string req = R"({"jsonrpc":"2.0","id":1,"method":")" + method + "\"}\n";
  (void)!::write(fd, req.data(), req.size());
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) {
    out.append(buf, static_cast<size_t>(n));
    if (out.find('\n') != std::string::npos) break;
  }
  ::close(fd);
  return out;
}

long field(const std::string& json, const std::string& name) {
  const auto at = json.find("\"" + name + "\":");
  if (at == std::string::npos) return -1;
  return std::atol(json.c_str() + at + name.size() + 3);
}

struct Result {
  long installed = 0, lost = 0, nocache = 0;
  double all_ms = -1;
  size_t arrived = 0;
  double p50 = 0, p99 = 0;
};

Result run(const std::string& mfcd, size_t k, int rate) {
  Result res;
  const std::string dir = "/tmp/" + g_prefix;
  sh("mkdir -p " + dir);
  const std::string conf = dir + "/mfcd.conf", sock = dir + "/mfcd.sock", pid = dir + "/mfcd.pid";
  sh(std::string("printf 'phyint r-in enable\\nphyint r-out enable\\nmroute from r-in group ") +
     (g_v6 ? "ff0e::20:0/111" : "225.20.0.0/15") + " to r-out\\n' > " + conf);
  sh("rm -f " + pid);
  sh("ip netns exec " + ns("r") + " " + mfcd + " -n -S '' -c 0 -l err -f " + conf + " -u " + sock +
     " -P " + pid + " >" + dir + "/mfcd.log 2>&1 &");
  for (int i = 0; i < 500 && ::access(pid.c_str(), F_OK) != 0; ++i)
    ::usleep(10000);

  std::vector<Clock::time_point> sent(k), arrived(k);
  std::vector<char> got(k, 0);
  std::atomic<bool> ready{false}, stop{false};
  std::thread receiver([&] {
    enter(ns("d"));
    const uint16_t proto = g_v6 ? ETH_P_IPV6 : ETH_P_IP;
    const int fd = ::socket(AF_PACKET, SOCK_DGRAM, htons(proto));
    int big = 64 << 20;
    (void)::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof big);
    sockaddr_ll ll{};
    ll.sll_family = AF_PACKET;
    ll.sll_protocol = htons(proto);
    ll.sll_ifindex = static_cast<int>(if_nametoindex("eth0"));
    ::bind(fd, reinterpret_cast<sockaddr*>(&ll), sizeof ll);
    ready = true;
    uint8_t buf[2048];
    while (!stop) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      size_t i = 0;
      if (g_v6) {
        if (n < static_cast<ssize_t>(sizeof(ip6_hdr))) continue;
        const auto* ip6 = reinterpret_cast<const ip6_hdr*>(buf);
        const uint8_t* d = ip6->ip6_dst.s6_addr;
        // ff0e::20:0 + i
        if (d[0] != 0xff || d[1] != 0x0e || d[12] != 0 || (d[13] & 0xfe) != 0x20) continue;
        i = static_cast<size_t>(d[13] - 0x20) << 16 | static_cast<size_t>(d[14]) << 8 | d[15];
      } else {
        if (n < static_cast<ssize_t>(sizeof(iphdr))) continue;
        const auto* ip = reinterpret_cast<const iphdr*>(buf);
        const uint32_t g = ntohl(ip->daddr);
        if ((g >> 17) != (0xE1140000U >> 17)) continue;  // 225.20/15
        i = g & kMaxFlows;
      }
      if (i == 0 || i > k || got[i - 1]) continue;
      got[i - 1] = 1;
      arrived[i - 1] = Clock::now();
    }
    ::close(fd);
  });
  while (!ready)
    ::usleep(1000);

  std::thread sender([&] {
    enter(ns("s"));
    const int fd = ::socket(g_v6 ? AF_INET6 : AF_INET, SOCK_DGRAM, 0);
    int ttl = 16;
    const unsigned ifindex = if_nametoindex("eth0");
    if (g_v6) {
      ::setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &ttl, sizeof ttl);
      ::setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, &ifindex, sizeof ifindex);
    } else {
      ::setsockopt(fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof ttl);
      ip_mreqn mreq{};
      mreq.imr_ifindex = static_cast<int>(ifindex);
      ::setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &mreq, sizeof mreq);
    }
    const auto start = Clock::now();
    char payload[64] = {};
    for (size_t i = 0; i < k; ++i) {
      if (rate > 0)
        std::this_thread::sleep_until(start + std::chrono::microseconds(i * 1000000 / rate));
      sockaddr_storage to{};
      socklen_t to_len = 0;
      if (g_v6) {
        auto* a = reinterpret_cast<sockaddr_in6*>(&to);
        a->sin6_family = AF_INET6;
        a->sin6_port = htons(5000);
        inet_pton(AF_INET6, "ff0e::20:0", &a->sin6_addr);
        a->sin6_addr.s6_addr[13] = static_cast<uint8_t>(0x20 + ((i + 1) >> 16));
        a->sin6_addr.s6_addr[14] = static_cast<uint8_t>((i + 1) >> 8);
        a->sin6_addr.s6_addr[15] = static_cast<uint8_t>(i + 1);
        to_len = sizeof *a;
      } else {
        auto* a = reinterpret_cast<sockaddr_in*>(&to);
        a->sin_family = AF_INET;
        a->sin_port = htons(5000);
        a->sin_addr.s_addr = htonl(0xE1140000U + static_cast<uint32_t>(i + 1));
        to_len = sizeof *a;
      }
      sent[i] = Clock::now();
      while (::sendto(fd, payload, sizeof payload, 0, reinterpret_cast<sockaddr*>(&to), to_len) < 0)
        ::usleep(100);  // ENOBUFS: the veth queue is full; retry
    }
    ::close(fd);
  });
  sender.join();

  const auto t0 = sent.front();
  // 10 s, or more for a big K (the test bed installs a few thousand a second).
  const auto deadline = Clock::now() + std::chrono::seconds(std::max<size_t>(10, k / 2000));
  std::string status;
  while (Clock::now() < deadline) {
    status = rpc(sock, "daemon.status");
    if (field(status, "dynamic") >= static_cast<long>(k)) {
      res.all_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
      break;
    }
    ::usleep(2000);
  }
  ::usleep(300000);  // let the last forwarded packets arrive
  stop = true;
  receiver.join();
  status = rpc(sock, "daemon.status");
  res.installed = field(status, "dynamic");
  res.lost = field(status, "lost");
  res.nocache = field(status, "nocache");
  std::vector<double> lat;
  for (size_t i = 0; i < k; ++i)
    if (got[i])
      lat.push_back(std::chrono::duration<double, std::micro>(arrived[i] - sent[i]).count());
  res.arrived = lat.size();
  std::sort(lat.begin(), lat.end());
  if (!lat.empty()) {
    res.p50 = lat[lat.size() / 2];
    res.p99 = lat[std::min(lat.size() - 1, lat.size() * 99 / 100)];
  }
  rpc(sock, "daemon.stop");
  ::usleep(300000);
  return res;
}

}  // namespace

int main(int argc, char** argv) {
  // Default: the mfcd of the build directory this benchmark was built in.
  char exe[4096] = {};
  (void)!::readlink("/proc/self/exe", exe, sizeof exe - 1);
  std::string mfcd = exe;
  mfcd = mfcd.substr(0, mfcd.rfind('/'));
  mfcd = mfcd.substr(0, mfcd.rfind('/')) + "/mfcd";
  std::vector<size_t> sizes{100, 1000, 10000};
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--mfcd") mfcd = argv[i + 1];
    if (a == "--family") g_v6 = std::string(argv[i + 1]) == "6";
    if (a == "--sizes") {
      sizes.clear();
      for (char* t = std::strtok(argv[i + 1], ","); t; t = std::strtok(nullptr, ","))
        sizes.push_back(std::strtoul(t, nullptr, 10));
    }
  }
  for (size_t k : sizes) {
    if (k == 0 || k > kMaxFlows) {
      std::fprintf(stderr, "bench_upcalls: --sizes: each from 1 to %zu\n", kMaxFlows);
      return 64;
    }
  }
  if (::geteuid() != 0) {
    std::fprintf(stderr, "bench_upcalls needs root (network namespaces)\n");
    return 77;
  }
  g_prefix = "bench-up-" + std::to_string(::getpid()) + "-";
  std::atexit(cleanup);
  signal(SIGINT, [](int) { std::exit(130); });
  topology();
  std::printf("%-6s %-7s %9s %6s %8s %10s %9s %9s %9s\n", "K", "mode", "installed", "lost",
              "nocache", "all_in_ms", "first_pk", "p50_us", "p99_us");
  for (size_t k : sizes) {
    for (int rate : {0, 2000}) {
      const Result r = run(mfcd, k, rate);
      std::printf("%-6zu %-7s %9ld %6ld %8ld %10.1f %9zu %9.0f %9.0f\n", k,
                  rate ? "2000/s" : "burst", r.installed, r.lost, r.nocache, r.all_ms, r.arrived,
                  r.p50, r.p99);
      std::fflush(stdout);
    }
  }
  return 0;
}
