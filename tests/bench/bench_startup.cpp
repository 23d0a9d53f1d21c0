// Start-up benchmark: how long mfcd takes to get N static (S,G) routes from its
// config into the kernel, next to a floor measured in the same run.
//
// The floor is the least any daemon could do: a raw IGMP socket, MRT_INIT, the
// VIFs, then N MRT_ADD_MFC calls in a tight loop with every struct mfcctl built
// beforehand. It is measured twice, once with bare setsockopt and once through
// mfcd's own kernel::Mroute, so the cost of that thin wrapper is visible too.
// mfcd is then started for real (fork + exec of the binary, config parse,
// planning, the same syscalls, the event loop) on a config holding the same N
// routes, and timed from just before the spawn until (a) the kernel holds all
// N entries ("mfcd->kernel", the figure the target is about) and (b) its PID
// file appears ("mfcd->pid", ready: mfcd writes it once its bookkeeping is
// built too). Shutdown is timed from SIGTERM until the process is gone and the
// table is empty.
//
// How (a) is seen: for every entry MRT_ADD_MFC adds, the kernel queues an
// RTM_NEWROUTE (family RTNL_FAMILY_IPMR) to the rtnetlink group
// RTNLGRP_IPV4_MROUTE after the entry is in the table; the benchmark checks
// this at start. A NETLINK_ROUTE socket subscribed to that group, with a
// receive buffer large enough to hold every notification of a run, is opened
// before the spawn. It is not read while mfcd works: on the 2-vCPU machine
// this was written for, anything the benchmark does on the other CPU slows
// mfcd down (a plain spinning thread nearly doubled the floor's loop; a
// blocking recv() woken by every notification added about 30%). Instead the
// benchmark sleeps on the socket until the first notification, then samples
// its queued bytes (SO_MEMINFO, one cheap syscall that dequeues nothing),
// sleeping between samples for half the time the missing entries would take
// at the fastest rate seen so far (KernelWatch::next_sleep), so it wakes
// 20-50 times per run and its last samples are tens of microseconds apart.
// After the run it reads every notification, counts the distinct (S,G)
// pairs, finds the one that completed all N and, since every notification
// of a run takes the same number of queued bytes, the first sample showing
// that many bytes: its time is mfcd->kernel, and the gap to the sample before
// is the figure's resolution. A run whose notifications overflowed the buffer
// (ENOBUFS, drops) or did not cover all N pairs is reported invalid and left
// out.
//
// The floor runs under the same conditions: a subscribed listener and the same
// sampling in a second thread, because queueing the notifications costs the
// writer kernel time (about a fifth of the floor's loop here); a floor without
// it would make mfcd look worse than it is. Each round runs the raw floor
// right beside mfcd (floors first in even rounds, last in odd ones), and the
// ratios are the median of the rounds' ratios, so that load from other
// sessions coming and going affects both sides of a ratio alike.
//
// Everything happens in a network namespace of the benchmark's own
// (unshare(CLONE_NEWNET) on the benchmark process): it holds four veth pairs,
// one inbound and three outbound interfaces with their peers up beside them,
// and disappears by itself when the benchmark and its children exit, even on a
// crash, so there is nothing to clean up in the root namespace.
//
// Each figure is the median of --reps rounds. Run by hand (it needs root); see
// tests/bench/README.md.
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

// clang-format off
#include <netinet/in.h>
#include <net/if.h>
#include <linux/mroute.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <libmnl/libmnl.h>
#include <linux/sock_diag.h>
// clang-format on

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <unordered_set>
#include <variant>
#include <vector>

#include "core/addr.hpp"
#include "core/config.hpp"
#include "core/desired.hpp"
#include "core/intent.hpp"
#include "core/plan.hpp"
#include "core/ports.hpp"
#include "kernel/membership.hpp"
#include "kernel/mroute.hpp"
#include "kernel/netlink.hpp"

extern char** environ;

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

struct Options {
  std::string mfcd;
  std::string floor_daemon;  // the floor process, floor_daemon.cpp
  std::vector<int> sizes{1000, 10000, 50000};
  int reps = 5;
  std::string log_level = "err";
  double timeout_s = 60;
  bool keep = false;
};

// One inbound interface and three outbound ones, as in a typical router.
constexpr std::array<const char*, 4> kIfnames = {"bi0", "bo1", "bo2", "bo3"};

// Distinct (S,G) number i: sources cycle through 1,000 addresses of the
// benchmarking range 198.18.0.0/15, groups count up from 225.0.0.1, so every
// pair is different and the kernel's hash sees a realistic spread.
uint32_t source_of(int i) {
  return 0xC6120000u + 1u + static_cast<uint32_t>(i % 1000);
}
uint32_t group_of(int i) {
  return 0xE1000000u + 1u + static_cast<uint32_t>(i);
}

std::string dotted(uint32_t host_order) {
  return std::to_string(host_order >> 24) + "." + std::to_string((host_order >> 16) & 0xff) + "." +
         std::to_string((host_order >> 8) & 0xff) + "." + std::to_string(host_order & 0xff);
}

[[noreturn]] void die(const std::string& message) {
  std::fprintf(stderr, "bench_startup: %s\n", message.c_str());
  std::exit(1);
}

