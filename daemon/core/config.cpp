// The smcroute.conf parser. A config is a list of independent lines, so the
// parser works line by line: split into blank-separated tokens (remembering
// each token's byte column), dispatch on the first token, and build the
// directive into a local value that is committed only if the line produced no
// error. That is what lets one pass report every error in every file while a
// broken line contributes nothing. Structural mistakes (a token where another
// was expected) end the line's parse, because guessing what was meant would
// only produce follow-on noise; value mistakes (a bad address, a TTL out of
// range) are reported and parsing of the same line continues, so a line with
// two bad addresses reports both.
//
// `include` recurses into the same machinery with the file's own name in the
// positions. The chain of files being read is kept as a stack: finding a path
// already on it is a loop, reported at the include line instead of recursing.
// All file access goes through the caller's FileSystem, keeping the core pure.
#include "core/config.hpp"

#include <algorithm>
#include <charconv>
#include <string_view>

namespace mfcd::core {

namespace {

// IFNAMSIZ is 16 including the terminating NUL.
constexpr size_t kMaxIfnameLen = 15;
// A backstop behind loop detection: symlinks can make one file reachable
// under ever-longer names that lexical normalisation cannot unify.
constexpr size_t kMaxIncludeDepth = 32;

struct Token {
  std::string_view text;
  int column = 0;
};

std::string quoted(std::string_view s) {
  return "'" + std::string(s) + "'";
}

bool is_blank(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

bool has_glob_chars(std::string_view s) {
  return s.find_first_of("*?[") != std::string_view::npos;
}

// The directory part of a path, with its trailing slash ("" for a bare name).
std::string dir_of(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? std::string() : path.substr(0, slash + 1);
}

// Lexical clean-up ("a//./b/../c" -> "a/c") so that one file is known under
// one name for loop detection. Leading ".." of a relative path are kept.
std::string normalize_path(const std::string& path) {
  const bool absolute = !path.empty() && path[0] == '/';
  std::vector<std::string_view> parts;
  std::string_view rest = path;
  while (!rest.empty()) {
    const size_t slash = rest.find('/');
    const std::string_view part = rest.substr(0, slash);
    rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
    if (part.empty() || part == ".") continue;
    if (part == ".." && !parts.empty() && parts.back() != "..") {
      parts.pop_back();
    } else if (part == ".." && absolute) {
      continue;  // "/.." is "/"
    } else {
      parts.push_back(part);
    }
  }
  std::string out = absolute ? "/" : "";
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i) out += '/';
    out += parts[i];
  }
  if (out.empty()) out = ".";
  return out;
}

// Splits one line (without its newline) into tokens; a '#' anywhere ends it.
void tokenize(std::string_view line, std::vector<Token>& out) {
  out.clear();
  size_t i = 0;
  while (i < line.size()) {
    if (line[i] == '#') break;
    if (is_blank(line[i])) {
      ++i;
      continue;
    }
    const size_t start = i;
    while (i < line.size() && !is_blank(line[i]) && line[i] != '#')
      ++i;
    out.push_back(Token{line.substr(start, i - start), static_cast<int>(start) + 1});
  }
}

class Parser {
 public:
  Parser(const FileSystem& fs, ParseResult& out) : fs_(fs), out_(out) {}

  // Parses `text` as the contents of `name`; `name` must already be on the
  // include stack (the caller pushes it so that loops are seen).
  void parse_text(const std::string& name, std::string_view text) {
    // Room for a route per line up front, growing geometrically all the
    // same so that many small included files do not reallocate each time.
    auto& routes = out_.config.routes;
    const size_t lines = static_cast<size_t>(std::count(text.begin(), text.end(), '\n')) + 1;
    if (routes.size() + lines > routes.capacity())
      routes.reserve(std::max(routes.size() + lines, 2 * routes.capacity()));
    std::vector<Token> tokens;
    int line_no = 0;
    size_t pos = 0;
    while (pos <= text.size()) {
      const size_t nl = text.find('\n', pos);
      const size_t end = nl == std::string_view::npos ? text.size() : nl;
      ++line_no;
      tokenize(text.substr(pos, end - pos), tokens);
      if (!tokens.empty()) {
        const Token& last = tokens.back();
        const int end_column = last.column + static_cast<int>(last.text.size());
        Line line{name, line_no, end_column, tokens};
        parse_line(line);
      }
      if (nl == std::string_view::npos) break;
      pos = nl + 1;
    }
  }

