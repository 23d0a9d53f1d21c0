// Reload benchmark: with 10,000 static routes installed, reloads whose new
// config changes 1% of them (a third removed, a third with another OIF set,
// a third new; and back again on the next reload). For each reload it
// reports the time from SIGHUP until the kernel holds the new config (the
// last MFC write, seen as the kernel's own RTM_NEWROUTE / RTM_DELROUTE
// notification) and until mfcd logs the reload, mfcd's own split of that
// time from its "reloaded" line (read: read, parse and check the file;
// applied: from a valid config to the kernel matching it), how many MFC
// writes the kernel saw (they must equal the changed routes), and whether
// the kernel's entries then equal the config. A 2,000 datagrams/s flow
// through an unchanged route runs through all reloads and must lose
// nothing. The floor is the same writes from a minimal MRT_ADD_MFC /
// MRT_DEL_MFC loop on a table of the same size, timed between the reloads
// after the same idle time as a reload, and once more at once (warm).
//
// It drives the real binaries through `ip netns`: a router namespace with
// veths to a sender and a receiver namespace (mctool sends and counts), all
// named with the benchmark's PID and deleted at exit. Run by hand, as root:
//   build/tests/bench_reload [--routes N] [--reloads K] [--mfcd PATH] [--mctool PATH]
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

// clang-format off
#include <netinet/in.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <linux/mroute.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <libmnl/libmnl.h>
// clang-format on

#include <algorithm>
#include <cerrno>
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

double ms_since(Clock::time_point t0, Clock::time_point t1) {
  return std::chrono::duration<double, std::milli>(t1 - t0).count();
}

double median(std::vector<double> v) {
  if (v.empty()) return -1;
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

// A netlink socket in the router namespace that hears every MFC write the
// kernel makes there (ipmr announces each add, change and delete on
// RTNLGRP_IPV4_MROUTE), so writes are counted without trusting mfcd's log.
int mroute_monitor(const std::string& netns) {
  const int self = ::open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  const int target = ::open(("/var/run/netns/" + netns).c_str(), O_RDONLY | O_CLOEXEC);
  if (self < 0 || target < 0 || ::setns(target, CLONE_NEWNET) != 0) return -1;
  const int fd = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
  int group = RTNLGRP_IPV4_MROUTE, size = 8 << 20;
  sockaddr_nl sa{};
  sa.nl_family = AF_NETLINK;
  const bool ok = fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0 &&
                  ::setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group, sizeof group) == 0;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size);
  ::setns(self, CLONE_NEWNET);
  ::close(self);
  ::close(target);
  return ok ? fd : -1;
}

struct Writes {
  size_t adds = 0, dels = 0;
};

// Waits up to `wait_us` for the monitor to have something, then counts
// every add and delete it has queued.
void drain(int fd, Writes& w, long wait_us) {
  pollfd p{fd, POLLIN, 0};
  const timespec wait{wait_us / 1000000, (wait_us % 1000000) * 1000};
  if (::ppoll(&p, 1, &wait, nullptr) <= 0) return;
  char buf[1 << 16];
  for (;;) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n < 0 && errno == ENOBUFS) {
      std::fprintf(stderr, "bench_reload: the write monitor overflowed; counts are low\n");
      continue;
    }
    if (n <= 0) return;
    int len = static_cast<int>(n);
    for (auto* h = reinterpret_cast<nlmsghdr*>(buf); mnl_nlmsg_ok(h, len);
         h = mnl_nlmsg_next(h, &len)) {
      if (h->nlmsg_type == RTM_NEWROUTE) ++w.adds;
      if (h->nlmsg_type == RTM_DELROUTE) ++w.dels;
    }
  }
}

