// The Prometheus text rendering (core/metrics.hpp), the listen address
// and the HTTP request judging (core/http_request.hpp), all pure.
#include <doctest/doctest.h>

#include <ctime>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "budget.hpp"
#include "core/http_request.hpp"
#include "core/metrics.hpp"
#include "fakes.hpp"

namespace mfcd::core {
namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    out.push_back(line);
  return out;
}

MetricsSnapshot two_routes() {
  MetricsSnapshot s;
  s.routes = {{"ipv4", "10.0.0.2", "225.1.1.1", "a1", "static", 7, 700, 1},
              {"ipv4", "10.0.0.1", "225.1.1.1", "a1", "dynamic", 3, 300, 0}};
  s.vifs = {{"ipv4", 1, "a2", 0, 10, 0, 1000}, {"ipv4", 0, "a1", 10, 0, 1000, 0}};
  s.upcalls = {{"wrongvif", 2}, {"nocache", 5}};
  s.tables = {{"ipv6", 0, {{"pending", 1}}, 1, 0, 0, 32},
              {"ipv4", 0, {{"installed", 2}, {"pending", 0}}, 0, 2, 2, 30}};
  s.rpc = {{"route.list", 4, 1}, {"daemon.status", 2, 0}};
  s.clients = {{"control", 1}};
  s.resident_bytes = 4096;
  s.open_fds = 12;
  return s;
}

TEST_CASE("metrics: label values escape backslash, double quote and newline only") {
  CHECK(escape_label_value("plain eth0.1") == "plain eth0.1");
  CHECK(escape_label_value("a\\b") == "a\\\\b");
  CHECK(escape_label_value("say \"hi\"") == "say \\\"hi\\\"");
  CHECK(escape_label_value("two\nlines") == "two\\nlines");
  CHECK(escape_label_value("tab\there") == "tab\there");
}

TEST_CASE("metrics: an escaped interface name reaches the sample line") {
  MetricsSnapshot s;
  s.vifs = {{"ipv4", 0, "we\"ird\\\n", 1, 2, 3, 4}};
  const auto got = test::metric_samples(render_metrics(s), "mfcd_vif_received_packets_total");
  CHECK(got ==
        std::vector<std::string>{
            R"(mfcd_vif_received_packets_total{family="ipv4",vif="0",interface="we\"ird\\\n"} 1)"});
}

TEST_CASE("metrics: every family has HELP then TYPE, once, before its samples, names prefixed") {
  const std::string text = render_metrics(two_routes());
  std::set<std::string> typed;
  std::string current;
  for (const auto& line : lines_of(text)) {
    CAPTURE(line);
    if (line.rfind("# HELP ", 0) == 0) {
      current = line.substr(7, line.find(' ', 7) - 7);
      CHECK(current.rfind("mfcd_", 0) == 0);
      CHECK(line.size() > 7 + current.size() + 1);  // a help text follows
      continue;
    }
    if (line.rfind("# TYPE ", 0) == 0) {
      const std::string name = line.substr(7, line.find(' ', 7) - 7);
      CHECK(name == current);
      CHECK(typed.insert(name).second);
      const std::string type = line.substr(8 + name.size());
      CHECK((type == "counter" || type == "gauge"));
      // Counters end in _total; nothing else does.
      CHECK((type == "counter") == (name.size() > 6 && name.substr(name.size() - 6) == "_total"));
      continue;
    }
    const std::string name = line.substr(0, line.find_first_of("{ "));
    CHECK(name == current);
  }
  CHECK(typed.count("mfcd_route_packets_total") == 1);
  CHECK(typed.count("mfcd_process_open_fds") == 1);
  CHECK(text.back() == '\n');
}

TEST_CASE("metrics: route series are sorted by family, group, source, iif, origin") {
  const std::string text = render_metrics(two_routes());
  CHECK(
      test::metric_samples(text, "mfcd_route_packets_total") ==
      std::vector<std::string>{
          R"(mfcd_route_packets_total{family="ipv4",source="10.0.0.1",group="225.1.1.1",iif="a1",origin="dynamic"} 3)",
          R"(mfcd_route_packets_total{family="ipv4",source="10.0.0.2",group="225.1.1.1",iif="a1",origin="static"} 7)"});
  CHECK(
      test::metric_samples(text, "mfcd_route_bytes_total").back() ==
      R"(mfcd_route_bytes_total{family="ipv4",source="10.0.0.2",group="225.1.1.1",iif="a1",origin="static"} 700)");
  CHECK(
      test::metric_samples(text, "mfcd_route_wrong_interface_packets_total").back() ==
      R"(mfcd_route_wrong_interface_packets_total{family="ipv4",source="10.0.0.2",group="225.1.1.1",iif="a1",origin="static"} 1)");
}