  // Reads and parses one file; the error, if any, is reported at `at`.
  void parse_file(const std::string& path, const SourcePos& at) {
    const std::string name = normalize_path(path);
    if (std::find(stack_.begin(), stack_.end(), name) != stack_.end()) {
      std::string chain;
      for (const std::string& f : stack_)
        chain += f + " -> ";
      error(at, "include loop: " + chain + name);
      return;
    }
    if (stack_.size() >= kMaxIncludeDepth) {
      error(at, "includes nested deeper than " + std::to_string(kMaxIncludeDepth) + " levels at " +
                    quoted(name));
      return;
    }
    if (!fs_.read) {
      error(at, "cannot read " + quoted(name) + ": no file access");
      return;
    }
    Result<std::string> text = fs_.read(name);
    if (!text) {
      error(at, "cannot read " + quoted(name) + ": " + text.error().message);
      return;
    }
    note_file(name);
    stack_.push_back(name);
    parse_text(name, *text);
    stack_.pop_back();
  }

  void push(const std::string& name) {
    stack_.push_back(normalize_path(name));
    note_file(name);
  }

 private:
  struct Line {
    const std::string& file;
    int number;
    int end_column;  // column just past the last token: where "end of line" is
    const std::vector<Token>& tokens;
  };

  // Cursor over one line's tokens, with helpers that report at a token.
  struct Cursor {
    const Line& line;
    size_t next = 1;  // token 0 is the directive keyword
    bool failed = false;

    const Token* peek() const { return next < line.tokens.size() ? &line.tokens[next] : nullptr; }
    const Token* take() {
      const Token* t = peek();
      if (t) ++next;
      return t;
    }
    SourcePos at(const Token* t) const {
      return SourcePos{line.file, line.number, t ? t->column : line.end_column};
    }
    static std::string got(const Token* t) { return t ? quoted(t->text) : "end of line"; }
  };

  void error(const SourcePos& pos, std::string message) {
    out_.diagnostics.push_back(Diagnostic{pos, std::move(message), false});
  }
  void warning(const SourcePos& pos, std::string message) {
    out_.diagnostics.push_back(Diagnostic{pos, std::move(message), true});
  }
  void fail(Cursor& c, const Token* t, std::string message) {
    error(c.at(t), std::move(message));
    c.failed = true;
  }

  void note_file(const std::string& name) {
    auto& files = out_.config.files;
    if (std::find(files.begin(), files.end(), name) == files.end()) files.push_back(name);
  }

  void parse_line(const Line& line) {
    const std::string_view keyword = line.tokens[0].text;
    if (keyword == "phyint") {
      parse_phyint(line);
    } else if (keyword == "mroute" || keyword == "mgroup" || keyword == "ssmgroup") {
      parse_flow(line, keyword);
    } else if (keyword == "include") {
      parse_include(line);
    } else {
      error(SourcePos{line.file, line.number, line.tokens[0].column},
            "unknown keyword " + quoted(keyword));
    }
  }

  // Checks an interface name token; reports and returns false if unusable.
  bool check_ifname(Cursor& c, const Token& t) {
    if (t.text.size() > kMaxIfnameLen) {
      error(c.at(&t), "interface name " + quoted(t.text) + " is longer than " +
                          std::to_string(kMaxIfnameLen) + " characters");
      c.failed = true;
      return false;
    }
    return true;
  }

