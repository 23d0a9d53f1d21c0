// The floor process of the start-up and memory benchmarks: the least a
// daemon that reads static routes from a file could do. It is started the
// way mfcd is (a fresh process, exec and dynamic linking included), reads
// the config in one go, understands only the two line shapes that
// bench_startup writes:
//
//   phyint NAME enable
//   mroute from IIF source S group G to OIF...
//
// and makes exactly one MRT_ADD_VIF per phyint and one MRT_ADD_MFC per
// route on a raw IGMP socket. Then it holds the table until SIGTERM (closing
// the socket flushes it). No hashing, no bookkeeping, no event loop: the
// difference between this and mfcd is what mfcd's design costs.
//
//   floor_daemon CONFIG
//
// Exits 1 with a message on anything it does not understand, so a
// benchmark never measures a floor that silently did less.
#include <arpa/inet.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

// clang-format off
#include <netinet/in.h>
#include <net/if.h>
#include <linux/mroute.h>
// clang-format on

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace {

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "floor_daemon: %s\n", what.c_str());
  std::exit(1);
}

std::string read_file(const char* path) {
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  struct stat st {};
  if (fd < 0 || ::fstat(fd, &st) != 0) die(std::string(path) + ": " + std::strerror(errno));
  std::string text(static_cast<size_t>(st.st_size), '\0');
  size_t have = 0;
  while (have < text.size()) {
    const ssize_t n = ::read(fd, text.data() + have, text.size() - have);
    if (n <= 0) die(std::string(path) + ": short read");
    have += static_cast<size_t>(n);
  }
  ::close(fd);
  return text;
}

// The words of one line, split on blanks; views into the file's text.
std::vector<std::string_view> words(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && line[i] == ' ')
      ++i;
    const size_t start = i;
    while (i < line.size() && line[i] != ' ')
      ++i;
    if (i > start) out.push_back(line.substr(start, i - start));
  }
  return out;
}

class Floor {
 public:
  Floor() : fd_(::socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_IGMP)) {
    const int one = 1;
    if (fd_ < 0 || ::setsockopt(fd_, IPPROTO_IP, MRT_INIT, &one, sizeof one) != 0)
      die(std::string("mroute socket: ") + std::strerror(errno));
  }

  void line(std::string_view text) {
    const auto w = words(text);
    if (w.empty() || w[0][0] == '#') return;
    if (w.size() == 3 && w[0] == "phyint" && w[2] == "enable") return add_vif(w[1]);
    if (w.size() >= 8 && w[0] == "mroute" && w[1] == "from" && w[3] == "source" &&
        w[5] == "group" && w[7] == "to")
      return add_mfc(w);
    die("cannot read line: " + std::string(text));
  }

 private:
  void add_vif(std::string_view name) {
    vifctl vc{};
    vc.vifc_vifi = static_cast<vifi_t>(names_.size());
    vc.vifc_flags = VIFF_USE_IFINDEX;
    vc.vifc_threshold = 1;
    vc.vifc_lcl_ifindex = static_cast<int>(::if_nametoindex(std::string(name).c_str()));
    if (vc.vifc_lcl_ifindex == 0 || ::setsockopt(fd_, IPPROTO_IP, MRT_ADD_VIF, &vc, sizeof vc))
      die("MRT_ADD_VIF " + std::string(name) + ": " + std::strerror(errno));
    names_.push_back(name);
  }

  int vif_of(std::string_view name) const {
    for (size_t v = 0; v < names_.size(); ++v)
      if (names_[v] == name) return static_cast<int>(v);
    die("no phyint line for " + std::string(name));
  }

  static in_addr address(std::string_view text) {
    char buf[INET_ADDRSTRLEN] = {};
    in_addr a{};
    if (text.size() >= sizeof buf ||
        (text.copy(buf, text.size()), inet_pton(AF_INET, buf, &a) != 1))
      die("not an IPv4 address: " + std::string(text));
    return a;
  }

  void add_mfc(const std::vector<std::string_view>& w) {
    mfcctl m{};
    m.mfcc_parent = static_cast<vifi_t>(vif_of(w[2]));
    m.mfcc_origin = address(w[4]);
    m.mfcc_mcastgrp = address(w[6]);
    for (size_t i = 8; i < w.size(); ++i)
      m.mfcc_ttls[vif_of(w[i])] = 1;
    if (::setsockopt(fd_, IPPROTO_IP, MRT_ADD_MFC, &m, sizeof m) != 0)
      die(std::string("MRT_ADD_MFC: ") + std::strerror(errno));
  }

  int fd_;
  std::vector<std::string_view> names_;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) die("usage: floor_daemon CONFIG");
  // Blocked before the work, so a SIGTERM that comes early still ends the
  // wait below instead of killing the process mid-table.
  sigset_t term;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  sigprocmask(SIG_BLOCK, &term, nullptr);

  const std::string text = read_file(argv[1]);
  Floor floor;
  for (size_t start = 0; start < text.size();) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    floor.line(std::string_view(text).substr(start, end - start));
    start = end + 1;
  }
  int sig = 0;
  sigwait(&term, &sig);
  return 0;
}
