// See metrics.hpp. The names follow Prometheus' conventions: the mfcd_
// prefix, base units (bytes, seconds), _total on counters. A counter's
// TYPE line names the series with its _total, as the 0.0.4 format does.
#include "core/metrics.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <numeric>
#include <optional>
#include <tuple>

namespace mfcd::core {

namespace {

using Labels = std::vector<std::pair<std::string_view, std::string>>;

class Exposition {
 public:
  void family(std::string_view name, std::string_view type, std::string_view help) {
    out_.append("# HELP ").append(name).append(" ").append(help).append("\n");
    out_.append("# TYPE ").append(name).append(" ").append(type).append("\n");
  }
  void sample(std::string_view name, const Labels& labels, uint64_t value) {
    sample_text(name, labels, std::to_string(value));
  }
  void sample(std::string_view name, const Labels& labels, double value) {
    char buf[64];
    // Shortest text that reads back as the same double.
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
    sample_text(name, labels, ec == std::errc() ? std::string(buf, end) : "NaN");
  }
  std::string take() { return std::move(out_); }

 private:
  void sample_text(std::string_view name, const Labels& labels, const std::string& value) {
    out_.append(name);
    if (!labels.empty()) {
      out_ += '{';
      for (size_t i = 0; i < labels.size(); ++i) {
        if (i) out_ += ',';
        out_.append(labels[i].first).append("=\"");
        out_.append(escape_label_value(labels[i].second)).append("\"");
      }
      out_ += '}';
    }
    out_.append(" ").append(value).append("\n");
  }
  std::string out_;
};

// Indices of `items` in the order `less` gives, so that the caller's order
// never shows in the output.
template <typename T, typename Less>
std::vector<size_t> sorted(const std::vector<T>& items, Less less) {
  std::vector<size_t> idx(items.size());
  std::iota(idx.begin(), idx.end(), size_t{0});
  std::stable_sort(idx.begin(), idx.end(),
                   [&](size_t a, size_t b) { return less(items[a], items[b]); });
  return idx;
}

using Named = std::vector<std::pair<std::string, uint64_t>>;

// One family whose series differ by one label, sorted by it.
void named_counts(Exposition& e, std::string_view name, std::string_view type,
                  std::string_view help, std::string_view label, const Named& values) {
  e.family(name, type, help);
  for (size_t i : sorted(values, [](const auto&a, const auto&b) { return a.first < b.first; }))
    e.sample(name, {{label, values[i].first}}, values[i].second);
}

void route_families(Exposition& e, const std::vector<MetricsSnapshot::Route>& routes) {
  using R = MetricsSnapshot::Route;
  const auto order = sorted(routes, [](const R& a, const R& b) {
    return std::tie(a.family, a.group, a.source, a.iif, a.origin) <
           std::tie(b.family, b.group, b.source, b.iif, b.origin);
  });
  struct Field {
    std::string_view name, help;
    uint64_t R::*value;
  };
  const Field fields[] = {
      {"mfcd_route_packets_total",
       "Packets the kernel counted on an MFC entry mfcd installed (wrong-interface ones included).",
       &R::packets},
      {"mfcd_route_bytes_total", "Bytes the kernel counted on an MFC entry mfcd installed.",
       &R::bytes},
      {"mfcd_route_wrong_interface_packets_total",
       "Packets of an MFC entry's flow that arrived on another interface than its inbound one.",
       &R::wrong_if},
  };
  for (const Field& f : fields) {
    e.family(f.name, "counter", f.help);
    for (size_t i : order) {
      const R& r = routes[i];
      e.sample(f.name,
               {{"family", r.family},
                {"source", r.source},
                {"group", r.group},
                {"iif", r.iif},
                {"origin", r.origin}},
               r.*f.value);
    }
  }
}

void vif_families(Exposition& e, const std::vector<MetricsSnapshot::Vif>& vifs) {
  using V = MetricsSnapshot::Vif;
  const auto order = sorted(vifs, [](const V& a, const V& b) {
    return std::tie(a.family, a.vif) < std::tie(b.family, b.vif);
  });
  struct Field {
    std::string_view name, help;
    uint64_t V::*value;
  };
  const Field fields[] = {
      {"mfcd_vif_received_packets_total", "Multicast packets the kernel received on a VIF.",
       &V::packets_in},
      {"mfcd_vif_received_bytes_total", "Multicast bytes the kernel received on a VIF.",
       &V::bytes_in},
      {"mfcd_vif_sent_packets_total", "Multicast packets the kernel forwarded out of a VIF.",
       &V::packets_out},
      {"mfcd_vif_sent_bytes_total", "Multicast bytes the kernel forwarded out of a VIF.",
       &V::bytes_out},
  };
  for (const Field& f : fields) {
    e.family(f.name, "counter", f.help);
    for (size_t i : order) {
      const V& v = vifs[i];
      e.sample(f.name,
               {{"family", v.family}, {"vif", std::to_string(v.vif)}, {"interface", v.ifname}},
               v.*f.value);
    }
  }
}

void table_families(Exposition& e, const std::vector<MetricsSnapshot::Table>& tables) {
  using T = MetricsSnapshot::Table;
  const auto order = sorted(tables, [](const T& a, const T& b) {
    return std::tie(a.family, a.table) < std::tie(b.family, b.table);
  });
  auto where = [](const T& t) -> Labels {
    return {{"family", t.family}, {"table", std::to_string(t.table)}};
  };
  e.family("mfcd_routes", "gauge", "Configured and API routes, by their state.");
  for (size_t i : order) {
    Named states = tables[i].routes_by_state;
    std::sort(states.begin(), states.end());
    for (const auto& [state, n] : states) {
      Labels l = where(tables[i]);
      l.emplace_back("state", state);
      e.sample("mfcd_routes", l, n);
    }
  }
  e.family("mfcd_pending_items", "gauge",
           "Routes and joins waiting for an interface, as pending.list lists them.");
  for (size_t i : order) {
    for (const auto& [kind, n] :
         {std::pair<std::string, uint64_t>{"mgroup", tables[i].pending_joins},
          {"mroute", tables[i].pending_routes}}) {
      Labels l = where(tables[i]);
      l.emplace_back("kind", kind);
      e.sample("mfcd_pending_items", l, n);
    }
  }
  e.family("mfcd_vifs_used", "gauge", "VIFs (MIFs) mfcd holds in the kernel.");
  for (size_t i : order)
    e.sample("mfcd_vifs_used", where(tables[i]), tables[i].vifs_used);
  e.family("mfcd_vifs_free", "gauge", "VIF (MIF) numbers still free, out of the kernel's 32.");
  for (size_t i : order)
    e.sample("mfcd_vifs_free", where(tables[i]), tables[i].vifs_free);
}

void reload_families(Exposition& e, const MetricsSnapshot::Reloads& r) {
  e.family("mfcd_reloads_total", "counter",
           "Configuration reloads (SIGHUP or config.reload), by result; error: nothing changed.");
  e.sample("mfcd_reloads_total", {{"result", "error"}}, r.failed);
  e.sample("mfcd_reloads_total", {{"result", "ok"}}, r.succeeded);
  e.family("mfcd_reload_last_duration_seconds", "gauge",
           "How long the last reload took; absent before the first one.");
  if (r.last_seconds) e.sample("mfcd_reload_last_duration_seconds", {}, *r.last_seconds);
  e.family("mfcd_reload_last_success", "gauge",
           "1 if the last reload was applied, 0 if it was refused; absent before the first one.");
  if (r.last_seconds) e.sample("mfcd_reload_last_success", {}, uint64_t{r.last_ok ? 1u : 0u});
}

void rpc_families(Exposition& e, const std::vector<MetricsSnapshot::RpcMethod>& rpc) {
  using M = MetricsSnapshot::RpcMethod;
  const auto order = sorted(rpc, [](const M& a, const M& b) { return a.method < b.method; });
  e.family("mfcd_rpc_requests_total", "counter", "JSON-RPC requests, by method.");
  for (size_t i : order)
    e.sample("mfcd_rpc_requests_total", {{"method", rpc[i].method}}, rpc[i].requests);
  e.family("mfcd_rpc_errors_total", "counter",
           "JSON-RPC requests answered with an error, by method.");
  for (size_t i : order)
    e.sample("mfcd_rpc_errors_total", {{"method", rpc[i].method}}, rpc[i].errors);
}

void process_families(Exposition& e, const MetricsSnapshot& s) {
  named_counts(e, "mfcd_clients", "gauge", "Clients connected, by listener.", "listener",
               s.clients);
  e.family("mfcd_process_resident_memory_bytes", "gauge", "The daemon's resident set size.");
  if (s.resident_bytes) e.sample("mfcd_process_resident_memory_bytes", {}, *s.resident_bytes);
  e.family("mfcd_process_open_fds", "gauge", "File descriptors the daemon has open.");
  if (s.open_fds) e.sample("mfcd_process_open_fds", {}, *s.open_fds);
}

}  // namespace

std::string escape_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::string render_metrics(const MetricsSnapshot& s) {
  Exposition e;
  route_families(e, s.routes);
  vif_families(e, s.vifs);
  named_counts(e, "mfcd_upcalls_total", "counter", "Upcalls the kernel sent, by type.", "type",
               s.upcalls);
  named_counts(e, "mfcd_upcall_events_total", "counter",
               "What upcalls and learned entries led to, by event.", "event", s.upcall_events);
  e.family("mfcd_upcalls_lost_total", "counter",
           "Upcalls the kernel dropped because the daemon's socket queue was full.");
  e.sample("mfcd_upcalls_lost_total", {}, s.upcalls_lost);
  table_families(e, s.tables);
  reload_families(e, s.reloads);
  rpc_families(e, s.rpc);
  process_families(e, s);
  return e.take();
}

namespace {

std::optional<uint16_t> parse_port(std::string_view text) {
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  if (value < 1 || value > 65535) return std::nullopt;
  return static_cast<uint16_t>(value);
}

Error bad_listen(std::string_view text, std::string_view why) {
  return make_error(Errc::invalid_argument, "invalid listen address '" + std::string(text) +
                                                "': " + std::string(why) +
                                                " (expected PORT, ADDR:PORT or [ADDR6]:PORT)");
}

}  // namespace

Result<ListenAddress> parse_listen_address(std::string_view text) {
  ListenAddress out{*Addr::parse("127.0.0.1"), 0};
  std::string_view host, port = text;
  if (!text.empty() && text.front() == '[') {
    const size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':')
      return bad_listen(text, "an IPv6 address in brackets needs ':PORT' after it");
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else if (const size_t colon = text.rfind(':'); colon != std::string_view::npos) {
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos)
      return bad_listen(text, "an IPv6 address must be in brackets");
  }
  const auto p = parse_port(port);
  if (!p) return bad_listen(text, "the port must be 1..65535");
  out.port = *p;
  if (!host.empty() || text.front() == '[') {
    const auto a = Addr::parse(host);
    if (!a) return bad_listen(text, "not a numeric IP address");
    if (a->is_multicast()) return bad_listen(text, "a multicast address cannot listen");
    out.addr = *a;
  }
  return out;
}

std::string ListenAddress::str() const {
  const std::string host = addr.family == Family::v6 ? "[" + addr.str() + "]" : addr.str();
  return host + ":" + std::to_string(port);
}

}  // namespace mfcd::core