double median(std::vector<double> v) {
  if (v.empty()) return -1;
  std::sort(v.begin(), v.end());
  const size_t mid = v.size() / 2;
  return v.size() % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

// Lines in /proc/net/ip_mr_cache minus its header: the entries the kernel
// holds in this namespace (resolved ones; the benchmark sends no traffic, so
// there are no unresolved ones).
long kernel_entries() {
  const int fd = ::open("/proc/net/ip_mr_cache", O_RDONLY | O_CLOEXEC);
  if (fd < 0) die(std::string("cannot open /proc/net/ip_mr_cache: ") + std::strerror(errno));
  static std::vector<char> buf(1 << 18);
  long lines = 0;
  for (;;) {
    const ssize_t got = ::read(fd, buf.data(), buf.size());
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    lines += std::count(buf.data(), buf.data() + got, '\n');
  }
  ::close(fd);
  return lines > 0 ? lines - 1 : 0;
}

// Polls until the kernel's table is empty (it should be already: closing the
// mroute socket flushes synchronously). Returns the time it took.
double wait_empty(Clock::time_point since, double timeout_s) {
  for (;;) {
    if (kernel_entries() == 0) return ms_between(since, Clock::now());
    if (ms_between(since, Clock::now()) > timeout_s * 1000) die("kernel table did not empty");
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
}

void run_or_die(const std::string& command) {
  if (std::system(command.c_str()) != 0) die("command failed: " + command);
}

std::vector<int> enter_namespace() {
  if (::unshare(CLONE_NEWNET) != 0)
    die(std::string("unshare(CLONE_NEWNET): ") + std::strerror(errno) + " (run as root)");
  run_or_die("ip link set lo up");
  std::vector<int> ifindex;
  for (const char* name : kIfnames) {
    const std::string n = name;
    run_or_die("ip link add " + n + " type veth peer name " + n + "p");
    run_or_die("ip link set " + n + "p up");
    run_or_die("ip link set " + n + " up");
    const unsigned idx = ::if_nametoindex(name);
    if (idx == 0) die("no ifindex for " + n);
    ifindex.push_back(static_cast<int>(idx));
  }
  return ifindex;
}

// For the calling thread while it lives: wake-ups on time for the sampling.
// The default 50 us timer slack would blur the short sleeps at the end, and
// on a shared machine a woken sampler could wait a scheduler slice behind
// other processes (several ms were seen); as a SCHED_FIFO thread it runs at
// once. It sleeps nearly all the time, so it takes next to nothing from mfcd.
// Set after mfcd is spawned, so that mfcd keeps the default policy and slack.
class PromptWakeups {
 public:
  PromptWakeups() {
    ::prctl(PR_SET_TIMERSLACK, 1000UL);
    const sched_param rt{1};
    fifo_ = ::sched_setscheduler(0, SCHED_FIFO, &rt) == 0;  // best effort
  }
  PromptWakeups(const PromptWakeups&) = delete;
  PromptWakeups& operator=(const PromptWakeups&) = delete;
  ~PromptWakeups() {
    if (fifo_) {
      const sched_param normal{0};
      ::sched_setscheduler(0, SCHED_OTHER, &normal);
    }
    ::prctl(PR_SET_TIMERSLACK, 0UL);  // back to the thread's default
  }

 private:
  bool fifo_ = false;
};

// What the rtnetlink notifications of one run showed.
struct KernelSeen {
  bool valid = false;
  std::string why;            // why the run is invalid
  double ms = -1;             // start -> first sample showing all N entries queued
  double resolution_ms = -1;  // that sample minus the one before it
  long messages = 0;          // notifications read after the run
  long bytes_each = 0;        // queued bytes the kernel charged per notification
};

// A NETLINK_ROUTE socket subscribed to RTNLGRP_IPV4_MROUTE, on which the
// kernel queues an RTM_NEWROUTE for every entry added through the mroute
// socket, and the samples of its queue taken while the entries go in.
//
// The socket is not read during a run (see the comment at the top): the
// samples are SO_MEMINFO's count of queued bytes, which grows by the same
// amount for every notification of a run. The sampling is steered by the
// expected size of N notifications (from the calibration at start); the
// figure itself is worked out afterwards from what was really queued, so a
// wrong expectation costs resolution, never correctness.
class KernelWatch {
 public:
  KernelWatch(int n, long bytes_each) : n_(n) {
    fd_ = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd_ < 0) die(std::string("netlink socket: ") + std::strerror(errno));
    // Enough for every notification of the run, so that nothing is dropped
    // while nobody reads (about 830 bytes each here; the kernel doubles the
    // value given).
    const int rcvbuf = static_cast<int>(
        std::clamp<long>(long{n} * 2048, long{64} << 20, std::numeric_limits<int>::max() / 2));
    if (::setsockopt(fd_, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf) != 0)
      die(std::string("SO_RCVBUFFORCE: ") + std::strerror(errno));
    sockaddr_nl local{};
    local.nl_family = AF_NETLINK;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0)
      die(std::string("netlink bind: ") + std::strerror(errno));
    const int group = RTNLGRP_IPV4_MROUTE;
    if (::setsockopt(fd_, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group, sizeof group) != 0)
      die(std::string("NETLINK_ADD_MEMBERSHIP: ") + std::strerror(errno));
    target_ = static_cast<uint64_t>(n) * static_cast<uint64_t>(bytes_each);
    // A burst of N MRT_ADD_MFC takes at least about N * 2 us here; at most
    // N/4 us between samples keeps about ten samples in it even if the rate
    // estimate is off.
    max_sleep_ = std::clamp<std::chrono::nanoseconds>(std::chrono::nanoseconds(long{n} * 250),
                                                      std::chrono::microseconds(50),
                                                      std::chrono::milliseconds(10));
    samples_.reserve(4096);
  }
  KernelWatch(const KernelWatch&) = delete;
  KernelWatch& operator=(const KernelWatch&) = delete;
  ~KernelWatch() { ::close(fd_); }

  // One sample of the queue; true once the expected bytes are queued.
  bool sample() {
    uint32_t info[SK_MEMINFO_VARS] = {};
    socklen_t len = sizeof info;
    if (::getsockopt(fd_, SOL_SOCKET, SO_MEMINFO, info, &len) != 0 ||
        len < sizeof(uint32_t) * (SK_MEMINFO_DROPS + 1))
      die(std::string("SO_MEMINFO: ") + std::strerror(errno));
    samples_.push_back({Clock::now(), info[SK_MEMINFO_RMEM_ALLOC]});
    drops_ = info[SK_MEMINFO_DROPS];
    if (samples_.size() >= 2) {
      const Sample& a = samples_[samples_.size() - 2];
      const Sample& b = samples_.back();
      if (a.bytes > 0 && b.bytes > a.bytes)
        peak_rate_ = std::max(peak_rate_, static_cast<double>(b.bytes - a.bytes) /
                                              std::chrono::duration<double>(b.t - a.t).count());
    }
    if (target_ > 0 && info[SK_MEMINFO_RMEM_ALLOC] >= target_)
      reached_.store(true, std::memory_order_relaxed);
    return reached();
  }
  bool reached() const { return reached_.load(std::memory_order_relaxed); }

  // Whether the queue grew between the last two samples.
  bool growing() const {
    return samples_.size() < 2 || samples_.back().bytes != samples_[samples_.size() - 2].bytes;
  }

  // The socket, to wait on until the first notification (started()).
  int fd() const { return fd_; }
  // Whether the last sample found notifications queued. Until then the
  // sampler sleeps on the socket itself, which the first notification wakes
  // once, so that it costs nothing while mfcd reads its config; after that
  // it stops waiting on the socket (which would wake it for every message).
  bool started() const { return !samples_.empty() && samples_.back().bytes > 0; }

  // How long to sleep before the next sample, once started: half the time
  // the entries still missing would take at the fastest rate seen so far in
  // this run. The writer is never faster than that for long, so the sampler
  // cannot sleep past the moment, and the samples close in on it with a
  // handful of wake-ups whether the writer runs steadily, slows down (a busy
  // machine) or pauses (the kernel growing its MFC hash table). Right after
  // the first notification there is no rate yet: a short probe.
  std::chrono::nanoseconds next_sleep() const {
    constexpr std::chrono::nanoseconds kMin = std::chrono::microseconds(20);
    constexpr std::chrono::nanoseconds kProbe = std::chrono::microseconds(100);
    if (target_ == 0 || reached() || !started()) return max_sleep_;
    if (peak_rate_ <= 0) return std::min(kProbe, max_sleep_);
    const auto left = std::chrono::duration<double>(
        static_cast<double>(target_ - samples_.back().bytes) / peak_rate_ / 2);
    return std::clamp(std::chrono::duration_cast<std::chrono::nanoseconds>(left), kMin, max_sleep_);
  }

  // The floor's second thread: samples until the expected bytes are queued
  // or `stop` is set (checked at least every 100 ms).
  void observe(const std::atomic<bool>& stop) {
    const PromptWakeups prompt;
    while (!sample() && !stop.load(std::memory_order_relaxed)) {
      const bool first = !started();
      const auto d = first ? std::chrono::milliseconds(100) : next_sleep();
      const timespec ts{static_cast<time_t>(d.count() / 1000000000),
                        static_cast<long>(d.count() % 1000000000)};
      pollfd p{first ? fd_ : -1, POLLIN, 0};
      ::ppoll(&p, 1, &ts, nullptr);
    }
  }

  // Takes a last sample, reads every notification and works out when all N
  // (S,G) pairs were in the kernel, measured from t0.
  KernelSeen finish(Clock::time_point t0) {
    sample();
    KernelSeen k;
    const uint64_t total = samples_.back().bytes;
    bool overflow = drops_ > 0;
    std::unordered_set<uint64_t> pairs;
    pairs.reserve(static_cast<size_t>(n_));
    long nth = 0;  // the notification that completed the N pairs, counted from 1
    static std::vector<char> buf(1 << 16);
    for (;;) {
      ssize_t got = ::recv(fd_, buf.data(), buf.size(), MSG_DONTWAIT);
      if (got < 0) {
        if (errno == EINTR) continue;
        if (errno == ENOBUFS) {
          overflow = true;
          continue;
        }
        if (errno == EAGAIN) break;
        die(std::string("netlink recv: ") + std::strerror(errno));
      }
      int left = static_cast<int>(got);
      // libmnl's walk: the NLMSG_OK macro compares a signed length with
      // an unsigned one, which clang refuses.
      for (auto* h = reinterpret_cast<nlmsghdr*>(buf.data()); mnl_nlmsg_ok(h, left);
           h = mnl_nlmsg_next(h, &left)) {
        ++k.messages;
        if (h->nlmsg_type != RTM_NEWROUTE) continue;
        auto* rtm = static_cast<rtmsg*>(NLMSG_DATA(h));
        if (rtm->rtm_family != RTNL_FAMILY_IPMR) continue;
        uint32_t src = 0, dst = 0;
        int attr_len = static_cast<int>(RTM_PAYLOAD(h));
        for (auto* a = RTM_RTA(rtm); RTA_OK(a, attr_len); a = RTA_NEXT(a, attr_len)) {
          if (a->rta_type == RTA_SRC && RTA_PAYLOAD(a) == 4) std::memcpy(&src, RTA_DATA(a), 4);
          if (a->rta_type == RTA_DST && RTA_PAYLOAD(a) == 4) std::memcpy(&dst, RTA_DATA(a), 4);
        }
        if (pairs.insert(uint64_t{src} << 32 | dst).second && nth == 0 &&
            static_cast<long>(pairs.size()) == n_)
          nth = k.messages;
      }
    }
    if (overflow) {
      k.why = "notifications dropped (ENOBUFS): the receive buffer overflowed";
      return k;
    }
    if (nth == 0) {
      k.why = "only " + std::to_string(pairs.size()) + " of " + std::to_string(n_) +
              " (S,G) pairs notified";
      return k;
    }
    if (total % static_cast<uint64_t>(k.messages) != 0) {
      k.why = "notifications of unequal size (" + std::to_string(total) + " bytes for " +
              std::to_string(k.messages) + ")";
      return k;
    }
    k.bytes_each = static_cast<long>(total / static_cast<uint64_t>(k.messages));
    const uint64_t needed = static_cast<uint64_t>(nth) * static_cast<uint64_t>(k.bytes_each);
    for (size_t i = 0; i < samples_.size(); ++i) {
      if (samples_[i].bytes < needed) continue;
      k.ms = ms_between(t0, samples_[i].t);
      k.resolution_ms = ms_between(i > 0 ? samples_[i - 1].t : t0, samples_[i].t);
      k.valid = true;
      break;
    }
    return k;
  }

 private:
  struct Sample {
    Clock::time_point t;
    uint64_t bytes;
  };
  int fd_ = -1;
  int n_ = 0;
  uint64_t target_ = 0;
  std::chrono::nanoseconds max_sleep_{};
  double peak_rate_ = 0;  // bytes/s, the fastest interval since the first notification
  std::vector<Sample> samples_;
  uint32_t drops_ = 0;
  std::atomic<bool> reached_{false};
};