TEST_CASE("metrics: the order of the snapshot does not show in the text") {
  MetricsSnapshot a = two_routes(), b = two_routes();
  std::swap(b.routes[0], b.routes[1]);
  std::swap(b.vifs[0], b.vifs[1]);
  std::swap(b.upcalls[0], b.upcalls[1]);
  std::swap(b.tables[0], b.tables[1]);
  std::swap(b.rpc[0], b.rpc[1]);
  CHECK(render_metrics(a) == render_metrics(b));
}

TEST_CASE("metrics: VIFs, upcalls, tables, RPC and the process") {
  const std::string text = render_metrics(two_routes());
  CHECK(test::metric_samples(text, "mfcd_vif_sent_bytes_total") ==
        std::vector<std::string>{
            R"(mfcd_vif_sent_bytes_total{family="ipv4",vif="0",interface="a1"} 0)",
            R"(mfcd_vif_sent_bytes_total{family="ipv4",vif="1",interface="a2"} 1000)"});
  CHECK(test::metric_samples(text, "mfcd_upcalls_total") ==
        std::vector<std::string>{R"(mfcd_upcalls_total{type="nocache"} 5)",
                                 R"(mfcd_upcalls_total{type="wrongvif"} 2)"});
  CHECK(test::metric_samples(text, "mfcd_upcalls_lost_total") ==
        std::vector<std::string>{"mfcd_upcalls_lost_total 0"});
  CHECK(test::metric_samples(text, "mfcd_routes") ==
        std::vector<std::string>{R"(mfcd_routes{family="ipv4",table="0",state="installed"} 2)",
                                 R"(mfcd_routes{family="ipv4",table="0",state="pending"} 0)",
                                 R"(mfcd_routes{family="ipv6",table="0",state="pending"} 1)"});
  CHECK(test::metric_samples(text, "mfcd_pending_items") ==
        std::vector<std::string>{R"(mfcd_pending_items{family="ipv4",table="0",kind="mgroup"} 2)",
                                 R"(mfcd_pending_items{family="ipv4",table="0",kind="mroute"} 0)",
                                 R"(mfcd_pending_items{family="ipv6",table="0",kind="mgroup"} 0)",
                                 R"(mfcd_pending_items{family="ipv6",table="0",kind="mroute"} 1)"});
  CHECK(test::metric_samples(text, "mfcd_vifs_free") ==
        std::vector<std::string>{R"(mfcd_vifs_free{family="ipv4",table="0"} 30)",
                                 R"(mfcd_vifs_free{family="ipv6",table="0"} 32)"});
  CHECK(test::metric_samples(text, "mfcd_rpc_errors_total") ==
        std::vector<std::string>{R"(mfcd_rpc_errors_total{method="daemon.status"} 0)",
                                 R"(mfcd_rpc_errors_total{method="route.list"} 1)"});
  CHECK(test::metric_samples(text, "mfcd_clients") ==
        std::vector<std::string>{R"(mfcd_clients{listener="control"} 1)"});
  CHECK(test::metric_samples(text, "mfcd_process_resident_memory_bytes") ==
        std::vector<std::string>{"mfcd_process_resident_memory_bytes 4096"});
  CHECK(test::metric_samples(text, "mfcd_process_open_fds") ==
        std::vector<std::string>{"mfcd_process_open_fds 12"});
}

TEST_CASE("metrics: reload figures appear once there was a reload") {
  MetricsSnapshot s;
  std::string text = render_metrics(s);
  CHECK(test::metric_samples(text, "mfcd_reloads_total") ==
        std::vector<std::string>{R"(mfcd_reloads_total{result="error"} 0)",
                                 R"(mfcd_reloads_total{result="ok"} 0)"});
  CHECK(test::metric_samples(text, "mfcd_reload_last_duration_seconds").empty());
  CHECK(test::metric_samples(text, "mfcd_reload_last_success").empty());
  CHECK(text.find("# TYPE mfcd_reload_last_success gauge\n") != std::string::npos);
  s.reloads = {3, 1, 0.25, false};
  text = render_metrics(s);
  CHECK(test::metric_samples(text, "mfcd_reloads_total") ==
        std::vector<std::string>{R"(mfcd_reloads_total{result="error"} 1)",
                                 R"(mfcd_reloads_total{result="ok"} 3)"});
  CHECK(test::metric_samples(text, "mfcd_reload_last_duration_seconds") ==
        std::vector<std::string>{"mfcd_reload_last_duration_seconds 0.25"});
  CHECK(test::metric_samples(text, "mfcd_reload_last_success") ==
        std::vector<std::string>{"mfcd_reload_last_success 0"});
}

TEST_CASE("metrics: process figures that could not be read are left out") {
  MetricsSnapshot s;
  const std::string text = render_metrics(s);
  CHECK(test::metric_samples(text, "mfcd_process_open_fds").empty());
  CHECK(text.find("# HELP mfcd_process_open_fds ") != std::string::npos);
}

