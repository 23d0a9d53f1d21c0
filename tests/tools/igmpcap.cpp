// igmpcap: prints the IGMP and MLD membership reports seen on one interface,
// one line per group record, so an end-to-end test can check with grep that
// a join or leave really went out on the wire.
//
//   igmpcap -i IFNAME [-w SECONDS] [--ready FILE]
//
// A packet socket (AF_PACKET, SOCK_DGRAM, ETH_P_ALL) bound to the interface
// sees every IPv4 and IPv6 packet on it. Lines:
//
//   ipv4 v3 TO_EX 225.1.1.1
//   ipv4 v3 ALLOW 232.1.1.1 192.0.2.2
//   ipv6 v2 BLOCK ff3e::1:1 2001:db8:1::2
//   ipv4 v2 REPORT 225.1.1.1     (IGMPv1/v2 report)   ipv4 v2 LEAVE 225.1.1.1
//   ipv6 v1 REPORT ff05::1       (MLDv1 report)       ipv6 v1 DONE ff05::1
//
// Record types are RFC 3376 / RFC 3810's: IS_IN, IS_EX, TO_IN, TO_EX, ALLOW,
// BLOCK. Sources follow the group, separated by spaces. stdout is flushed
// after each line. Runs until -w SECONDS pass (default: forever) or a signal.
// The --ready file is created once the socket is bound.
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

namespace {

const char* record_name(uint8_t type) {
  switch (type) {
    case 1:
      return "IS_IN";
    case 2:
      return "IS_EX";
    case 3:
      return "TO_IN";
    case 4:
      return "TO_EX";
    case 5:
      return "ALLOW";
    case 6:
      return "BLOCK";
    default:
      return "UNKNOWN";
  }
}

std::string addr_text(int af, const uint8_t* p) {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(af, p, buf, sizeof buf);
  return buf;
}

uint16_t be16(const uint8_t* p) {
  return static_cast<uint16_t>((p[0] << 8) | p[1]);
}

// Group records of an IGMPv3 / MLDv2 report starting at `rec`.
void print_records(const char* family, int af, const uint8_t* rec, size_t len, size_t count) {
  const size_t alen = af == AF_INET ? 4 : 16;
  for (size_t i = 0; i < count; ++i) {
    if (len < 4 + alen) return;
    const uint8_t type = rec[0];
    const size_t aux = rec[1] * 4U;
    const size_t nsrc = be16(rec + 2);
    const size_t size = 4 + alen + nsrc * alen + aux;
    if (len < size) return;
    std::string line = std::string(family) + (af == AF_INET ? " v3 " : " v2 ") + record_name(type) +
                       " " + addr_text(af, rec + 4);
    for (size_t s = 0; s < nsrc; ++s)
      line += " " + addr_text(af, rec + 4 + alen + s * alen);
    std::printf("%s\n", line.c_str());
    rec += size;
    len -= size;
  }
}

void handle_v4(const uint8_t* p, size_t len) {
  if (len < 20 || (p[0] >> 4) != 4 || p[9] != 2) return;  // IGMP only
  const size_t ihl = (p[0] & 0x0f) * 4U;
  if (len < ihl + 8) return;
  const uint8_t* igmp = p + ihl;
  const size_t ilen = len - ihl;
  switch (igmp[0]) {
    case 0x22:  // IGMPv3 report
      print_records("ipv4", AF_INET, igmp + 8, ilen - 8, be16(igmp + 6));
      break;
    case 0x12:
    case 0x16:
      std::printf("ipv4 v2 REPORT %s\n", addr_text(AF_INET, igmp + 4).c_str());
      break;
    case 0x17:
      std::printf("ipv4 v2 LEAVE %s\n", addr_text(AF_INET, igmp + 4).c_str());
      break;
    default:
      break;
  }
}

void handle_v6(const uint8_t* p, size_t len) {
  if (len < 40 || (p[0] >> 4) != 6) return;
  uint8_t next = p[6];
  size_t off = 40;
  // Hop-by-hop (router alert) and other extension headers come first.
  while (next == 0 || next == 43 || next == 60) {
    if (len < off + 8) return;
    next = p[off];
    off += (p[off + 1] + 1U) * 8U;
  }
  if (next != 58 || len < off + 8) return;
  const uint8_t* icmp = p + off;
  const size_t ilen = len - off;
  switch (icmp[0]) {
    case 143:  // MLDv2 report
      print_records("ipv6", AF_INET6, icmp + 8, ilen - 8, be16(icmp + 6));
      break;
    case 131:
      if (ilen >= 24) std::printf("ipv6 v1 REPORT %s\n", addr_text(AF_INET6, icmp + 8).c_str());
      break;
    case 132:
      if (ilen >= 24) std::printf("ipv6 v1 DONE %s\n", addr_text(AF_INET6, icmp + 8).c_str());
      break;
    default:
      break;
  }
}

int usage() {
  std::fprintf(stderr, "usage: igmpcap -i IFNAME [-w SECONDS] [--ready FILE]\n");
  return 64;
}

}  // namespace

int main(int argc, char** argv) {
  std::string ifname, ready;
  double seconds = -1;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) return usage();
    if (a == "-i")
      ifname = argv[++i];
    else if (a == "-w")
      seconds = std::atof(argv[++i]);
    else if (a == "--ready")
      ready = argv[++i];
    else
      return usage();
  }
  if (ifname.empty()) return usage();
  const unsigned ifindex = if_nametoindex(ifname.c_str());
  if (ifindex == 0) {
    std::fprintf(stderr, "igmpcap: no interface %s\n", ifname.c_str());
    return 1;
  }
  const int fd = socket(AF_PACKET, SOCK_DGRAM, htons(ETH_P_ALL));
  if (fd < 0) {
    std::perror("igmpcap: socket");
    return 1;
  }
  sockaddr_ll sll{};
  sll.sll_family = AF_PACKET;
  sll.sll_protocol = htons(ETH_P_ALL);
  sll.sll_ifindex = static_cast<int>(ifindex);
  if (bind(fd, reinterpret_cast<sockaddr*>(&sll), sizeof sll) != 0) {
    std::perror("igmpcap: bind");
    return 1;
  }
  if (!ready.empty()) std::ofstream(ready) << "ready\n";

  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::milliseconds(static_cast<long>(seconds * 1000));
  uint8_t buf[65536];
  for (;;) {
    int timeout = -1;
    if (seconds >= 0) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                            deadline - std::chrono::steady_clock::now())
                            .count();
      if (left <= 0) break;
      timeout = static_cast<int>(left);
    }
    pollfd pfd{fd, POLLIN, 0};
    if (poll(&pfd, 1, timeout) <= 0) continue;
    sockaddr_ll from{};
    socklen_t fromlen = sizeof from;
    const ssize_t n =
        recvfrom(fd, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &fromlen);
    if (n <= 0) continue;
    const auto len = static_cast<size_t>(n);
    if (from.sll_protocol == htons(ETH_P_IP))
      handle_v4(buf, len);
    else if (from.sll_protocol == htons(ETH_P_IPV6))
      handle_v6(buf, len);
    std::fflush(stdout);
  }
  close(fd);
  return 0;
}