// Opens the floor's mroute socket with the four VIFs.
int open_floor_socket(const std::vector<int>& ifindex, double* vif_ms) {
  const int fd = ::socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_IGMP);
  if (fd < 0) die(std::string("raw IGMP socket: ") + std::strerror(errno));
  const int one = 1;
  if (::setsockopt(fd, IPPROTO_IP, MRT_INIT, &one, sizeof one) != 0)
    die(std::string("MRT_INIT: ") + std::strerror(errno));
  const auto tv = Clock::now();
  for (size_t v = 0; v < ifindex.size(); ++v) {
    vifctl vc;
    std::memset(&vc, 0, sizeof vc);
    vc.vifc_vifi = static_cast<vifi_t>(v);
    vc.vifc_flags = VIFF_USE_IFINDEX;
    vc.vifc_threshold = 1;
    vc.vifc_lcl_ifindex = ifindex[v];
    if (::setsockopt(fd, IPPROTO_IP, MRT_ADD_VIF, &vc, sizeof vc) != 0)
      die(std::string("MRT_ADD_VIF: ") + std::strerror(errno));
  }
  if (vif_ms) *vif_ms = ms_between(tv, Clock::now());
  return fd;
}

mfcctl floor_entry(int i) {
  mfcctl m;
  std::memset(&m, 0, sizeof m);
  m.mfcc_origin.s_addr = htonl(source_of(i));
  m.mfcc_mcastgrp.s_addr = htonl(group_of(i));
  m.mfcc_parent = 0;
  for (size_t v = 1; v < kIfnames.size(); ++v)
    m.mfcc_ttls[v] = 1;
  return m;
}

// Checks on this kernel that one MRT_ADD_MFC queues one RTM_NEWROUTE for its
// (S,G) on RTNLGRP_IPV4_MROUTE, and returns the bytes it occupies in the
// listener's queue with the floor's four VIFs.
long calibrate_floor(const std::vector<int>& ifindex) {
  KernelWatch watch(1, 0);
  const int fd = open_floor_socket(ifindex, nullptr);
  const mfcctl m = floor_entry(0);
  const auto t0 = Clock::now();
  if (::setsockopt(fd, IPPROTO_IP, MRT_ADD_MFC, &m, sizeof m) != 0)
    die(std::string("MRT_ADD_MFC: ") + std::strerror(errno));
  const KernelSeen k = watch.finish(t0);
  ::close(fd);
  if (!k.valid || k.messages != 1)
    die("the kernel did not send one RTM_NEWROUTE on RTNLGRP_IPV4_MROUTE for one MRT_ADD_MFC (" +
        std::to_string(k.messages) + " notifications" + (k.why.empty() ? "" : ", " + k.why) +
        "); mfcd->kernel cannot be measured on it");
  wait_empty(Clock::now(), 10);
  return k.bytes_each;
}

