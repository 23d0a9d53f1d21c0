// The optional HTTP listener for Prometheus: GET /metrics on a TCP address
// (loopback unless told otherwise), served from the main libuv loop. One
// request per connection: its head is read, answered (rendered on the
// spot, the same text as metrics.get), and the connection closed.
//
// Its limits are the control socket's kinds (rpc_server.hpp): at most
// `max_clients` connections (more are closed at once), a request head of
// at most `max_request` bytes (431 past it), `idle_timeout_ms` for the head
// to arrive and `write_timeout_ms` for the answer to leave, and each
// callback does one read's worth of work or one answer. Nothing blocks: a
// slow reader's answer waits in libuv's write queue until it times out.
#pragma once

#include <uv.h>

#include <cstdint>
#include <functional>
#include <string>

#include "core/metrics.hpp"
#include "service/uv_handle.hpp"

namespace mfcd {

struct MetricsHttpLimits {
  size_t max_clients = 64;
  size_t max_request = 8 << 10;  // bytes of request head
  uint64_t idle_timeout_ms = 10'000;
  uint64_t write_timeout_ms = 10'000;
};

class MetricsHttp {
 public:
  using Render = std::function<std::string()>;
  MetricsHttp(uv_loop_t* loop, Render render, MetricsHttpLimits limits = {});
  ~MetricsHttp();
  MetricsHttp(const MetricsHttp&) = delete;
  MetricsHttp& operator=(const MetricsHttp&) = delete;

  // Binds and listens; an error text on failure.
  std::string listen(const core::ListenAddress& address);
  // Stops accepting and closes every connection; handles finish closing
  // on the next loop turns.
  void close();
  size_t client_count() const { return clients_; }

 private:
  struct Conn;
  static void on_connection(uv_stream_t* server, int status);
  void accept_one();
  void on_read(Conn* c, ssize_t n, const uv_buf_t* buf);
  void answer(Conn* c, std::string response);
  void drop_after(Conn* c, uint64_t ms);  // (re)starts c's one deadline
  void drop(Conn* c);

  uv_loop_t* loop_;
  Render render_;
  MetricsHttpLimits limits_;
  UvHandle<uv_tcp_t> server_;
  size_t clients_ = 0;
  Conn* first_ = nullptr;  // every open connection, so close() reaches them
};

}  // namespace mfcd
