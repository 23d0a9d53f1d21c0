// The JSON-RPC listener: a UNIX stream socket served from the main libuv
// loop. It owns the connections (framing, peer credentials, limits) and
// hands each complete line to the Dispatcher; it knows nothing of methods.
// Replies go out in request order: a client's lines are answered one after
// the other, each reply queued (uv_write) before the next line is looked at.
//
// No client can keep the loop from the others:
//   - at most `lines_per_event` of a client's lines are answered when they
//     arrive; the rest wait, its socket is not read meanwhile, and all the
//     clients with lines waiting share `lines_per_turn` answers per loop
//     turn, so together they delay a newcomer by a bounded amount of work;
//   - once `max_queued` bytes of replies wait for a client that does not
//     read them, its further requests are left unread (in the kernel's
//     socket buffer, then in its own) until it reads; if its replies make
//     no progress for `write_timeout_ms`, it is disconnected and what was
//     queued for it is freed;
//   - a connection without a complete request for `idle_timeout_ms` is
//     closed (blank lines do not count);
//   - connections are counted per peer uid (ConnTable): one user cannot
//     take every slot, and root always finds one;
//   - an event subscriber's notifications (push) stop at `max_event_queue`
//     queued bytes: the caller then sends a last one and the connection
//     closes, so a subscriber that does not read costs bounded memory.
#pragma once

#include <uv.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "rpc/dispatcher.hpp"
#include "service/conn_limits.hpp"
#include "service/safe_files.hpp"
#include "service/uv_handle.hpp"

namespace mfcd {

struct RpcServerLimits {
  size_t max_message = 1 << 20;  // bytes per JSON text
  ConnLimits connections;
  uint64_t idle_timeout_ms = 60'000;   // without a complete request
  size_t max_queued = 1 << 20;         // reply bytes queued before reading stops
  uint64_t write_timeout_ms = 10'000;  // queued replies without progress
  size_t lines_per_event = 4;          // lines answered as they are read (or room is made)
  size_t lines_per_turn = 32;          // lines left over, answered per turn for all clients
  uint64_t close_grace_ms = 2'000;     // at close(): time for queued replies
  size_t max_event_queue = 1 << 20;    // notification bytes queued for a subscriber
};

class RpcServer {
 public:
  RpcServer(uv_loop_t* loop, rpc::Dispatcher& dispatcher, RpcServerLimits limits = {});
  ~RpcServer();
  RpcServer(const RpcServer&) = delete;
  RpcServer& operator=(const RpcServer&) = delete;

  // Accepts on a socket claim_socket() made, and owns it from now on (also
  // on failure). Returns an error text on failure.
  std::string serve(ClaimedSocket socket);
  // Stops accepting, gives queued replies `close_grace_ms` to drain, closes
  // every connection and removes the socket file if it is still ours.
  // Handles finish closing on the next loop turns.
  void close();
  size_t client_count() const { return conns_.total(); }

  // Notifications for connection `conn` (rpc::CallContext::conn).
  enum class Push { queued, full, gone };
  // Queues `line` and a newline. `full`: nothing queued, the connection
  // holds max_event_queue bytes already. With `last`, queues it whatever
  // the connection holds, then closes the connection after it.
  Push push(uint64_t conn, std::string_view line, bool last);
  // A streaming connection (an event subscriber) is not closed for being
  // idle, nor when its peer half-closes: it ends when the peer goes.
  void set_streaming(uint64_t conn, bool on);
  // Runs when a connection ends, whatever the reason.
  void set_on_closed(std::function<void(uint64_t conn)> on_closed) {
    on_closed_ = std::move(on_closed);
  }
  // Runs when a client is refused because of a connection limit.
  void set_on_limit(std::function<void(uint32_t uid, const std::string& why)> on_limit) {
    on_limit_ = std::move(on_limit);
  }

 private:
  struct Client;
  static void on_connection(uv_stream_t* server, int status);
  void accept_one();
  void refuse(Client* c, const std::string& why);
  void start_timers(Client* c);
  void on_read(Client* c, ssize_t n, const uv_buf_t* buf);
  // Answers up to `budget` of c's waiting lines; returns how many.
  size_t serve_lines(Client* c, size_t budget);
  void after_lines(Client* c);
  void send(Client* c, std::string data);
  void on_written(Client* c);
  void on_stall_timer(Client* c);
  void on_idle_timer(Client* c);
  void set_reading(Client* c, bool on);
  void schedule(Client* c);
  void run_ready();
  void unlink(Client* c);
  enum class How { flush, abort };
  // flush: queued replies get `grace_ms` (0: close_grace_ms) to leave.
  void drop(Client* c, How how, uint64_t grace_ms = 0);
  static void close_pipe(Client* c);

  uv_loop_t* loop_;
  rpc::Dispatcher& dispatcher_;
  RpcServerLimits limits_;
  ConnTable conns_;
  UvHandle<uv_pipe_t> server_;
  UvHandle<uv_idle_t> ready_idle_;  // serves clients with lines left over
  // Once the last client of a crowd has gone, the heap that served them is
  // handed back (glibc keeps freed heap, however many clients freed it).
  size_t crowd_ = 0;  // most clients at once since the last trim
  std::deque<Client*> ready_;
  std::string path_;
  FileId socket_id_;
  Client* first_ = nullptr;  // intrusive list, so close() can reach every client
  std::unordered_map<uint64_t, Client*> by_conn_;  // admitted clients by their number
  uint64_t next_conn_ = 1;
  std::function<void(uint64_t)> on_closed_;
  std::function<void(uint32_t, const std::string&)> on_limit_;
};

}  // namespace mfcd