struct FloorTimes {
  double vif_ms = 0;    // the four MRT_ADD_VIF calls
  double add_ms = 0;    // N MRT_ADD_MFC calls
  double close_ms = 0;  // close() with N entries, until /proc shows none
  KernelSeen kernel;    // what the listener saw, timed from the loop's start
};

// Runs `loop` (the timed MRT_ADD_MFC calls, returning their time) under the
// conditions mfcd runs under: a listener subscribed to the notifications and
// sampled from a second thread as in run_mfcd.
template <typename Loop>
FloorTimes floor_with_listener(int n, long bytes_each, Loop loop) {
  KernelWatch watch(n, bytes_each);
  std::atomic<bool> stop{false};
  std::thread observer([&] { watch.observe(stop); });
  FloorTimes t;
  Clock::time_point t0;
  t.add_ms = loop(&t0, &t.vif_ms);
  // Give the observer time to see the last entry, then stop it.
  for (int i = 0; i < 100 && !watch.reached(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  stop = true;
  observer.join();
  t.kernel = watch.finish(t0);
  return t;
}

// The purest floor: bare setsockopt on a bare socket.
FloorTimes floor_raw(int n, const std::vector<int>& ifindex, long bytes_each, double timeout_s) {
  std::vector<mfcctl> entries(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i)
    entries[static_cast<size_t>(i)] = floor_entry(i);

  int fd = -1;
  FloorTimes t = floor_with_listener(n, bytes_each, [&](Clock::time_point* t0, double* vif_ms) {
    fd = open_floor_socket(ifindex, vif_ms);
    *t0 = Clock::now();
    for (const mfcctl& m : entries)
      if (::setsockopt(fd, IPPROTO_IP, MRT_ADD_MFC, &m, sizeof m) != 0)
        die(std::string("MRT_ADD_MFC: ") + std::strerror(errno));
    return ms_between(*t0, Clock::now());
  });
  if (kernel_entries() != n) die("floor: kernel does not hold all entries");

  const auto t1 = Clock::now();
  ::close(fd);
  t.close_ms = wait_empty(t1, timeout_s);
  return t;
}

// The same floor through mfcd's kernel::Mroute (one virtual call and one
// struct translation per entry on top of the syscall).
FloorTimes floor_mroute(int n, const std::vector<int>& ifindex, long bytes_each, double timeout_s) {
  using namespace mfcd;
  std::vector<core::MfcConf> entries(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    core::MfcConf& m = entries[static_cast<size_t>(i)];
    m.key.source = core::Addr::v4(source_of(i));
    m.key.group = core::Addr::v4(group_of(i));
    m.iif = 0;
    for (size_t v = 1; v < kIfnames.size(); ++v)
      m.ttls[v] = 1;
  }

  std::unique_ptr<kernel::Mroute> mroute;
  FloorTimes t = floor_with_listener(n, bytes_each, [&](Clock::time_point* t0, double*) {
    auto opened = kernel::Mroute::open(0);
    if (auto* err = std::get_if<kernel::OpenError>(&opened)) die("Mroute::open: " + err->message);
    mroute = std::move(std::get<std::unique_ptr<kernel::Mroute>>(opened));
    for (size_t v = 0; v < ifindex.size(); ++v) {
      core::VifConf vc;
      vc.vif = static_cast<core::VifIndex>(v);
      vc.ifindex = ifindex[v];
      vc.ifname = kIfnames[v];
      if (auto r = mroute->add_vif(vc); !r) die("add_vif: " + r.error().message);
    }
    core::KernelPort& port = *mroute;
    *t0 = Clock::now();
    for (const core::MfcConf& m : entries)
      if (auto r = port.add_mfc(m); !r) die("add_mfc: " + r.error().message);
    return ms_between(*t0, Clock::now());
  });
  if (kernel_entries() != n) die("floor (Mroute): kernel does not hold all entries");

  const auto t1 = Clock::now();
  mroute.reset();
  t.close_ms = wait_empty(t1, timeout_s);
  return t;
}

void write_config(const fs::path& path, int n) {
  std::ofstream out(path);
  out << "# bench_startup: " << n << " static (S,G) routes\n";
  for (const char* name : kIfnames)
    out << "phyint " << name << " enable\n";
  std::string oifs;
  for (size_t v = 1; v < kIfnames.size(); ++v)
    oifs += std::string(" ") + kIfnames[v];
  for (int i = 0; i < n; ++i)
    out << "mroute from " << kIfnames[0] << " source " << dotted(source_of(i)) << " group "
        << dotted(group_of(i)) << " to" << oifs << "\n";
  if (!out) die("cannot write " + path.string());
}

struct MfcdTimes {
  double ready_ms = -1;  // spawn -> PID file
  double exit_ms = -1;   // SIGTERM -> process gone
  double empty_ms = -1;  // SIGTERM -> /proc lists no entries
  long hwm_kb = -1;      // VmHWM just before SIGTERM
  KernelSeen kernel;     // spawn -> all N entries in the kernel (when n > 0)
};

long vm_hwm_kb(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::atol(line.c_str() + 6);
  return -1;
}

std::string log_tail(const fs::path& log) {
  std::ifstream in(log);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  return s.size() > 2000 ? s.substr(s.size() - 2000) : s;
}

// Starts args[0] with args, stdout and stderr appended to `log`, without
// the service manager's NOTIFY_SOCKET.
pid_t spawn_logged(std::vector<std::string> args, const fs::path& log) {
  std::vector<char*> argv;
  for (auto& a : args)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (char** e = environ; *e; ++e)
    if (std::strncmp(*e, "NOTIFY_SOCKET=", 14) != 0) envp.push_back(*e);
  envp.push_back(nullptr);

  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  pid_t pid = 0;
  const int rc = ::posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) die(std::string("cannot start ") + argv[0] + ": " + std::strerror(rc));
  return pid;
}

// The floor process (floor_daemon.cpp) on `conf`: spawn until the kernel
// has notified all n entries, measured as mfcd's mfcd->kernel is, and its
// VmHWM. A run whose notifications were not all seen is invalid.
struct FloorProcessTimes {
  KernelSeen kernel;
  long hwm_kb = -1;
};

FloorProcessTimes run_floor_process(const Options& opt, const fs::path& dir, const fs::path& conf,
                                    int n, long bytes_each) {
  const fs::path log = dir / "floor_daemon.log";
  KernelWatch watch(n, bytes_each);
  const auto t0 = Clock::now();
  const pid_t pid = spawn_logged({opt.floor_daemon, conf.string()}, log);
  const double deadline_ms = opt.timeout_s * 1000;
  {
    auto prompt = std::make_optional<PromptWakeups>();
    while (!watch.reached()) {
      const bool first = !watch.started();
      const std::chrono::nanoseconds wait =
          first ? std::chrono::milliseconds(100) : watch.next_sleep();
      const timespec ts{static_cast<time_t>(wait.count() / 1000000000),
                        static_cast<long>(wait.count() % 1000000000)};
      pollfd fds[1] = {{first ? watch.fd() : -1, POLLIN, 0}};
      ::ppoll(fds, 1, &ts, nullptr);
      watch.sample();
      int status = 0;
      if (::waitpid(pid, &status, WNOHANG) == pid)
        die("floor_daemon exited (status " + std::to_string(status) + "):\n" + log_tail(log));
      if (ms_between(t0, Clock::now()) > deadline_ms) {
        ::kill(pid, SIGKILL);
        die("floor_daemon not done after " + std::to_string(opt.timeout_s) + " s");
      }
    }
  }
  FloorProcessTimes t;
  t.hwm_kb = vm_hwm_kb(pid);
  t.kernel = watch.finish(t0);
  ::kill(pid, SIGTERM);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    die("floor_daemon exit status " + std::to_string(status) + ":\n" + log_tail(log));
  wait_empty(Clock::now(), opt.timeout_s);
  return t;
}

// Starts mfcd on `conf` and waits until it is ready and, for n > 0, until
// the kernel has notified all n entries (bytes_each: the calibrated queued
// size of one notification, 0 if not known yet). Then stops it with SIGTERM.
MfcdTimes run_mfcd(const Options& opt, const fs::path& dir, const fs::path& conf, int n,
                   long bytes_each) {
  const fs::path pid_file = dir / "mfcd.pid";
  const fs::path sock = dir / "mfcd.sock";
  const fs::path log = dir / "mfcd.log";
  fs::remove(pid_file);
  fs::remove(sock);

  // The PID file appears by rename(); inotify tells the moment without
  // burning a core on stat().
  const int ino = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (ino < 0 || ::inotify_add_watch(ino, dir.c_str(), IN_MOVED_TO | IN_CREATE) < 0)
    die(std::string("inotify: ") + std::strerror(errno));
  // Subscribed before the spawn, so that no notification is missed.
  std::optional<KernelWatch> watch;
  if (n > 0) watch.emplace(n, bytes_each);

  MfcdTimes t;
  const auto t0 = Clock::now();
  const pid_t pid = spawn_logged({opt.mfcd, "-n", "-S", "", "-f", conf.string(), "-u",
                                  sock.string(), "-P", pid_file.string(), "-l", opt.log_level},
                                 log);
  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) die(std::string("pidfd_open: ") + std::strerror(errno));

  auto died = [&](const char* when) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    die(std::string("mfcd exited ") + when + " (status " + std::to_string(status) + "):\n" +
        log_tail(log));
  };
  auto pid_file_seen = [&] {
    alignas(inotify_event) char buf[4096];
    while (::read(ino, buf, sizeof buf) > 0) {
    }
    return fs::exists(pid_file);
  };
  const double deadline_ms = opt.timeout_s * 1000;

  // One thread waits for both moments: between samples of the notification
  // queue it sleeps in ppoll() on the PID file's directory and on the
  // process, so the PID file is seen the moment it appears.
  auto prompt = std::make_optional<PromptWakeups>();
  for (;;) {
    const bool sampling = watch && !watch->reached();
    if (!sampling && t.ready_ms >= 0) break;
    const bool first = sampling && !watch->started();
    const std::chrono::nanoseconds wait =
        sampling && !first ? watch->next_sleep() : std::chrono::milliseconds(100);
    const timespec ts{static_cast<time_t>(wait.count() / 1000000000),
                      static_cast<long>(wait.count() % 1000000000)};
    pollfd fds[3] = {{ino, POLLIN, 0}, {pidfd, POLLIN, 0}, {first ? watch->fd() : -1, POLLIN, 0}};
    ::ppoll(fds, 3, &ts, nullptr);
    if (t.ready_ms < 0 && fds[0].revents && pid_file_seen())
      t.ready_ms = ms_between(t0, Clock::now());
    if (t.ready_ms < 0 && fds[1].revents) died("before it was ready");
    if (sampling) {
      watch->sample();
      // Ready, and the queue no longer grows short of the expected size: the
      // expectation was off (finish() works out the figure from what came).
      if (t.ready_ms >= 0 && !watch->reached() && !watch->growing()) break;
    }
    if (ms_between(t0, Clock::now()) > deadline_ms) {
      ::kill(pid, SIGKILL);
      die("mfcd not ready after " + std::to_string(opt.timeout_s) + " s:\n" + log_tail(log));
    }
  }
  prompt.reset();
  ::close(ino);

  if (const long have = kernel_entries(); have != n)
    die("mfcd is ready but the kernel holds " + std::to_string(have) + " of " + std::to_string(n) +
        " entries:\n" + log_tail(log));
  t.hwm_kb = vm_hwm_kb(pid);
  // Read the notifications and close the listener before the shutdown, which
  // is timed without one (as the floor's close() is).
  if (watch) {
    t.kernel = watch->finish(t0);
    watch.reset();
  }

  const auto t1 = Clock::now();
  ::kill(pid, SIGTERM);
  pollfd p{pidfd, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(deadline_ms)) <= 0) {
    ::kill(pid, SIGKILL);
    die("mfcd did not exit after SIGTERM:\n" + log_tail(log));
  }
  t.exit_ms = ms_between(t1, Clock::now());
  int status = 0;
  ::waitpid(pid, &status, 0);
  ::close(pidfd);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    die("mfcd exit status " + std::to_string(status) + " after SIGTERM:\n" + log_tail(log));
  t.empty_ms = wait_empty(t1, opt.timeout_s);
  return t;
}

