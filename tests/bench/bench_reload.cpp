// Reload benchmark: with 10,000 static routes installed, a reload whose new
// config changes 1% of them (a third removed, a third with another OIF set,
// a third new). It reports the time from SIGHUP until mfcd says the reload
// is applied (and checks that the kernel table then equals the new config),
// how many MFC writes mfcd made for it (counted from its debug log, one line
// per kernel operation), and how many datagrams a 2,000/s flow through an
// unchanged route lost meanwhile (must be 0). The floor is the same writes
// done by a minimal loop of MRT_ADD_MFC / MRT_DEL_MFC on a raw socket.
//
// It drives the real binaries through `ip netns`: a router namespace with
// veths to a sender and a receiver namespace (mctool sends and counts), all
// named with the benchmark's PID and deleted at exit. Run by hand, as root:
//   build/tests/bench_reload [--routes N] [--mfcd PATH] [--mctool PATH]
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

// clang-format off
#include <netinet/in.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <linux/mroute.h>
// clang-format on

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

std::string g_tag = "rb" + std::to_string(::getpid());
std::string g_work;

std::string ns(const std::string& role) {
  return g_tag + "-" + role;
}

int sh(const std::string& cmd) {
  int rc = std::system(cmd.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : 128;
}

void must(const std::string& cmd) {
  if (sh(cmd) != 0) {
    std::fprintf(stderr, "bench_reload: failed: %s\n", cmd.c_str());
    std::exit(1);
  }
}

void cleanup() {
  for (const char* role : {"router", "sender", "recv"})
    sh("ip netns del " + ns(role) + " 2>/dev/null");
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

size_t count_lines(const std::string& text, const std::string& needle, size_t from = 0) {
  size_t n = 0;
  for (size_t pos = text.find(needle, from); pos != std::string::npos;
       pos = text.find(needle, pos + needle.size()))
    ++n;
  return n;
}

// Route i: source 192.0.2.2, group 225.10.(i/250).(i%250 + 1).
std::string group_of(int i) {
  return "225.10." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1);
}

struct Change {
  std::vector<int> removed, changed, added;
};

std::string config(int routes, const Change* change) {
  std::set<int> removed, changed;
  if (change) {
    removed.insert(change->removed.begin(), change->removed.end());
    changed.insert(change->changed.begin(), change->changed.end());
  }
  std::string out = "phyint bi enable\nphyint bo1 enable\nphyint bo2 enable\nphyint bo3 enable\n";
  // Route 0 carries the flow and never changes.
  for (int i = 0; i < routes; ++i) {
    if (removed.count(i)) continue;
    out += "mroute from bi source 192.0.2.2 group " + group_of(i) + " to " +
           (changed.count(i) ? "bo2 bo3" : "bo1 bo2") + "\n";
  }
  if (change)
    for (int i : change->added)
      out += "mroute from bi source 192.0.2.2 group " + group_of(i) + " to bo3\n";
  return out;
}

void write(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

// The raw floor: the same number of MFC writes on a socket of our own, in
// a fresh namespace (the router's table belongs to mfcd while it runs).
double floor_ms(int adds, int dels) {
  if (::unshare(CLONE_NEWNET) != 0) return -1;
  sh("ip link set lo up; for i in bi bo1 bo2 bo3; do ip link add $i type veth peer name p$i; "
     "ip link set $i up; ip link set p$i up; done");
  int fd = ::socket(AF_INET, SOCK_RAW, IPPROTO_IGMP);
  int one = 1;
  if (fd < 0 || ::setsockopt(fd, IPPROTO_IP, MRT_INIT, &one, sizeof one) != 0) return -1;
  const char* names[] = {"bi", "bo1", "bo2", "bo3"};
  for (unsigned short v = 0; v < 4; ++v) {
    vifctl vc{};
    vc.vifc_vifi = v;
    vc.vifc_flags = VIFF_USE_IFINDEX;
    vc.vifc_threshold = 1;
    vc.vifc_lcl_ifindex = static_cast<int>(::if_nametoindex(names[v]));
    if (::setsockopt(fd, IPPROTO_IP, MRT_ADD_VIF, &vc, sizeof vc) != 0) return -1;
  }
  std::vector<mfcctl> entries(static_cast<size_t>(adds + dels));
  for (size_t i = 0; i < entries.size(); ++i) {
    mfcctl& m = entries[i];
    ::inet_pton(AF_INET, "192.0.2.2", &m.mfcc_origin);
    ::inet_pton(AF_INET, group_of(static_cast<int>(i)).c_str(), &m.mfcc_mcastgrp);
    m.mfcc_parent = 0;
    m.mfcc_ttls[2] = m.mfcc_ttls[3] = 1;
  }
  // The deleted ones must exist first (not timed).
  for (size_t i = static_cast<size_t>(adds); i < entries.size(); ++i)
    ::setsockopt(fd, IPPROTO_IP, MRT_ADD_MFC, &entries[i], sizeof(mfcctl));
  auto t0 = Clock::now();
  for (size_t i = 0; i < entries.size(); ++i)
    ::setsockopt(fd, IPPROTO_IP, i < static_cast<size_t>(adds) ? MRT_ADD_MFC : MRT_DEL_MFC,
                 &entries[i], sizeof(mfcctl));
  auto t1 = Clock::now();
  ::close(fd);
  return std::chrono::duration<double, std::milli>(t1 - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  int routes = 10000;
  std::string self = argv[0];
  std::string dir = self.substr(0, self.rfind('/'));
  std::string mfcd = dir + "/../mfcd", mctool = dir + "/mctool";
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--routes")
      routes = std::atoi(argv[i + 1]);
    else if (a == "--mfcd")
      mfcd = argv[i + 1];
    else if (a == "--mctool")
      mctool = argv[i + 1];
  }
  if (::geteuid() != 0) {
    std::fprintf(stderr, "bench_reload: needs root\n");
    return 77;
  }
  char tmpl[] = "/tmp/bench-reload.XXXXXX";
  g_work = ::mkdtemp(tmpl);
  std::atexit(cleanup);
  signal(SIGINT, [](int) { std::exit(130); });

  for (const char* role : {"router", "sender", "recv"}) {
    must("ip netns add " + ns(role));
    must("ip -n " + ns(role) + " link set lo up");
  }
  const std::string r = "ip -n " + ns("router") + " ";
  must(r + "link add bi type veth peer name eth0 netns " + ns("sender"));
  must(r + "link add bo1 type veth peer name eth0 netns " + ns("recv"));
  must(r + "link add bo2 type veth peer name x2; " + r + "link add bo3 type veth peer name x3");
  must("ip netns exec " + ns("router") +
       " sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 "
       "net.ipv4.conf.default.rp_filter=0 net.ipv4.conf.bi.rp_filter=0");
  for (const char* i : {"bi", "bo1", "bo2", "bo3", "x2", "x3"})
    must(r + "link set " + i + " up");
  must(r + "addr add 192.0.2.1/24 dev bi; " + r + "addr add 198.51.100.1/24 dev bo1");
  must("ip -n " + ns("sender") + " addr add 192.0.2.2/24 dev eth0; ip -n " + ns("sender") +
       " link set eth0 up; ip -n " + ns("sender") + " route add 224.0.0.0/4 dev eth0");
  must("ip -n " + ns("recv") + " addr add 198.51.100.2/24 dev eth0; ip -n " + ns("recv") +
       " link set eth0 up");
  std::this_thread::sleep_for(std::chrono::seconds(2));  // carrier up (setup only)

  Change change;
  const int n = routes / 100;  // 1%
  for (int k = 0; k < n / 3; ++k) {
    change.removed.push_back(1 + 3 * k);
    change.changed.push_back(2 + 3 * k);
  }
  for (int k = 0; k < n - 2 * (n / 3); ++k)
    change.added.push_back(routes + k);
  const std::string conf = g_work + "/mfcd.conf", log = g_work + "/mfcd.log",
                    pid = g_work + "/mfcd.pid", sock = g_work + "/mfcd.sock";
  write(conf, config(routes, nullptr));

  std::printf("routes %d; reload: %zu removed, %zu OIF sets changed, %zu added\n", routes,
              change.removed.size(), change.changed.size(), change.added.size());
  must("ip netns exec " + ns("router") + " " + mfcd + " -n -f " + conf + " -u " + sock + " -P " +
       pid + " -l debug >" + log + " 2>&1 &");
  auto t_start = Clock::now();
  while (read_file(pid).empty()) {
    if (Clock::now() - t_start > std::chrono::seconds(60)) {
      std::fprintf(stderr, "bench_reload: mfcd not ready in 60 s\n%s", read_file(log).c_str());
      return 1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const pid_t mfcd_pid = std::atoi(read_file(pid).c_str());
  std::printf("start-up: %.0f ms\n",
              std::chrono::duration<double, std::milli>(Clock::now() - t_start).count());

  // The flow: 2,000/s for 4 s through route 0, which the reload keeps.
  const int flow_count = 8000;
  const std::string recv_out = g_work + "/recv.out", ready = g_work + "/ready";
  must("ip netns exec " + ns("recv") + " " + mctool + " recv -g " + group_of(0) + " -i eth0 -c " +
       std::to_string(flow_count) + " -w 20 --ready " + ready + " >" + recv_out + " 2>&1 &");
  while (::access(ready.c_str(), F_OK) != 0)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  must("ip netns exec " + ns("sender") + " " + mctool + " send -g " + group_of(0) +
       " -i eth0 -t 16 -r 2000 -c " + std::to_string(flow_count) + " >/dev/null &");
  std::this_thread::sleep_for(std::chrono::seconds(1));  // mid-flow

  write(conf + ".new", config(routes, &change));
  std::rename((conf + ".new").c_str(), conf.c_str());
  const size_t mark = read_file(log).size();
  auto t0 = Clock::now();
  ::kill(mfcd_pid, SIGHUP);
  std::string text;
  while ((text = read_file(log)).find("reloaded ", mark) == std::string::npos) {
    if (Clock::now() - t0 > std::chrono::seconds(60)) {
      std::fprintf(stderr, "bench_reload: no 'reloaded' line in 60 s\n");
      return 1;
    }
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  const double reload_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  const size_t adds = count_lines(text, "kernel: add_mfc", mark);
  const size_t dels = count_lines(text, "kernel: del_mfc", mark);

  // The kernel table must now equal the new config.
  const std::string proc = read_file("/proc/" + std::to_string(mfcd_pid) + "/net/ip_mr_cache");
  size_t entries = 0;
  for (size_t p = proc.find('\n'); p != std::string::npos && p + 1 < proc.size();
       p = proc.find('\n', p + 1))
    ++entries;
  const size_t want = static_cast<size_t>(routes) - change.removed.size() + change.added.size();

  // Wait for the flow to finish.
  std::string got;
  auto tf = Clock::now();
  while ((got = read_file(recv_out)).find("received") == std::string::npos &&
         Clock::now() - tf < std::chrono::seconds(30))
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  long received = -1;
  if (auto p = got.find("received "); p != std::string::npos) received = std::atol(&got[p + 9]);
  ::kill(mfcd_pid, SIGTERM);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));

  const double floor = floor_ms(static_cast<int>(adds), static_cast<int>(dels));
  std::printf("reload (SIGHUP -> 'reloaded' logged): %.1f ms\n", reload_ms);
  std::printf("kernel MFC writes: %zu (%zu add, %zu del) for %zu changed routes\n", adds + dels,
              adds, dels, change.removed.size() + change.changed.size() + change.added.size());
  std::printf("kernel entries after: %zu (config: %zu)%s\n", entries, want,
              entries == want ? "" : "  MISMATCH");
  std::printf("flow through an unchanged route: %ld of %d received, %ld lost\n", received,
              flow_count, received < 0 ? -1 : flow_count - received);
  std::printf("floor: the same %zu writes from a minimal loop: %.2f ms (reload/floor %.1fx)\n",
              adds + dels, floor, floor > 0 ? reload_ms / floor : 0.0);
  return entries == want && received == flow_count ? 0 : 1;
}
