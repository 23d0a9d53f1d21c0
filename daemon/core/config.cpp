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
// A file already read in this load is not read again (a warning), so an
// include graph of any shape, a diamond included twice at every level,
// costs one read per file. All file access goes through the caller's
// FileSystem, keeping the core pure.
//
// A load is bounded (config.hpp, kMaxLoadBytes and the rest): bytes, line
// length, files and listed diagnostics. The file system reads no more than
// the bytes the load has left; the tokenizer keeps no tokens of a line past
// the line bound; nothing on a line costs more than linear time (duplicate
// OIFs are found through a set once a line lists many). A bound passed is an
// error at its position, never turned into a warning: a load cut short must
// not be applied.
//
// A message quotes only the token it is about, cut short and escaped
// (core/quote.hpp), because the file may be any file root can read: a line
// of /etc/shadow must not come back in a reply. For the same reason a first
// token that is not even a word is not quoted at all (unknown_keyword).
//
// SMCRoute's looser reading (ParseOptions) is a matter of what the same
// diagnostics mean, not a second parser: a line is parsed and reported the
// same way, only its errors are recorded as warnings with the line left out
// (Parser::error); a /LEN with host bits set is read as its prefix; a
// phyint line keeps what it can (parse_phyint). The bounds of a load are
// errors under every reading.
#include "core/config.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstring>
#include <map>
#include <string_view>
#include <unordered_set>

#include "core/flow_key.hpp"
#include "core/quote.hpp"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace mfcd::core {

namespace {

// The fixed-position route path compares each OIF with every earlier one;
// past this many it leaves the line to parse_flow, which uses a set.
constexpr size_t kPlainMaxOifs = 32;
// parse_flow looks for a duplicate OIF through a set past this many.
constexpr size_t kLinearOifs = 16;
// The shortest route line is about 30 bytes ("mroute from a group
// 225.1.1.1 to b"): a file cannot hold more routes than its size over
// this, whatever its count of (possibly empty) lines.
constexpr size_t kMinRouteLineBytes = 24;

struct Token {
  std::string_view text;
  int column = 0;
};

// Whether a line's first token could be a mistyped keyword and is worth
// quoting back: a short word of letters, digits, '-' and '_'. A line of some
// other file (a password hash, a key) is none, and is not quoted.
bool is_word(std::string_view s) {
  if (s.empty() || s.size() > 24) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
  });
}