// mfcd's start-up, step by step, in this process: the same core calls
// Service::start() makes, each timed on its own, so that a gap between mfcd
// and the floor can be pinned on a function. The steps after the plan run
// against the real kernel through kernel::Mroute.
struct PhaseTimes {
  double parse_ms = 0;     // core::parse_config_file (file read included)
  double intent_ms = 0;    // core::Intent::load_config
  double desired_ms = 0;   // core::compute_desired
  double plan_ms = 0;      // core::make_plan against an empty Installed
  double op_str_ms = 0;    // core::Op::str() for every op (Service::sync's debug line)
  double apply_ms = 0;     // core::apply to the kernel (the floor's syscalls + bookkeeping)
  double teardown_ms = 0;  // release_plan + apply (Router::teardown): until the table is empty
};

PhaseTimes run_phases(const fs::path& conf, int n) {
  using namespace mfcd;
  PhaseTimes t;
  core::FileSystem files;
  files.read = [](const std::string& path, size_t) -> core::Result<std::string> {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  };
  files.glob = [](const std::string&) { return std::vector<std::string>{}; };

  auto t0 = Clock::now();
  const core::ParseResult parsed = core::parse_config_file(conf.string(), files);
  t.parse_ms = ms_between(t0, Clock::now());
  if (!parsed.ok()) die("phases: the generated config does not parse");

  auto links = kernel::dump_links();
  if (!links) die("dump_links: " + links.error().message);

  core::Intent intent;
  t0 = Clock::now();
  intent.load_config(parsed.config);
  t.intent_ms = ms_between(t0, Clock::now());

  t0 = Clock::now();
  const core::Desired desired = core::compute_desired(intent, links.value());
  t.desired_ms = ms_between(t0, Clock::now());

  core::Installed installed;
  t0 = Clock::now();
  const core::Plan plan = core::make_plan(installed, desired);
  t.plan_ms = ms_between(t0, Clock::now());

  size_t chars = 0;
  t0 = Clock::now();
  for (const core::Op& op : plan.ops)
    chars += op.str().size();
  t.op_str_ms = ms_between(t0, Clock::now());
  if (chars == 0) die("phases: empty plan");

  auto opened = kernel::Mroute::open(0);
  if (auto* err = std::get_if<kernel::OpenError>(&opened)) die("Mroute::open: " + err->message);
  auto mroute = std::move(std::get<std::unique_ptr<kernel::Mroute>>(opened));
  // A listener subscribed as in the floor's runs, so that 'apply' and the
  // floor pay the same for the notifications.
  auto listener = std::make_unique<KernelWatch>(n, 0);
  t0 = Clock::now();
  kernel::MembershipSockets memberships;  // opens nothing: the plan joins no group
  auto failures = core::apply(core::Writers{*mroute, memberships}, installed, plan);
  t.apply_ms = ms_between(t0, Clock::now());
  if (!failures.empty()) die("phases: apply: " + failures.front().error.message);
  if (kernel_entries() != n) die("phases: kernel does not hold all entries");
  listener->finish(t0);
  listener.reset();

  t0 = Clock::now();
  failures = core::apply(core::Writers{*mroute, memberships}, installed, core::release_plan());
  wait_empty(t0, 10);
  t.teardown_ms = ms_between(t0, Clock::now());
  mroute.reset();
  return t;
}

