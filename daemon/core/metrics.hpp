// The daemon's figures in the Prometheus text exposition format (0.0.4):
// a snapshot of plain numbers in, the text out. Everything that reads the
// kernel, the router or /proc fills a MetricsSnapshot elsewhere (api/,
// service/); this file only names, orders and escapes, so that the names
// and the format are tested without a daemon.
//
// The output is stable for equal snapshots: families come in a fixed
// order and the series of each family are sorted by their labels, whatever
// order the snapshot lists them in (the MFC table is a hash map).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/addr.hpp"
#include "core/result.hpp"

namespace mfcd::core {

// The Content-Type of the text, and the name metrics.get reports.
inline constexpr std::string_view kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";
inline constexpr std::string_view kMetricsFormat = "prometheus-text-0.0.4";

struct MetricsSnapshot {
  // One MFC entry mfcd installed, with the kernel's counters.
  struct Route {
    std::string family, source, group, iif;
    std::string origin;  // "static" (a route's entry) or "dynamic" (learned by a rule)
    uint64_t packets = 0, bytes = 0, wrong_if = 0;
  };
  // One VIF (MIF) mfcd installed, with the kernel's counters.
  struct Vif {
    std::string family;
    int vif = 0;
    std::string ifname;
    uint64_t packets_in = 0, packets_out = 0, bytes_in = 0, bytes_out = 0;
  };
  // The routes and VIFs of one family in the daemon's table.
  struct Table {
    std::string family;
    uint32_t table = 0;
    std::vector<std::pair<std::string, uint64_t>> routes_by_state;  // state name -> routes
    uint64_t pending_routes = 0, pending_joins = 0;                 // as pending.list has them
    uint64_t vifs_used = 0, vifs_free = 0;
  };
  struct Reloads {
    uint64_t succeeded = 0, failed = 0;
    std::optional<double> last_seconds;  // nullopt: no reload since start
    bool last_ok = false;
  };
  struct RpcMethod {
    std::string method;
    uint64_t requests = 0, errors = 0;
  };

  std::vector<Route> routes;
  std::vector<Vif> vifs;
  std::vector<std::pair<std::string, uint64_t>> upcalls;        // type -> received
  std::vector<std::pair<std::string, uint64_t>> upcall_events;  // what upcalls led to
  uint64_t upcalls_lost = 0;
  std::vector<Table> tables;
  Reloads reloads;
  std::vector<RpcMethod> rpc;
  std::vector<std::pair<std::string, uint64_t>> clients;  // listener -> connected
  std::optional<uint64_t> resident_bytes;                 // nullopt: could not be read
  std::optional<uint64_t> open_fds;
};

// The whole exposition, every family with its HELP and TYPE lines.
std::string render_metrics(const MetricsSnapshot& snapshot);

// A label value as the format wants it: backslash, double quote and
// newline escaped, nothing else touched.
std::string escape_label_value(std::string_view value);

// Where the optional HTTP listener listens: "PORT", "ADDR:PORT" or
// "[ADDR6]:PORT". A bare port means 127.0.0.1.
struct ListenAddress {
  Addr addr;
  uint16_t port = 0;
  std::string str() const;  // "127.0.0.1:9468", "[::1]:9468"
};
Result<ListenAddress> parse_listen_address(std::string_view text);

}  // namespace mfcd::core
