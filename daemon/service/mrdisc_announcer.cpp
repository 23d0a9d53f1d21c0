// Router discovery as a set of per-interface timers. update() says which
// interfaces announce (the router decides that from the phyint lines); each
// announcing interface has one timer that the pure AdvertSchedule arms
// (initial burst, then the jittered interval). Solicitations arrive on the
// family's socket, are decoded and answered at once within the RFC's message
// rate. The sockets exist only while some interface announces, so a daemon
// without `mrdisc` in its config never wakes up for it.
//
// Addresses are looked up at each send, not at update(): an interface whose
// address arrives later (DHCP, SLAAC) starts announcing that family at its
// next Advertisement without the daemon having to resync.
#include "service/mrdisc_announcer.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "kernel/mrdisc_socket.hpp"
#include "service/uv_handle.hpp"

namespace mfcd {

namespace {

using core::Family;
using core::mrdisc::MessageType;

constexpr size_t kReadBudget = 64;  // datagrams handled per poll callback
constexpr Family kFamilies[] = {Family::v4, Family::v6};

size_t slot(Family f) {
  return f == Family::v4 ? 0 : 1;
}

}  // namespace

struct MrdiscAnnouncer::Iface {
  MrdiscAnnouncer* owner = nullptr;
  std::string name;
  int ifindex = 0;
  bool up = false;
  UvHandle<uv_timer_t> timer;  // set while announcing
  core::mrdisc::AdvertSchedule schedule;
  core::mrdisc::AnswerLimiter answers[2];
  bool joined[2] = {false, false};
  bool announced[2] = {false, false};  // a Termination is owed on this family

