// One mfcctl invocation. The command becomes one JSON-RPC request (or, with
// -b, every stdin line becomes one element of a single batch request, so
// the daemon sees them together and good lines take effect even when
// others fail). Replies are rendered as smcroutectl's text; with -j every
// command prints the same shape, the result object alone, or the error
// alone as {"error": ...}, never the JSON-RPC envelope. Errors never show
// raw JSON unless -j was asked for: the daemon's message goes to stderr
// with the detail that says where. Warnings in a result (an interface
// that does not exist) go to stderr too, whatever the output format, and
// leave the exit code at 0.
// Exit codes tell scripts what happened: 1 refused, 64 usage, 69 no
// daemon, 70 a reply we could not understand.
#include "client/app.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <istream>
#include <map>
#include <ostream>
#include <stdexcept>

#include "client/cli.hpp"
#include "client/explain_format.hpp"
#include "client/monitor.hpp"
#include "client/routes_reply.hpp"
#include "client/show_format.hpp"
#include "rpc/client.hpp"
#include "version.hpp"

namespace mfcd::client {
namespace {

using nlohmann::json;

struct Context {
  std::string program;  // base name of argv[0], prefixes every message
  Options options;
  ShowStyle style;
  Io& io;
  const Transport& transport;
  const StreamTransport& stream;
};

std::string text_of(const json& v) {
  return v.is_string() ? v.get<std::string>() : v.dump();
}

// What to try when the socket cannot be reached. Refused by its mode, the
// caller is neither root nor in the socket's group: that is what to ask for.
std::string connect_hint(const std::string& error) {
  if (error == std::strerror(EACCES))
    return " (the socket admits root and the members of its group: mfcd --socket-group)";
  return " (is it running? -u FILE or -i NAME picks another socket)";
}

// Reports a transport failure; returns the exit code.
int report_exchange(const Context& ctx, const Exchange& ex,
                    std::chrono::milliseconds timeout = kReplyTimeout) {
  const std::string& sock = ctx.options.socket;
  auto& err = ctx.io.err;
  switch (ex.status) {
    case Exchange::Status::ok:
      return kExitOk;
    case Exchange::Status::cannot_connect:
      err << ctx.program << ": cannot connect to the daemon at " << sock << ": " << ex.error
          << connect_hint(ex.error) << "\n";
      return kExitUnavailable;
    case Exchange::Status::timeout:
      err << ctx.program << ": no reply from the daemon at " << sock << " within "
          << std::chrono::duration_cast<std::chrono::seconds>(timeout).count() << " s (" << ex.error
          << ")\n";
      return kExitUnavailable;
    case Exchange::Status::io_error:
      err << ctx.program << ": lost the connection to the daemon at " << sock << ": " << ex.error
          << "\n";
      return kExitUnavailable;
    case Exchange::Status::no_reply:
      err << ctx.program << ": the daemon at " << sock
          << " closed the connection without a reply\n";
      return kExitBadReply;
  }
  return kExitBadReply;
}

int bad_reply(const Context& ctx, const std::string& why) {
  ctx.io.err << ctx.program << ": bad reply from the daemon at " << ctx.options.socket << ": "
             << why << "\n";
  return kExitBadReply;
}

// Prints what a successful reply means for `cmd`. Throws on a result of the
// wrong shape.
void emit_result(const Context& ctx, const Command& cmd, const json& result) {
  auto& out = ctx.io.out;
  if (ctx.options.json) return;  // the caller prints JSON
  switch (cmd.kind) {
    case Kind::show:
      out << format_show(cmd.show, result, ctx.style);
      break;
    case Kind::explain:
      out << format_explain(result);
      break;
    case Kind::metrics:
      // As it is, for node_exporter's textfile collector (a file) or a pipe.
      out << result.at("text").get<std::string>();
      break;
    case Kind::version:
      out << text_of(result.at("name")) << " " << text_of(result.at("version")) << "\n";
      break;
    case Kind::reload:
      // The summary, as the log has it; under SMCRoute's name a reload is
      // silent, as SMCRoute's is (cron mails whatever a job prints).
      if (cmd.dry_run) {
        out << format_reload_plan(result);
      } else if (!ctx.options.smcroute_names) {
        out << format_reload_summary(result);
      }
      break;
    default:
      break;  // smcroutectl is silent on success
  }
}

struct Decoded {
  std::optional<rpc::Reply> reply;
  std::string error;
};

Decoded decode(const json& j) {
  try {
    rpc::Reply r = rpc::parse_reply(j);
    if (!r.result && !r.error) return Decoded{std::nullopt, "neither result nor error"};
    return Decoded{std::move(r), {}};
  } catch (const std::exception& e) {
    return Decoded{std::nullopt, e.what()};
  }
}

// What -j prints for a refused command: the daemon's error object, alone
// under "error", where a successful command prints its result.
json error_json(const rpc::RpcError& error) {
  json e{{"code", error.code}, {"message", error.message}};
  if (!error.data.is_null()) e["data"] = error.data;
  return json{{"error", std::move(e)}};
}

void report_error(const Context& ctx, const std::string& prefix, const rpc::RpcError& error,
                  const std::string& method) {
  for (const auto& line : describe_error(error, method)) {
    ctx.io.err << ctx.program << ": " << prefix << line << "\n";
  }
}

// Each warning of a result ("warnings": interfaces that do not exist, and
// a reload's config warnings) on stderr, "file:line:col: " first when the
// warning comes from a config line. Whatever else is printed: with -j the
// JSON holds them as well, and a person reading the terminal must see them.
void report_warnings(const Context& ctx, const std::string& prefix, const json& result) {
  if (!result.is_object() || !result.contains("warnings") || !result["warnings"].is_array()) return;
  for (const auto& w : result["warnings"]) {
    std::string where;
    if (w.is_object() && w.contains("file") && w.contains("line")) {
      where = text_of(w["file"]) + ":" + text_of(w["line"]) + ":" +
              text_of(w.value("column", json(0))) + ": ";
    }
    const std::string message =
        w.is_object() && w.contains("message") ? text_of(w["message"]) : text_of(w);
    ctx.io.err << ctx.program << ": " << prefix << where << "warning: " << message << "\n";
  }
}

// The reply to one request, as text: a JSON-RPC envelope holding a result
// or an error. Reports what is wrong with it and returns the exit code
// when there is no such reply.
struct Received {
  std::optional<json> raw;
  int code = kExitOk;
};

Received parse_received(const Context& ctx, const Exchange& ex,
                        std::chrono::milliseconds timeout = kReplyTimeout) {
  if (ex.status != Exchange::Status::ok) {
    return Received{std::nullopt, report_exchange(ctx, ex, timeout)};
  }
  try {
    return Received{json::parse(ex.reply), kExitOk};
  } catch (const json::exception& e) {
    return Received{std::nullopt, bad_reply(ctx, e.what())};
  }
}

Received receive(const Context& ctx, const std::string& request,
                 std::chrono::milliseconds timeout = kReplyTimeout) {
  return parse_received(ctx, ctx.transport(ctx.options.socket, request, timeout), timeout);
}

// `show` (routes) page by page, so that the daemon never builds the whole
// table at once: a whole listing of 10,000 routes raised its peak memory
// by 45 MB, and that peak stays (tests/bench/README.md, bench_show). As
// text each page is printed as it comes; with -j the pages are joined here
// into the one result object a whole listing has. Pages are as big as the
// daemon allows (api/paging.hpp): each page costs it one pass over its
// table, and in the test bed pages of 10,000 made `show` of 10,000 routes
// take 0.79 s instead of 1.0-1.2 s, for about 2.5 MB of mfcd's memory
// while the page is written.
constexpr int kShowPage = 10000;

// A daemon from before paging (a package upgrade leaves the running one
// alone) refuses `limit` on the first page: the caller asks it for the
// whole listing instead.
bool refuses_paging(const rpc::RpcError& e, const json& params) {
  return e.code == rpc::kInvalidParams && params.contains("limit") && !params.contains("cursor") &&
         e.data.is_object() && e.data.value("param", json()) == "limit";
}

int run_show_routes(const Context& ctx, const Command& cmd) {
  auto& out = ctx.io.out;
  RoutesPrinter printer(ctx.style);
  json joined{{"asm", json::array()}, {"ssm", json::array()}, {"kernel", json::array()}};
  json params = cmd.params.is_object() ? cmd.params : json::object();
  params["limit"] = kShowPage;
  for (;;) {
    const Exchange ex =
        ctx.transport(ctx.options.socket, rpc::make_request(1, cmd.method, params), kReplyTimeout);
    if (!ctx.options.json && ex.status == Exchange::Status::ok) {
      // The common case, read without a json document (routes_reply.hpp);
      // anything else takes the ordinary path below.
      if (auto fast = read_routes_reply(ex.reply)) {
        out << printer.page(fast->page);
        out.flush();
        if (!fast->next) return kExitOk;
        if (*fast->next == params.value("cursor", json()))
          return bad_reply(ctx,
                           "route.list's next is not a new cursor: " + json(*fast->next).dump());
        params["cursor"] = *fast->next;
        continue;
      }
    }
    const Received got = parse_received(ctx, ex);
    if (!got.raw) return got.code;
    Decoded d = decode(*got.raw);
    if (!d.reply) return bad_reply(ctx, d.error);
    if (d.reply->error) {
      const auto& e = *d.reply->error;
      if (refuses_paging(e, params)) {
        params.erase("limit");
        continue;
      }
      if (ctx.options.json) out << error_json(e).dump(2) << "\n";
      report_error(ctx, "", e, cmd.method);
      return kExitRefused;
    }
    json& result = *d.reply->result;
    try {
      if (ctx.options.json) {
        for (const char* section : {"asm", "ssm", "kernel"}) {
          auto& items = result.at("routes").at(section);
          if (!items.is_array())
            throw std::runtime_error(std::string("'") + section + "' is not an array");
          for (auto& item : items)
            joined[section].push_back(std::move(item));
        }
      } else {
        out << printer.page(result);
        out.flush();
      }
      // (A reply without "next" is the whole table.)
      const json next = result.value("next", json());
      if (next.is_null()) {
        if (ctx.options.json) out << json{{"routes", std::move(joined)}}.dump(2) << "\n";
        return kExitOk;
      }
      if (!next.is_string() || next == params.value("cursor", json())) {
        return bad_reply(ctx, "route.list's next is not a new cursor: " + next.dump());
      }
      params["cursor"] = next;
    } catch (const std::exception& e) {
      return bad_reply(ctx, e.what());
    }
  }
}

// `show groups` and `show interfaces` walk their pages as `show` does, so
// that the daemon never builds a big reply, and join them into the one
// result a whole listing has before printing: their columns are as wide as
// the widest name, which only the whole list tells.
int run_show_joined(const Context& ctx, const Command& cmd) {
  using Pointer = json::json_pointer;
  const std::vector<Pointer> lists =
      cmd.show == ShowWhat::groups
          ? std::vector<Pointer>{Pointer("/groups/conf"), Pointer("/groups/kernel")}
          : std::vector<Pointer>{Pointer("/interfaces")};
  json joined = json::object();
  for (const auto& list : lists)
    joined[list] = json::array();
  json params = cmd.params.is_object() ? cmd.params : json::object();
  params["limit"] = kShowPage;
  for (;;) {
    const Received got = receive(ctx, rpc::make_request(1, cmd.method, params));
    if (!got.raw) return got.code;
    Decoded d = decode(*got.raw);
    if (!d.reply) return bad_reply(ctx, d.error);
    if (d.reply->error) {
      const auto& e = *d.reply->error;
      if (refuses_paging(e, params)) {
        params.erase("limit");
        continue;
      }
      if (ctx.options.json) ctx.io.out << error_json(e).dump(2) << "\n";
      report_error(ctx, "", e, cmd.method);
      return kExitRefused;
    }
    json& result = *d.reply->result;
    try {
      for (const auto& list : lists) {
        json& items = result.at(list);
        if (!items.is_array())
          throw std::runtime_error("'" + list.to_string() + "' is not an array");
        for (auto& item : items)
          joined[list].push_back(std::move(item));
      }
      const json next = result.value("next", json());
      if (next.is_null()) break;  // the last page (or, without "next", the whole listing)
      if (!next.is_string() || next == params.value("cursor", json()))
        return bad_reply(ctx, cmd.method + "'s next is not a new cursor: " + next.dump());
      params["cursor"] = next;
    } catch (const std::exception& e) {
      return bad_reply(ctx, e.what());
    }
  }
  if (ctx.options.json) {
    ctx.io.out << joined.dump(2) << "\n";
    return kExitOk;
  }
  try {
    emit_result(ctx, cmd, joined);
  } catch (const std::exception& e) {
    return bad_reply(ctx, e.what());
  }
  return kExitOk;
}

int run_one(const Context& ctx, const Command& cmd) {
  auto& out = ctx.io.out;
  if (cmd.kind == Kind::show && cmd.show == ShowWhat::routes) return run_show_routes(ctx, cmd);
  if (cmd.kind == Kind::show && (cmd.show == ShowWhat::groups || cmd.show == ShowWhat::interfaces))
    return run_show_joined(ctx, cmd);
  if (cmd.kind == Kind::version && !ctx.options.json) {
    // The client's own version, even when no daemon answers.
    out << ctx.program << " " << MFCD_VERSION << "\n";
    out.flush();
  }
  const Received got = receive(ctx, rpc::make_request(1, cmd.method, cmd.params));
  if (!got.raw) return got.code;
  const Decoded d = decode(*got.raw);
  if (!d.reply) return bad_reply(ctx, d.error);

  // -j: the result alone, whatever the command, or the error alone.
  if (d.reply->error) {
    if (ctx.options.json) out << error_json(*d.reply->error).dump(2) << "\n";
    report_error(ctx, "", *d.reply->error, cmd.method);
    return kExitRefused;
  }
  report_warnings(ctx, "", *d.reply->result);
  if (ctx.options.json) {
    out << d.reply->result->dump(2) << "\n";
    return kExitOk;
  }
  try {
    emit_result(ctx, cmd, *d.reply->result);
  } catch (const std::exception& e) {
    return bad_reply(ctx, e.what());
  }
  return kExitOk;
}

// `monitor`: the subscription's reply, then one line per event until the
// daemon goes or drops us (overflow: we read too slowly), or Ctrl-C.
int run_monitor(const Context& ctx, const Command& cmd) {
  int code = kExitOk;
  bool replied = false;
  auto on_line = [&](const std::string& line) {
    json j;
    try {
      j = json::parse(line);
    } catch (const json::exception& e) {
      code = bad_reply(ctx, e.what());
      return false;
    }
    if (!replied) {
      replied = true;
      const Decoded d = decode(j);
      if (!d.reply) {
        code = bad_reply(ctx, d.error);
      } else if (d.reply->error) {
        if (ctx.options.json) ctx.io.out << error_json(*d.reply->error).dump(2) << "\n";
        report_error(ctx, "", *d.reply->error, cmd.method);
        code = kExitRefused;
      }
      return code == kExitOk;
    }
    if (!j.is_object() || j.value("method", "") != "event" || !j.contains("params")) return true;
    const json& params = j.at("params");
    ctx.io.out << (ctx.options.json ? params.dump() : format_event(params)) << "\n";
    ctx.io.out.flush();
    if (params.value("kind", "") != "overflow") return true;
    ctx.io.err << ctx.program << ": the daemon dropped this monitor: it read events too slowly\n";
    code = kExitUnavailable;
    return false;
  };
  const Exchange ex =
      ctx.stream(ctx.options.socket, rpc::make_request(1, cmd.method, cmd.params), on_line);
  if (code != kExitOk || ex.status == Exchange::Status::ok) return code;
  if (replied && ex.status == Exchange::Status::no_reply) {
    ctx.io.err << ctx.program << ": the daemon at " << ctx.options.socket
               << " closed the connection\n";
    return kExitUnavailable;
  }
  return report_exchange(ctx, ex);
}

// A batch as sent: each command with its line number, which is its id.
struct Batch {
  std::vector<std::pair<int, Command>> sent;
  json requests = json::array();
  bool failed = false;  // a line was not a command
};

Batch read_commands(const Context& ctx) {
  Batch b;
  for (const auto& line : read_batch(ctx.io.in)) {
    auto parsed = parse_command(line.words, ctx.options.detail, ctx.options.smcroute_names);
    if (!parsed.command) {
      ctx.io.err << ctx.program << ": line " << line.line << ": " << parsed.error << "\n";
      b.failed = true;
      continue;
    }
    Command& cmd = *parsed.command;
    if (cmd.kind == Kind::help) {
      if (!ctx.options.json) ctx.io.out << usage_text(ctx.program);
      continue;
    }
    set_strictness(cmd, ctx.options.strict, ctx.options.smcroute_names);
    b.requests.push_back(json::parse(rpc::make_request(line.line, cmd.method, cmd.params)));
    b.sent.emplace_back(line.line, std::move(cmd));
  }
  return b;
}

// The replies to a batch by line, or the exit code when there are none to
// read (the daemon refused the batch as a whole, or the reply is broken).
struct BatchReplies {
  std::map<int, rpc::Reply> by_line;
  std::optional<int> code;
};

BatchReplies replies_by_line(const Context& ctx, const json& raw) {
  // The daemon refused the batch as a whole (too large, say): one error
  // object instead of an array.
  if (raw.is_object()) {
    const Decoded d = decode(raw);
    if (!d.reply) return {{}, bad_reply(ctx, d.error)};
    if (!d.reply->error) return {{}, bad_reply(ctx, "a single reply to a batch request")};
    if (ctx.options.json) ctx.io.out << error_json(*d.reply->error).dump(2) << "\n";
    report_error(ctx, "", *d.reply->error, "batch");
    return {{}, kExitRefused};
  }
  if (!raw.is_array()) return {{}, bad_reply(ctx, "expected an array of replies to the batch")};
  BatchReplies r;
  for (const auto& item : raw) {
    Decoded d = decode(item);
    if (!d.reply) return {{}, bad_reply(ctx, d.error)};
    if (!d.reply->id.is_number_integer()) return {{}, bad_reply(ctx, "a reply without a line id")};
    r.by_line.emplace(d.reply->id.get<int>(), std::move(*d.reply));
  }
  return r;
}

// Each line's outcome in line order: text (or, with -j, one element per
// command, each what -j prints for that command alone). Returns the exit
// code.
int report_batch(const Context& ctx, const Batch& batch, const BatchReplies& replies) {
  bool failed = batch.failed;
  json results = json::array();
  for (const auto& [line, cmd] : batch.sent) {
    const std::string prefix = "line " + std::to_string(line) + ": ";
    const auto it = replies.by_line.find(line);
    if (it == replies.by_line.end()) {
      ctx.io.err << ctx.program << ": " << prefix << "no reply from the daemon\n";
      results.push_back(json{{"error", {{"message", "no reply from the daemon"}}}});
      failed = true;
    } else if (it->second.error) {
      results.push_back(error_json(*it->second.error));
      report_error(ctx, prefix, *it->second.error, cmd.method);
      failed = true;
    } else {
      results.push_back(*it->second.result);
      report_warnings(ctx, prefix, *it->second.result);
      try {
        emit_result(ctx, cmd, *it->second.result);
      } catch (const std::exception& e) {
        return bad_reply(ctx, prefix + e.what());
      }
    }
  }
  if (ctx.options.json) ctx.io.out << results.dump(2) << "\n";
  return failed ? kExitRefused : kExitOk;
}

// -b: every command line becomes one request of a single batch, its id the
// line number, so replies map back to lines whatever order they come in.
int run_batch(const Context& ctx) {
  const Batch batch = read_commands(ctx);
  if (batch.sent.empty()) return batch.failed ? kExitRefused : kExitOk;
  const auto commands = static_cast<std::chrono::milliseconds::rep>(batch.sent.size());
  const Received got =
      receive(ctx, batch.requests.dump(), kReplyTimeout + commands * kBatchTimeoutPerCommand);
  if (!got.raw) return got.code;
  const BatchReplies replies = replies_by_line(ctx, *got.raw);
  if (replies.code) return *replies.code;
  return report_batch(ctx, batch, replies);
}

// "file:line:col: message" from one config error object.
std::string config_error_text(const json& e) {
  if (!e.is_object()) return text_of(e);
  std::string where;
  for (const char* key : {"file", "line", "column"}) {
    if (e.contains(key) && !e[key].is_null()) where += text_of(e[key]) + ":";
  }
  const std::string message = e.contains("message") ? text_of(e["message"]) : e.dump();
  return where.empty() ? message : where + " " + message;
}

// The parenthesised details of an error's first line. A detail the message
// already says is left out: the daemon often puts the same text in both.
class Details {
 public:
  Details(const std::string& first, const json& data) : first_(first), d_(data) {}

