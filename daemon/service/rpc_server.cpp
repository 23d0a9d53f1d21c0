// Connection handling for the control socket. Every libuv handle here is a
// UvHandle (freed in its close callback, as libuv may touch a handle until
// then); a dropped client lives on until its last callback has run. A client that sends a line
// larger than the limit gets one error reply and is disconnected; an idle one is closed after the
// idle timeout; a client over the connection limit gets an error line and is closed at once. None
// of these can stall the other clients.
#include "service/rpc_server.hpp"

#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "rpc/errors.hpp"
#include "rpc/framing.hpp"

namespace mfcd {

struct RpcServer::Client {
  RpcServer* server = nullptr;
  UvHandle<uv_pipe_t> pipe;
  UvHandle<uv_timer_t> idle;
  rpc::LineFramer framer;
  rpc::CallContext ctx;
  bool closing = false;
  Client* prev = nullptr;
  Client* next = nullptr;
  explicit Client(size_t max_line) : framer(max_line) {}
};

namespace {

struct WriteReq {
  uv_write_t req{};
  std::string data;
};

std::string error_line(int code, const std::string& message) {
  nlohmann::json reply = {
      {"jsonrpc", "2.0"}, {"id", nullptr}, {"error", {{"code", code}, {"message", message}}}};
  return reply.dump() + "\n";
}

void write_to(uv_stream_t* stream, std::string data) {
  auto* w = new WriteReq;
  w->data = std::move(data);
  w->req.data = w;
  uv_buf_t buf = uv_buf_init(w->data.data(), static_cast<unsigned>(w->data.size()));
  int rc = uv_write(&w->req, stream, &buf, 1,
                    [](uv_write_t* req, int) { delete static_cast<WriteReq*>(req->data); });
  if (rc != 0) delete w;
}

}  // namespace

RpcServer::RpcServer(uv_loop_t* loop, rpc::Dispatcher& dispatcher, RpcServerLimits limits)
    : loop_(loop), dispatcher_(dispatcher), limits_(limits) {}

RpcServer::~RpcServer() {
  reap();
}

std::string RpcServer::listen(const std::string& path) {
  server_.init(uv_pipe_init, loop_, this, 0);
  reaper_.init(uv_idle_init, loop_, this);
  ::unlink(path.c_str());
  // The socket is created with the umask applied; tighten it so that only
  // root and the socket's group can connect, whatever the umask is.
  mode_t old = ::umask(0117);
  int rc = uv_pipe_bind(server_.get(), path.c_str());
  ::umask(old);
  if (rc == 0) rc = uv_listen(reinterpret_cast<uv_stream_t*>(server_.get()), 128, on_connection);
  if (rc != 0) {
    server_.close();
    return "cannot listen on " + path + ": " + uv_strerror(rc);
  }
  ::chmod(path.c_str(), 0660);
  path_ = path;
  return "";
}

void RpcServer::close() {
  if (server_) {
    server_.close();
    ::unlink(path_.c_str());
  }
  for (Client* c = first_; c;) {
    Client* next = c->next;
    drop(c);
    c = next;
  }
}

void RpcServer::bury(Client* c) {
  // Freed on a later loop turn: the callback that dropped it may still be
  // running on it.
  dead_.push_back(c);
  if (reaper_)
    uv_idle_start(reaper_.get(), [](uv_idle_t* h) { static_cast<RpcServer*>(h->data)->reap(); });
}

void RpcServer::reap() {
  for (Client* c : dead_)
    delete c;
  dead_.clear();
  if (reaper_) uv_idle_stop(reaper_.get());
}

void RpcServer::on_connection(uv_stream_t* server, int status) {
  if (status < 0) {
    spdlog::warn("control socket: accept failed: {}", uv_strerror(status));
    return;
  }
  static_cast<RpcServer*>(server->data)->accept_one();
}

void RpcServer::accept_one() {
  auto* c = new Client(limits_.max_message);
  c->server = this;
  c->pipe.init(uv_pipe_init, loop_, c, 0);
  c->idle.init(uv_timer_init, loop_, c);
  c->next = first_;
  if (first_) first_->prev = c;
  first_ = c;
  ++clients_;

  auto* stream = reinterpret_cast<uv_stream_t*>(c->pipe.get());
  if (uv_accept(reinterpret_cast<uv_stream_t*>(server_.get()), stream) != 0) {
    drop(c);
    return;
  }
  if (clients_ > limits_.max_clients) {
    spdlog::warn("control socket: refusing a client, {} connections already open",
                 limits_.max_clients);
    write_to(stream, error_line(rpc::kLimitExceeded, "too many clients connected"));
    drop(c);
    return;
  }
  uv_os_fd_t fd = -1;
  if (uv_fileno(reinterpret_cast<uv_handle_t*>(c->pipe.get()), &fd) == 0) {
    struct ucred cred {};
    socklen_t len = sizeof(cred);
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0) {
      c->ctx.uid = cred.uid;
      c->ctx.gid = cred.gid;
      c->ctx.pid = cred.pid;
    }
  }