[[maybe_unused]] bool is_blank(char c) {
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

// The tokenizer reads the text 64 bytes at a time, each byte once: SIMD
// compares turn a block into three bit masks (token bytes, '#', '\n'), and
// lines and tokens are read off the masks' bits. Going byte by byte instead
// costs a mispredicted branch at almost every token boundary, and a route
// line has about twenty of them; this was the largest single cost of
// parsing.
constexpr size_t kBlock = 64;

struct Masks {
  uint64_t token = 0;    // bit i: byte i is part of a token
  uint64_t hash = 0;     // bit i: byte i is '#'
  uint64_t newline = 0;  // bit i: byte i is '\n'
};

// Classifies the kBlock bytes at p (all must be readable).
[[gnu::always_inline]] inline Masks classify(const char* p) {
  Masks m;
#if defined(__SSE2__)
  uint64_t other = 0;
  for (size_t i = 0; i < kBlock; i += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
    const auto eq = [&v](char c) { return _mm_cmpeq_epi8(v, _mm_set1_epi8(c)); };
    const auto bits = [](__m128i x) {
      return static_cast<uint64_t>(static_cast<uint32_t>(_mm_movemask_epi8(x)));
    };
    const __m128i hash = eq('#');
    const __m128i newline = eq('\n');
    const __m128i blank = _mm_or_si128(_mm_or_si128(eq(' '), eq('\t')),
                                       _mm_or_si128(_mm_or_si128(eq('\r'), eq('\v')), eq('\f')));
    m.hash |= bits(hash) << i;
    m.newline |= bits(newline) << i;
    other |= bits(_mm_or_si128(_mm_or_si128(blank, hash), newline)) << i;
  }
  m.token = ~other;
#else
  for (size_t i = 0; i < kBlock; ++i) {
    const char c = p[i];
    const uint64_t bit = uint64_t{1} << i;
    if (c == '#') {
      m.hash |= bit;
    } else if (c == '\n') {
      m.newline |= bit;
    } else if (!is_blank(c)) {
      m.token |= bit;
    }
  }
#endif
  return m;
}

uint64_t lowest_bit(uint64_t x) {
  return x & (0 - x);
}

size_t bit_index(uint64_t x) {
  return static_cast<size_t>(__builtin_ctzll(x));
}

// Bits [lo, 64) set; lo < 64.
uint64_t bits_from(size_t lo) {
  return ~uint64_t{0} << lo;
}

// Splits text into lines and lines into tokens, calling on_line(tokens,
// count, too_long) for every line in order ('#' ends a line's tokens), lines
// without tokens and a last line without '\n' included. The tokens are
// valid until the next call. A line longer than kMaxLineBytes comes with
// too_long set and no tokens: a block past the bound at the latest, its
// tokens are dropped and the rest of it is skipped with memchr, so the
// token buffer stays small and the time short whatever the line.
class Tokenizer {
 public:
  template <typename OnLine>
  void run(std::string_view text, OnLine&& on_line) {
    Scan s{text.data()};
    for (size_t base = 0; base < text.size(); base += kBlock) {
      if (base - s.line_start > kMaxLineBytes) {
        // Nothing more of this line is read: on to the next one, if any.
        on_line(tokens_.data(), 0, true);
        if (!skip_rest_of_line(text, base, s)) return;
        base = s.line_start - kBlock;  // the next block starts the next line
        continue;
      }
      // Room for every token that can start in this block (one per two bytes).
      if (tokens_.size() < s.count + kBlock / 2 + 1) tokens_.resize(2 * (s.count + kBlock));
      read_block(text, base, s, on_line);
    }
    if (s.open) push(s, s.token_start, text.size());
    // The text's last line.
    const bool long_line = text.size() - s.line_start > kMaxLineBytes;
    on_line(tokens_.data(), long_line ? 0 : s.count, long_line);
  }

 private:
  // Where the scan stands between blocks. The steps below take it by
  // reference and are forced inline, so that it stays in registers as the
  // locals of one loop would: this is the parser's hottest path.
  struct Scan {
    const char* data;
    size_t line_start = 0;
    size_t count = 0;         // tokens of the current line so far
    bool open = false;        // a token runs on from the previous block
    size_t token_start = 0;   // where that token starts
    bool in_comment = false;  // the current line's '#' has been seen
  };

  [[gnu::always_inline]] void push(Scan& s, size_t b, size_t e) {
    tokens_[s.count++] =
        Token{std::string_view(s.data + b, e - b), static_cast<int>(b - s.line_start) + 1};
  }

  // Skips the rest of a line past kMaxLineBytes, memchr finding where the
  // next one starts. False if there is none: it was the text's last line.
  [[gnu::always_inline]] static bool skip_rest_of_line(std::string_view text, size_t base,
                                                       Scan& s) {
    s.count = 0;
    s.open = false;
    s.in_comment = false;
    const void* newline = std::memchr(text.data() + base, '\n', text.size() - base);
    if (!newline) return false;
    s.line_start = static_cast<size_t>(static_cast<const char*>(newline) - text.data()) + 1;
    return true;
  }

  // The masks of the block at base. classify reads kBlock bytes whatever
  // is left, so the text's last, short block is read from a padded copy.
  // One return, on purpose: with a return in each branch GCC 12 lays the
  // tokenizer's loop out worse (1.5% more instructions in parse_text on
  // bench_parse's config).
  [[gnu::always_inline]] static Masks classify_block(std::string_view text, size_t base) {
    Masks m;
    if (text.size() - base >= kBlock) {
      m = classify(text.data() + base);
    } else {
      char tail[kBlock];  // the end of the text, padded with blanks
      std::memset(tail, ' ', kBlock);
      std::memcpy(tail, text.data() + base, text.size() - base);
      m = classify(tail);
    }
    return m;
  }

  // One block: its tokens, line by line, and every line that ends in it
  // handed to on_line.
  template <typename OnLine>
  [[gnu::always_inline]] void read_block(std::string_view text, size_t base, Scan& s,
                                         OnLine& on_line) {
    const Masks m = classify_block(text, base);
    uint64_t newlines = m.newline;
    size_t lo = 0;  // the current line's first bit in this block
    for (;;) {
      // This line's part of the block: [lo, hi).
      const size_t hi = newlines ? bit_index(newlines) : kBlock;
      if (!s.in_comment) read_tokens(m, base, lo, newlines, s);
      if (!newlines) break;  // the line goes on in the next block
      const bool long_line = base + hi - s.line_start > kMaxLineBytes;
      on_line(tokens_.data(), long_line ? 0 : s.count, long_line);
      s.count = 0;
      s.in_comment = false;
      s.line_start = base + hi + 1;
      newlines &= newlines - 1;
      lo = hi + 1;
      if (lo == kBlock) break;
    }
  }

  // The tokens of the current line's part of the block, from bit lo up to
  // the next newline (or the block's end when newlines is 0), stopping at
  // a '#'.
  [[gnu::always_inline]] void read_tokens(const Masks& m, size_t base, size_t lo, uint64_t newlines,
                                          Scan& s) {
    uint64_t live = bits_from(lo) & (newlines ? lowest_bit(newlines) - 1 : ~uint64_t{0});
    const uint64_t hash = m.hash & live;
    if (hash) {
      live &= lowest_bit(hash) - 1;
      s.in_comment = true;
    }
    // A token starts on a token byte after a non-token one and ends on a
    // non-token byte after a token one. A token open from the last block
    // counts as started just before bit 0 (lo is 0 then: a line starting
    // inside this block has nothing open).
    const uint64_t token = m.token & live;
    const uint64_t before = (token << 1) | (s.open ? 1 : 0);
    uint64_t starts = token & ~before;
    uint64_t ends = ~token & before;
    // Starts and ends alternate, so they pair up in order; a token reaching
    // the block's last byte has no end here and stays open.
    if (s.open && ends) {
      push(s, s.token_start, base + bit_index(ends));
      ends &= ends - 1;
      s.open = false;
    }
    while (starts) {
      const size_t start = base + bit_index(starts);
      starts &= starts - 1;
      if (!ends) {
        s.token_start = start;
        s.open = true;
        break;
      }
      push(s, start, base + bit_index(ends));
      ends &= ends - 1;
    }
  }

  std::vector<Token> tokens_ = std::vector<Token>(kBlock);
};

// Number of '\n' in text. std::count widens every comparison to a 64-bit
// sum; counting in byte lanes and folding them every 255 chunks is several
// times faster, and this pass over the whole file only sizes a reserve().
size_t count_newlines(std::string_view text) {
  size_t n = 0;
  size_t i = 0;
#if defined(__SSE2__)
  const __m128i nl = _mm_set1_epi8('\n');
  while (text.size() - i >= 16) {
    __m128i lanes = _mm_setzero_si128();  // per byte lane, at most 255
    for (int k = 0; k < 255 && text.size() - i >= 16; ++k, i += 16) {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(text.data() + i));
      lanes = _mm_sub_epi8(lanes, _mm_cmpeq_epi8(v, nl));  // a match is -1
    }
    const __m128i sums = _mm_sad_epu8(lanes, _mm_setzero_si128());  // two 64-bit sums
    n += static_cast<size_t>(_mm_cvtsi128_si64(sums)) +
         static_cast<size_t>(_mm_cvtsi128_si64(_mm_unpackhi_epi64(sums, sums)));
  }
#endif
  for (; i < text.size(); ++i)
    n += text[i] == '\n';
  return n;
}

