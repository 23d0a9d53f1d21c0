// Which interfaces exist, and when that changes: rtnetlink via libmnl.
//
// dump_links() answers "what is there now" for startup and resyncs;
// LinkMonitor reports changes as they happen so the daemon can re-resolve its
// intent (a phyint appearing, going down or vanishing). Neither logs; errors
// come back as core::Error with Errc::kernel and the errno.
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "core/addr.hpp"
#include "core/links.hpp"
#include "core/mrules.hpp"
#include "core/result.hpp"

struct mnl_socket;

namespace mfcd::kernel {

// RTM_GETLINK dump of the current network namespace: name, ifindex, up
// (IFF_UP), multicast (IFF_MULTICAST), loopback (IFF_LOOPBACK). In ifindex
// order, as the kernel reports them.
core::Result<core::Links> dump_links();

// RTM_GETRULE dump of one family's multicast routing rules (`ip mrule`),
// in the order the kernel tries them. A kernel without multiple multicast
// tables has no such rules: the error then has sys_errno EAFNOSUPPORT.
core::Result<std::vector<core::MrRule>> dump_mrules(core::Family family);

using core::LinkEvent;

// Appends the link events of one datagram read from a link monitor socket
// (one or more netlink messages) to `events`, in order. Messages of other
// types, of other families or malformed ones are skipped; a truncated
// message ends the datagram. mfcd reads no address messages: VIFs are
// bound by ifindex, so addresses never matter to it.
void parse_link_events(const void* data, size_t len, std::vector<LinkEvent>& events);

// Subscribed to RTNLGRP_LINK. The socket is non-blocking; poll fd() for
// readability.
class LinkMonitor {
 public:
  static core::Result<std::unique_ptr<LinkMonitor>> open();
  LinkMonitor(const LinkMonitor&) = delete;
  LinkMonitor& operator=(const LinkMonitor&) = delete;
  ~LinkMonitor();

  int fd() const;

  // Reads at most `budget` queued messages without blocking and returns the
  // link events among them, in order; *more is set when the budget ran out
  // (call again: the socket is still readable). No request is made here:
  // a callback never waits for the kernel. If the kernel dropped messages
  // because the socket overran (ENOBUFS), *resync is set and no event is
  // returned: the queue was read to its end and the caller must call
  // dump_links() again.
  std::vector<LinkEvent> read_events(size_t budget, bool* resync, bool* more);

  // Raises the receive buffer (SO_RCVBUFFORCE, else SO_RCVBUF) so a burst of
  // link changes does not overrun the socket.
  void set_rcvbuf(int bytes);

 private:
  explicit LinkMonitor(mnl_socket* sock) : sock_(sock) {}
  mnl_socket* sock_ = nullptr;
};

}  // namespace mfcd::kernel
