// See metrics_http.hpp. A connection's tcp handle lives inside its Conn,
// freed in the handle's close callback (as the control socket's clients
// are): libuv runs the write and shutdown callbacks first, so none can
// reach a freed Conn. A dropped Conn is unlinked at once, so the listener
// may go before its connections have finished closing.
#include "service/metrics_http.hpp"

#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <algorithm>

#include "core/http_request.hpp"

namespace mfcd {

struct MetricsHttp::Conn {
  MetricsHttp* server = nullptr;
  uv_tcp_t tcp{};
  UvHandle<uv_timer_t> timer;  // the head's deadline, then the answer's
  std::string head;
  bool answered = false;
  bool closing = false;
  Conn* prev = nullptr;
  Conn* next = nullptr;
  uv_stream_t* stream() { return reinterpret_cast<uv_stream_t*>(&tcp); }
};

namespace {

struct WriteReq {
  uv_write_t req{};
  std::string data;
};

int bind_address(uv_tcp_t* tcp, const core::ListenAddress& a) {
  sockaddr_storage ss{};
  const std::string host = a.addr.str();
  int rc = a.addr.family == core::Family::v4
               ? uv_ip4_addr(host.c_str(), a.port, reinterpret_cast<sockaddr_in*>(&ss))
               : uv_ip6_addr(host.c_str(), a.port, reinterpret_cast<sockaddr_in6*>(&ss));
  if (rc != 0) return rc;
  // An IPv6 address means that address only, not the IPv4 ones too.
  const unsigned flags = a.addr.family == core::Family::v6 ? UV_TCP_IPV6ONLY : 0;
  return uv_tcp_bind(tcp, reinterpret_cast<const sockaddr*>(&ss), flags);
}

}  // namespace

MetricsHttp::MetricsHttp(uv_loop_t* loop, Render render, MetricsHttpLimits limits)
    : loop_(loop), render_(std::move(render)), limits_(limits) {}

MetricsHttp::~MetricsHttp() {
  close();
}

std::string MetricsHttp::listen(const core::ListenAddress& address) {
  int rc = server_.init(uv_tcp_init, loop_, this);
  if (rc == 0) rc = bind_address(server_.get(), address);
  if (rc == 0) rc = uv_listen(reinterpret_cast<uv_stream_t*>(server_.get()), 128, on_connection);
  if (rc != 0) {
    server_.close();
    return "cannot listen for metrics on " + address.str() + ": " + uv_strerror(rc);
  }
  spdlog::info("serving metrics at http://{}/metrics", address.str());
  return "";
}

void MetricsHttp::close() {
  server_.close();
  while (first_)
    drop(first_);
}

void MetricsHttp::on_connection(uv_stream_t* server, int status) {
  if (status < 0) {
    spdlog::warn("metrics listener: accept failed: {}", uv_strerror(status));
    return;
  }
  static_cast<MetricsHttp*>(server->data)->accept_one();
}

void MetricsHttp::accept_one() {
  auto* c = new Conn;
  c->server = this;
  uv_tcp_init(loop_, &c->tcp);
  c->tcp.data = c;
  const bool accepted = uv_accept(reinterpret_cast<uv_stream_t*>(server_.get()), c->stream()) == 0;
  if (!accepted || clients_ >= limits_.max_clients) {
    if (accepted) spdlog::warn("metrics listener: {} clients connected, refusing one", clients_);
    c->closing = true;
    uv_close(reinterpret_cast<uv_handle_t*>(&c->tcp),
             [](uv_handle_t* h) { delete static_cast<Conn*>(h->data); });
    return;
  }
  ++clients_;
  c->next = first_;
  if (first_) first_->prev = c;
  first_ = c;
  c->timer.init(uv_timer_init, loop_, c);
  drop_after(c, limits_.idle_timeout_ms);
  uv_read_start(c->stream(), alloc_read_buffer, [](uv_stream_t* s, ssize_t n, const uv_buf_t* buf) {
    auto* conn = static_cast<Conn*>(s->data);
    if (!conn->closing) conn->server->on_read(conn, n, buf);
    delete[] buf->base;
  });
}

void MetricsHttp::on_read(Conn* c, ssize_t n, const uv_buf_t* buf) {
  if (n == UV_EOF && !c->answered && !c->head.empty())
    return answer(c, core::http_error_response(core::HttpVerdict::bad_request));  // half a head
  if (n < 0) return drop(c);
  if (n == 0 || c->answered) return;
  // Only what can still belong to the head is kept: at most the limit.
  const size_t room = limits_.max_request + 1 - std::min(c->head.size(), limits_.max_request + 1);
  c->head.append(buf->base, std::min(static_cast<size_t>(n), room));
  const size_t end = core::http_head_end(c->head);
  if (end == std::string::npos && c->head.size() <= limits_.max_request) return;
  const auto verdict = end == std::string::npos || end > limits_.max_request
                           ? core::HttpVerdict::too_large
                           : core::judge_http_request(std::string_view(c->head).substr(0, end));
  if (verdict == core::HttpVerdict::metrics)
    answer(c, core::http_response(200, core::kMetricsContentType, render_()));
  else
    answer(c, core::http_error_response(verdict));
}

void MetricsHttp::answer(Conn* c, std::string response) {
  c->answered = true;
  uv_read_stop(c->stream());
  auto* w = new WriteReq;
  w->data = std::move(response);
  uv_buf_t b = uv_buf_init(w->data.data(), static_cast<unsigned>(w->data.size()));
  const int rc = uv_write(&w->req, c->stream(), &b, 1,
                          [](uv_write_t* req, int) { delete reinterpret_cast<WriteReq*>(req); });
  if (rc != 0) {
    delete w;
    return drop(c);
  }
  // The answer has write_timeout_ms to leave; the shutdown closes once it has.
  drop_after(c, limits_.write_timeout_ms);
  auto* req = new uv_shutdown_t;
  if (uv_shutdown(req, c->stream(), [](uv_shutdown_t* r, int) {
        auto* conn = static_cast<Conn*>(r->handle->data);
        delete r;
        if (!conn->closing) conn->server->drop(conn);
      }) != 0) {
    delete req;
    drop(c);
  }
}

void MetricsHttp::drop_after(Conn* c, uint64_t ms) {
  uv_update_time(loop_);  // rendering a big table may have taken a while
  uv_timer_start(
      c->timer.get(),
      [](uv_timer_t* t) {
        auto* conn = static_cast<Conn*>(t->data);
        if (!conn->closing) conn->server->drop(conn);
      },
      ms, 0);
}

void MetricsHttp::drop(Conn* c) {
  if (c->closing) return;
  c->closing = true;
  if (c->prev) c->prev->next = c->next;
  if (c->next) c->next->prev = c->prev;
  if (first_ == c) first_ = c->next;
  --clients_;
  c->timer.close();
  uv_close(reinterpret_cast<uv_handle_t*>(&c->tcp),
           [](uv_handle_t* h) { delete static_cast<Conn*>(h->data); });
}

}  // namespace mfcd