// Equality of a token with a literal, compiled as a couple of integer
// compares: the length is a constant, so memcmp is expanded inline rather
// than called (string_view's operator== calls it for every comparison).
template <size_t N>
bool is(std::string_view s, const char (&lit)[N]) {
  return s.size() == N - 1 && std::memcmp(s.data(), lit, N - 1) == 0;
}

// Equality of short strings without a library call or a loop whose exit
// depends on the data: interface names are a few bytes, and the OIF loop
// compares each with the IIF and every earlier OIF ("bo1" against "bo2"
// would leave a byte loop at an unpredictable point). Two overlapping loads
// from each end cover any length up to twice the load size.
template <typename T>
T load(const char* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

template <typename T>
bool same_ends(const char* a, const char* b, size_t n) {
  return ((load<T>(a) ^ load<T>(b)) | (load<T>(a + n - sizeof(T)) ^ load<T>(b + n - sizeof(T)))) ==
         0;
}

[[gnu::always_inline]] inline bool same(std::string_view a, std::string_view b) {
  const size_t n = a.size();
  if (n != b.size()) return false;
  if (n >= 8) return n <= 16 ? same_ends<uint64_t>(a.data(), b.data(), n) : a == b;
  if (n >= 4) return same_ends<uint32_t>(a.data(), b.data(), n);
  if (n >= 2) return same_ends<uint16_t>(a.data(), b.data(), n);
  return n == 0 || a[0] == b[0];
}

// An argument for emplace_back that becomes the member it initialises by
// calling `make`: a prvalue returned by a conversion function initialises
// the member directly, where passing a built std::string would construct a
// temporary and then move it (a second copy of the bytes for a short one).
template <typename Make>
struct InPlace {
  Make make;
  operator decltype(make())() const { return make(); }  // NOLINT: implicit on purpose
};
// Spelled out for clang before 17, which does not deduce an aggregate's
// template arguments from its initialiser (C++20's P1816).
template <typename Make>
InPlace(Make) -> InPlace<Make>;

// Appends a RouteConf built from its members, in place where the compiler
// can: emplace_back then initialises the aggregate with parentheses
// (C++20's P0960), which clang before 16 lacks; there a braced temporary is
// moved in instead, one move more per route.
template <typename... Args>
RouteConf& add_route(std::vector<RouteConf>& routes, Args&&... args) {
#if defined(__cpp_aggregate_paren_init) && __cpp_aggregate_paren_init >= 201902L
  return routes.emplace_back(std::forward<Args>(args)...);
#else
  return routes.emplace_back(RouteConf{std::forward<Args>(args)...});
#endif
}

// The words of mroute/mgroup/ssmgroup lines.
enum class Word : uint8_t { other, from, source, group, to };

[[gnu::always_inline]] inline Word word_of(std::string_view s) {
  switch (s.size()) {
    case 2:
      return is(s, "to") ? Word::to : Word::other;
    case 4:
      return is(s, "from") ? Word::from : Word::other;
    case 5:
      return is(s, "group") ? Word::group : Word::other;
    case 6:
      return is(s, "source") ? Word::source : Word::other;
    default:
      return Word::other;
  }
}

class Parser {
 public:
  Parser(const FileSystem& fs, ParseResult& out, const ParseOptions& options)
      : fs_(fs), out_(out), options_(options) {}

  // Parses `text` as the contents of `name`; `name` must already be on the
  // include stack (the caller pushes it so that loops are seen).
  void parse_text(const std::string& name, std::string_view text) {
    // Room for a route per line up front, growing geometrically all the
    // same so that many small included files do not reallocate each time.
    auto& routes = out_.config.routes;
    const size_t lines = std::min(count_newlines(text) + 1, text.size() / kMinRouteLineBytes + 1);
    if (routes.size() + lines > routes.capacity())
      routes.reserve(std::max(routes.size() + lines, 2 * routes.capacity()));
    const FileName file(name);  // one copy of the name for every route of the file
    int line_no = 0;
    Tokenizer().run(text, [&](const Token* tokens, size_t count, bool too_long) {
      ++line_no;
      if (too_long) {
        return hard_error(SourcePos{file, line_no, static_cast<int>(kMaxLineBytes) + 1},
                          "line longer than " + std::to_string(kMaxLineBytes) +
                              " bytes (64 KiB), the most a line may hold; line not read");
      }
      if (!count) return;
      const Token& last = tokens[count - 1];
      const int end_column = last.column + static_cast<int>(last.text.size());
      parse_line(Line{file, line_no, end_column, tokens, count});
    });
  }

  // Reads and parses one file; the error, if any, is reported at `at`.
  void parse_file(const std::string& path, const SourcePos& at) {
    if (stopped_) return;  // a bound was passed: the load is refused already
    const std::string name = normalize_path(path);
    if (std::find(stack_.begin(), stack_.end(), name) != stack_.end()) {
      std::string chain;
      for (const std::string& f : stack_)
        chain += f + " -> ";
      error(at, "include loop: " + chain + name);
      return;
    }
    if (const auto seen = read_.find(name); seen != read_.end()) {
      // A warning, not an error: everything the file says is in the load
      // already. Reading it again would not add to it; it would only make
      // a graph that includes a file twice at every level cost twice as
      // much per level.
      warning(at, quote_path(name) + " is already read in this load (included at " +
                      seen->second.str() + "); not read again");
      return;
    }
    if (stack_.size() >= kMaxIncludeDepth) {
      error(at, "includes nested deeper than " + std::to_string(kMaxIncludeDepth) + " levels at " +
                    quote_path(name));
      return;
    }
    if (files_read_ >= kMaxLoadFiles) {
      stopped_ = true;
      return hard_error(at, "more than " + std::to_string(kMaxLoadFiles) +
                                " files in one load, the most a load may read; " +
                                quote_path(name) + " and the rest are not read");
    }
    if (!fs_.read) {
      error(at, "cannot read " + quote_path(name) + ": no file access");
      return;
    }
    ++files_read_;
    Result<std::string> text = fs_.read(name, kMaxLoadBytes - bytes_);
    if (!text) {
      std::string message = "cannot read " + quote_path(name) + ": " + text.error().message;
      // The main file (nothing is being read yet); an include is a line,
      // which skip_bad_lines covers.
      if (stack_.empty() && options_.unreadable_file_ok) {
        warning(at, std::move(message) + "; taken as empty");
      } else {
        error(at, std::move(message));
      }
      return;
    }
    read_.emplace(name, at);
    if (!within_budget(name, *text)) return;
    note_file(name);
    stack_.push_back(name);
    parse_text(name, *text);
    stack_.pop_back();
  }

  // Starts a load with `text` given directly as the file `name`.
  void parse_main_text(const std::string& name, std::string_view text) {
    const std::string normal = normalize_path(name);
    ++files_read_;
    read_.emplace(normal, SourcePos{normal, 0, 0});
    if (!within_budget(name, text)) return;
    stack_.push_back(normal);
    note_file(name);
    parse_text(name, text);
  }

  // Lists the diagnostics left out past kMaxDiagnostics as one more.
  void finish() {
    if (!dropped_) return;
    out_.diagnostics.push_back(Diagnostic{
        first_dropped_,
        std::to_string(dropped_) + " more errors and warnings not listed (a load lists the first " +
            std::to_string(kMaxDiagnostics) + ")",
        !dropped_error_});
  }

 private:
  struct Line {
    const FileName& file;
    int number;
    int end_column;       // column just past the last token: where "end of line" is
    const Token* tokens;  // at least one
    size_t count;
  };

  // Cursor over one line's tokens, with helpers that report at a token.
  struct Cursor {
    const Line& line;
    const Token* next = line.tokens + 1;  // token 0 is the directive keyword
    const Token* const end = line.tokens + line.count;
    bool failed = false;

    const Token* peek() const { return next != end ? next : nullptr; }
    const Token* take() { return next != end ? next++ : nullptr; }
    size_t left() const { return static_cast<size_t>(end - next); }
    SourcePos at(const Token* t) const {
      return SourcePos{line.file, line.number, t ? t->column : line.end_column};
    }
    static std::string got(const Token* t) { return t ? quote(t->text) : "end of line"; }
  };

  // An error; read SMCRoute's way (skip_bad_lines) an error on a line is a
  // warning instead and the line is left out (every caller of a line's
  // error makes sure the line adds nothing). Errors in a file an include
  // line reads are that file's lines' own.
  void error(const SourcePos& pos, std::string message) {
    if (options_.skip_bad_lines && in_line_ > 0) {
      return add(Diagnostic{pos, std::move(message) + "; line skipped", true});
    }
    add(Diagnostic{pos, std::move(message), false});
  }
  // A bound of the load passed: an error under every option.
  void hard_error(const SourcePos& pos, std::string message) {
    add(Diagnostic{pos, std::move(message), false});
  }
  void warning(const SourcePos& pos, std::string message) {
    add(Diagnostic{pos, std::move(message), true});
  }
  void add(Diagnostic d) {
    if (out_.diagnostics.size() < kMaxDiagnostics) {
      out_.diagnostics.push_back(std::move(d));
      return;
    }
    if (!dropped_) first_dropped_ = d.pos;
    ++dropped_;
    dropped_error_ |= !d.warning;
  }

  // Counts `text`, read as `file`, against the load's bytes. Past the bound
  // the file is not parsed, the load reads nothing more, and the error is
  // where the bound falls in the file.
  bool within_budget(const std::string& file, std::string_view text) {
    const size_t left = kMaxLoadBytes - bytes_;
    if (text.size() <= left) {
      bytes_ += text.size();
      return true;
    }
    stopped_ = true;
    const std::string_view before = text.substr(0, left);
    const size_t newline = before.rfind('\n');
    const size_t column = left - (newline == std::string_view::npos ? 0 : newline + 1) + 1;
    hard_error(
        SourcePos{file, static_cast<int>(count_newlines(before)) + 1, static_cast<int>(column)},
        "the config and its includes pass " + std::to_string(kMaxLoadBytes) +
            " bytes (64 MiB) here, the most one load may read; the rest is not read");
    return false;
  }
  void fail(Cursor& c, const Token* t, std::string message) {
    error(c.at(t), std::move(message));
    c.failed = true;
  }

  void note_file(const std::string& name) {
    auto& files = out_.config.files;
    if (std::find(files.begin(), files.end(), name) == files.end()) files.push_back(name);
  }

  // One line. While it is parsed, error() knows it is on a line, which is
  // what makes its errors warnings under skip_bad_lines.
  void parse_line(const Line& line) {
    ++in_line_;
    parse_directive(line);
    --in_line_;
  }

  void parse_directive(const Line& line) {
    const std::string_view keyword = line.tokens[0].text;
    if (is(keyword, "mroute")) {
      if (!plain_route(line)) parse_flow(line, keyword);
    } else if (is(keyword, "mgroup") || is(keyword, "ssmgroup")) {
      parse_flow(line, keyword);
    } else if (is(keyword, "phyint")) {
      parse_phyint(line);
    } else if (is(keyword, "include")) {
      parse_include(line);
    } else if (is(keyword, "metrics-listen")) {
      parse_metrics_listen(line);
    } else if (is(keyword, "socket-group")) {
      parse_access_group(line, out_.config.socket_group);
    } else if (is(keyword, "admin-group")) {
      parse_access_group(line, out_.config.admin_group);
    } else {
      error(SourcePos{line.file, line.number, line.tokens[0].column}, unknown_keyword(keyword));
    }
  }

  // The first token of a line is not a keyword: quoted if it could be a
  // mistyped one, otherwise only said (see is_word).
  static std::string unknown_keyword(std::string_view keyword) {
    if (is_word(keyword)) return "unknown keyword " + quote(keyword);
    return "expected a keyword (mroute, mgroup, ssmgroup, phyint, include, metrics-listen, "
           "socket-group or admin-group) at the start of the line";
  }

  // A group name as groupadd(8) takes one (letters, digits, '_', '-', '.',
  // a trailing '$'; not starting with '-'), or a numeric GID.
  static bool plausible_group(std::string_view g) {
    if (g.empty() || g.size() > 32 || g[0] == '-') return false;
    for (size_t i = 0; i < g.size(); ++i) {
      const char ch = g[i];
      const bool ok = std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '-' ||
                      ch == '.' || (ch == '$' && i + 1 == g.size());
      if (!ok) return false;
    }
    return true;
  }

  // socket-group GROUP / admin-group GROUP: once per load (includes too).
  void parse_access_group(const Line& line, std::optional<AccessGroupConf>& slot) {
    Cursor c{line};
    const std::string keyword(line.tokens[0].text);
    const Token* group = c.take();
    if (!group || !plausible_group(group->text)) {
      return fail(
          c, group,
          "expected a group name or GID after '" + keyword + "', got " + Cursor::got(group));
    }
    if (const Token* extra = c.take()) {
      return fail(c, extra, "expected end of line after the group, got " + quote(extra->text));
    }
    if (slot) {
      return fail(c, group, "'" + keyword + "' given twice; the first is at " + slot->pos.str());
    }
    slot = AccessGroupConf{std::string(group->text), c.at(group)};
  }

  // Checks an interface name token with the API's own judge
  // (core::validate_ifname); reports and returns false if unusable.
  bool check_ifname(Cursor& c, const Token& t) {
    auto ok = validate_ifname(t.text);
    if (ok) return true;
    fail(c, &t, ok.error().message);
    return false;
  }

  // phyint IFNAME [enable | disable] [mrdisc] [ttl-threshold TTL]
  // Read SMCRoute's way (skip_bad_lines), a line with a name keeps what it
  // can, since skipping it would undo a `disable` on it: an unknown option
  // or a bad TTL is ignored and the later of enable/disable counts, each
  // with a warning.
  void parse_phyint(const Line& line) {
    Cursor c{line};
    PhyintConf conf;
    conf.pos = c.at(&line.tokens[0]);
    const Token* name = c.take();
    // An option where the name should be is a forgotten name, not an
    // interface called "enable".
    const auto is_option = [](std::string_view s) {
      return s == "enable" || s == "disable" || s == "mrdisc" || s == "ttl-threshold";
    };
    if (!name || is_option(name->text)) {
      return fail(c, name, "expected an interface name after 'phyint', got " + Cursor::got(name));
    }
    check_ifname(c, *name);
    conf.ifname = std::string(name->text);
    parse_phyint_options(c, conf);
    if (!c.failed) out_.config.phyints.push_back(std::move(conf));
  }

  // The options after a phyint line's name, into `conf`. Unless tolerated
  // (phyint_option_error), a contradiction or an unknown option ends the
  // line's parse, while a bad TTL is reported and the options go on.
  void parse_phyint_options(Cursor& c, PhyintConf& conf) {
    const Token* enable_token = nullptr;  // the enable/disable given, to spot a contradiction
    while (const Token* t = c.take()) {
      if (t->text == "enable" || t->text == "disable") {
        if (enable_token && enable_token->text != t->text) {
          phyint_option_error(c, t,
                              quote(t->text) + " contradicts " + quote(enable_token->text) +
                                  " earlier on this line",
                              "the later one counts");
          if (c.failed) return;
        }
        enable_token = t;
        conf.enabled = t->text == "enable";
      } else if (t->text == "mrdisc") {
        conf.mrdisc = true;
      } else if (t->text == "ttl-threshold") {
        const Token* v = c.take();
        if (!v) {
          phyint_option_error(c, v, "expected a number after 'ttl-threshold', got end of line",
                              "ignored");
          return;
        }
        parse_ttl_threshold(c, *v, conf);
      } else {
        phyint_option_error(c, t,
                            "unknown phyint option " + quote(t->text) +
                                " (expected 'enable', 'disable', 'mrdisc' or 'ttl-threshold')",
                            "ignored");
        if (c.failed) return;
      }
    }
  }

  // ttl-threshold's value: 1..255. Any number is shown as a number,
  // unquoted, even one too big for an int (cut short, as quote() would).
  void parse_ttl_threshold(Cursor& c, const Token& v, PhyintConf& conf) {
    int ttl = 0;
    const char* const end = v.text.data() + v.text.size();
    const auto [ptr, ec] = std::from_chars(v.text.data(), end, ttl);
    if (ec == std::errc::result_out_of_range && ptr == end) {
      phyint_option_error(c, &v, "ttl-threshold must be 1..255, got " + escaped_cut(v.text),
                          "ignored");
    } else if (ec != std::errc{} || ptr != end) {
      phyint_option_error(c, &v, "ttl-threshold must be 1..255, got " + quote(v.text), "ignored");
    } else if (ttl < 1 || ttl > 255) {
      phyint_option_error(c, &v, "ttl-threshold must be 1..255, got " + std::to_string(ttl),
                          "ignored");
    } else {
      conf.ttl_threshold = ttl;
    }
  }

  // A mistake in a phyint option: an error, or read SMCRoute's way a
  // warning saying what became of it (`tolerated`), the line kept.
  void phyint_option_error(Cursor& c, const Token* t, std::string message, const char* tolerated) {
    if (options_.skip_bad_lines) {
      warning(c.at(t), std::move(message) + "; " + tolerated);
    } else {
      fail(c, t, std::move(message));
    }
  }

  // Parses an address or prefix token for a group (is_group) or a source
  // into `out`, which is left empty on an error. Parsed in place: a copy of
  // an address just written byte by byte is a store-forwarding stall, and
  // this runs twice per route.
  void parse_addr_token(Cursor& c, const Token& t, bool is_group, std::optional<Prefix>& out) {
    if (!try_parse_prefix(t.text, out.emplace())) {
      out.reset();
      PrefixParse p = parse_prefix(t.text, options_.mask_host_bits);
      if (p.masked) {
        warning(c.at(&t), std::move(p.error));
        out = *p.prefix;
        if (!check_addr(c, t, is_group, *out)) out.reset();
        return;
      }
      // Reword a bad address the config way; length errors read fine as is.
      const std::string_view addr_part = t.text.substr(0, t.text.find('/'));
      if (!Addr::parse(addr_part)) {
        // Which address, and what that place wants, as mfcctl says it.
        fail(c, &t,
             quote(addr_part) + " is not a valid " + (is_group ? "group" : "source") +
                 " address (expected " + (is_group ? "a multicast " : "an ") +
                 "IPv4 or IPv6 address, optionally with /LEN)");
      } else {
        fail(c, &t, std::move(p.error));
      }
      return;
    }
    if (!check_addr(c, t, is_group, *out)) out.reset();
  }

  // The rules for a parsed group or source, judged by the function the API
  // uses too (core::validate_group, validate_source); reports what breaks.
  bool check_addr(Cursor& c, const Token& t, bool is_group, const Prefix& pre) {
    auto ok = is_group ? validate_group(pre) : validate_source(pre);
    if (ok) return true;
    fail(c, &t, ok.error().message);
    return false;
  }

  // The shape nearly every line of a big config has, in the order the
  // grammar writes it and with nothing to report:
  //   mroute from IIF [source S[/LEN]] group G[/LEN] to OIF...
  // Recognised at fixed token positions, which spares parse_flow's
  // any-order state machine its branch on every token. Whatever else the
  // line holds, or anything parse_flow would say something about (an error
  // or a warning), makes it return false having added nothing, and
  // parse_flow then parses the line from the start; a line it accepts is
  // one parse_flow accepts silently with the same result.
  bool plain_route(const Line& line) {
    const Token* const t = line.tokens;
    const size_t n = line.count;
    if (n < 6 || !is(t[1].text, "from")) return false;
    const std::string_view iif = t[2].text;
    if (!is_valid_ifname(iif) || word_of(iif) != Word::other) return false;
    size_t i = 3;
    const Token* source_value = nullptr;
    if (is(t[3].text, "source")) {
      source_value = &t[4];
      i = 5;
    }
    // group G to OIF: four more tokens at least.
    if (n < i + 4 || !is(t[i].text, "group") || !is(t[i + 2].text, "to")) return false;
    Prefix group;
    if (!try_parse_prefix(t[i + 1].text, group) || !group.addr.is_multicast() ||
        group.len < (group.addr.family == Family::v4 ? 4 : 8))
      return false;
    std::optional<Prefix> source;
    if (source_value) {
      Prefix& s = source.emplace();
      if (!try_parse_prefix(source_value->text, s) || s.addr.is_multicast() ||
          s.addr.family != group.addr.family)
        return false;
      if (s.addr.is_any()) source.reset();  // (*,G), as parse_flow reads it
    }
    const size_t first_oif = i + 3;
    if (n - first_oif > kPlainMaxOifs) return false;
    for (size_t k = first_oif; k < n; ++k) {
      const std::string_view oif = t[k].text;
      if (!is_valid_ifname(oif) || word_of(oif) != Word::other) return false;
      // Against the earlier tokens, not the strings being built: reading
      // back bytes just stored piecemeal would stall.
      for (size_t j = first_oif; j < k; ++j)
        if (same(t[j].text, oif)) return false;
    }
    NameList oifs;
    for (size_t k = first_oif; k < n; ++k)
      oifs.push_back(t[k].text);
    // The strings are built right in the new element (see InPlace).
    add_route(out_.config.routes, InPlace{[&] { return std::string(iif); }}, source, group,
              std::move(oifs), InPlace{[&] {
                return SourcePos{line.file, line.number, t[0].column};
              }});
    return true;
  }

  // What an mroute/mgroup/ssmgroup line has given so far: each clause's
  // keyword and value (null until seen) and the addresses parsed from them.
  struct Flow {
    explicit Flow(std::string_view keyword)
        : is_route(is(keyword, "mroute")),
          needs_source(is(keyword, "ssmgroup")),
          context(is_route       ? "after 'mroute'"
                  : needs_source ? "after 'ssmgroup'"
                                 : "after 'mgroup'") {}

    const bool is_route;
    const bool needs_source;
    const Token* from_kw = nullptr;
    const Token* source_kw = nullptr;
    const Token* group_kw = nullptr;
    const Token* to_kw = nullptr;
    const Token* from_value = nullptr;
    const Token* source_value = nullptr;
    const Token* group_value = nullptr;
    std::optional<Prefix> source;
    std::optional<Prefix> group;
    // Where the parse stands, for "expected X <context>" messages. Kept as
    // a view of a literal: this runs once per token of every route line.
    std::string_view context;

    // Every clause before 'to' is there (the check runs per token, so it
    // compares pointers, not the texts first_missing() gives).
    bool clauses_done() const { return from_kw && group_kw && (source_kw || !needs_source); }
    // The first clause still missing, in the order the grammar writes them.
    std::string_view first_missing() const {
      if (!from_kw) return "'from'";
      if (needs_source && !source_kw) return "'source'";
      if (!group_kw) return "'group'";
      if (is_route) return "'to'";
      return "end of line";
    }
  };

  // mroute   from IIF [source S[/LEN]] group G[/LEN] to OIF...
  // mgroup   from IIF [source S[/LEN]] group G[/LEN]
  // ssmgroup from IIF source S group G
  // SMCRoute's own examples write "group G source S", so from/source/group
  // are accepted in any order; only "to" must come last, because it takes
  // the rest of the line.
  void parse_flow(const Line& line, std::string_view keyword) {
    Cursor c{line};
    Flow f(keyword);
    if (!parse_flow_clauses(c, f)) return;
    check_flow_addresses(c, f);
    NameList oifs;
    if (f.to_kw) parse_oifs(c, oifs);
    if (c.failed) return;
    SourcePos pos = c.at(&line.tokens[0]);
    if (f.is_route) {
      // Built in place from its members: no temporary RouteConf to move.
      add_route(out_.config.routes, std::string(f.from_value->text), f.source, *f.group,
                std::move(oifs), std::move(pos));
    } else {
      out_.config.joins.push_back(
          JoinConf{std::string(f.from_value->text), f.source, *f.group, std::move(pos)});
    }
  }

  // The clauses before 'to', in any order, up to 'to' or the end of the
  // line. False if the line's parse ends here: a structural mistake, after
  // which guessing what was meant would only add noise.
  bool parse_flow_clauses(Cursor& c, Flow& f) {
    while (!f.to_kw) {
      const Token* t = c.take();
      if (!t) {
        if (!f.clauses_done() || f.is_route) {
          fail(c, t,
               "expected " + std::string(f.first_missing()) + " " + std::string(f.context) +
                   ", got end of line");
          return false;
        }
        return true;
      }
      const Word word = word_of(t->text);
      if (word == Word::from || word == Word::source || word == Word::group) {
        if (!parse_flow_clause(c, f, t, word)) return false;
      } else if (f.is_route && word == Word::to && f.clauses_done()) {
        f.to_kw = t;
      } else if (options_.skip_bad_lines) {
        // SMCRoute passes over words it does not know (e.g. `to eth1` on
        // an mgroup line) and reads the rest of the line.
        warning(c.at(t),
                "unexpected " + quote(t->text) + " " + std::string(f.context) + "; ignored");
      } else {
        fail(c, t,
             "expected " + std::string(f.first_missing()) + " " + std::string(f.context) +
                 ", got " + quote(t->text));
        return false;
      }
    }
    return true;
  }

  // One from/source/group clause, its keyword `kw` (of kind `word`) taken
  // already. A bad value is reported and the line goes on; false if the
  // clause itself is broken (given twice, no value).
  bool parse_flow_clause(Cursor& c, Flow& f, const Token* kw, Word word) {
    const bool is_from = word == Word::from;
    const bool is_source = word == Word::source;
    const Token*& seen = is_from ? f.from_kw : is_source ? f.source_kw : f.group_kw;
    if (seen) {
      fail(c, kw, quote(kw->text) + " given twice on one line");
      return false;
    }
    seen = kw;
    const Token* v = c.take();
    const bool v_is_keyword = v && word_of(v->text) != Word::other;
    const char* what = is_from ? "an interface name" : "an address";
    if (!v || v_is_keyword) {
      fail(c, v,
           std::string("expected ") + what + " after " + quote(kw->text) + ", got " +
               Cursor::got(v));
      return false;
    }
    if (is_from) {
      f.from_value = v;
      check_ifname(c, *v);
      f.context = "after the input interface";
    } else if (is_source) {
      f.source_value = v;
      parse_addr_token(c, *v, false, f.source);
      f.context = "after the source address";
    } else {
      f.group_value = v;
      parse_addr_token(c, *v, true, f.group);
      f.context = "after the group address";
    }
    return true;
  }

  // The source and group, each valid alone, together: one family, and a
  // source of 0.0.0.0 or :: read as none.
  void check_flow_addresses(Cursor& c, Flow& f) {
    if (f.source && f.group) {
      if (auto ok = validate_families(*f.source, *f.group); !ok) {
        // At the later of the two, where the mismatch shows.
        const Token* later =
            f.source_value->column > f.group_value->column ? f.source_value : f.group_value;
        fail(c, later, ok.error().message);
      }
    }
    // 0.0.0.0 and :: are SMCRoute's way to write "any source": a (*,G) rule.
    if (f.source && f.source->addr.is_any()) {
      if (f.needs_source) {
        fail(c, f.source_value, "ssmgroup needs a specific source, got " + f.source->str());
      }
      f.source.reset();
    }
  }

  // The output interfaces after 'to': the rest of the line. A bad one is
  // reported and the others still read, so that one pass reports them all.
  // The inbound interface may be an outbound one too: the kernel then
  // sends the traffic back out of the interface it came in on (a hairpin),
  // as SMCRoute does with such a line.
  void parse_oifs(Cursor& c, NameList& oifs) {
    // The OIFs kept, as views of the line's tokens; once there are many, in
    // a set too: comparing each with all before it would make a 64 KiB
    // line of short names 10^8 comparisons.
    std::vector<std::string_view> oif_tokens;
    std::unordered_set<std::string_view> oif_set;
    if (!c.peek()) fail(c, nullptr, "expected an output interface after 'to', got end of line");
    while (const Token* t = c.take()) {
      if (word_of(t->text) != Word::other) {
        fail(c, t,
             "expected an output interface name, got keyword " + quote(t->text) +
                 " (it must come before 'to')");
        continue;
      }
      if (!check_ifname(c, *t)) continue;
      if (oif_tokens.size() == kLinearOifs) oif_set.insert(oif_tokens.begin(), oif_tokens.end());
      const bool twice = oif_tokens.size() >= kLinearOifs
                             ? !oif_set.insert(t->text).second
                             : std::any_of(oif_tokens.begin(), oif_tokens.end(),
                                           [t](std::string_view o) { return same(o, t->text); });
      if (twice) {
        warning(c.at(t), "output interface " + quote(t->text) + " listed twice; kept once");
        continue;
      }
      if (auto ok = validate_oif_count(oifs.size() + 1); !ok) {
        // At the first name past the bound; the rest is not read.
        fail(c, t, ok.error().message);
        return;
      }
      oifs.push_back(t->text);
      oif_tokens.push_back(t->text);
    }
  }

  // include PATH-OR-GLOB
  void parse_include(const Line& line) {
    Cursor c{line};
    const Token* path = c.take();
    if (!path) return fail(c, path, "expected a path after 'include', got end of line");
    if (const Token* extra = c.take()) {
      return fail(c, extra,
                  "expected end of line after the include path, got " + quote(extra->text));
    }
    std::string target(path->text);
    if (target[0] != '/') target = dir_of(line.file.str()) + target;
    target = normalize_path(target);
    const SourcePos at = c.at(path);
    if (!has_glob_chars(target)) return parse_file(target, at);

    std::vector<std::string> matches = fs_.glob ? fs_.glob(target) : std::vector<std::string>{};
    if (matches.empty()) {
      return warning(at, "include pattern " + quote_path(target) + " matches no files");
    }
    for (std::string& m : matches)
      m = normalize_path(m);
    std::sort(matches.begin(), matches.end());
    matches.erase(std::unique(matches.begin(), matches.end()), matches.end());
    for (const std::string& m : matches)
      parse_file(m, at);
  }

  // metrics-listen ADDR:PORT (PORT alone: 127.0.0.1). A daemon-wide
  // setting, so a second line is an error rather than a silent override.
  void parse_metrics_listen(const Line& line) {
    Cursor c{line};
    const Token* value = c.take();
    if (!value) return fail(c, value, "expected ADDR:PORT after 'metrics-listen', got end of line");
    if (const Token* extra = c.take())
      return fail(c, extra, "expected end of line after the address, got " + quote(extra->text));
    auto parsed = parse_listen_address(value->text);
    if (!parsed) return fail(c, value, parsed.error().message);
    if (const auto& first = out_.config.metrics_listen)
      return fail(c, &line.tokens[0],
                  "metrics-listen given twice (first at " + first->pos.str() + ")");
    out_.config.metrics_listen = MetricsListenConf{*parsed, c.at(&line.tokens[0])};
  }

  const FileSystem& fs_;
  ParseResult& out_;
  const ParseOptions options_;
  std::vector<std::string> stack_;  // files being read, outermost first
  // Every file read in this load, with where it was first included.
  std::map<std::string, SourcePos> read_;
  size_t files_read_ = 0;  // reads tried, against kMaxLoadFiles
  size_t bytes_ = 0;       // bytes read, against kMaxLoadBytes
  bool stopped_ = false;   // a bound was passed: nothing more is read
  int in_line_ = 0;        // lines being parsed (an include nests them)
  // Diagnostics past kMaxDiagnostics: how many, whether one was an error,
  // where the first was.
  size_t dropped_ = 0;
  bool dropped_error_ = false;
  SourcePos first_dropped_;
};

}  // namespace

