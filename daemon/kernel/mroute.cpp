// The mroute sockets: how mfcd's VIFs and MFC entries reach the kernel.
//
// The kernel ties a multicast routing table to the socket that ran MRT_INIT
// on it: only that socket may change the table, the table's upcalls arrive on
// it, and closing it removes everything it installed. So an Mroute is little
// more than two file descriptors and a translation of core's plain values
// into the kernel's structures (vifctl, mfcctl, mif6ctl, mf6cctl). Each method
// is exactly one setsockopt or ioctl, and reports the errno it got together
// with the operation's name so a user reading the message knows what failed.
#include "kernel/mroute.hpp"

#include <arpa/inet.h>
#include <linux/sock_diag.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "kernel/linux_mroute.hpp"

namespace mfcd::kernel {
namespace {

using core::Errc;
using core::Family;

std::string errno_text(int err) {
  return std::strerror(err);
}

core::Error kernel_error(const std::string& what, int err) {
  return core::make_error(Errc::kernel, what + ": " + errno_text(err), err);
}

std::string vif_text(const core::VifConf& vif) {
  std::string name = vif.ifname.empty() ? "vif " + std::to_string(vif.vif) : vif.ifname;
  return name + " (ifindex " + std::to_string(vif.ifindex) + ")";
}

in_addr in4(const core::Addr& a) {
  in_addr out{};
  std::memcpy(&out, a.bytes.data(), sizeof out);
  return out;
}

sockaddr_in6 in6(const core::Addr& a) {
  sockaddr_in6 out{};
  out.sin6_family = AF_INET6;
  std::memcpy(&out.sin6_addr, a.bytes.data(), sizeof out.sin6_addr);
  return out;
}

OpenFailure classify(int err) {
  switch (err) {
    case EADDRINUSE:
      return OpenFailure::in_use;
    case EPERM:
    case EACCES:
      return OpenFailure::permission;
    case ENOPROTOOPT:  // no CONFIG_IP_MROUTE(6) / no multiple tables
    case EOPNOTSUPP:
    case EAFNOSUPPORT:  // IPv6 disabled at boot
    case EPROTONOSUPPORT:
      return OpenFailure::unsupported;
    default:
      return OpenFailure::os;
  }
}

}  // namespace

OpenError describe_open_failure(Family family, OpenStep step, const std::string& what, int err,
                                uint32_t table) {
  const bool v4 = family == Family::v4;
  const OpenFailure kind = classify(err);
  std::string message = what + ": " + errno_text(err);
  if (err == EADDRINUSE) message += " (another multicast routing daemon holds this table)";
  if (kind == OpenFailure::unsupported) {
    // Say which kernel feature is missing, not only the errno: "Protocol
    // not available" from MRT_INIT means nothing to most readers.
    if (step == OpenStep::socket && !v4 && err == EAFNOSUPPORT) {
      message = "IPv6 is disabled in this kernel (" + message + ")";
    } else if (step == OpenStep::table) {
      message = std::string("this kernel has no ") + (v4 ? "IPv4" : "IPv6") +
                " multicast routing tables but the default one (" +
                (v4 ? "CONFIG_IP_MROUTE_MULTIPLE_TABLES" : "CONFIG_IPV6_MROUTE_MULTIPLE_TABLES") +
                "), so table " + std::to_string(table) + " cannot be used (" + message + ")";
    } else {
      message = std::string("this kernel has no ") + (v4 ? "IPv4" : "IPv6") +
                " multicast routing (" + (v4 ? "CONFIG_IP_MROUTE" : "CONFIG_IPV6_MROUTE") + "; " +
                message + ")";
    }
  }
  return OpenError{kind, std::move(message)};
}

namespace {

void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

// Opens one family's socket and claims the table. On failure returns the
// error and leaves no descriptor open.
std::variant<int, OpenError> open_family(Family family, uint32_t table) {
  const bool v4 = family == Family::v4;
  const int proto = v4 ? int{IPPROTO_IGMP} : int{IPPROTO_ICMPV6};
  const int fd = ::socket(v4 ? AF_INET : AF_INET6, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, proto);
  if (fd < 0) {
    return describe_open_failure(family, OpenStep::socket,
                                 v4 ? "socket(AF_INET, SOCK_RAW, IPPROTO_IGMP)"
                                    : "socket(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6)",
                                 errno, table);
  }
  auto fail = [&](OpenStep step, const std::string& what) {
    const int err = errno;
    ::close(fd);
    return describe_open_failure(family, step, what, err, table);
  };
  if (!v4) {
    // mfcd speaks no MLD: block every ICMPv6 type so that only upcalls (which
    // bypass the filter) are queued on this socket.
    icmp6_filter filter{};
    ICMP6_FILTER_SETBLOCKALL(&filter);
    if (::setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &filter, sizeof filter) < 0) {
      return fail(OpenStep::filter, "ICMP6_FILTER");
    }
  }
  const int level = v4 ? IPPROTO_IP : IPPROTO_IPV6;
  // Table 0 is ours for "the default table": leaving MRT_TABLE unset selects
  // RT_TABLE_DEFAULT (253) and works on kernels without multiple tables too.
  // MRT_TABLE must come before MRT_INIT; afterwards it fails with EBUSY.
  if (table != 0) {
    const uint32_t id = table;
    if (::setsockopt(fd, level, v4 ? MRT_TABLE : MRT6_TABLE, &id, sizeof id) < 0) {
      return fail(OpenStep::table,
                  std::string(v4 ? "MRT_TABLE " : "MRT6_TABLE ") + std::to_string(table));
    }
  }
  const int one = 1;
  if (::setsockopt(fd, level, v4 ? MRT_INIT : MRT6_INIT, &one, sizeof one) < 0) {
    return fail(OpenStep::init, v4 ? "MRT_INIT" : "MRT6_INIT");
  }
  return fd;
}

}  // namespace

