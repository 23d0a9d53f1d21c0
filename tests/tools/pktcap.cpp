// pktcap: a tiny capture and sender for Multicast Router Discovery (RFC 4286)
// in end-to-end tests, so they need neither tcpdump nor tshark.
//
//   pktcap cap -i IFNAME [-c COUNT] [-w SECONDS] [--ready FILE]
//     Reads the link with an AF_PACKET socket and prints one line per MRD
//     message seen (IGMP 0x30..0x32, ICMPv6 151..153):
//       t=MS ipv4 advertisement src=A dst=G ttl=1 ra=1 interval=4 csum=ok
//     t is ms since the capture started. Messages this host sends end in
//     " out", so a test can time an answer from its question on one clock. Exits after COUNT lines
//     (default unlimited) or SECONDS (default 10), whichever comes first; status 0.
//   pktcap solicit -i IFNAME -f 4|6
//     Sends one Solicitation (to 224.0.0.2 / ff02::2, TTL 1, Router Alert).
//
// Written for tests only: plain C++ and the C library, no mfcd code, so the
// capture checks mfcd's bytes independently of mfcd's own encoder.
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

namespace {

int usage() {
  std::fprintf(stderr,
               "usage: pktcap cap -i IFNAME [-c COUNT] [-w SECONDS] [--ready FILE]\n"
               "       pktcap solicit -i IFNAME -f 4|6\n");
  return 64;
}

uint32_t sum16(const uint8_t* p, size_t n, uint32_t sum) {
  for (size_t i = 0; i + 1 < n; i += 2)
    sum += static_cast<uint32_t>((p[i] << 8) | p[i + 1]);
  if (n % 2) sum += static_cast<uint32_t>(p[n - 1] << 8);
  return sum;
}

bool checksum_ok(uint32_t sum) {
  while (sum >> 16)
    sum = (sum & 0xffff) + (sum >> 16);
  return sum == 0xffff;
}

const char* mrd_name(uint8_t type) {
  switch (type) {
    case 0x30:
    case 151:
      return "advertisement";
    case 0x31:
    case 152:
      return "solicitation";
    case 0x32:
    case 153:
      return "termination";
    default:
      return nullptr;
  }
}

std::string addr_str(int af, const uint8_t* a) {
  char buf[INET6_ADDRSTRLEN];
  inet_ntop(af, a, buf, sizeof(buf));
  return buf;
}

// Returns the line to print for one Ethernet frame, or "" when it is not MRD.
std::string describe(const uint8_t* f, size_t n) {
  if (n < 14) return "";
  uint16_t ethertype = static_cast<uint16_t>((f[12] << 8) | f[13]);
  const uint8_t* ip = f + 14;
  size_t len = n - 14;
  char line[512];
  if (ethertype == ETHERTYPE_IP) {
    if (len < 20 || (ip[0] >> 4) != 4 || ip[9] != IPPROTO_IGMP) return "";
    size_t hl = static_cast<size_t>(ip[0] & 0x0f) * 4;
    size_t total = static_cast<size_t>((ip[2] << 8) | ip[3]);
    if (hl < 20 || total > len || hl + 4 > total) return "";
    bool ra = false;
    for (size_t i = 20; i < hl;) {
      if (ip[i] == 0) break;
      if (ip[i] == 1) {
        ++i;
        continue;
      }
      if (i + 1 >= hl || ip[i + 1] < 2) break;
      if (ip[i] == 148) ra = true;
      i += ip[i + 1];
    }
    const uint8_t* m = ip + hl;
    size_t mlen = total - hl;
    const char* name = mrd_name(m[0]);
    if (!name || m[0] > 0x32) return "";
    std::snprintf(
        line, sizeof(line),
        "ipv4 %s type=0x%02x src=%s dst=%s ttl=%u ra=%d interval=%d len=%zu csum=%s", name, m[0],
        addr_str(AF_INET, ip + 12).c_str(), addr_str(AF_INET, ip + 16).c_str(), ip[8], ra ? 1 : 0,
        m[0] == 0x30 && mlen >= 8 ? m[1] : -1, mlen, checksum_ok(sum16(m, mlen, 0)) ? "ok" : "bad");
    return line;
  }
  if (ethertype == ETHERTYPE_IPV6) {
    if (len < 40 || (ip[0] >> 4) != 6) return "";
    size_t payload = static_cast<size_t>((ip[4] << 8) | ip[5]);
    if (40 + payload > len) return "";
    uint8_t nh = ip[6];
    size_t off = 40;
    bool ra = false;
    while (nh == 0 || nh == 43 || nh == 60) {
      if (off + 8 > 40 + payload) return "";
      size_t hlen = (static_cast<size_t>(ip[off + 1]) + 1) * 8;
      if (nh == 0) {
        for (size_t i = off + 2; i < off + hlen;) {
          if (ip[i] == 0) {  // Pad1
            ++i;
            continue;
          }
          if (i + 1 >= off + hlen) break;
          if (ip[i] == 5) ra = true;
          i += 2 + ip[i + 1];
        }
      }
      nh = ip[off];
      off += hlen;
    }
    if (nh != IPPROTO_ICMPV6 || off + 4 > 40 + payload) return "";
    const uint8_t* m = ip + off;
    size_t mlen = 40 + payload - off;
    const char* name = mrd_name(m[0]);
    if (!name || m[0] < 151) return "";
    uint32_t sum = sum16(ip + 8, 32, 0);  // source and destination
    sum += static_cast<uint32_t>(mlen >> 16) + static_cast<uint32_t>(mlen & 0xffff) + 58;
    sum = sum16(m, mlen, sum);
    std::snprintf(line, sizeof(line),
                  "ipv6 %s type=%u src=%s dst=%s ttl=%u ra=%d interval=%d len=%zu csum=%s", name,
                  m[0], addr_str(AF_INET6, ip + 8).c_str(), addr_str(AF_INET6, ip + 24).c_str(),
                  ip[7], ra ? 1 : 0, m[0] == 151 && mlen >= 8 ? m[1] : -1, mlen,
                  checksum_ok(sum) ? "ok" : "bad");
    return line;
  }
  return "";
}

int capture(const std::string& ifname, long count, double seconds, const std::string& ready) {
  int ifindex = static_cast<int>(if_nametoindex(ifname.c_str()));
  if (!ifindex) {
    std::perror(ifname.c_str());
    return 1;
  }
  int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
  if (fd < 0) {
    std::perror("socket(AF_PACKET)");
    return 1;
  }
  sockaddr_ll sll{};
  sll.sll_family = AF_PACKET;
  sll.sll_protocol = htons(ETH_P_ALL);
  sll.sll_ifindex = ifindex;
  if (bind(fd, reinterpret_cast<sockaddr*>(&sll), sizeof(sll)) != 0) {
    std::perror("bind");
    return 1;
  }
  if (!ready.empty()) std::ofstream(ready) << "ready\n";
  auto start = std::chrono::steady_clock::now();
  auto deadline = start + std::chrono::milliseconds(static_cast<long>(seconds * 1000));
  long printed = 0;
  while (count <= 0 || printed < count) {
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline) break;
    pollfd pfd{fd, POLLIN, 0};
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count();
    if (poll(&pfd, 1, static_cast<int>(left) + 1) <= 0) continue;
    uint8_t buf[2048];
    sockaddr_ll from{};
    socklen_t fromlen = sizeof(from);
    ssize_t n = recvfrom(fd, buf, sizeof(buf), 0, reinterpret_cast<sockaddr*>(&from), &fromlen);
    if (n <= 0) continue;
    auto line = describe(buf, static_cast<size_t>(n));
    if (line.empty()) continue;
    if (from.sll_pkttype == PACKET_OUTGOING) line += " out";
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                  std::chrono::steady_clock::now() - start)
                  .count();
    std::printf("t=%lld %s\n", static_cast<long long>(ms), line.c_str());
    std::fflush(stdout);
    ++printed;
  }
  close(fd);
  return 0;
}