  // phyint IFNAME [enable | disable] [mrdisc] [ttl-threshold TTL]
  void parse_phyint(const Line& line) {
    Cursor c{line};
    PhyintConf conf;
    conf.pos = c.at(&line.tokens[0]);
    const Token* name = c.take();
    const auto is_option = [](std::string_view s) {
      return s == "enable" || s == "disable" || s == "mrdisc" || s == "ttl-threshold";
    };
    if (!name || is_option(name->text)) {
      return fail(c, name, "expected an interface name after 'phyint', got " + Cursor::got(name));
    }
    check_ifname(c, *name);
    conf.ifname = std::string(name->text);

    const Token* enable_token = nullptr;  // the enable/disable given, to spot a contradiction
    while (const Token* t = c.take()) {
      if (t->text == "enable" || t->text == "disable") {
        if (enable_token && enable_token->text != t->text) {
          return fail(c, t,
                      quoted(t->text) + " contradicts " + quoted(enable_token->text) +
                          " earlier on this line");
        }
        enable_token = t;
        conf.enabled = t->text == "enable";
      } else if (t->text == "mrdisc") {
        conf.mrdisc = true;
      } else if (t->text == "ttl-threshold") {
        const Token* v = c.take();
        if (!v) return fail(c, v, "expected a number after 'ttl-threshold', got end of line");
        int ttl = 0;
        const auto [ptr, ec] =
            std::from_chars(v->text.data(), v->text.data() + v->text.size(), ttl);
        if (ec == std::errc::result_out_of_range && ptr == v->text.data() + v->text.size()) {
          fail(c, v, "ttl-threshold must be 1..255, got " + std::string(v->text));
        } else if (ec != std::errc{} || ptr != v->text.data() + v->text.size()) {
          fail(c, v, "ttl-threshold must be 1..255, got " + quoted(v->text));
        } else if (ttl < 1 || ttl > 255) {
          fail(c, v, "ttl-threshold must be 1..255, got " + std::to_string(ttl));
        } else {
          conf.ttl_threshold = ttl;
        }
      } else {
        return fail(c, t,
                    "unknown phyint option " + quoted(t->text) +
                        " (expected 'enable', 'disable', 'mrdisc' or 'ttl-threshold')");
      }
    }
    if (!c.failed) out_.config.phyints.push_back(std::move(conf));
  }

  // Parses an address or prefix token for `role` ("source" / "group").
  std::optional<Prefix> parse_addr_token(Cursor& c, const Token& t, std::string_view role) {
    PrefixParse p = parse_prefix(t.text);
    if (!p.prefix) {
      // Reword a bad address the config way; length errors read fine as is.
      const std::string_view addr_part = t.text.substr(0, t.text.find('/'));
      if (!Addr::parse(addr_part)) {
        fail(c, &t, quoted(addr_part) + " is not a valid address");
      } else {
        fail(c, &t, std::move(p.error));
      }
      return std::nullopt;
    }
    const Prefix& pre = *p.prefix;
    if (role == "group") {
      if (!pre.addr.is_multicast()) {
        fail(c, &t, "group " + pre.str() + " is not a multicast address");
        return std::nullopt;
      }
      // Inside 224.0.0.0/4 or ff00::/8 exactly when the multicast bits are
      // all within the prefix length.
      const bool v4 = pre.addr.family == Family::v4;
      if (pre.len < (v4 ? 4 : 8)) {
        fail(c, &t,
             "group range " + pre.str() + " reaches outside the multicast range " +
                 (v4 ? "224.0.0.0/4" : "ff00::/8"));
        return std::nullopt;
      }
    } else if (pre.addr.is_multicast()) {
      fail(c, &t, "source " + pre.str() + " is a multicast address");
      return std::nullopt;
    }
    return pre;
  }

