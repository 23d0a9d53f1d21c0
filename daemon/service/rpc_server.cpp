// Connection handling for the control socket. A client's pipe handle lives
// inside the Client, and the Client is freed in the pipe's close callback:
// libuv runs every write and shutdown callback of a handle (cancelled ones
// included) before its close callback, so nothing can reach a freed client.
// Once a client is dropped (`closing`), its callbacks only finish closing
// and never touch the server, so the server may go before they have run.
//
// A client is served by serve_lines(): framed lines wait in `pending` and
// are answered until the budget is spent or its queued replies pass the
// cap: a few as they arrive (or as a write makes room), the rest on later
// loop turns (`ready_`), where all clients with lines left over share one
// budget per turn. While lines wait, its socket is not read. So ten clients
// pipelining at once cost a turn a few answers each, then a bounded share;
// one that never reads costs the loop replies up to the cap, then nothing
// until its write timeout; everyone else is served meanwhile.
#include "service/rpc_server.hpp"

#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <deque>
#include <nlohmann/json.hpp>

#include "rpc/errors.hpp"
#include "rpc/framing.hpp"
#include "service/heap.hpp"

namespace mfcd {

namespace {

// After a client that had this much queued leaves, the freed memory is
// handed back to the system at once (glibc keeps freed heap otherwise).
constexpr size_t kTrimAfter = 256 << 10;
// After this many clients at once, the heap is trimmed once the last of
// them is freed.
constexpr size_t kTrimCrowd = 16;

// Clients not yet freed, closing ones included, and whether the last of them
// to go trims the heap. They live here rather than in the server because a
// dropped client's close callback must not touch the server (see above), and
// a client that never read is freed only after its grace period, long after
// it left the server's count: a trim at the server's last unlink ran before
// those replies were freed and left megabytes in the heap.
size_t clients_alive = 0;
bool trim_when_all_freed = false;

struct WriteReq {
  uv_write_t req{};
  std::string data;
};

std::string error_line(int code, const std::string& message) {
  nlohmann::json reply = {
      {"jsonrpc", "2.0"}, {"id", nullptr}, {"error", {{"code", code}, {"message", message}}}};
  return reply.dump() + "\n";
}

}  // namespace

struct RpcServer::Client {
  RpcServer* server = nullptr;
  uv_pipe_t pipe{};            // its close callback frees the Client
  UvHandle<uv_timer_t> idle;   // no complete request for idle_timeout_ms
  UvHandle<uv_timer_t> stall;  // replies stuck; after a drop, the close grace
  rpc::LineFramer framer;
  std::deque<std::string> pending;  // framed, not answered yet
  rpc::CallContext ctx;
  size_t enqueued = 0;          // reply bytes ever handed to uv_write
  size_t written_at_check = 0;  // enqueued - queued at the last stall check
  size_t peak_queued = 0;
  bool admitted = false;  // holds a ConnTable slot and is in the list
  bool reading = false;
  bool eof = false;  // the peer half-closed: answer what is pending, then close
  bool closing = false;
  bool scheduled = false;  // in the server's ready_ list
  bool streaming = false;  // an event subscriber
  Client* prev = nullptr;
  Client* next = nullptr;
  explicit Client(size_t max_line) : framer(max_line) {}