std::variant<std::unique_ptr<Mroute>, OpenError> Mroute::open(uint32_t table) {
  auto r4 = open_family(Family::v4, table);
  auto r6 = open_family(Family::v6, table);
  auto* e4 = std::get_if<OpenError>(&r4);
  auto* e6 = std::get_if<OpenError>(&r6);
  const int fd4 = e4 == nullptr ? std::get<int>(r4) : -1;
  const int fd6 = e6 == nullptr ? std::get<int>(r6) : -1;
  auto close_both = [&] {
    if (fd4 >= 0) ::close(fd4);
    if (fd6 >= 0) ::close(fd6);
  };
  // A real failure of either family (the table is held, no permission)
  // stops everything; a family the kernel lacks only switches it off.
  for (auto* e : {e4, e6}) {
    if (e != nullptr && e->kind != OpenFailure::unsupported) {
      close_both();
      return std::move(*e);
    }
  }
  if (e4 != nullptr && e6 != nullptr) {
    return OpenError{OpenFailure::unsupported, e4->message + "; " + e6->message};
  }
  return std::unique_ptr<Mroute>(new Mroute(fd4, fd6, table, e4 ? e4->message : std::string(),
                                            e6 ? e6->message : std::string()));
}

Mroute::Mroute(int fd4, int fd6, uint32_t table, std::string off4, std::string off6)
    : fd4_(fd4), fd6_(fd6), table_(table), off4_(std::move(off4)), off6_(std::move(off6)) {}

const std::string& Mroute::off_note(Family f) const {
  return f == Family::v4 ? off4_ : off6_;
}

Mroute::~Mroute() {
  close_fd(fd4_);
  close_fd(fd6_);
}

int Mroute::fd(Family f) const {
  return f == Family::v4 ? fd4_ : fd6_;
}