std::vector<int> parse_sizes(const std::string& text) {
  std::vector<int> out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    const int v = std::atoi(item.c_str());
    if (v <= 0 || v > 1000000) die("bad size '" + item + "'");
    out.push_back(v);
  }
  if (out.empty()) die("no sizes given");
  return out;
}

void usage() {
  std::puts(
      "usage: bench_startup [--mfcd PATH] [--sizes N,N,...] [--reps R] [--log LEVEL]\n"
      "                     [--timeout SEC] [--keep]\n"
      "Times mfcd installing N static (S,G) routes from its config against a floor of\n"
      "bare MRT_ADD_MFC calls, in a network namespace of its own. Needs root.\n"
      "  --mfcd PATH    the daemon (default $MFCD_BUILD_DIR/mfcd, else ../mfcd beside this\n"
      "                 program's directory)\n"
      "  --sizes LIST   route counts (default 1000,10000,50000)\n"
      "  --reps R       runs per figure, the median is shown (default 5)\n"
      "  --log LEVEL    mfcd's -l (default err; info shows its own timestamps in the log)\n"
      "  --timeout SEC  give up on one run after SEC seconds (default 60)\n"
      "  --keep         keep the work directory (configs, mfcd.log)");
}

Options parse_options(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) die(a + " needs a value");
      return argv[++i];
    };
    if (a == "--mfcd") {
      o.mfcd = value();
    } else if (a == "--sizes") {
      o.sizes = parse_sizes(value());
    } else if (a == "--reps") {
      o.reps = std::max(1, std::atoi(value().c_str()));
    } else if (a == "--log") {
      o.log_level = value();
    } else if (a == "--timeout") {
      o.timeout_s = std::max(1.0, std::atof(value().c_str()));
    } else if (a == "--keep") {
      o.keep = true;
    } else if (a == "-h" || a == "--help") {
      usage();
      std::exit(0);
    } else {
      usage();
      std::exit(64);
    }
  }
  if (o.mfcd.empty()) {
    if (const char* dir = std::getenv("MFCD_BUILD_DIR"))
      o.mfcd = std::string(dir) + "/mfcd";
    else
      o.mfcd = (fs::read_symlink("/proc/self/exe").parent_path().parent_path() / "mfcd").string();
  }
  if (::access(o.mfcd.c_str(), X_OK) != 0) die("no mfcd at " + o.mfcd + " (use --mfcd)");
  o.floor_daemon = (fs::read_symlink("/proc/self/exe").parent_path() / "floor_daemon").string();
  if (::access(o.floor_daemon.c_str(), X_OK) != 0)
    die("no floor_daemon at " + o.floor_daemon + " (build the floor_daemon target)");
  return o;
}

struct Row {
  int n = 0;
  double raw_ms = 0, raw_close_ms = 0, mroute_ms = 0;
  double kernel_ms = 0, ready_ms = 0, exit_ms = 0, empty_ms = 0;
  double ratio_kernel = 0;   // median over rounds of mfcd->kernel / the raw floor beside it
  double ratio_ready = 0;    // the same for mfcd->pid
  double proc_ms = -1;       // the floor process: spawn -> all N entries in the kernel
  double ratio_proc = -1;    // median over rounds of mfcd->kernel / the floor process beside it
  long proc_hwm_kb = 0;      // the floor process's VmHWM
  double resolution_ms = 0;  // median gap before mfcd->kernel's sample
  double floor_lag_ms = 0;   // floor: loop end -> the listener's sample showing all N
  int invalid = 0;           // mfcd runs left out of mfcd->kernel
  int floor_invalid = 0;     // floor runs whose listener lost or missed notifications
  long hwm_kb = 0;
  PhaseTimes phases;
};

}  // namespace