  uv_timer_start(
      c->idle.get(),
      [](uv_timer_t* t) {
        auto* cl = static_cast<Client*>(t->data);
        spdlog::info("control socket: closing idle client (pid {})", cl->ctx.pid);
        cl->server->drop(cl);
      },
      limits_.idle_timeout_ms, limits_.idle_timeout_ms);

  uv_read_start(
      stream,
      [](uv_handle_t*, size_t suggested, uv_buf_t* buf) {
        buf->base = new char[suggested];
        buf->len = suggested;
      },
      [](uv_stream_t* s, ssize_t n, const uv_buf_t* buf) {
        auto* cl = static_cast<Client*>(s->data);
        if (n > 0 && !cl->closing) {
          auto lines = cl->framer.feed(std::string_view(buf->base, static_cast<size_t>(n)));
          delete[] buf->base;
          cl->server->handle_lines(cl, lines);
          return;
        }
        delete[] buf->base;
        if (n == UV_EOF && !cl->closing) {
          // Half-close: answer what is left without a newline, then close.
          std::vector<std::string> rest;
          if (auto tail = cl->framer.take_rest(); !tail.empty()) rest.push_back(std::move(tail));
          cl->server->handle_lines(cl, rest);
          cl->server->drop(cl);
        } else if (n < 0) {
          cl->server->drop(cl);
        }
      });
}

void RpcServer::handle_lines(Client* c, const std::vector<std::string>& lines) {
  auto* stream = reinterpret_cast<uv_stream_t*>(c->pipe.get());
  uv_timer_again(c->idle.get());
  for (const auto& line : lines) {
    if (c->closing) return;
    if (auto reply = dispatcher_.handle(line, c->ctx)) write_to(stream, *reply + "\n");
  }
  if (c->framer.overflowed() && !c->closing) {
    spdlog::warn("control socket: message over {} bytes from pid {}, disconnecting",
                 limits_.max_message, c->ctx.pid);
    write_to(stream,
             error_line(rpc::kInvalidRequest, "message too large (limit " +
                                                  std::to_string(limits_.max_message) + " bytes)"));
    drop(c);
  }
}

void RpcServer::drop(Client* c) {
  if (c->closing) return;
  c->closing = true;
  if (c->prev) c->prev->next = c->next;
  if (c->next) c->next->prev = c->prev;
  if (first_ == c) first_ = c->next;
  c->prev = c->next = nullptr;
  --clients_;
  c->idle.close();
  // uv_shutdown lets already queued replies reach the peer before the close;
  // the client goes in its callback (its pipe with it).
  auto* stream = reinterpret_cast<uv_stream_t*>(c->pipe.get());
  uv_read_stop(stream);
  auto* req = new uv_shutdown_t;
  req->data = c;
  const int rc = uv_shutdown(req, stream, [](uv_shutdown_t* r, int) {
    auto* cl = static_cast<Client*>(r->data);
    delete r;
    cl->server->bury(cl);
  });
  if (rc != 0) {
    delete req;
    bury(c);
  }
}

}  // namespace mfcd