  // mroute   from IIF [source S[/LEN]] group G[/LEN] to OIF...
  // mgroup   from IIF [source S[/LEN]] group G[/LEN]
  // ssmgroup from IIF source S group G
  // SMCRoute's own examples write "group G source S", so from/source/group
  // are accepted in any order; only "to" must come last, because it takes
  // the rest of the line.
  void parse_flow(const Line& line, std::string_view keyword) {
    const bool is_route = keyword == "mroute";
    const bool needs_source = keyword == "ssmgroup";
    Cursor c{line};

    const Token* from_value = nullptr;
    const Token* source_value = nullptr;
    const Token* group_value = nullptr;
    const Token* source_kw = nullptr;
    const Token* group_kw = nullptr;
    const Token* from_kw = nullptr;
    std::optional<Prefix> source;
    std::optional<Prefix> group;
    // Where the parse stands, for "expected X <context>" messages. Kept as a
    // view of a literal: this runs once per token of every route line.
    std::string_view context = is_route       ? "after 'mroute'"
                               : needs_source ? "after 'ssmgroup'"
                                              : "after 'mgroup'";

    // The first clause still missing, in the order the grammar writes them.
    const auto first_missing = [&]() -> std::string_view {
      if (!from_kw) return "'from'";
      if (needs_source && !source_kw) return "'source'";
      if (!group_kw) return "'group'";
      if (is_route) return "'to'";
      return "end of line";
    };

    const Token* to_kw = nullptr;
    while (!to_kw) {
      const Token* t = c.take();
      if (!t) {
        if (first_missing() != "end of line") {
          return fail(c, t,
                      "expected " + std::string(first_missing()) + " " + std::string(context) +
                          ", got end of line");
        }
        break;
      }
      const bool is_from = t->text == "from";
      const bool is_source = t->text == "source";
      const bool is_group = t->text == "group";
      if (is_from || is_source || is_group) {
        const Token*& kw = is_from ? from_kw : is_source ? source_kw : group_kw;
        if (kw) return fail(c, t, quoted(t->text) + " given twice on one line");
        kw = t;
        const Token* v = c.take();
        const bool v_is_keyword = v && (v->text == "from" || v->text == "source" ||
                                        v->text == "group" || v->text == "to");
        const char* what = is_from ? "an interface name" : "an address";
        if (!v || v_is_keyword) {
          return fail(c, v,
                      std::string("expected ") + what + " after " + quoted(t->text) + ", got " +
                          Cursor::got(v));
        }
        if (is_from) {
          from_value = v;
          check_ifname(c, *v);
          context = "after the input interface";
        } else if (is_source) {
          source_value = v;
          source = parse_addr_token(c, *v, "source");
          context = "after the source address";
        } else {
          group_value = v;
          group = parse_addr_token(c, *v, "group");
          context = "after the group address";
        }
      } else if (is_route && t->text == "to" && first_missing() == "'to'") {
        to_kw = t;
      } else {
        return fail(c, t,
                    "expected " + std::string(first_missing()) + " " + std::string(context) +
                        ", got " + quoted(t->text));
      }
    }

    if (source && group && source->addr.family != group->addr.family) {
      const Token* later = source_value->column > group_value->column ? source_value : group_value;
      fail(c, later,
           "source and group are of different families (" +
               std::string(family_name(source->addr.family)) + " source, " +
               std::string(family_name(group->addr.family)) + " group)");
    }
    // 0.0.0.0 and :: are SMCRoute's way to write "any source": a (*,G) rule.
    if (source && source->addr.is_any()) {
      if (needs_source) {
        fail(c, source_value, "ssmgroup needs a specific source, got " + source->str());
      }
      source.reset();
    }

    std::vector<std::string> oifs;
    if (to_kw) {
      const std::string_view iif = from_value ? from_value->text : std::string_view();
      bool dropped_iif = false;
      oifs.reserve(line.tokens.size() - c.next);  // one allocation, not one per doubling
      if (!c.peek()) fail(c, nullptr, "expected an output interface after 'to', got end of line");
      while (const Token* t = c.take()) {
        if (t->text == "from" || t->text == "source" || t->text == "group" || t->text == "to") {
          fail(c, t,
               "expected an output interface name, got keyword " + quoted(t->text) +
                   " (it must come before 'to')");
          continue;
        }
        if (!check_ifname(c, *t)) continue;
        if (t->text == iif) {
          warning(c.at(t),
                  "output interface " + quoted(t->text) + " is the input interface; dropped");
          dropped_iif = true;
          continue;
        }
        if (std::find(oifs.begin(), oifs.end(), t->text) != oifs.end()) {
          warning(c.at(t), "output interface " + quoted(t->text) + " listed twice; kept once");
          continue;
        }
        oifs.emplace_back(t->text);
      }
      if (oifs.empty() && dropped_iif && !c.failed) {
        fail(c, to_kw, "no output interface left after dropping the input interface");
      }
    }

    if (c.failed) return;
    SourcePos pos = c.at(&line.tokens[0]);
    if (is_route) {
      out_.config.routes.push_back(RouteConf{std::string(from_value->text), source, *group,
                                             std::move(oifs), std::move(pos)});
    } else {
      out_.config.joins.push_back(
          JoinConf{std::string(from_value->text), source, *group, std::move(pos)});
    }
  }