// The raw floor: `adds` new entries and `dels` deletions on a socket of
// our own, in a namespace of its own (the router's table belongs to mfcd),
// on a table holding `table` entries like mfcd's, with a listener for the
// kernel's notifications as mfcd has this benchmark. Timed between the
// reloads, so that both see the same machine: every MFC write takes the
// kernel's global rtnl lock, which other namespaces' work holds at times.
class Floor {
 public:
  bool prepare(int table, int adds, int dels) {
    // Moves this process to a new network namespace: the router's
    // namespace is reached by name from here on (ip netns exec, ip -n).
    if (::unshare(CLONE_NEWNET) != 0) return false;
    sh("ip link set lo up; for i in bi bo1 bo2 bo3; do ip link add $i type veth peer name p$i; "
       "ip link set $i up; ip link set p$i up; done");
    fd_ = ::socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_IGMP);
    int one = 1;
    if (fd_ < 0 || ::setsockopt(fd_, IPPROTO_IP, MRT_INIT, &one, sizeof one) != 0) return false;
    const char* names[] = {"bi", "bo1", "bo2", "bo3"};
    for (unsigned short v = 0; v < 4; ++v) {
      vifctl vc{};
      vc.vifc_vifi = v;
      vc.vifc_flags = VIFF_USE_IFINDEX;
      vc.vifc_threshold = 1;
      vc.vifc_lcl_ifindex = static_cast<int>(::if_nametoindex(names[v]));
      if (::setsockopt(fd_, IPPROTO_IP, MRT_ADD_VIF, &vc, sizeof vc) != 0) return false;
    }
    auto entry = [](int i, int oif_a, int oif_b) {
      mfcctl m{};
      ::inet_pton(AF_INET, "192.0.2.2", &m.mfcc_origin);
      ::inet_pton(AF_INET, group_of(i).c_str(), &m.mfcc_mcastgrp);
      m.mfcc_parent = 0;
      m.mfcc_ttls[oif_a] = m.mfcc_ttls[oif_b] = 1;
      return m;
    };
    // The table: entries 0..table-1; the timed loop adds `adds` entries
    // past it and deletes `dels` of it, all built beforehand.
    for (int i = 0; i < table; ++i)
      set(MRT_ADD_MFC, entry(i, 1, 2));
    for (int i = 0; i < adds; ++i)
      added_.push_back(entry(table + i, 2, 3));
    for (int i = 0; i < dels; ++i)
      deleted_.push_back(entry(1 + 3 * i, 1, 2));
    listener_ = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
    int group = RTNLGRP_IPV4_MROUTE;
    return listener_ >= 0 &&
           ::setsockopt(listener_, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group, sizeof group) == 0;
  }
  // One timed loop; the table is put back afterwards. `warm`: right after
  // another run, so the kernel's side of these writes is still in cache.
  void run(bool warm) {
    auto t0 = Clock::now();
    for (const auto& m : added_)
      set(MRT_ADD_MFC, m);
    for (const auto& m : deleted_)
      set(MRT_DEL_MFC, m);
    (warm ? warm_ : times_).push_back(ms_since(t0, Clock::now()));
    drain(listener_, heard_, 0);
    for (const auto& m : added_)
      set(MRT_DEL_MFC, m);
    for (const auto& m : deleted_)
      set(MRT_ADD_MFC, m);
    drain(listener_, heard_, 0);
  }
  size_t writes() const { return added_.size() + deleted_.size(); }
  size_t runs() const { return times_.size(); }
  double median_ms() const { return median(times_); }
  double warm_median_ms() const { return median(warm_); }

 private:
  void set(int opt, const mfcctl& m) { ::setsockopt(fd_, IPPROTO_IP, opt, &m, sizeof m); }
  int fd_ = -1, listener_ = -1;
  std::vector<mfcctl> added_, deleted_;
  std::vector<double> times_, warm_;
  Writes heard_;
};

// "(read 1.1 ms, compared 0.5 ms, applied 0.3 ms)" from mfcd's reloaded
// line; -1 for what it does not say.
void split_of(const std::string& line, double& read, double& compared, double& applied) {
  read = compared = applied = -1;
  auto field = [&line](const std::string& label, double& out) {
    if (auto p = line.find(label); p != std::string::npos) out = std::atof(&line[p + label.size()]);
  };
  field("(read ", read);
  field(", compared ", compared);
  field(", applied ", applied);
}

size_t kernel_entries(pid_t pid) {
  const std::string proc = read_file("/proc/" + std::to_string(pid) + "/net/ip_mr_cache");
  size_t entries = 0;
  for (size_t p = proc.find('\n'); p != std::string::npos && p + 1 < proc.size();
       p = proc.find('\n', p + 1))
    ++entries;
  return entries;
}

}  // namespace