  Iface(MrdiscAnnouncer* o, std::string n, int index, unsigned interval)
      : owner(o), name(std::move(n)), ifindex(index), schedule(interval) {}
};

// The socket is declared before the handle, so it is closed after it:
// uv_close() takes the fd out of epoll at once, and only then may it go.
struct MrdiscAnnouncer::Poll {
  std::unique_ptr<kernel::MrdiscSocket> socket;
  UvHandle<uv_poll_t> handle;
  MrdiscAnnouncer* owner = nullptr;
  Family family = Family::v4;
};

MrdiscAnnouncer::MrdiscAnnouncer(uv_loop_t* loop, unsigned interval_sec)
    : loop_(loop), interval_(interval_sec), rng_(std::random_device{}()) {
  random_ = [this](uint64_t lo, uint64_t hi) {
    return std::uniform_int_distribution<uint64_t>(lo, hi)(rng_);
  };
}

MrdiscAnnouncer::~MrdiscAnnouncer() {
  stop();
}

void MrdiscAnnouncer::update(const std::set<std::string>& announce, const core::Links& links) {
  if (stopped_) return;
  std::map<std::string, const core::Link*> wanted;
  for (const auto& link : links)
    if (announce.count(link.name)) wanted[link.name] = &link;

  for (auto it = ifaces_.begin(); it != ifaces_.end();) {
    auto& iface = *it->second;
    auto w = wanted.find(iface.name);
    bool same = w != wanted.end() && w->second->ifindex == iface.ifindex;
    if (same) {
      ++it;
      continue;
    }
    const core::Link* link = core::find_link(links, iface.name);
    bool reachable = link && link->ifindex == iface.ifindex && link->up;
    if (reachable)
      spdlog::info("mrdisc: {} no longer announced; sending Termination", iface.name);
    else
      spdlog::info("mrdisc: {} is gone; announcements stop", iface.name);
    deactivate(iface, reachable);
    it = ifaces_.erase(it);
  }

  for (const auto& [name, link] : wanted) {
    auto it = ifaces_.find(name);
    if (it == ifaces_.end())
      it = ifaces_.emplace(name, std::make_unique<Iface>(this, name, link->ifindex, interval_))
               .first;
    auto& iface = *it->second;
    if (link->up && !iface.timer) {
      activate(iface);
    } else if (!link->up && iface.timer) {
      spdlog::info("mrdisc: {} went down; announcements pause", iface.name);
      deactivate(iface, false);
    }
    iface.up = link->up;
  }

  bool any = std::any_of(ifaces_.begin(), ifaces_.end(),
                         [](const auto& kv) { return static_cast<bool>(kv.second->timer); });
  if (!any) close_sockets();
}

void MrdiscAnnouncer::stop() {
  if (stopped_) return;
  stopped_ = true;
  for (auto& [name, iface] : ifaces_)
    deactivate(*iface, true);
  ifaces_.clear();
  close_sockets();
}

std::optional<MrdiscInterfaceState> MrdiscAnnouncer::state(const std::string& ifname) const {
  auto it = ifaces_.find(ifname);
  if (it == ifaces_.end()) return std::nullopt;
  const auto& iface = *it->second;
  MrdiscInterfaceState s;
  s.enabled = true;
  s.v4 = iface.announced[0];
  s.v6 = iface.announced[1];
  if (iface.timer) {
    s.announcing = true;
    s.next_due_ms = uv_timer_get_due_in(iface.timer.get());
  }
  return s;
}

void MrdiscAnnouncer::arm(Iface& iface, uint64_t due_ms) {
  uv_timer_start(
      iface.timer.get(),
      [](uv_timer_t* t) {
        auto* i = static_cast<Iface*>(t->data);
        i->owner->on_timer(*i);
      },
      due_ms, 0);
}

void MrdiscAnnouncer::activate(Iface& iface) {
  if (!ensure_sockets()) return;
  for (auto f : kFamilies) {
    auto* p = poll_[slot(f)].get();
    if (!p || iface.joined[slot(f)]) continue;
    if (auto r = p->socket->join(iface.ifindex); !r)
      spdlog::warn("mrdisc: {}: {}; Solicitations there go unanswered", iface.name,
                   r.error().message);
    else
      iface.joined[slot(f)] = true;
  }
  iface.timer.init(uv_timer_init, loop_, &iface);
  uint64_t first = iface.schedule.start(random_);
  arm(iface, first);
  spdlog::info("mrdisc: announcing on {} every {} s (first in {} ms)", iface.name, interval_,
               first);
}

void MrdiscAnnouncer::deactivate(Iface& iface, bool terminate) {
  if (terminate && iface.timer) {
    for (auto f : kFamilies)
      if (iface.announced[slot(f)]) send(iface, f, MessageType::termination);
  }
  for (auto f : kFamilies) {
    auto i = slot(f);
    iface.announced[i] = false;
    if (iface.joined[i] && poll_[i]) {
      // The interface may be gone already, and the kernel with it dropped
      // the membership: failure here is expected and harmless.
      (void)poll_[i]->socket->leave(iface.ifindex);
    }
    iface.joined[i] = false;
  }
  iface.timer.close();
}

bool MrdiscAnnouncer::ensure_sockets() {
  for (auto f : kFamilies) {
    auto i = slot(f);
    if (poll_[i] || (f == Family::v6 && v6_unavailable_)) continue;
    auto opened = kernel::MrdiscSocket::open(f);
    if (!opened) {
      if (f == Family::v4) {
        spdlog::error("mrdisc: cannot open the IGMP socket: {}", opened.error().message);
        continue;
      }
      spdlog::warn("mrdisc: IPv6 router discovery is off: {}", opened.error().message);
      v6_unavailable_ = true;
      continue;
    }
    auto p = std::make_unique<Poll>();
    p->socket = std::move(opened.value());
    p->owner = this;
    p->family = f;
    if (int rc = p->handle.init(uv_poll_init, loop_, p.get(), p->socket->fd()); rc != 0) {
      spdlog::error("mrdisc: cannot watch the {} socket: {}", core::family_name(f),
                    uv_strerror(rc));
      continue;
    }
    uv_poll_start(p->handle.get(), UV_READABLE, [](uv_poll_t* h, int status, int) {
      if (status < 0) return;
      auto* poll = static_cast<Poll*>(h->data);
      poll->owner->on_readable(poll->family);
    });
    poll_[i] = std::move(p);
  }
  return poll_[0] || poll_[1];
}

void MrdiscAnnouncer::close_sockets() {
  for (auto& p : poll_)
    p.reset();
}

bool MrdiscAnnouncer::send(Iface& iface, Family family, MessageType type) {
  auto* p = poll_[slot(family)].get();
  if (!p) return false;
  auto source = kernel::mrdisc_source(family, iface.name);
  if (!source) return false;  // no address of this family: nothing to announce
  core::mrdisc::AdvertFields fields;
  fields.interval = static_cast<uint8_t>(interval_);
  auto dest = core::mrdisc::all_snoopers(family);
  auto bytes = family == Family::v4 ? core::mrdisc::encode_v4(type, fields)
                                    : core::mrdisc::encode_v6(type, *source, dest, fields);
  if (auto r = p->socket->send(iface.ifindex, *source, bytes); !r) {
    spdlog::debug("mrdisc: {} {} on {}: {}", core::family_name(family),
                  core::mrdisc::type_name(type), iface.name, r.error().message);
    return false;
  }
  spdlog::trace("mrdisc: {} {} sent on {} from {}", core::family_name(family),
                core::mrdisc::type_name(type), iface.name, source->str());
  return true;
}

void MrdiscAnnouncer::on_timer(Iface& iface) {
  for (auto f : kFamilies)
    if (send(iface, f, MessageType::advertisement)) iface.announced[slot(f)] = true;
  arm(iface, iface.schedule.after_advertisement(random_));
}

void MrdiscAnnouncer::on_readable(Family family) {
  auto* p = poll_[slot(family)].get();
  if (!p) return;
  bool more = false;
  auto datagrams = p->socket->read(kReadBudget, &more);
  auto all_routers = core::mrdisc::all_routers(family);
  for (const auto& d : datagrams) {
    std::optional<core::mrdisc::Message> m;
    if (family == Family::v4) {
      auto ip = core::mrdisc::parse_ipv4(d.data);
      // The IGMP socket sees every IGMP packet (reports, queries ...).
      if (!ip || ip->dest != all_routers) continue;
      m = core::mrdisc::decode_v4(ip->payload);
    } else {
      if (d.dest != all_routers) continue;
      m = core::mrdisc::decode_v6(d.data, d.source, d.dest);
    }
    if (m && m->type == MessageType::solicitation) on_solicitation(family, d.ifindex);
  }
  // With `more` set the socket stays readable and libuv calls again next turn.
}

void MrdiscAnnouncer::on_solicitation(Family family, int ifindex) {
  for (auto& [name, iface] : ifaces_) {
    if (iface->ifindex != ifindex || !iface->timer) continue;
    auto i = slot(family);
    if (!iface->answers[i].allow(uv_now(loop_))) {
      spdlog::debug("mrdisc: {} Solicitation on {} over the rate limit; not answered",
                    core::family_name(family), name);
      return;
    }
    spdlog::debug("mrdisc: {} Solicitation on {}; answering", core::family_name(family), name);
    if (send(*iface, family, MessageType::advertisement)) iface->announced[i] = true;
    return;
  }
}

}  // namespace mfcd