namespace {

core::Error family_off(const std::string& what, const std::string& note) {
  return core::make_error(Errc::kernel, what + ": " + note, EAFNOSUPPORT);
}

// `what` builds the operation's description. It is only called on failure:
// formatting addresses for every successful call was a measurable share of
// start-up time with tens of thousands of routes.
template <typename What>
std::optional<core::Error> check_vif(const What& what, core::VifIndex vif) {
  if (vif < 0 || vif >= core::kMaxVifs) {
    return core::make_error(Errc::invalid_argument,
                            what() + ": VIF " + std::to_string(vif) + " out of range 0..31");
  }
  return std::nullopt;
}

}  // namespace

core::Result<void> Mroute::add_vif(const core::VifConf& vif) {
  const bool v4 = vif.family == Family::v4;
  auto what = [&] { return std::string(v4 ? "MRT_ADD_VIF " : "MRT6_ADD_MIF ") + vif_text(vif); };
  if (auto e = check_vif(what, vif.vif)) return *e;
  if (!has(vif.family)) return family_off(what(), off_note(vif.family));
  if (vif.ttl_threshold < 1 || vif.ttl_threshold > 255) {
    return core::make_error(
        Errc::invalid_argument,
        what() + ": TTL threshold " + std::to_string(vif.ttl_threshold) + " out of range 1..255");
  }
  if (v4) {
    vifctl vc{};
    vc.vifc_vifi = static_cast<vifi_t>(vif.vif);
    vc.vifc_flags = VIFF_USE_IFINDEX;
    vc.vifc_threshold = static_cast<unsigned char>(vif.ttl_threshold);
    vc.vifc_lcl_ifindex = vif.ifindex;
    if (::setsockopt(fd4_, IPPROTO_IP, MRT_ADD_VIF, &vc, sizeof vc) < 0) {
      return kernel_error(what(), errno);
    }
    return {};
  }
  if (vif.ifindex <= 0 || vif.ifindex > 0xffff) {
    // mif6ctl carries the ifindex in 16 bits.
    return core::make_error(Errc::invalid_argument, what() + ": ifindex does not fit a MIF");
  }
  mif6ctl mc{};
  mc.mif6c_mifi = static_cast<mifi_t>(vif.vif);
  mc.mif6c_flags = 0;
  // Stored by the kernel but not used for forwarding: IPv6 has no thresholds.
  mc.vifc_threshold = static_cast<unsigned char>(vif.ttl_threshold);
  mc.mif6c_pifi = static_cast<__u16>(vif.ifindex);
  if (::setsockopt(fd6_, IPPROTO_IPV6, MRT6_ADD_MIF, &mc, sizeof mc) < 0) {
    return kernel_error(what(), errno);
  }
  return {};
}

core::Result<void> Mroute::del_vif(Family family, core::VifIndex vif) {
  const bool v4 = family == Family::v4;
  auto what = [&] {
    return std::string(v4 ? "MRT_DEL_VIF vif " : "MRT6_DEL_MIF mif ") + std::to_string(vif);
  };
  if (auto e = check_vif(what, vif)) return *e;
  if (!has(family)) return family_off(what(), off_note(family));
  if (v4) {
    vifctl vc{};  // the kernel wants the whole structure, only vifc_vifi counts
    vc.vifc_vifi = static_cast<vifi_t>(vif);
    if (::setsockopt(fd4_, IPPROTO_IP, MRT_DEL_VIF, &vc, sizeof vc) < 0) {
      return kernel_error(what(), errno);
    }
    return {};
  }
  const mifi_t mif = static_cast<mifi_t>(vif);
  if (::setsockopt(fd6_, IPPROTO_IPV6, MRT6_DEL_MIF, &mif, sizeof mif) < 0) {
    return kernel_error(what(), errno);
  }
  return {};
}

namespace {

template <typename What>
std::optional<core::Error> check_key(const What& what, const core::SgKey& key) {
  if (key.source.family != key.group.family) {
    return core::make_error(Errc::invalid_argument, what() + ": source and group families differ");
  }
  return std::nullopt;
}

}  // namespace

