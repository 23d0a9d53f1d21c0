// Config parser benchmark: the cost per line of core::parse_config_text on
// configs of N generated lines, the shape bench_startup feeds mfcd plus some
// IPv6 routes and a few (*,G) rules. No root, no kernel, no disk: the text is
// built in memory and includes go to an in-memory FileSystem, so the figure
// is the parser alone, which runs on every start-up and every reload.
//
// Two figures per size, each the median of --reps runs: "warm", parses in
// this process on a heap that keeps its pages (the parser's own work), and
// "cold", one parse in a freshly forked child per run, which also pays the
// page faults for the result as a starting mfcd does. Every run is checked
// (route count, no diagnostics) so a faster parser cannot win by doing less.
// See tests/bench/README.md.
#include <malloc.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "core/config.hpp"

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::vector<size_t> sizes{1000, 10000, 50000};
  int reps = 9;
  // SMCRoute's default path: longer than std::string's 15-byte inline
  // buffer, so every SourcePos copy of it allocates, as in a real start-up.
  std::string name = "/etc/smcroute.conf";
  bool cold = true;  // --warm-only turns the forked runs off (for perf)
};

[[noreturn]] void usage(const char* argv0) {
  std::fprintf(stderr, "usage: %s [--sizes N,N,...] [--reps R] [--name FILE] [--warm-only]\n",
               argv0);
  std::exit(2);
}

Options parse_args(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--sizes" && i + 1 < argc) {
      o.sizes.clear();
      std::string list = argv[++i];
      size_t start = 0;
      while (start <= list.size()) {
        const size_t comma = list.find(',', start);
        const std::string item =
            list.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        if (!item.empty()) o.sizes.push_back(std::stoul(item));
        if (comma == std::string::npos) break;
        start = comma + 1;
      }
      if (o.sizes.empty()) usage(argv[0]);
    } else if (a == "--reps" && i + 1 < argc) {
      o.reps = std::max(1, std::atoi(argv[++i]));
    } else if (a == "--warm-only") {
      o.cold = false;
    } else if (a == "--name" && i + 1 < argc) {
      o.name = argv[++i];
    } else {
      usage(argv[0]);
    }
  }
  return o;
}

// N route lines after four phyint lines. Most are the bench_startup shape
// (IPv4 (S,G), source cycling through 1,000 addresses of 198.18.0.0/15,
// group counting up from 225.0.0.1); every 10th is an IPv6 (S,G) and every
// 500th an IPv4 (*,G/LEN) rule, with a trailing comment now and then.
std::string make_config(size_t n, size_t& routes) {
  std::string text = "phyint bi0 enable\nphyint bo1 enable\nphyint bo2 enable\nphyint bo3 enable\n";
  text.reserve(n * 72 + 128);
  routes = 0;
  char line[160];
  for (size_t i = 0; i < n; ++i) {
    int len = 0;
    if (i % 500 == 499) {
      const unsigned g = static_cast<unsigned>(i / 500);
      len = std::snprintf(line, sizeof line, "mroute from bi0 group 239.%u.%u.0/24 to bo1 bo2\n",
                          (g >> 8) & 0xff, g & 0xff);
    } else if (i % 10 == 9) {
      len = std::snprintf(line, sizeof line,
                          "mroute from bi0 source 2001:db8::%zx group ff0e::1:%zx to bo1 bo3\n",
                          i % 1000 + 1, i & 0xffff);
    } else {
      const unsigned s = static_cast<unsigned>(i % 1000) + 1;
      const unsigned g = static_cast<unsigned>(i) + 1;
      len = std::snprintf(line, sizeof line,
                          "mroute from bi0 source 198.18.%u.%u group 225.%u.%u.%u to bo1 bo2 "
                          "bo3%s\n",
                          s >> 8, s & 0xff, (g >> 16) & 0xff, (g >> 8) & 0xff, g & 0xff,
                          i % 100 == 0 ? "   # batch" : "");
    }
    text.append(line, static_cast<size_t>(len));
    ++routes;
  }
  return text;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t m = v.size() / 2;
  return v.size() % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

void check(const mfcd::core::ParseResult& r, size_t routes) {
  if (!r.diagnostics.empty() || r.config.routes.size() != routes) {
    std::fprintf(stderr,
                 "bench_parse: unexpected parse result: %zu routes (want %zu), %zu "
                 "diagnostics%s%s\n",
                 r.config.routes.size(), routes, r.diagnostics.size(),
                 r.diagnostics.empty() ? "" : ", first: ",
                 r.diagnostics.empty() ? "" : r.diagnostics[0].str().c_str());
    std::exit(1);
  }
}

// One generated config and what parsing it must give.
struct Case {
  size_t lines = 0;  // route lines asked for
  size_t routes = 0;
  std::string text;
};

// Parses the case once and returns the time taken in ms. The result is
// destroyed outside the timed region: the daemon keeps it.
double time_parse(const Case& c, const std::string& name, const mfcd::core::FileSystem& fs) {
  const auto t0 = Clock::now();
  mfcd::core::ParseResult r = mfcd::core::parse_config_text(name, c.text, fs);
  const auto t1 = Clock::now();
  check(r, c.routes);
  return std::chrono::duration<double, std::milli>(t1 - t0).count();
}

// The same in a freshly forked child, which has to fault in every page the
// result occupies, as mfcd does at start-up. The child reports over a pipe.
double time_parse_cold(const Case& c, const std::string& name, const mfcd::core::FileSystem& fs) {
  int fds[2];
  if (pipe(fds) != 0) {
    std::perror("bench_parse: pipe");
    std::exit(1);
  }
  const pid_t pid = fork();
  if (pid < 0) {
    std::perror("bench_parse: fork");
    std::exit(1);
  }
  if (pid == 0) {
    close(fds[0]);
    const double ms = time_parse(c, name, fs);
    const ssize_t w = write(fds[1], &ms, sizeof ms);
    _exit(w == static_cast<ssize_t>(sizeof ms) ? 0 : 1);
  }
  close(fds[1]);
  double ms = -1;
  const ssize_t got = read(fds[0], &ms, sizeof ms);
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (got != static_cast<ssize_t>(sizeof ms) || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::fprintf(stderr, "bench_parse: the cold-run child failed\n");
    std::exit(1);
  }
  return ms;
}

}  // namespace

