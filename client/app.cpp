// One mfcctl invocation. The command becomes one JSON-RPC request (or, with
// -b, every stdin line becomes one element of a single batch request, so
// the daemon sees them together and good lines take effect even when
// others fail). Replies are rendered as smcroutectl's text; with -j every
// command prints the same shape, the result object alone, or the error
// alone as {"error": ...}, never the JSON-RPC envelope. Errors never show
// raw JSON unless -j was asked for: the daemon's message goes to stderr
// with the detail that says where.
// Exit codes tell scripts what happened: 1 refused, 64 usage, 69 no
// daemon, 70 a reply we could not understand.
#include "client/app.hpp"

#include <unistd.h>

#include <istream>
#include <map>
#include <ostream>
#include <stdexcept>

#include "client/cli.hpp"
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
};

std::string text_of(const json& v) {
  return v.is_string() ? v.get<std::string>() : v.dump();
}

// Reports a transport failure; returns the exit code.
int report_exchange(const Context& ctx, const Exchange& ex) {
  const std::string& sock = ctx.options.socket;
  auto& err = ctx.io.err;
  switch (ex.status) {
    case Exchange::Status::ok:
      return kExitOk;
    case Exchange::Status::cannot_connect:
      err << ctx.program << ": cannot connect to the daemon at " << sock << ": " << ex.error
          << " (is it running? -u FILE or -i NAME picks another socket)\n";
      return kExitUnavailable;
    case Exchange::Status::timeout:
      err << ctx.program << ": no reply from the daemon at " << sock << " within "
          << kReplyTimeout.count() / 1000 << " s (" << ex.error << ")\n";
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

int run_one(const Context& ctx, const Command& cmd) {
  auto& out = ctx.io.out;
  if (cmd.kind == Kind::version && !ctx.options.json) {
    // The client's own version, even when no daemon answers.
    out << ctx.program << " " << MFCD_VERSION << "\n";
    out.flush();
  }
  const Exchange ex =
      ctx.transport(ctx.options.socket, rpc::make_request(1, cmd.method, cmd.params));
  if (ex.status != Exchange::Status::ok) return report_exchange(ctx, ex);

  json raw;
  try {
    raw = json::parse(ex.reply);
  } catch (const json::exception& e) {
    return bad_reply(ctx, e.what());
  }
  const Decoded d = decode(raw);
  if (!d.reply) return bad_reply(ctx, d.error);

  // -j: the result alone, whatever the command, or the error alone.
  if (d.reply->error) {
    if (ctx.options.json) out << error_json(*d.reply->error).dump(2) << "\n";
    report_error(ctx, "", *d.reply->error, cmd.method);
    return kExitRefused;
  }
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

// -b: every command line becomes one request of a single batch, its id the
// line number, so replies map back to lines whatever order they come in.
int run_batch(const Context& ctx) {
  auto& err = ctx.io.err;
  bool failed = false;
  std::vector<std::pair<int, Command>> sent;
  json batch = json::array();
  for (const auto& line : read_batch(ctx.io.in)) {
    auto parsed = parse_command(line.words, ctx.options.detail, ctx.options.smcroute_names);
    if (!parsed.command) {
      err << ctx.program << ": line " << line.line << ": " << parsed.error << "\n";
      failed = true;
      continue;
    }
    if (parsed.command->kind == Kind::help) {
      if (!ctx.options.json) ctx.io.out << usage_text(ctx.program);
      continue;
    }
    batch.push_back(
        json::parse(rpc::make_request(line.line, parsed.command->method, parsed.command->params)));
    sent.emplace_back(line.line, std::move(*parsed.command));
  }
  if (sent.empty()) return failed ? kExitRefused : kExitOk;

  const Exchange ex = ctx.transport(ctx.options.socket, batch.dump());
  if (ex.status != Exchange::Status::ok) return report_exchange(ctx, ex);

  json raw;
  try {
    raw = json::parse(ex.reply);
  } catch (const json::exception& e) {
    return bad_reply(ctx, e.what());
  }
  // The daemon refused the batch as a whole (too large, say): one error
  // object instead of an array.
  if (raw.is_object()) {
    const Decoded d = decode(raw);
    if (!d.reply) return bad_reply(ctx, d.error);
    if (!d.reply->error) return bad_reply(ctx, "a single reply to a batch request");
    if (ctx.options.json) ctx.io.out << error_json(*d.reply->error).dump(2) << "\n";
    report_error(ctx, "", *d.reply->error, "batch");
    return kExitRefused;
  }
  if (!raw.is_array()) return bad_reply(ctx, "expected an array of replies to the batch");

  std::map<int, rpc::Reply> by_line;
  for (const auto& item : raw) {
    Decoded d = decode(item);
    if (!d.reply) return bad_reply(ctx, d.error);
    if (!d.reply->id.is_number_integer()) return bad_reply(ctx, "a reply without a line id");
    by_line.emplace(d.reply->id.get<int>(), std::move(*d.reply));
  }

  // -j: one element per command sent, in line order, each what -j prints
  // for that command alone.
  json results = json::array();
  for (const auto& [line, cmd] : sent) {
    const auto it = by_line.find(line);
    if (it == by_line.end()) {
      err << ctx.program << ": line " << line << ": no reply from the daemon\n";
      results.push_back(json{{"error", {{"message", "no reply from the daemon"}}}});
      failed = true;
      continue;
    }
    const std::string prefix = "line " + std::to_string(line) + ": ";
    if (it->second.error) {
      results.push_back(error_json(*it->second.error));
      report_error(ctx, prefix, *it->second.error, cmd.method);
      failed = true;
      continue;
    }
    results.push_back(*it->second.result);
    try {
      emit_result(ctx, cmd, *it->second.result);
    } catch (const std::exception& e) {
      return bad_reply(ctx, prefix + e.what());
    }
  }
  if (ctx.options.json) ctx.io.out << results.dump(2) << "\n";
  return failed ? kExitRefused : kExitOk;
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

}  // namespace

std::vector<std::string> describe_error(const rpc::RpcError& error, const std::string& method) {
  std::string first = error.message.empty() ? "error " + std::to_string(error.code) : error.message;
  std::vector<std::string> details;
  std::vector<std::string> more;
  const json& d = error.data;

  auto mentioned = [&](const std::string& s) { return first.find(s) != std::string::npos; };
  // A detail the message already says is left out: the daemon often puts
  // the same text in both.
  auto add = [&](const std::string& detail, const std::string& key) {
    if (!detail.empty() && !mentioned(key)) details.push_back(detail);
  };

  if (error.code == rpc::kMethodNotFound) {
    add(method + " is not supported by this daemon", method);
  }
  if (d.is_object()) {
    const auto str = [&](const char* key) { return d.contains(key) ? text_of(d[key]) : ""; };
    if (d.contains("param")) {
      std::string p = "parameter '" + str("param") + "'";
      if (d.contains("message")) p += ": " + str("message");
      add(p, d.contains("message") ? str("message") : str("param"));
    } else if (d.contains("message")) {
      add(str("message"), str("message"));
    }
    if (d.contains("interface")) add("interface " + str("interface"), str("interface"));
    {
      std::string k;  // "add_mfc (S, G): Invalid argument"
      if (d.contains("op") && !mentioned(str("op"))) k = str("op");
      if (d.contains("strerror") && !mentioned(str("strerror"))) {
        k += (k.empty() ? "" : ": ") + str("strerror");
      }
      add(k, "\n");  // never in a one-line message
    }
    if (d.contains("what")) {
      std::string w = str("what");
      std::string key = w;
      if (d.contains("iif")) w += " from " + str("iif");
      if (d.contains("group") && d["group"].is_string() &&
          (!d.contains("source") || d["source"].is_null() || d["source"].is_string())) {
        key = sg_text(d.contains("source") ? d["source"] : json(), d["group"]);
        w += " " + key;
      }
      add(w, key);
    }
    if (d.contains("limit")) {
      std::string l = "limit " + str("limit");
      if (d.contains("value")) l += " = " + str("value");
      add(l, l);
    }
    if (d.contains("uid")) add("uid " + str("uid"), "uid " + str("uid"));
    if (d.contains("errors") && d["errors"].is_array()) {
      for (const auto& e : d["errors"])
        more.push_back(config_error_text(e));
    }
  } else if (d.is_string()) {
    add(d.get<std::string>(), d.get<std::string>());
  }

  if (!details.empty()) {
    first += " (";
    for (size_t i = 0; i < details.size(); ++i)
      first += (i ? "; " : "") + details[i];
    first += ")";
  }
  std::vector<std::string> lines{first};
  lines.insert(lines.end(), more.begin(), more.end());
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
  const Context ctx{program, opts, style, io, transport};

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
  return run_one(ctx, *cmd.command);
}

}  // namespace mfcd::client