core::Result<void> Mroute::add_mfc(const core::MfcConf& mfc) {
  const bool v4 = mfc.key.group.family == Family::v4;
  auto what = [&] { return std::string(v4 ? "MRT_ADD_MFC " : "MRT6_ADD_MFC ") + mfc.key.str(); };
  if (auto e = check_key(what, mfc.key)) return *e;
  if (auto e = check_vif([&] { return what() + " iif"; }, mfc.iif)) return *e;
  if (!has(mfc.key.group.family)) return family_off(what(), off_note(mfc.key.group.family));
  if (v4) {
    mfcctl mc{};
    mc.mfcc_origin = in4(mfc.key.source);
    mc.mfcc_mcastgrp = in4(mfc.key.group);
    mc.mfcc_parent = static_cast<vifi_t>(mfc.iif);
    static_assert(sizeof mc.mfcc_ttls == core::kMaxVifs);
    std::memcpy(mc.mfcc_ttls, mfc.ttls.data(), sizeof mc.mfcc_ttls);
    if (::setsockopt(fd4_, IPPROTO_IP, MRT_ADD_MFC, &mc, sizeof mc) < 0) {
      return kernel_error(what(), errno);
    }
    return {};
  }
  mf6cctl mc{};
  mc.mf6cc_origin = in6(mfc.key.source);
  mc.mf6cc_mcastgrp = in6(mfc.key.group);
  mc.mf6cc_parent = static_cast<mifi_t>(mfc.iif);
  // IPv6 has no per-OIF TTL threshold: the kernel takes a bitmap of OIFs and
  // forwards whenever the hop limit allows. Any ttls[mif] > 0 turns the MIF on.
  for (int mif = 0; mif < core::kMaxVifs; ++mif) {
    if (mfc.ttls[static_cast<size_t>(mif)] > 0) {
      mc.mf6cc_ifset.ifs_bits[mif / NIFBITS] |= if_mask{1} << (mif % NIFBITS);
    }
  }
  if (::setsockopt(fd6_, IPPROTO_IPV6, MRT6_ADD_MFC, &mc, sizeof mc) < 0) {
    return kernel_error(what(), errno);
  }
  return {};
}

core::Result<void> Mroute::del_mfc(const core::SgKey& key) {
  const bool v4 = key.group.family == Family::v4;
  auto what = [&] { return std::string(v4 ? "MRT_DEL_MFC " : "MRT6_DEL_MFC ") + key.str(); };
  if (auto e = check_key(what, key)) return *e;
  if (!has(key.group.family)) return family_off(what(), off_note(key.group.family));
  if (v4) {
    mfcctl mc{};
    mc.mfcc_origin = in4(key.source);
    mc.mfcc_mcastgrp = in4(key.group);
    if (::setsockopt(fd4_, IPPROTO_IP, MRT_DEL_MFC, &mc, sizeof mc) < 0) {
      return kernel_error(what(), errno);
    }
    return {};
  }
  mf6cctl mc{};
  mc.mf6cc_origin = in6(key.source);
  mc.mf6cc_mcastgrp = in6(key.group);
  if (::setsockopt(fd6_, IPPROTO_IPV6, MRT6_DEL_MFC, &mc, sizeof mc) < 0) {
    return kernel_error(what(), errno);
  }
  return {};
}

core::Result<Counters> Mroute::counters(const core::SgKey& key) const {
  const bool v4 = key.group.family == Family::v4;
  auto what = [&] { return std::string(v4 ? "SIOCGETSGCNT " : "SIOCGETSGCNT_IN6 ") + key.str(); };
  if (auto e = check_key(what, key)) return *e;
  if (!has(key.group.family)) return family_off(what(), off_note(key.group.family));
  if (v4) {
    sioc_sg_req req{};
    req.src = in4(key.source);
    req.grp = in4(key.group);
    if (::ioctl(fd4_, SIOCGETSGCNT, &req) < 0) return kernel_error(what(), errno);
    return Counters{req.pktcnt, req.bytecnt, req.wrong_if};
  }
  sioc_sg_req6 req{};
  req.src = in6(key.source);
  req.grp = in6(key.group);
  if (::ioctl(fd6_, SIOCGETSGCNT_IN6, &req) < 0) return kernel_error(what(), errno);
  return Counters{req.pktcnt, req.bytecnt, req.wrong_if};
}