  // include PATH-OR-GLOB
  void parse_include(const Line& line) {
    Cursor c{line};
    const Token* path = c.take();
    if (!path) return fail(c, path, "expected a path after 'include', got end of line");
    if (const Token* extra = c.take()) {
      return fail(c, extra,
                  "expected end of line after the include path, got " + quoted(extra->text));
    }
    std::string target(path->text);
    if (target[0] != '/') target = dir_of(line.file) + target;
    target = normalize_path(target);
    const SourcePos at = c.at(path);
    if (!has_glob_chars(target)) return parse_file(target, at);

    std::vector<std::string> matches = fs_.glob ? fs_.glob(target) : std::vector<std::string>{};
    if (matches.empty()) {
      return warning(at, "include pattern " + quoted(target) + " matches no files");
    }
    for (std::string& m : matches)
      m = normalize_path(m);
    std::sort(matches.begin(), matches.end());
    matches.erase(std::unique(matches.begin(), matches.end()), matches.end());
    for (const std::string& m : matches)
      parse_file(m, at);
  }

  const FileSystem& fs_;
  ParseResult& out_;
  std::vector<std::string> stack_;  // files being read, outermost first
};

}  // namespace

std::string SourcePos::str() const {
  // A position without a line (a file that could not be opened) is the file.
  if (line <= 0) return file;
  return file + ":" + std::to_string(line) + ":" + std::to_string(column);
}

std::string Diagnostic::str() const {
  return pos.str() + (warning ? ": warning: " : ": error: ") + message;
}

bool ParseResult::ok() const {
  return std::none_of(diagnostics.begin(), diagnostics.end(),
                      [](const Diagnostic& d) { return !d.warning; });
}

ParseResult parse_config_file(const std::string& path, const FileSystem& fs) {
  ParseResult result;
  Parser parser(fs, result);
  parser.parse_file(path, SourcePos{normalize_path(path), 0, 0});
  return result;
}

ParseResult parse_config_text(const std::string& name, const std::string& text,
                              const FileSystem& fs) {
  ParseResult result;
  Parser parser(fs, result);
  parser.push(name);
  parser.parse_text(name, text);
  return result;
}

bool is_wildcard(const std::string& ifname) {
  return !ifname.empty() && ifname.back() == '+';
}

bool ifname_matches(const std::string& pattern, const std::string& ifname) {
  if (!is_wildcard(pattern)) return pattern == ifname;
  const std::string_view stem(pattern.data(), pattern.size() - 1);
  return std::string_view(ifname).substr(0, stem.size()) == stem;
}

}  // namespace mfcd::core