  uv_stream_t* stream() { return reinterpret_cast<uv_stream_t*>(&pipe); }
  size_t queued() const {
    return uv_stream_get_write_queue_size(reinterpret_cast<const uv_stream_t*>(&pipe));
  }
};

RpcServer::RpcServer(uv_loop_t* loop, rpc::Dispatcher& dispatcher, RpcServerLimits limits)
    : loop_(loop), dispatcher_(dispatcher), limits_(limits), conns_(limits.connections) {}

RpcServer::~RpcServer() {
  close();
}

std::string RpcServer::serve(ClaimedSocket socket) {
  path_ = socket.path;
  socket_id_ = socket.id;
  bool adopted = false;  // once uv_pipe_open took it, closing the handle closes the fd
  int rc = server_.init(uv_pipe_init, loop_, this, 0);
  if (rc == 0) {
    rc = uv_pipe_open(server_.get(), socket.fd);
    adopted = rc == 0;
  }
  if (rc == 0) rc = ready_idle_.init(uv_idle_init, loop_, this);
  if (rc == 0)
    rc = uv_listen(reinterpret_cast<uv_stream_t*>(server_.get()), SOMAXCONN, on_connection);
  if (rc != 0) {
    if (!adopted) ::close(socket.fd);
    close();
    return "cannot listen on " + path_ + ": " + uv_strerror(rc);
  }
  return "";
}

void RpcServer::close() {
  if (server_) server_.close();
  if (socket_id_.valid()) remove_if_same(path_, socket_id_);
  socket_id_ = {};
  while (first_)
    drop(first_, How::flush);
  ready_.clear();
  ready_idle_.close();
}

// --- accepting ----------------------------------------------------------------------

void RpcServer::on_connection(uv_stream_t* server, int status) {
  if (status < 0) {
    spdlog::warn("control socket: accept failed: {}", uv_strerror(status));
    return;
  }
  static_cast<RpcServer*>(server->data)->accept_one();
}

namespace {

// The peer's supplementary groups, as the kernel recorded them when it
// connected (Linux 4.13+), from the same credentials as SO_PEERCRED. The
// alternatives are worse: /proc/PID/status of the peer's pid may by now be
// another process (the client exited and the pid was reused) or the same
// one after it changed its groups, and getgrouplist() answers what the
// group database says of the uid's user, not what the process holds (a
// client that dropped its groups would still count as a member, and a uid
// without a passwd entry would count as none).
bool read_peer_groups(int fd, std::vector<uint32_t>& groups) {
  std::vector<gid_t> buf(16);
  for (;;) {
    socklen_t len = static_cast<socklen_t>(buf.size() * sizeof(gid_t));
    if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, buf.data(), &len) == 0) {
      groups.assign(buf.begin(), buf.begin() + len / sizeof(gid_t));
      return true;
    }
    // ERANGE: len now says how much room the list needs.
    if (errno != ERANGE || len / sizeof(gid_t) <= buf.size()) return false;
    buf.resize(len / sizeof(gid_t));
  }
}

bool read_peer(uv_pipe_t* pipe, rpc::CallContext& ctx) {
  uv_os_fd_t fd = -1;
  if (uv_fileno(reinterpret_cast<uv_handle_t*>(pipe), &fd) != 0) return false;
  struct ucred cred {};
  socklen_t len = sizeof(cred);
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return false;
  ctx.uid = cred.uid;
  ctx.gid = cred.gid;
  ctx.pid = cred.pid;
  return read_peer_groups(fd, ctx.groups);
}

}  // namespace

void RpcServer::accept_one() {
  auto* c = new Client(limits_.max_message);
  ++clients_alive;
  c->server = this;
  uv_pipe_init(loop_, &c->pipe, 0);
  c->pipe.data = c;
  if (uv_accept(reinterpret_cast<uv_stream_t*>(server_.get()), c->stream()) != 0) {
    c->closing = true;
    close_pipe(c);
    return;
  }
  // Unknown credentials would pass for root's (uid 0): refuse instead.
  if (!read_peer(&c->pipe, c->ctx)) return refuse(c, "cannot read the peer's credentials");
  if (auto why = conns_.admit(c->ctx.uid); !why.empty()) {
    if (on_limit_) on_limit_(c->ctx.uid, why);
    return refuse(c, why);
  }
  c->admitted = true;
  crowd_ = std::max(crowd_, conns_.total());
  c->ctx.conn = next_conn_++;
  by_conn_[c->ctx.conn] = c;
  c->next = first_;
  if (first_) first_->prev = c;
  first_ = c;
  start_timers(c);
  set_reading(c, true);
}