core::Result<core::VifCounters> Mroute::vif_counters(Family f, core::VifIndex vif) const {
  const bool v4 = f == Family::v4;
  auto what = [&] {
    return std::string(v4 ? "SIOCGETVIFCNT " : "SIOCGETMIFCNT_IN6 ") + std::to_string(vif);
  };
  if (vif < 0 || vif >= core::kMaxVifs)
    return core::make_error(core::Errc::invalid_argument, what() + ": no such VIF number");
  if (!has(f)) return family_off(what(), off_note(f));
  if (v4) {
    sioc_vif_req req{};
    req.vifi = static_cast<vifi_t>(vif);
    if (::ioctl(fd4_, SIOCGETVIFCNT, &req) < 0) return kernel_error(what(), errno);
    return core::VifCounters{req.icount, req.ocount, req.ibytes, req.obytes};
  }
  sioc_mif_req6 req{};
  req.mifi = static_cast<mifi_t>(vif);
  if (::ioctl(fd6_, SIOCGETMIFCNT_IN6, &req) < 0) return kernel_error(what(), errno);
  return core::VifCounters{req.icount, req.ocount, req.ibytes, req.obytes};
}

std::vector<Upcall> Mroute::read_upcalls(Family f, size_t budget, bool* more) {
  std::vector<Upcall> out;
  if (more != nullptr) *more = false;
  const int fd = this->fd(f);
  if (fd < 0) return out;
  // An upcall is 20 (IPv4) or 40 (IPv6) bytes at the front of the message;
  // longer datagrams (WHOLEPKT, real IGMP) are simply truncated.
  uint8_t buf[512];
  for (size_t n = 0; n < budget;) {
    const ssize_t got = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (got < 0) {
      if (errno == EINTR) continue;
      return out;  // EAGAIN: drained. Anything else: nothing more to read now.
    }
    ++n;
    const auto len = static_cast<size_t>(got);
    auto up = f == Family::v4 ? parse_upcall_v4(buf, len) : parse_upcall_v6(buf, len);
    if (up) out.push_back(*up);
  }
  if (more != nullptr) *more = true;
  return out;
}

void Mroute::set_rcvbuf(int bytes) {
  for (int fd : {fd4_, fd6_}) {
    if (fd < 0) continue;
    if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes) < 0) {
      // Without CAP_NET_ADMIN the kernel caps this at net.core.rmem_max.
      (void)::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
    }
  }
}

}  // namespace mfcd::kernel

namespace mfcd::kernel {

bool Mroute::enable_wrongvif() {
  const int on = 1;
  bool ok = true;
  if (fd4_ >= 0) {
    ok = ::setsockopt(fd4_, IPPROTO_IP, MRT_PIM, &on, sizeof on) == 0 ||
         ::setsockopt(fd4_, IPPROTO_IP, MRT_ASSERT, &on, sizeof on) == 0;
  }
  if (fd6_ >= 0) {
    ok = (::setsockopt(fd6_, IPPROTO_IPV6, MRT6_PIM, &on, sizeof on) == 0 ||
          ::setsockopt(fd6_, IPPROTO_IPV6, MRT6_ASSERT, &on, sizeof on) == 0) &&
         ok;
  }
  return ok;
}

void Mroute::release_all() {
  close_fd(fd4_);
  close_fd(fd6_);
}

uint64_t Mroute::upcalls_lost(Family f) const {
  const int fd = this->fd(f);
  if (fd < 0) return 0;
  uint32_t mem[SK_MEMINFO_VARS] = {};
  socklen_t len = sizeof mem;
  if (::getsockopt(fd, SOL_SOCKET, SO_MEMINFO, mem, &len) != 0) return 0;
  return len > SK_MEMINFO_DROPS * sizeof(uint32_t) ? mem[SK_MEMINFO_DROPS] : 0;
}

}  // namespace mfcd::kernel