int main(int argc, char** argv) {
  const Options opt = parse_args(argc, argv);
  std::vector<Case> cases;
  for (const size_t n : opt.sizes) {
    Case c;
    c.lines = n;
    c.text = make_config(n, c.routes);
    cases.push_back(std::move(c));
  }
  // Only the main file exists; the generated configs include nothing.
  mfcd::core::FileSystem fs;
  fs.read = [](const std::string&, size_t) -> mfcd::core::Result<std::string> {
    return mfcd::core::make_error(mfcd::core::Errc::not_found, "No such file or directory");
  };
  fs.glob = [](const std::string&) { return std::vector<std::string>{}; };

  // Cold runs first, while this process's heap is still small, so that each
  // child starts from about what a fresh mfcd has.
  std::vector<double> cold(cases.size());
  for (size_t i = 0; opt.cold && i < cases.size(); ++i) {
    std::vector<double> ms;
    for (int r = 0; r < opt.reps; ++r)
      ms.push_back(time_parse_cold(cases[i], opt.name, fs));
    cold[i] = median(ms);
  }

  // Warm runs: keep freed memory in the heap (no trimming, no mmap for big
  // blocks) so every repetition reuses pages already faulted in; what is left
  // is the parser's own work, and it is steadier from run to run.
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  mallopt(M_MMAP_THRESHOLD, 32 << 20);  // glibc's maximum
  std::printf("%8s %10s %10s %12s %10s %12s\n", "lines", "bytes", "warm_ms", "warm_ns/line",
              "cold_ms", "cold_ns/line");
  for (size_t i = 0; i < cases.size(); ++i) {
    const Case& c = cases[i];
    time_parse(c, opt.name, fs);  // warm-up
    std::vector<double> ms;
    for (int r = 0; r < opt.reps; ++r)
      ms.push_back(time_parse(c, opt.name, fs));
    const double warm = median(ms);
    // Per line of the file: the route lines and the four phyint lines.
    const double lines = static_cast<double>(c.lines + 4);
    std::printf("%8zu %10zu %10.3f %12.1f %10.3f %12.1f\n", c.lines, c.text.size(), warm,
                warm * 1e6 / lines, cold[i], cold[i] * 1e6 / lines);
  }
  return 0;
}