void RpcServer::refuse(Client* c, const std::string& why) {
  spdlog::warn("control socket: refusing a client (pid {}, uid {}): {}", c->ctx.pid, c->ctx.uid,
               why);
  c->stall.init(uv_timer_init, loop_, c);
  send(c, error_line(rpc::kLimitExceeded, why));
  drop(c, How::flush);
}

void RpcServer::start_timers(Client* c) {
  c->stall.init(uv_timer_init, loop_, c);
  c->idle.init(uv_timer_init, loop_, c);
  // Repeating: each complete request restarts it (uv_timer_again); a
  // client that is busy when it fires is looked at again one period later.
  uv_timer_start(
      c->idle.get(),
      [](uv_timer_t* t) {
        auto* cl = static_cast<Client*>(t->data);
        if (!cl->closing) cl->server->on_idle_timer(cl);
      },
      limits_.idle_timeout_ms, limits_.idle_timeout_ms);
}

// --- reading and answering ------------------------------------------------------

void RpcServer::set_reading(Client* c, bool on) {
  if (on == c->reading || (on && (c->eof || c->closing))) return;
  c->reading = on;
  if (!on) {
    uv_read_stop(c->stream());
    return;
  }
  uv_read_start(c->stream(), alloc_read_buffer, [](uv_stream_t* s, ssize_t n, const uv_buf_t* buf) {
    auto* cl = static_cast<Client*>(s->data);
    if (!cl->closing) cl->server->on_read(cl, n, buf);
    delete[] buf->base;
  });
}

void RpcServer::on_read(Client* c, ssize_t n, const uv_buf_t* buf) {
  if (n > 0) {
    for (auto& line : c->framer.feed(std::string_view(buf->base, static_cast<size_t>(n))))
      c->pending.push_back(std::move(line));
  } else if (n == UV_EOF) {
    // Half-close: answer what is left, a last line without '\n' included.
    c->eof = true;
    c->reading = false;  // libuv stopped reading at EOF
    if (auto tail = c->framer.take_rest(); !tail.empty()) c->pending.push_back(std::move(tail));
  } else if (n < 0) {
    drop(c, How::abort);
    return;
  } else {
    return;  // nothing read this time (EAGAIN)
  }
  serve_lines(c, limits_.lines_per_event);
}

size_t RpcServer::serve_lines(Client* c, size_t budget) {
  size_t served = 0;
  while (!c->closing && !c->pending.empty() && served < budget &&
         c->queued() < limits_.max_queued) {
    std::string line = std::move(c->pending.front());
    c->pending.pop_front();
    ++served;
    auto reply = dispatcher_.handle(line, c->ctx);
    // The loop's clock stood still while the request ran (a big listing
    // can take a while): the timers (re)started now must count from now.
    uv_update_time(loop_);
    uv_timer_again(c->idle.get());
    if (reply) send(c, *reply + "\n");
  }
  if (!c->closing) after_lines(c);
  return served;
}

// What a client waits for after a round of answers: more bytes from it,
// the next loop turn, room for its replies, or its end.
void RpcServer::after_lines(Client* c) {
  const bool room = c->queued() < limits_.max_queued;
  if (!c->pending.empty()) {
    set_reading(c, false);
    if (room) schedule(c);  // budget spent: continue on the next turn
    return;                 // else on_written resumes it
  }
  if (c->framer.overflowed()) {
    spdlog::warn("control socket: message over {} bytes from pid {}, disconnecting",
                 limits_.max_message, c->ctx.pid);
    send(c, error_line(rpc::kInvalidRequest, "message too large (limit " +
                                                 std::to_string(limits_.max_message) + " bytes)"));
    drop(c, How::flush);
  } else if (c->eof && !c->streaming) {
    drop(c, How::flush);
  } else {
    set_reading(c, room);
  }
}

void RpcServer::schedule(Client* c) {
  if (c->scheduled) return;
  c->scheduled = true;
  ready_.push_back(c);
  if (ready_idle_)
    uv_idle_start(ready_idle_.get(),
                  [](uv_idle_t* h) { static_cast<RpcServer*>(h->data)->run_ready(); });
}

