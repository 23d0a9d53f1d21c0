// Interfaces from rtnetlink, parsed with libmnl.
//
// A link is reported by its ifinfomsg (index and flags) plus the IFLA_IFNAME
// attribute; that is all the core needs to resolve phyints. Requests (the
// dump and single lookups) go over a short-lived socket of their own so they
// never mix with the monitor's multicast stream. The monitor only listens to
// AF_UNSPEC link messages: bridge (AF_BRIDGE) messages describe port state,
// and a bridge port's RTM_DELLINK does not mean the interface is gone.
#include "kernel/netlink.hpp"

#include <libmnl/libmnl.h>
#include <linux/fib_rules.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <string>

namespace mfcd::kernel {
namespace {

using core::Errc;

constexpr size_t kBufSize = 64 * 1024;  // comfortably above MNL_SOCKET_DUMP_SIZE
constexpr int kDumpTries = 5;           // a dump interrupted by changes is retried

core::Error nl_error(const std::string& what, int err) {
  return core::make_error(Errc::kernel, what + ": " + std::strerror(err), err);
}

struct Socket {
  mnl_socket* sock = nullptr;
  ~Socket() {
    if (sock != nullptr) mnl_socket_close(sock);
  }
};

int name_attr_cb(const nlattr* attr, void* data) {
  if (mnl_attr_get_type(attr) == IFLA_IFNAME && mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) >= 0) {
    *static_cast<const char**>(data) = mnl_attr_get_str(attr);
  }
  return MNL_CB_OK;
}

// Parses one RTM_NEWLINK / RTM_DELLINK; nullopt for other families or
// malformed messages.
std::optional<core::Link> parse_link(const nlmsghdr* nlh) {
  if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(ifinfomsg))) return std::nullopt;
  const auto* ifm = static_cast<const ifinfomsg*>(mnl_nlmsg_get_payload(nlh));
  if (ifm->ifi_family != AF_UNSPEC) return std::nullopt;
  const char* name = nullptr;
  if (mnl_attr_parse(nlh, sizeof(ifinfomsg), name_attr_cb, &name) < 0 || name == nullptr) {
    return std::nullopt;
  }
  core::Link link;
  link.name = name;
  link.ifindex = ifm->ifi_index;
  link.up = (ifm->ifi_flags & IFF_UP) != 0;
  link.multicast = (ifm->ifi_flags & IFF_MULTICAST) != 0;
  link.loopback = (ifm->ifi_flags & IFF_LOOPBACK) != 0;
  return link;
}

int collect_link_cb(const nlmsghdr* nlh, void* data) {
  if (nlh->nlmsg_type == RTM_NEWLINK) {
    if (auto link = parse_link(nlh)) static_cast<core::Links*>(data)->push_back(std::move(*link));
  }
  return MNL_CB_OK;
}

// Sends the request that `buf` holds (built with new_request) on a fresh
// socket and feeds every reply to `cb` until the kernel says done (dump) or
// acks (single get).
core::Result<void> run_request(const std::string& what, std::vector<char>& buf, mnl_cb_t cb,
                               void* data) {
  Socket s;
  s.sock = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
  if (s.sock == nullptr) return nl_error(what + ": socket", errno);
  if (mnl_socket_bind(s.sock, 0, MNL_SOCKET_AUTOPID) < 0) return nl_error(what + ": bind", errno);
  const auto* nlh = reinterpret_cast<const nlmsghdr*>(buf.data());
  const uint32_t seq = nlh->nlmsg_seq;
  if (mnl_socket_sendto(s.sock, nlh, nlh->nlmsg_len) < 0) return nl_error(what + ": send", errno);

  const unsigned int portid = mnl_socket_get_portid(s.sock);
  for (;;) {
    const ssize_t got = mnl_socket_recvfrom(s.sock, buf.data(), buf.size());
    if (got < 0) {
      if (errno == EINTR) continue;
      return nl_error(what + ": recv", errno);
    }
    const int ret = mnl_cb_run(buf.data(), static_cast<size_t>(got), seq, portid, cb, data);
    if (ret < 0) return nl_error(what, errno);  // EINTR here: the dump was interrupted
    if (ret == MNL_CB_STOP) return {};
  }
}

// A request's header in `buf`: type, flags and a sequence number.
nlmsghdr* new_request(std::vector<char>& buf, uint16_t type, uint16_t flags) {
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
  nlh->nlmsg_type = type;
  nlh->nlmsg_flags = static_cast<uint16_t>(NLM_F_REQUEST | flags);
  nlh->nlmsg_seq = static_cast<uint32_t>(std::time(nullptr));
  return nlh;
}