int main(int argc, char** argv) {
  const Options opt = parse_options(argc, argv);
  if (::geteuid() != 0) die("needs root (network namespace, mroute socket)");

  char tmpl[] = "/tmp/mfcd-bench-XXXXXX";
  if (!::mkdtemp(tmpl)) die(std::string("mkdtemp: ") + std::strerror(errno));
  const fs::path dir = tmpl;
  const std::vector<int> ifindex = enter_namespace();

  std::printf("mfcd start-up benchmark: %s, %d rep(s) per figure (median), 4 interfaces\n",
              opt.mfcd.c_str(), opt.reps);

  // The notification mfcd->kernel is read from, checked on this kernel, and
  // its queued size for the floor and for mfcd (which may set up other VIFs).
  const long floor_bytes = calibrate_floor(ifindex);
  const fs::path one_conf = dir / "routes-1.conf";
  write_config(one_conf, 1);
  const KernelSeen one = run_mfcd(opt, dir, one_conf, 1, 0).kernel;
  if (!one.valid) die("mfcd with one route: " + one.why);
  std::printf(
      "kernel: one MRT_ADD_MFC queues one RTM_NEWROUTE on RTNLGRP_IPV4_MROUTE (%ld bytes in\n"
      "the listener's queue for the floor, %ld for mfcd, which sent %ld for one route)\n",
      floor_bytes, one.bytes_each, one.messages);
  const long mfcd_bytes = one.bytes_each;

  // mfcd's fixed cost: the same interfaces, no routes.
  const fs::path empty_conf = dir / "routes-0.conf";
  write_config(empty_conf, 0);
  std::vector<double> fixed;
  for (int r = 0; r < opt.reps; ++r)
    fixed.push_back(run_mfcd(opt, dir, empty_conf, 0, 0).ready_ms);
  const double fixed_ms = median(fixed);
  std::printf("fixed cost (0 routes, spawn -> PID file): %.2f ms\n\n", fixed_ms);

  std::vector<Row> rows;
  std::vector<double> vif_times;
  for (const int n : opt.sizes) {
    const fs::path conf = dir / ("routes-" + std::to_string(n) + ".conf");
    write_config(conf, n);
    std::vector<double> raw, raw_close, mr, kern, res, ready, exit_ms, empty, lag;
    std::vector<double> hwm;
    std::vector<PhaseTimes> ph;
    Row row;
    row.n = n;
    // Each round has a raw floor run right beside the mfcd run; the ratios
    // are the median of those pairs' ratios, so that load coming and going
    // on the shared machine (which moves single runs by a third or more)
    // mostly cancels out instead of landing on one side of the ratio.
    std::vector<double> ratio_kernel, ratio_ready, ratio_proc, proc, proc_hwm;
    double proc_now = -1;
    auto floor_process_run = [&] {
      const FloorProcessTimes f = run_floor_process(opt, dir, conf, n, floor_bytes);
      proc_now = f.kernel.valid ? f.kernel.ms : -1;
      if (f.kernel.valid) proc.push_back(f.kernel.ms);
      proc_hwm.push_back(static_cast<double>(f.hwm_kb));
    };
    double raw_now = 0;
    auto floor_raw_run = [&] {
      const FloorTimes f = floor_raw(n, ifindex, floor_bytes, opt.timeout_s);
      raw_now = f.add_ms;
      raw.push_back(f.add_ms);
      raw_close.push_back(f.close_ms);
      vif_times.push_back(f.vif_ms);
      if (f.kernel.valid)
        lag.push_back(f.kernel.ms - f.add_ms);
      else
        ++row.floor_invalid;
    };
    auto floor_mroute_run = [&] {
      mr.push_back(floor_mroute(n, ifindex, floor_bytes, opt.timeout_s).add_ms);
    };
    MfcdTimes m;
    auto daemon = [&] {
      m = run_mfcd(opt, dir, conf, n, mfcd_bytes);
      if (m.kernel.valid) {
        kern.push_back(m.kernel.ms);
        res.push_back(m.kernel.resolution_ms);
      } else {
        ++row.invalid;
        std::fprintf(stderr, "bench_startup: mfcd run at %d routes invalid: %s\n", n,
                     m.kernel.why.c_str());
      }
      ready.push_back(m.ready_ms);
      exit_ms.push_back(m.exit_ms);
      empty.push_back(m.empty_ms);
      hwm.push_back(static_cast<double>(m.hwm_kb));
    };
    // Alternate which goes first, so that neither always runs on a machine
    // warmed (or loaded) by the other.
    for (int r = 0; r < opt.reps; ++r) {
      if (r % 2 == 0) {
        floor_mroute_run();
        floor_process_run();
        floor_raw_run();
        daemon();
      } else {
        daemon();
        floor_raw_run();
        floor_process_run();
        floor_mroute_run();
      }
      if (m.kernel.valid) ratio_kernel.push_back(m.kernel.ms / raw_now);
      if (m.kernel.valid && proc_now > 0) ratio_proc.push_back(m.kernel.ms / proc_now);
      ratio_ready.push_back(m.ready_ms / raw_now);
    }
    for (int r = 0; r < opt.reps; ++r)
      ph.push_back(run_phases(conf, n));
    row.raw_ms = median(raw);
    row.raw_close_ms = median(raw_close);
    row.mroute_ms = median(mr);
    row.kernel_ms = median(kern);
    row.resolution_ms = median(res);
    // Can be slightly negative: the sample may come before the loop reads
    // the clock after its last call.
    row.floor_lag_ms = lag.empty() ? std::nan("") : median(lag);
    row.ready_ms = median(ready);
    row.exit_ms = median(exit_ms);
    row.empty_ms = median(empty);
    row.hwm_kb = static_cast<long>(median(hwm));
    row.ratio_kernel = median(ratio_kernel);
    row.ratio_ready = median(ratio_ready);
    if (!proc.empty()) row.proc_ms = median(proc);
    if (!ratio_proc.empty()) row.ratio_proc = median(ratio_proc);
    row.proc_hwm_kb = static_cast<long>(median(proc_hwm));
    auto med = [&](double PhaseTimes::*field) {
      std::vector<double> v;
      for (const PhaseTimes& p : ph)
        v.push_back(p.*field);
      return median(v);
    };
    row.phases = {med(&PhaseTimes::parse_ms),   med(&PhaseTimes::intent_ms),
                  med(&PhaseTimes::desired_ms), med(&PhaseTimes::plan_ms),
                  med(&PhaseTimes::op_str_ms),  med(&PhaseTimes::apply_ms),
                  med(&PhaseTimes::teardown_ms)};
    rows.push_back(row);
  }

  std::printf("%8s %9s %9s %12s %10s %7s %7s %9s %9s %8s %8s %8s %8s\n", "N", "floor ms",
              "Mroute ms", "mfcd->kernel", "mfcd->pid", "ratio", "ratio", "floor", "mfcd", "exit",
              "empty", "floor", "VmHWM");
  std::printf("%8s %9s %9s %12s %10s %7s %7s %9s %9s %8s %8s %8s %8s\n", "", "(raw)", "", "ms",
              "ms (ready)", "kernel", "pid", "us/route", "us/route", "ms", "ms", "close ms", "KiB");
  // A figure, or "invalid" when no run gave one.
  auto fig = [](double v, int precision) {
    char buf[32];
    if (v < 0) return std::string("invalid");
    std::snprintf(buf, sizeof buf, "%.*f", precision, v);
    return std::string(buf);
  };
  for (const Row& r : rows) {
    const double n = r.n;
    const bool seen = r.kernel_ms >= 0;
    std::printf("%8d %9.2f %9.2f %12s %10.2f %7s %7.2f %9.3f %9s %8.2f %8.2f %8.2f %8ld\n", r.n,
                r.raw_ms, r.mroute_ms, fig(r.kernel_ms, 2).c_str(), r.ready_ms,
                fig(r.ratio_kernel, 2).c_str(), r.ratio_ready, r.raw_ms * 1000 / n,
                fig(seen ? r.kernel_ms * 1000 / n : -1, 3).c_str(), r.exit_ms, r.empty_ms,
                r.raw_close_ms, r.hwm_kb);
  }
  std::printf(
      "(mfcd->kernel: spawn until the kernel has queued the RTM_NEWROUTE of the last of the N\n"
      " (S,G)s; mfcd->pid: spawn until the PID file appears (ready); ratio: median over the\n"
      " rounds of mfcd / the raw floor run beside it (not the ratio of the medians shown);\n"
      " mfcd us/route from mfcd->kernel; exit / empty: SIGTERM until the process is gone / the\n"
      " table is empty; floor close: close() of the floor's socket holding N entries until the\n"
      " table is empty. Floor and mfcd both run with a listener subscribed to the "
      "notifications.)\n");
  for (const Row& r : rows) {
    char lag[32] = "invalid";
    if (!std::isnan(r.floor_lag_ms)) std::snprintf(lag, sizeof lag, "%.3f", r.floor_lag_ms);
    std::printf(
        "  %d: mfcd->kernel resolution %s ms (median gap to the sample before); the listener\n"
        "  saw the floor's last entry %s ms after its loop ended",
        r.n, fig(r.resolution_ms, 3).c_str(), lag);
    if (r.invalid || r.floor_invalid)
      std::printf("; INVALID runs left out: %d mfcd, %d floor (see stderr)", r.invalid,
                  r.floor_invalid);
    std::printf("\n");
  }

  std::printf(
      "\nagainst the floor process (floor_daemon: spawned as mfcd is, reads the same file,\n"
      "the same MRT_ADD_VIF and MRT_ADD_MFC calls, nothing else):\n");
  std::printf("%8s %12s %12s %7s %12s %10s\n", "N", "floor proc", "mfcd->kernel", "ratio",
              "floor VmHWM", "mfcd VmHWM");
  std::printf("%8s %12s %12s %7s %12s %10s\n", "", "ms", "ms", "", "KiB", "KiB");
  for (const Row& r : rows)
    std::printf("%8d %12s %12s %7s %12ld %10ld\n", r.n, fig(r.proc_ms, 2).c_str(),
                fig(r.kernel_ms, 2).c_str(), fig(r.ratio_proc, 2).c_str(), r.proc_hwm_kb, r.hwm_kb);
  std::printf(
      "(both from spawn until the kernel has queued the last of the N notifications; ratio:\n"
      " median over the rounds of mfcd / the floor process run beside it)\n");

  std::printf("\nwhere mfcd's time goes (the core's start-up steps timed in this process, ms):\n");
  std::printf("%8s %9s %9s %9s %9s %9s %9s %9s %9s %9s\n", "N", "parse", "intent", "desired",
              "plan", "Op::str", "apply", "sum", "floor", "teardown");
  for (const Row& r : rows) {
    const PhaseTimes& p = r.phases;
    const double sum =
        p.parse_ms + p.intent_ms + p.desired_ms + p.plan_ms + p.op_str_ms + p.apply_ms;
    std::printf("%8d %9.2f %9.2f %9.2f %9.2f %9.2f %9.2f %9.2f %9.2f %9.2f\n", r.n, p.parse_ms,
                p.intent_ms, p.desired_ms, p.plan_ms, p.op_str_ms, p.apply_ms, sum, r.raw_ms,
                p.teardown_ms);
  }
  std::printf(
      "(parse: core::parse_config_file; intent: Intent::load_config; desired: compute_desired;\n"
      " plan: make_plan; Op::str: the debug line Service::sync builds for every op; apply:\n"
      " core::apply into the kernel via Mroute, with a listener subscribed as for the floor;\n"
      " sum: all of these; teardown: release_plan + apply, what Router::teardown does, until\n"
      " the kernel table is empty\n"
      " on SIGTERM)\n");

  std::printf(
      "floor: the four MRT_ADD_VIF calls take %.2f ms (not in the floor's figures; mfcd\n"
      "adds them for IPv4 and IPv6, and its 'apply' column includes them)\n",
      median(vif_times));

  // Verdicts. The 1.3x target is at 10,000 routes, on the moment all entries
  // are in the kernel; linearity compares the per-route cost at the largest
  // N with the smallest, with and without the fixed cost measured above.
  std::printf("\n");
  auto verdict = [](double ratio) {
    return ratio < 0 ? "NO VALID RUN" : ratio <= 1.3 ? "MET" : "MISSED";
  };
  for (const Row& r : rows)
    if (r.n == 10000)
      std::printf(
          "target: mfcd->kernel within 1.3x of the floor process at 10000 routes: %sx -> %s\n",
          fig(r.ratio_proc, 2).c_str(), verdict(r.ratio_proc));
  for (const Row& r : rows)
    if (r.n == 10000)
      std::printf(
          "        against the raw floor (no process, no file): %sx -> %s "
          "(ready: %.2fx; ratio of the medians: %sx)\n",
          fig(r.ratio_kernel, 2).c_str(), verdict(r.ratio_kernel), r.ratio_ready,
          fig(r.kernel_ms >= 0 ? r.kernel_ms / r.raw_ms : -1, 2).c_str());
  if (rows.size() >= 2 && rows.front().kernel_ms >= 0 && rows.back().kernel_ms >= 0) {
    const Row& lo = rows.front();
    const Row& hi = rows.back();
    auto growth = [&](double Row::*field, double minus) {
      return ((hi.*field - minus) / hi.n) / ((lo.*field - minus) / lo.n);
    };
    const double net = growth(&Row::kernel_ms, fixed_ms);
    std::printf(
        "linearity: per-route cost at %d vs %d routes: mfcd->kernel %.2fx (%.2fx without the "
        "%.1f ms fixed cost), mfcd->pid %.2fx (%.2fx), floor %.2fx -> %s\n",
        hi.n, lo.n, growth(&Row::kernel_ms, 0), net, fixed_ms, growth(&Row::ready_ms, 0),
        growth(&Row::ready_ms, fixed_ms), growth(&Row::raw_ms, 0),
        net <= 1.5 ? "linear" : "SUPERLINEAR");
    for (size_t i = 1; i < rows.size(); ++i) {
      const Row& a = rows[i - 1];
      const Row& b = rows[i];
      const double dn = b.n - a.n;
      const bool seen = a.kernel_ms >= 0 && b.kernel_ms >= 0;
      std::printf(
          "  marginal cost %d -> %d: mfcd->kernel %s us/route, mfcd->pid %.3f, floor %.3f\n", a.n,
          b.n, fig(seen ? (b.kernel_ms - a.kernel_ms) * 1000 / dn : -1, 3).c_str(),
          (b.ready_ms - a.ready_ms) * 1000 / dn, (b.raw_ms - a.raw_ms) * 1000 / dn);
    }
  }

  if (opt.keep)
    std::printf("\nwork directory kept: %s\n", dir.c_str());
  else
    fs::remove_all(dir);
  return 0;
}