std::string SourcePos::str() const {
  // A position without a line (a file that could not be opened) is the file.
  if (line <= 0) return file.str();
  return file.str() + ":" + std::to_string(line) + ":" + std::to_string(column);
}

const std::string& FileName::empty() {
  static const std::string none;
  return none;
}

NameList::NameList(std::initializer_list<std::string_view> names) {
  for (std::string_view name : names)
    push_back(name);
}

void NameList::push_back(std::string_view name) {
  if (!text_.empty()) text_ += ' ';
  text_ += name;
}

size_t NameList::size() const {
  if (text_.empty()) return 0;
  return 1 + static_cast<size_t>(std::count(text_.begin(), text_.end(), ' '));
}

std::string_view NameList::back() const {
  const size_t space = text_.rfind(' ');
  return space == std::string::npos ? std::string_view(text_)
                                    : std::string_view(text_).substr(space + 1);
}

std::vector<std::string> NameList::to_vector() const {
  // Sized exactly: the vector is kept (a route's OIFs in the intent), and
  // growing it by doubling left a quarter of it unused on average.
  std::vector<std::string> out;
  out.reserve(size());
  for (std::string_view name : *this)
    out.emplace_back(name);
  return out;
}

bool operator==(const NameList& a, const std::vector<std::string>& b) {
  // Walks the text once: each name must sit at the cursor and be followed
  // by a space or the end. A reload compares every line's OIFs this way.
  const std::string& text = a.text_;
  size_t at = 0;
  for (size_t i = 0; i < b.size(); ++i) {
    const std::string& name = b[i];
    if (i > 0) {
      if (at == text.size() || text[at] != ' ') return false;
      ++at;
    }
    if (text.size() - at < name.size() || text.compare(at, name.size(), name) != 0) return false;
    at += name.size();
  }
  return at == text.size();
}

std::string Diagnostic::str() const {
  return pos.str() + (warning ? ": warning: " : ": error: ") + message;
}

bool ParseResult::ok() const {
  return std::none_of(diagnostics.begin(), diagnostics.end(),
                      [](const Diagnostic& d) { return !d.warning; });
}

ParseResult parse_config_file(const std::string& path, const FileSystem& fs,
                              const ParseOptions& options) {
  ParseResult result;
  Parser parser(fs, result, options);
  parser.parse_file(path, SourcePos{normalize_path(path), 0, 0});
  parser.finish();
  return result;
}

ParseResult parse_config_text(const std::string& name, const std::string& text,
                              const FileSystem& fs, const ParseOptions& options) {
  ParseResult result;
  Parser parser(fs, result, options);
  parser.parse_main_text(name, text);
  parser.finish();
  return result;
}

bool is_wildcard(std::string_view ifname) {
  return !ifname.empty() && ifname.back() == '+';
}

bool ifname_matches(const std::string& pattern, const std::string& ifname) {
  if (!is_wildcard(pattern)) return pattern == ifname;
  const std::string_view stem(pattern.data(), pattern.size() - 1);
  return std::string_view(ifname).substr(0, stem.size()) == stem;
}

}  // namespace mfcd::core