int solicit(const std::string& ifname, int family) {
  int ifindex = static_cast<int>(if_nametoindex(ifname.c_str()));
  if (!ifindex) {
    std::perror(ifname.c_str());
    return 1;
  }
  if (family == 4) {
    int fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_IGMP);
    if (fd < 0) return std::perror("socket"), 1;
    const uint8_t ra[4] = {148, 4, 0, 0};
    int ttl = 1;
    ip_mreqn mreq{};
    mreq.imr_ifindex = ifindex;
    if (setsockopt(fd, IPPROTO_IP, IP_OPTIONS, ra, sizeof(ra)) != 0 ||
        setsockopt(fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof(ttl)) != 0 ||
        setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &mreq, sizeof(mreq)) != 0)
      return std::perror("setsockopt"), 1;
    uint8_t msg[4] = {0x31, 0, 0, 0};
    uint32_t sum = sum16(msg, 4, 0);
    while (sum >> 16)
      sum = (sum & 0xffff) + (sum >> 16);
    msg[2] = static_cast<uint8_t>((~sum >> 8) & 0xff);
    msg[3] = static_cast<uint8_t>(~sum & 0xff);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    inet_pton(AF_INET, "224.0.0.2", &to.sin_addr);
    if (sendto(fd, msg, sizeof(msg), 0, reinterpret_cast<sockaddr*>(&to), sizeof(to)) != 4)
      return std::perror("sendto"), 1;
    close(fd);
    return 0;
  }
  int fd = socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMPV6);
  if (fd < 0) return std::perror("socket"), 1;
  const uint8_t hbh[8] = {0, 0, 5, 2, 0, 0, 1, 0};
  int hops = 1;
  unsigned idx = static_cast<unsigned>(ifindex);
  if (setsockopt(fd, IPPROTO_IPV6, IPV6_HOPOPTS, hbh, sizeof(hbh)) != 0 ||
      setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &hops, sizeof(hops)) != 0 ||
      setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, &idx, sizeof(idx)) != 0)
    return std::perror("setsockopt"), 1;
  uint8_t msg[4] = {152, 0, 0, 0};  // the kernel fills the ICMPv6 checksum
  sockaddr_in6 to{};
  to.sin6_family = AF_INET6;
  to.sin6_scope_id = idx;
  inet_pton(AF_INET6, "ff02::2", &to.sin6_addr);
  if (sendto(fd, msg, sizeof(msg), 0, reinterpret_cast<sockaddr*>(&to), sizeof(to)) != 4)
    return std::perror("sendto"), 1;
  close(fd);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage();
  std::string mode = argv[1];
  std::string ifname, ready;
  long count = 0;
  double seconds = 10;
  int family = 4;
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "-i")
      ifname = next();
    else if (a == "-c")
      count = std::atol(next().c_str());
    else if (a == "-w")
      seconds = std::atof(next().c_str());
    else if (a == "-f")
      family = std::atoi(next().c_str());
    else if (a == "--ready")
      ready = next();
    else
      return usage();
  }
  if (ifname.empty()) return usage();
  if (mode == "cap") return capture(ifname, count, seconds, ready);
  if (mode == "solicit") return solicit(ifname, family);
  return usage();
}
