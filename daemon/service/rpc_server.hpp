// The JSON-RPC listener: a UNIX stream socket served from the main libuv
// loop. It owns the connections (framing, peer credentials, limits) and
// hands each complete line to the Dispatcher; it knows nothing of methods.
// Replies are written in request order because each line is answered
// synchronously before the next one is read.
#pragma once

#include <uv.h>

#include <functional>
#include <string>
#include <vector>

#include "rpc/dispatcher.hpp"
#include "service/uv_handle.hpp"

namespace mfcd {

struct RpcServerLimits {
  size_t max_message = 1 << 20;  // bytes per JSON text
  size_t max_clients = 64;
  uint64_t idle_timeout_ms = 60'000;
};

class RpcServer {
 public:
  RpcServer(uv_loop_t* loop, rpc::Dispatcher& dispatcher, RpcServerLimits limits = {});
  ~RpcServer();
  RpcServer(const RpcServer&) = delete;
  RpcServer& operator=(const RpcServer&) = delete;

  // Binds and listens; removes a stale socket file first. Mode 0660.
  // Returns an error text on failure.
  std::string listen(const std::string& path);
  // Stops accepting, lets queued replies drain, closes every connection and
  // removes the socket file. Handles finish closing on the next loop turns.
  void close();
  size_t client_count() const { return clients_; }

 private:
  struct Client;
  static void on_connection(uv_stream_t* server, int status);
  void accept_one();
  void handle_lines(Client* c, const std::vector<std::string>& lines);
  void drop(Client* c);
  void bury(Client* c);
  void reap();

  uv_loop_t* loop_;
  rpc::Dispatcher& dispatcher_;
  RpcServerLimits limits_;
  UvHandle<uv_pipe_t> server_;
  UvHandle<uv_idle_t> reaper_;  // frees dropped clients on a later turn
  std::vector<Client*> dead_;
  std::string path_;
  size_t clients_ = 0;
  Client* first_ = nullptr;  // intrusive list, so close() can reach every client
};

}  // namespace mfcd