// One RTM_GETLINK request: a dump, or one link by index.
core::Result<void> request_links(const std::string& what, uint16_t flags, int ifindex,
                                 core::Links* out) {
  std::vector<char> buf(kBufSize);
  nlmsghdr* nlh = new_request(buf, RTM_GETLINK, flags);
  auto* ifm = static_cast<ifinfomsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifinfomsg)));
  ifm->ifi_family = AF_UNSPEC;
  ifm->ifi_index = ifindex;
  return run_request(what, buf, collect_link_cb, out);
}

// One attribute of a rule: those that decide a multicast lookup.
int mrule_attr_cb(const nlattr* attr, void* data) {
  auto& r = *static_cast<core::MrRule*>(data);
  const uint16_t type = mnl_attr_get_type(attr);
  const bool u32 = mnl_attr_validate(attr, MNL_TYPE_U32) >= 0;
  const bool text = mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) >= 0;
  if (type == FRA_PRIORITY && u32) r.priority = mnl_attr_get_u32(attr);
  if (type == FRA_TABLE && u32) r.table = mnl_attr_get_u32(attr);
  if (type == FRA_GOTO && u32) r.jump_to = mnl_attr_get_u32(attr);
  if (type == FRA_FWMARK && u32) r.fwmark = mnl_attr_get_u32(attr);
  if (type == FRA_FWMASK && u32) r.fwmask = mnl_attr_get_u32(attr);
  if (type == FRA_IIFNAME && text) r.iif = mnl_attr_get_str(attr);
  if (type == FRA_OIFNAME && text) r.oif = mnl_attr_get_str(attr);
  return MNL_CB_OK;
}

// One RTM_NEWRULE of a multicast rules dump.
int collect_mrule_cb(const nlmsghdr* nlh, void* data) {
  if (nlh->nlmsg_type != RTM_NEWRULE || nlh->nlmsg_len < mnl_nlmsg_size(sizeof(fib_rule_hdr))) {
    return MNL_CB_OK;
  }
  const auto* frh = static_cast<const fib_rule_hdr*>(mnl_nlmsg_get_payload(nlh));
  core::MrRule r;
  r.table = frh->table;
  r.invert = (frh->flags & FIB_RULE_INVERT) != 0;
  r.iif_detached = (frh->flags & FIB_RULE_IIF_DETACHED) != 0;
  switch (frh->action) {
    case FR_ACT_TO_TBL:
      r.action = core::MrRule::Action::table;
      break;
    case FR_ACT_GOTO:
      r.action = core::MrRule::Action::jump;
      break;
    case FR_ACT_NOP:
      r.action = core::MrRule::Action::nop;
      break;
    case FR_ACT_BLACKHOLE:
      r.action = core::MrRule::Action::drop;
      r.action_name = "blackhole";
      break;
    case FR_ACT_UNREACHABLE:
      r.action = core::MrRule::Action::drop;
      r.action_name = "unreachable";
      break;
    case FR_ACT_PROHIBIT:
      r.action = core::MrRule::Action::drop;
      r.action_name = "prohibit";
      break;
    default:
      r.action = core::MrRule::Action::other;
      r.action_name = "action " + std::to_string(frh->action);
      break;
  }
  if (mnl_attr_parse(nlh, sizeof(fib_rule_hdr), mrule_attr_cb, &r) < 0) return MNL_CB_OK;
  static_cast<std::vector<core::MrRule>*>(data)->push_back(std::move(r));
  return MNL_CB_OK;
}

}  // namespace

core::Result<std::vector<core::MrRule>> dump_mrules(core::Family family) {
  const std::string what =
      family == core::Family::v4 ? "RTM_GETRULE dump (ipmr)" : "RTM_GETRULE dump (ip6mr)";
  std::vector<char> buf(kBufSize);
  nlmsghdr* nlh = new_request(buf, RTM_GETRULE, NLM_F_DUMP);
  auto* frh = static_cast<fib_rule_hdr*>(mnl_nlmsg_put_extra_header(nlh, sizeof(fib_rule_hdr)));
  frh->family = family == core::Family::v4 ? RTNL_FAMILY_IPMR : RTNL_FAMILY_IP6MR;
  std::vector<core::MrRule> rules;
  if (auto r = run_request(what, buf, collect_mrule_cb, &rules); !r) return r.error();
  return rules;
}