TEST_CASE("metrics: listen addresses") {
  auto ok = [](std::string_view text) {
    auto a = parse_listen_address(text);
    REQUIRE_MESSAGE(a.has_value(), text);
    return a->str();
  };
  CHECK(ok("9468") == "127.0.0.1:9468");
  CHECK(ok("127.0.0.1:9468") == "127.0.0.1:9468");
  CHECK(ok("192.0.2.1:80") == "192.0.2.1:80");
  CHECK(ok("[::1]:9468") == "[::1]:9468");
  CHECK(ok("[2001:db8::1]:1") == "[2001:db8::1]:1");
  for (const char* bad :
       {"", "0", "65536", "x", "127.0.0.1", "127.0.0.1:", "localhost:9468", "::1:9468", "[::1]9468",
        "[::1]", "225.1.1.1:9468", "1.2.3.4:9x", "[]:80", "-1"}) {
    CAPTURE(bad);
    auto a = parse_listen_address(bad);
    REQUIRE_FALSE(a.has_value());
    CHECK(a.error().message.find("invalid listen address") == 0);
  }
}

TEST_CASE("http: where a request head ends") {
  CHECK(http_head_end("GET / HTTP/1.0\r\n") == std::string::npos);
  CHECK(http_head_end("GET / HTTP/1.0\r\n\r\n") == 18);
  CHECK(http_head_end("GET / HTTP/1.0\n\nbody") == 16);
  CHECK(http_head_end("GET / HTTP/1.1\r\nHost: x\r\n\r\n") == 27);
}

TEST_CASE("http: request lines judged") {
  CHECK(judge_http_request("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n") == HttpVerdict::metrics);
  CHECK(judge_http_request("GET /metrics HTTP/1.0\r\n\r\n") == HttpVerdict::metrics);
  CHECK(judge_http_request("GET /metrics?name[]=x HTTP/1.1\r\n\r\n") == HttpVerdict::metrics);
  CHECK(judge_http_request("GET / HTTP/1.1\r\n\r\n") == HttpVerdict::not_found);
  CHECK(judge_http_request("GET /metricsx HTTP/1.1\r\n\r\n") == HttpVerdict::not_found);
  CHECK(judge_http_request("POST /metrics HTTP/1.1\r\n\r\n") == HttpVerdict::method_not_allowed);
  CHECK(judge_http_request("HEAD /metrics HTTP/1.1\r\n\r\n") == HttpVerdict::method_not_allowed);
  for (const char* bad :
       {"\r\n\r\n", "garbage\r\n\r\n", "GET /metrics\r\n\r\n", "GET /metrics HTTP/2.0\r\n\r\n",
        "GET metrics HTTP/1.1\r\n\r\n", "GET  /metrics HTTP/1.1\r\n\r\n",
        "G(T /metrics HTTP/1.1\r\n\r\n", "GET /metrics HTTP/1.1 extra\r\n\r\n"}) {
    CAPTURE(bad);
    CHECK(judge_http_request(bad) == HttpVerdict::bad_request);
  }
}

TEST_CASE("http: responses close and say their length") {
  CHECK(http_response(200, "text/plain", "abc") ==
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n"
        "Connection: close\r\n\r\nabc");
  const std::string nf = http_error_response(HttpVerdict::not_found);
  CHECK(nf.rfind("HTTP/1.1 404 Not Found\r\n", 0) == 0);
  const std::string na = http_error_response(HttpVerdict::method_not_allowed);
  CHECK(na.rfind("HTTP/1.1 405 Method Not Allowed\r\n", 0) == 0);
  CHECK(na.find("\r\nAllow: GET\r\n") != std::string::npos);
  CHECK(http_error_response(HttpVerdict::bad_request).rfind("HTTP/1.1 400 ", 0) == 0);
  CHECK(http_error_response(HttpVerdict::too_large).rfind("HTTP/1.1 431 ", 0) == 0);
}

}  // namespace
}  // namespace mfcd::core

namespace mfcd::core {
namespace {

// What the listener's one callback costs for a big table (the kernel's
// ioctls for the counters come on top, one per entry, as for route.list
// detail).
TEST_CASE("metrics: 100,000 routes render quickly") {
  MetricsSnapshot s;
  s.routes.reserve(100000);
  for (uint32_t i = 0; i < 100000; ++i) {
    const std::string group = "225." + std::to_string(i >> 16) + "." +
                              std::to_string((i >> 8) & 255) + "." + std::to_string(i & 255);
    s.routes.push_back({"ipv4", "192.0.2.1", group, "eth0", "static", i, 92ull * i, 0});
  }
  const test::CpuTimer timer;
  const std::string text = render_metrics(s);
  const double ms = timer.ms();
  MESSAGE("100k routes: " << ms << " ms of CPU, " << text.size() / 1024 << " KiB");
  CHECK(test::metric_samples(text, "mfcd_route_packets_total").size() == 100000);
  CHECK(ms < test::budget_ms(5000));
}

}  // namespace
}  // namespace mfcd::core