// One turn's share of the left-over lines, for every client together: ten
// clients pipelining listings cost the loop `lines_per_turn` answers per
// turn, not ten times that, so a newcomer's request (read in the same turn)
// waits behind a bounded amount of work. Clients are served in the order
// they became ready; one served goes to the back when it has lines left,
// one the budget did not reach keeps its place at the front.
void RpcServer::run_ready() {
  size_t budget = limits_.lines_per_turn;
  while (budget > 0 && !ready_.empty()) {
    Client* c = ready_.front();
    ready_.pop_front();
    c->scheduled = false;
    if (!c->closing) budget -= std::min(budget, serve_lines(c, budget));
  }
  if (ready_.empty() && ready_idle_) uv_idle_stop(ready_idle_.get());
}

// --- writing ----------------------------------------------------------------------

void RpcServer::send(Client* c, std::string data) {
  auto* w = new WriteReq;
  w->data = std::move(data);
  w->req.data = w;
  const size_t size = w->data.size();
  uv_buf_t buf = uv_buf_init(w->data.data(), static_cast<unsigned>(size));
  // uv_write writes what the socket takes now and queues the rest; the
  // loop writes the rest as the peer reads, never blocking on it.
  const int rc = uv_write(&w->req, c->stream(), &buf, 1, [](uv_write_t* req, int status) {
    auto* cl = static_cast<Client*>(req->handle->data);
    delete static_cast<WriteReq*>(req->data);
    if (cl->closing) return;
    if (status < 0)
      cl->server->drop(cl, How::abort);
    else
      cl->server->on_written(cl);
  });
  if (rc != 0) {
    delete w;
    if (!c->closing) drop(c, How::abort);
    return;
  }
  c->enqueued += size;
  const size_t queued = c->queued();
  c->peak_queued = std::max(c->peak_queued, queued);
  if (queued > 0 && c->stall && !uv_is_active(reinterpret_cast<uv_handle_t*>(c->stall.get())) &&
      !c->closing) {
    c->written_at_check = c->enqueued - queued;
    // Events are sent from inside long work (a reload of thousands of
    // routes), while the loop's clock stands still: count from now.
    uv_update_time(loop_);
    uv_timer_start(
        c->stall.get(),
        [](uv_timer_t* t) {
          auto* cl = static_cast<Client*>(t->data);
          if (cl->closing)
            close_pipe(cl);  // the close grace is over
          else
            cl->server->on_stall_timer(cl);
        },
        limits_.write_timeout_ms, limits_.write_timeout_ms);
  }
}

void RpcServer::on_written(Client* c) {
  if (c->queued() == 0) uv_timer_stop(c->stall.get());
  // Room again for replies: lines that waited for it are answered.
  if (!c->pending.empty() && !c->scheduled)
    serve_lines(c, limits_.lines_per_event);
  else if (c->pending.empty())
    after_lines(c);
}

void RpcServer::on_stall_timer(Client* c) {
  const size_t queued = c->queued();
  const size_t written = c->enqueued - queued;
  if (queued == 0) {
    uv_timer_stop(c->stall.get());
  } else if (written > c->written_at_check) {
    c->written_at_check = written;  // slow, but reading
  } else {
    spdlog::warn(
        "control socket: client (pid {}, uid {}) read none of {} bytes of replies for {} ms, "
        "disconnecting",
        c->ctx.pid, c->ctx.uid, queued, limits_.write_timeout_ms);
    drop(c, How::abort);
  }
}

void RpcServer::on_idle_timer(Client* c) {
  // Busy is not idle: the stall timer watches a client with replies queued.
  // A subscriber waits for events, not for itself.
  if (!c->pending.empty() || c->queued() > 0 || c->streaming) return;
  spdlog::info("control socket: closing idle client (pid {}, uid {}): no request for {} ms",
               c->ctx.pid, c->ctx.uid, limits_.idle_timeout_ms);
  drop(c, How::flush);
}

// --- notifications ------------------------------------------------------------------