  bool has(const char* key) const { return d_.is_object() && d_.contains(key); }
  std::string str(const char* key) const { return has(key) ? text_of(d_[key]) : ""; }
  bool mentioned(const std::string& s) const { return first_.find(s) != std::string::npos; }
  // `detail` unless the message already holds `key`.
  void add(const std::string& detail, const std::string& key) {
    if (!detail.empty() && !mentioned(key)) items_.push_back(detail);
  }
  const json& data() const { return d_; }

  // "message (detail; detail)"
  std::string line() const {
    std::string out = first_;
    for (size_t i = 0; i < items_.size(); ++i)
      out += (i ? "; " : " (") + items_[i];
    return items_.empty() ? out : out + ")";
  }

 private:
  const std::string& first_;
  const json& d_;
  std::vector<std::string> items_;
};

// -32602's param and its message, or the message alone; the interface.
void add_param_details(Details& x) {
  if (x.has("param")) {
    std::string p = "parameter '" + x.str("param") + "'";
    if (x.has("message")) p += ": " + x.str("message");
    x.add(p, x.has("message") ? x.str("message") : x.str("param"));
  } else if (x.has("message")) {
    x.add(x.str("message"), x.str("message"));
  }
  if (x.has("interface")) x.add("interface " + x.str("interface"), x.str("interface"));
}

// A kernel refusal: "add_mfc (S, G): Invalid argument".
void add_kernel_details(Details& x) {
  std::string k;
  if (x.has("op") && !x.mentioned(x.str("op"))) k = x.str("op");
  if (x.has("strerror") && !x.mentioned(x.str("strerror"))) {
    k += (k.empty() ? "" : ": ") + x.str("strerror");
  }
  x.add(k, "\n");  // never in a one-line message
}

// What was not found ("route from a1 (S, G)"), a limit, the caller.
void add_object_details(Details& x) {
  const json& d = x.data();
  if (x.has("what")) {
    std::string w = x.str("what");
    std::string key = w;
    if (x.has("iif")) w += " from " + x.str("iif");
    if (x.has("group") && d["group"].is_string() &&
        (!x.has("source") || d["source"].is_null() || d["source"].is_string())) {
      key = sg_text(x.has("source") ? d["source"] : json(), d["group"]);
      w += " " + key;
    }
    x.add(w, key);
  }
  if (x.has("limit")) {
    std::string l = "limit " + x.str("limit");
    if (x.has("value")) l += " = " + x.str("value");
    x.add(l, l);
  }
  if (x.has("uid")) x.add("uid " + x.str("uid"), "uid " + x.str("uid"));
}

// The lines after the first: every config error, and each missing
// interface of a strict reload at its line ("file:line:col: message").
std::vector<std::string> error_lines(const json& d) {
  std::vector<std::string> more;
  if (!d.is_object()) return more;
  if (d.contains("errors") && d["errors"].is_array()) {
    for (const auto& e : d["errors"])
      more.push_back(config_error_text(e));
  }
  if (d.contains("missing") && d["missing"].is_array()) {
    for (const auto& m : d["missing"])
      if (m.is_object() && m.contains("file")) more.push_back(config_error_text(m));
  }
  return more;
}

}  // namespace

std::vector<std::string> describe_error(const rpc::RpcError& error, const std::string& method) {
  const std::string first =
      error.message.empty() ? "error " + std::to_string(error.code) : error.message;
  Details x(first, error.data);
  if (error.code == rpc::kMethodNotFound) {
    x.add(method + " is not supported by this daemon", method);
  }
  if (error.data.is_object()) {
    add_param_details(x);
    add_kernel_details(x);
    add_object_details(x);
  } else if (error.data.is_string()) {
    x.add(error.data.get<std::string>(), error.data.get<std::string>());
  }
  std::vector<std::string> lines{x.line()};
  for (auto& l : error_lines(error.data))
    lines.push_back(std::move(l));
  return lines;
}

namespace {

// One line per route or group of a config.reload result, in the words of
// the config file, so that `mfcctl reload -n` reads like the lines that
// will be acted on: "+ mroute from a1 source S group G to b1 b2". Then,
// or alone without `lines`, the counts.
std::string reload_text(const json& result, bool lines) {
  const auto item_text = [](const json& item, const char* keyword) {
    std::string line = std::string(keyword) + " from " + item.at("iif").get<std::string>();
    const json& source = item.contains("source") ? item["source"] : json(nullptr);
    if (source.is_string()) line += " source " + source.get<std::string>();
    line += " group " + item.at("group").get<std::string>();
    if (item.contains("oifs") && item["oifs"].is_array() && !item["oifs"].empty()) {
      line += " to";
      for (const auto& oif : item["oifs"])
        line += " " + oif.get<std::string>();
    }
    if (item.contains("state") && item["state"].is_string() && item["state"] != "installed")
      line += "  (" + item["state"].get<std::string>() + ")";
    return line;
  };
  const bool dry = result.value("dry_run", false);
  struct Section {
    const char* object;
    const char* list;
    const char* mark;
    const char* keyword;
    const char* did;
    const char* would;
  };
  static const Section kSections[] = {
      {"routes", "added", "+", "mroute", "added", "to add"},
      {"routes", "changed", "~", "mroute", "changed", "to change"},
      {"routes", "removed", "-", "mroute", "removed", "to remove"},
      {"groups", "joined", "+", "mgroup", "joined", "to join"},
      {"groups", "left", "-", "mgroup", "left", "to leave"},
  };
  std::string out;
  size_t total = 0;
  std::string summary;
  for (const auto& sec : kSections) {
    const json* list = nullptr;
    if (result.contains(sec.object) && result[sec.object].is_object() &&
        result[sec.object].contains(sec.list))
      list = &result[sec.object][sec.list];
    const size_t n = list && list->is_array() ? list->size() : 0;
    total += n;
    if (std::string(sec.object) == "routes" || n != 0) {
      summary += (summary.empty() ? "" : ", ") + std::to_string(n) + " " +
                 (std::string(sec.object) == "routes" ? "" : "groups ") +
                 (dry ? sec.would : sec.did);
    }
    if (n == 0 || !lines) continue;
    for (const auto& item : *list)
      out += std::string(sec.mark) + " " + item_text(item, sec.keyword) + "\n";
  }
  if (total == 0) return dry ? "No changes\n" : "Nothing changed\n";
  return out + (dry ? "Dry run: " : "Reloaded: ") + summary + "\n";
}

}  // namespace

std::string format_reload_plan(const json& result) {
  return reload_text(result, true);
}

std::string format_reload_summary(const json& result) {
  return reload_text(result, false);
}

int run(const std::vector<std::string>& argv, Io& io, const Transport& transport) {
  const StreamTransport real = [](const std::string& path, const std::string& request,
                                  const LineHandler& on_line) {
    return stream(path, request, on_line);
  };
  return run(argv, io, transport, real);
}

int run(const std::vector<std::string>& argv, Io& io, const Transport& transport,
        const StreamTransport& stream_transport) {
  const std::string program = base_name(argv.empty() ? "mfcctl" : argv[0]);
  const std::vector<std::string> args(argv.empty() ? argv.end() : argv.begin() + 1, argv.end());

  auto parsed = parse_options(args, program);
  if (!parsed.options) {
    io.err << program << ": " << parsed.error << "\nTry '" << program << " help'.\n";
    return kExitUsage;
  }
  Options& opts = *parsed.options;
  if (opts.help) {
    io.out << usage_text(program);
    return kExitOk;
  }
  if (opts.version) {
    io.out << program << " " << MFCD_VERSION << "\n";
    return kExitOk;
  }

  ShowStyle style;
  style.detail = opts.detail;
  style.headings = opts.no_headings ? Headings::none
                   : opts.plain     ? Headings::plain
                   : io.out_is_tty  ? Headings::terminal
                                    : Headings::plain;
  const Context ctx{program, opts, style, io, transport, stream_transport};

  if (opts.batch) {
    if (!opts.words.empty()) {
      io.err << program << ": -b reads commands from stdin; unexpected argument '" << opts.words[0]
             << "'\n";
      return kExitUsage;
    }
    return run_batch(ctx);
  }

  auto cmd = parse_command(opts.words, opts.detail, opts.smcroute_names);
  if (!cmd.command) {
    io.err << program << ": " << cmd.error << "\nTry '" << program << " help'.\n";
    return kExitUsage;
  }
  if (cmd.command->kind == Kind::help) {
    io.out << usage_text(program);
    return kExitOk;
  }
  set_strictness(*cmd.command, opts.strict, opts.smcroute_names);
  if (cmd.command->kind == Kind::monitor) return run_monitor(ctx, *cmd.command);
  return run_one(ctx, *cmd.command);
}

}  // namespace mfcd::client