core::Result<core::Links> dump_links() {
  core::Error last;
  for (int attempt = 0; attempt < kDumpTries; ++attempt) {
    core::Links links;
    auto r = request_links("RTM_GETLINK dump", NLM_F_DUMP, 0, &links);
    if (r) return links;
    last = r.error();
    // NLM_F_DUMP_INTR: links changed during the dump, which is then
    // inconsistent. Ask again.
    if (last.sys_errno != EINTR) break;
  }
  return last;
}

core::Result<std::unique_ptr<LinkMonitor>> LinkMonitor::open() {
  Socket s;
  s.sock = mnl_socket_open2(NETLINK_ROUTE, SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (s.sock == nullptr) return nl_error("netlink link monitor: socket", errno);
  // Links only: addresses change nothing mfcd decides (router discovery
  // looks its source address up at each send).
  const unsigned int groups = RTMGRP_LINK;
  if (mnl_socket_bind(s.sock, groups, MNL_SOCKET_AUTOPID) < 0) {
    return nl_error("netlink link monitor: bind", errno);
  }
  std::unique_ptr<LinkMonitor> monitor(new LinkMonitor(s.sock));
  s.sock = nullptr;
  return monitor;
}

LinkMonitor::~LinkMonitor() {
  if (sock_ != nullptr) mnl_socket_close(sock_);
}

int LinkMonitor::fd() const {
  return mnl_socket_get_fd(sock_);
}

namespace {

int event_cb(const nlmsghdr* nlh, void* data) {
  auto* events = static_cast<std::vector<LinkEvent>*>(data);
  if (nlh->nlmsg_type != RTM_NEWLINK && nlh->nlmsg_type != RTM_DELLINK) return MNL_CB_OK;
  if (auto link = parse_link(nlh)) {
    const auto kind = nlh->nlmsg_type == RTM_NEWLINK ? LinkEvent::Kind::added_or_changed
                                                     : LinkEvent::Kind::removed;
    events->push_back(LinkEvent{kind, std::move(*link)});
  }
  return MNL_CB_OK;
}

}  // namespace

void parse_link_events(const void* data, size_t len, std::vector<LinkEvent>& events) {
  // Walked here rather than by mnl_cb_run: libmnl compares a message's
  // length with what is left as a signed int, so a length above 2 GiB
  // passes its check and the walk runs off the buffer (found by
  // tests/fuzz/fuzz_netlink). Each message is whole inside the datagram
  // before anything reads it.
  const auto* at = static_cast<const uint8_t*>(data);
  while (len >= sizeof(nlmsghdr)) {
    const auto* nlh = reinterpret_cast<const nlmsghdr*>(at);
    // libmnl reads a message's attributes up to its aligned end, so that
    // end must be inside the datagram too (the kernel pads every message).
    const size_t size = nlh->nlmsg_len;
    const size_t step = NLMSG_ALIGN(size);
    // (NLMSG_ALIGN works in 32 bits: a length near 4 GiB aligns to 0.)
    if (size < sizeof(nlmsghdr) || size > len || step > len) return;  // the rest is noise
    (void)event_cb(nlh, &events);
    if (step >= len) return;
    at += step;
    len -= step;
  }
}

std::vector<LinkEvent> LinkMonitor::read_events(size_t budget, bool* resync, bool* more) {
  std::vector<LinkEvent> events;
  bool lost = false;
  if (more != nullptr) *more = false;
  std::vector<char> buf(kBufSize);
  for (size_t n = 0;;) {
    // Once messages were lost, the queue is read to its end whatever the
    // budget: all of it is older than the list the caller reads next, and
    // a message left for later would be applied over that list (a link
    // deleted since would come back).
    if (!lost && n >= budget) {
      if (more != nullptr) *more = true;
      break;
    }
    const ssize_t got = mnl_socket_recvfrom(sock_, buf.data(), buf.size());
    if (got < 0) {
      if (errno == EINTR) continue;
      if (errno == ENOBUFS) {
        lost = true;
        events.clear();
        continue;
      }
      break;  // EAGAIN: drained
    }
    ++n;
    if (!lost) parse_link_events(buf.data(), static_cast<size_t>(got), events);
  }
  if (resync != nullptr) *resync = lost;
  return events;
}

void LinkMonitor::set_rcvbuf(int bytes) {
  const int fd = mnl_socket_get_fd(sock_);
  if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes) < 0) {
    (void)::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
  }
}

}  // namespace mfcd::kernel