int main(int argc, char** argv) {
  int routes = 10000, reloads = 7;
  std::string self = argv[0];
  std::string dir = self.substr(0, self.rfind('/'));
  std::string mfcd = dir + "/../mfcd", mctool = dir + "/mctool";
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--routes")
      routes = std::atoi(argv[i + 1]);
    else if (a == "--reloads")
      reloads = std::max(1, std::atoi(argv[i + 1]));
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
  signal(SIGTERM, [](int) { std::exit(143); });

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
  const size_t changed_routes = change.removed.size() + change.changed.size() + change.added.size();
  const std::string conf = g_work + "/mfcd.conf", log = g_work + "/mfcd.log",
                    pid = g_work + "/mfcd.pid", sock = g_work + "/mfcd.sock";
  const std::string base = config(routes, nullptr), edited = config(routes, &change);
  write(conf, base);

  std::printf(
      "routes %d; each reload changes %zu: %zu removed, %zu OIF sets changed, %zu added "
      "(every other reload puts them back)\n",
      routes, changed_routes, change.removed.size(), change.changed.size(), change.added.size());
  // The floor's namespace and table, ready before mfcd starts: the first
  // reload writes the changed and the added routes and deletes the removed.
  Floor floor;
  if (!floor.prepare(routes, static_cast<int>(change.changed.size() + change.added.size()),
                     static_cast<int>(change.removed.size()))) {
    std::fprintf(stderr, "bench_reload: cannot set up the floor\n");
    return 1;
  }
  // The default level (notice) logs the "reloaded" line and nothing per
  // kernel write; -l info would add a line (and a write to the log) for
  // each of them.
  must("ip netns exec " + ns("router") + " " + mfcd + " -n -S '' -f " + conf + " -u " + sock +
       " -P " + pid + " -l notice >" + log + " 2>&1 &");
  auto t_start = Clock::now();
  while (read_file(pid).empty()) {
    if (Clock::now() - t_start > std::chrono::seconds(60)) {
      std::fprintf(stderr, "bench_reload: mfcd not ready in 60 s\n%s", read_file(log).c_str());
      return 1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const pid_t mfcd_pid = std::atoi(read_file(pid).c_str());
  std::printf("start-up: %.0f ms\n", ms_since(t_start, Clock::now()));
  if (kernel_entries(mfcd_pid) != static_cast<size_t>(routes)) {
    std::fprintf(stderr, "bench_reload: the kernel does not hold the %d routes\n", routes);
    return 1;
  }
  // Watching from here on: the start-up's writes are done (mfcd writes its
  // PID file after them).
  const int monitor = mroute_monitor(ns("router"));
  if (monitor < 0) {
    std::fprintf(stderr, "bench_reload: cannot watch the router's MFC writes\n");
    return 1;
  }

  // The flow: 2,000/s through route 0, which no reload touches, for as
  // long as the reloads take (one every 400 ms) plus a second each side.
  const int flow_count = 2000 * (2 + (reloads * 4 + 9) / 10);
  const std::string recv_out = g_work + "/recv.out", ready = g_work + "/ready";
  must("ip netns exec " + ns("recv") + " " + mctool + " recv -g " + group_of(0) + " -i eth0 -c " +
       std::to_string(flow_count) + " -w 30 --ready " + ready + " >" + recv_out + " 2>&1 &");
  while (::access(ready.c_str(), F_OK) != 0)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  must("ip netns exec " + ns("sender") + " " + mctool + " send -g " + group_of(0) +
       " -i eth0 -t 16 -r 2000 -c " + std::to_string(flow_count) + " >/dev/null &");
  std::this_thread::sleep_for(std::chrono::seconds(1));  // mid-flow

  struct Row {
    Writes writes;
    size_t entries = 0, want = 0;
    double to_log = -1, read = -1, compared = -1, applied = -1;
  };
  std::vector<Row> rows;
  bool ok = true;
  const int watch = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (watch < 0 || ::inotify_add_watch(watch, log.c_str(), IN_MODIFY) < 0) {
    std::fprintf(stderr, "bench_reload: cannot watch %s\n", log.c_str());
    return 1;
  }
  for (int k = 0; k < reloads; ++k) {
    const bool to_edited = k % 2 == 0;
    write(conf + ".new", to_edited ? edited : base);
    std::rename((conf + ".new").c_str(), conf.c_str());
    Row row;
    const size_t mark = read_file(log).size();
    const auto t0 = Clock::now();
    ::kill(mfcd_pid, SIGHUP);
    std::string line;
    for (;;) {
      // Asleep until mfcd writes its log: the kernel's notifications are
      // only counted once the reload is done. Reading them as they come
      // woke this process for each write, and on a 2-CPU machine every
      // such wake-up costs the writer: mfcd's 100 writes took 0.35-0.42 ms
      // that way against the floor's 0.20 ms.
      pollfd log_changed{watch, POLLIN, 0};
      if (::poll(&log_changed, 1, 100) > 0) {
        char events[4096];
        while (::read(watch, events, sizeof events) > 0) {
        }
      }
      std::ifstream in(log);
      in.seekg(static_cast<std::streamoff>(mark));
      std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      if (auto p = text.find("reloaded "); p != std::string::npos) {
        row.to_log = ms_since(t0, Clock::now());
        line = text.substr(p, text.find('\n', p) - p);
        break;
      }
      if (Clock::now() - t0 > std::chrono::seconds(60)) {
        std::fprintf(stderr, "bench_reload: no 'reloaded' line in 60 s\n");
        return 1;
      }
    }
    drain(monitor, row.writes, 20000);  // everything the reload wrote
    split_of(line, row.read, row.compared, row.applied);
    row.entries = kernel_entries(mfcd_pid);
    row.want =
        static_cast<size_t>(routes) + (to_edited ? change.added.size() - change.removed.size() : 0);
    ok = ok && row.entries == row.want && row.writes.adds + row.writes.dels == changed_routes;
    rows.push_back(row);
    // The floor after the same 200 ms of idle that precede a reload, so
    // that both find the kernel's and their own memory equally cold; then
    // once more at once, warm. (Timing three runs in a row and taking the
    // median made the floor a warm-cache figure: 0.16 against 0.19 ms.)
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    floor.run(false);
    floor.run(true);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }

  // Wait for the flow to finish.
  std::string got;
  auto tf = Clock::now();
  while ((got = read_file(recv_out)).find("received") == std::string::npos &&
         Clock::now() - tf < std::chrono::seconds(40))
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  long received = -1;
  if (auto p = got.find("received "); p != std::string::npos) received = std::atol(&got[p + 9]);
  ::kill(mfcd_pid, SIGTERM);
  ::close(monitor);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));

  // "12.34 ms", or "-" when mfcd did not say (an mfcd without the split).
  auto ms = [](double v) {
    char buf[32];
    if (v < 0) return std::string("-");
    std::snprintf(buf, sizeof buf, "%.2f ms", v);
    return std::string(buf);
  };
  std::printf("%-7s %-13s %-14s %15s %10s %10s %10s\n", "reload", "MFC writes", "kernel/config",
              "SIGHUP->logged", "read", "compared", "applied");
  std::vector<double> to_log, reads, compareds, applieds;
  for (size_t k = 0; k < rows.size(); ++k) {
    const Row& w = rows[k];
    char writes[32], entries[32];
    std::snprintf(writes, sizeof writes, "%zu (%zu+%zu)", w.writes.adds + w.writes.dels,
                  w.writes.adds, w.writes.dels);
    std::snprintf(entries, sizeof entries, "%zu/%zu%s", w.entries, w.want,
                  w.entries == w.want ? "" : " !");
    std::printf("%-7zu %-13s %-14s %15s %10s %10s %10s\n", k + 1, writes, entries,
                ms(w.to_log).c_str(), ms(w.read).c_str(), ms(w.compared).c_str(),
                ms(w.applied).c_str());
    to_log.push_back(w.to_log);
    reads.push_back(w.read);
    compareds.push_back(w.compared);
    applieds.push_back(w.applied);
  }
  std::printf("%-7s %-13s %-14s %15s %10s %10s %10s\n", "median", "", "",
              ms(median(to_log)).c_str(), ms(median(reads)).c_str(), ms(median(compareds)).c_str(),
              ms(median(applieds)).c_str());
  std::printf("flow through an unchanged route: %ld of %d received, %ld lost\n", received,
              flow_count, received < 0 ? -1 : flow_count - received);

  const double floor_time = floor.median_ms(), applied = median(applieds);
  std::printf(
      "floor: the same %zu writes (%zu add, %zu del) from a minimal loop on a %d-entry "
      "table, after the same idle as a reload: %s (median of %zu); repeated at once: %s\n",
      floor.writes(), change.changed.size() + change.added.size(), change.removed.size(), routes,
      ms(floor_time).c_str(), floor.runs(), ms(floor.warm_median_ms()).c_str());
  std::printf("target: kernel writes = changed routes (%zu) on every reload: %s\n", changed_routes,
              ok ? "met" : "NOT met");
  std::printf("target: no datagram lost: %s\n", received == flow_count ? "met" : "NOT met");
  if (applied < 0 || floor_time <= 0) {
    std::printf("target: applied within 2x of the floor: not measured\n");
  } else {
    std::printf(
        "target: applied within 2x of the floor: %s = %.1fx the floor (%.1fx the warm "
        "one): %s\n",
        ms(applied).c_str(), applied / floor_time, applied / floor.warm_median_ms(),
        applied <= 2 * floor_time ? "met" : "NOT met");
  }
  std::printf(
      "(SIGHUP->logged: until mfcd logs the reload, after its last write, so the kernel held the\n"
      " new config by then; read: the file parsed and checked; compared: its lines matched with\n"
      " the routes; applied: the changed routes decided, planned and written. The floor has no\n"
      " file to read or compare.)\n");
  return ok && received == flow_count ? 0 : 1;
}