RpcServer::Push RpcServer::push(uint64_t conn, std::string_view line, bool last) {
  auto it = by_conn_.find(conn);
  if (it == by_conn_.end() || it->second->closing) return Push::gone;
  Client* c = it->second;
  if (!last && c->queued() + line.size() > limits_.max_event_queue) return Push::full;
  std::string data;
  data.reserve(line.size() + 1);
  data.append(line).push_back('\n');
  send(c, std::move(data));
  if (c->closing) return Push::gone;  // the write failed
  if (last) {
    spdlog::warn(
        "control socket: event subscriber (pid {}, uid {}) fell {} bytes behind; "
        "disconnecting",
        c->ctx.pid, c->ctx.uid, c->queued());
    // The overflow notification is the subscriber's cue to resync: it
    // gets as long as any reply to arrive, not the shutdown grace.
    drop(c, How::flush, limits_.write_timeout_ms);
  }
  return Push::queued;
}

void RpcServer::set_streaming(uint64_t conn, bool on) {
  auto it = by_conn_.find(conn);
  if (it == by_conn_.end()) return;
  it->second->streaming = on;
  // A half-closed subscriber that unsubscribes is done.
  if (!on && it->second->eof && it->second->pending.empty()) schedule(it->second);
}

// --- closing ----------------------------------------------------------------------

void RpcServer::unlink(Client* c) {
  if (c->admitted) {
    if (c->prev) c->prev->next = c->next;
    if (c->next) c->next->prev = c->prev;
    if (first_ == c) first_ = c->next;
    c->prev = c->next = nullptr;
    conns_.release(c->ctx.uid);
    c->admitted = false;
    by_conn_.erase(c->ctx.conn);
    if (on_closed_) on_closed_(c->ctx.conn);
    // The clients' memory is freed in their close callbacks, from a turn
    // from now to a grace period later: the last of them trims.
    if (conns_.total() == 0 && crowd_ >= kTrimCrowd) {
      crowd_ = 0;
      trim_when_all_freed = true;
    }
  }
  if (c->scheduled) {
    ready_.erase(std::find(ready_.begin(), ready_.end(), c));
    c->scheduled = false;
  }
}

void RpcServer::drop(Client* c, How how, uint64_t grace_ms) {
  if (c->closing) return;
  c->closing = true;
  unlink(c);
  c->idle.close();
  set_reading(c, false);
  c->pending.clear();
  if (how == How::abort || !c->stall) return close_pipe(c);
  // uv_shutdown lets the replies already queued reach the peer before the
  // close, but only for the grace period: a peer that never reads must not
  // hold its memory (or the daemon's exit) for ever.
  auto* req = new uv_shutdown_t;
  if (uv_shutdown(req, c->stream(), [](uv_shutdown_t* r, int) {
        auto* cl = static_cast<Client*>(r->handle->data);
        delete r;
        close_pipe(cl);
      }) != 0) {
    delete req;
    return close_pipe(c);
  }
  // The grace counts from now, not from the start of the loop turn: a
  // subscriber dropped in the middle of a 20 s reload still gets it whole.
  uv_update_time(loop_);
  uv_timer_start(
      c->stall.get(), [](uv_timer_t* t) { close_pipe(static_cast<Client*>(t->data)); },
      grace_ms ? grace_ms : std::min(limits_.close_grace_ms, limits_.write_timeout_ms), 0);
}

void RpcServer::close_pipe(Client* c) {
  auto* handle = reinterpret_cast<uv_handle_t*>(&c->pipe);
  if (uv_is_closing(handle)) return;
  c->stall.close();
  uv_close(handle, [](uv_handle_t* h) {
    auto* cl = static_cast<Client*>(h->data);
    bool trim = cl->peak_queued >= kTrimAfter;
    delete cl;
    if (--clients_alive == 0 && trim_when_all_freed) {
      trim_when_all_freed = false;
      trim = true;
    }
    if (trim) trim_heap();
  });
}

}  // namespace mfcd
