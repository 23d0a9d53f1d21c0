// See routes_reply.hpp. A SAX reader: nlohmann's lexer hands over each
// token, and a stack of where we are in the reply decides what to keep.
#include "client/routes_reply.hpp"

#include <vector>

#include <nlohmann/json.hpp>

namespace mfcd::client {
namespace {

using nlohmann::json;

// The places in {"jsonrpc","id","result":{"next","routes":{SECTION:[ITEM]}}}
// whose members matter; everything else is skipped whole.
enum class Where { envelope, result, routes, section, item, oifs };

// The item members the table prints.
enum class Member { none, source, group, iif, state, type, packets, bytes, oifs };

Member member_of(std::string_view key) {
  static constexpr std::pair<std::string_view, Member> kMembers[] = {
      {"source", Member::source}, {"group", Member::group}, {"iif", Member::iif},
      {"state", Member::state},   {"type", Member::type},   {"packets", Member::packets},
      {"bytes", Member::bytes},   {"oifs", Member::oifs}};
  for (const auto& [name, m] : kMembers)
    if (key == name) return m;
  return Member::none;
}

// One item's members while it is read.
struct Item {
  std::optional<std::string> source, group, iif, state, type, packets, bytes;
  std::string oifs;
  unsigned seen = 0;  // Member bits: a repeated member gives up
};

class Reader : public nlohmann::json_sax<json> {
 public:
  RoutesReply out;
  bool complete = false;

  bool null() override { return scalar(Token::null, {}); }
  bool boolean(bool) override { return scalar(Token::other, {}); }
  bool number_integer(number_integer_t v) override {
    return scalar(Token::number, std::to_string(v));
  }
  bool number_unsigned(number_unsigned_t v) override {
    return scalar(Token::number, std::to_string(v));
  }
  bool number_float(number_float_t, const string_t&) override { return scalar(Token::other, {}); }
  bool string(string_t& s) override { return scalar(Token::string, std::move(s)); }
  bool binary(binary_t&) override { return false; }

  bool start_object(std::size_t) override {
    if (skipping_ > 0) return ++skipping_, true;
    if (stack_.empty()) return stack_.push_back(Where::envelope), true;
    const Where at = stack_.back();
    if (at == Where::envelope && key_ == "result") return enter(Where::result, 1u << 2);
    if (at == Where::result && key_ == "routes") return enter(Where::routes, 1u << 4);
    if (at == Where::section) {
      item_ = Item{};
      return stack_.push_back(Where::item), true;
    }
    return skip_or_give_up(at);
  }
  bool end_object() override {
    if (skipping_ > 0) return --skipping_, true;
    const Where at = stack_.back();
    stack_.pop_back();
    if (at == Where::item) return finish_item();
    // jsonrpc, id, result and its routes
    if (at == Where::envelope) complete = (seen_ & 0b10111) == 0b10111;
    return true;
  }
  bool start_array(std::size_t) override {
    if (skipping_ > 0) return ++skipping_, true;
    if (stack_.empty()) return false;
    const Where at = stack_.back();
    if (at == Where::routes) {
      const int i = key_ == "asm" ? 0 : key_ == "ssm" ? 1 : key_ == "kernel" ? 2 : -1;
      if (i < 0) return skip_value();
      if (sections_seen_ & (1u << i)) return false;
      sections_seen_ |= 1u << i;
      section_ = static_cast<size_t>(i);
      return stack_.push_back(Where::section), true;
    }
    if (at == Where::item && member_ == Member::oifs) {
      if (!claim(Member::oifs)) return false;
      return stack_.push_back(Where::oifs), true;
    }
    return skip_or_give_up(at);
  }
  bool end_array() override {
    if (skipping_ > 0) return --skipping_, true;
    stack_.pop_back();
    return true;
  }
  bool key(string_t& k) override {
    if (skipping_ > 0) return true;
    key_ = std::move(k);
    if (stack_.back() == Where::item) member_ = member_of(key_);
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
    return false;
  }

 private:
  enum class Token { null, number, string, other };

  bool enter(Where where, unsigned bit) {
    if (seen_ & bit) return false;
    seen_ |= bit;
    stack_.push_back(where);
    return true;
  }
  bool skip_value() {
    ++skipping_;
    return true;
  }
  // A container where none was expected: skipped when the ordinary path
  // never looks at that member, otherwise the reply is not one this reader
  // takes (a "next" or a section that is an object, say).
  bool skip_or_give_up(Where at) {
    switch (at) {
      case Where::result:
        return key_ != "next" && key_ != "routes" && skip_value();
      case Where::routes:
        return key_ != "asm" && key_ != "ssm" && key_ != "kernel" && skip_value();
      case Where::item:
        return member_ == Member::none && skip_value();
      case Where::envelope:  // "error", or members the ordinary path checks
      case Where::section:   // items are objects
      case Where::oifs:      // names are strings
        return false;
    }
    return false;
  }
  bool claim(Member m) {
    const unsigned bit = 1u << static_cast<unsigned>(m);
    if (item_.seen & bit) return false;
    item_.seen |= bit;
    return true;
  }

  bool scalar(Token t, std::string text) {
    if (skipping_ > 0) return true;
    if (stack_.empty()) return false;
    switch (stack_.back()) {
      case Where::envelope:
        return envelope_member(t, text);
      case Where::result:
        if (key_ != "next") return true;
        if (seen_ & (1u << 3)) return false;
        seen_ |= 1u << 3;
        if (t == Token::string) out.next = std::move(text);
        return t == Token::string || t == Token::null;
      case Where::routes:
        // A section that is null is empty, as list_or_empty reads it.
        return t == Token::null || (key_ != "asm" && key_ != "ssm" && key_ != "kernel");
      case Where::section:
        return false;  // items are objects
      case Where::item:
        return item_member(t, std::move(text));
      case Where::oifs:
        if (t != Token::string) return false;
        item_.oifs += ' ';
        item_.oifs += text;
        return true;
    }
    return false;
  }

  bool envelope_member(Token t, const std::string& text) {
    if (key_ == "jsonrpc") {
      if (seen_ & 1u || t != Token::string || text != "2.0") return false;
      seen_ |= 1u;
      return true;
    }
    if (key_ == "id") {
      if (seen_ & 2u || (t != Token::string && t != Token::number && t != Token::null))
        return false;
      seen_ |= 2u;
      return true;
    }
    return false;  // "error", a result that is no object, or a stranger
  }

  bool item_member(Token t, std::string text) {
    if (member_ == Member::none) return true;
    if (!claim(member_)) return false;
    auto keep_string = [&](std::optional<std::string>& slot) {
      if (t == Token::null) return true;
      if (t != Token::string) return false;
      slot = std::move(text);
      return true;
    };
    switch (member_) {
      case Member::source:
        return keep_string(item_.source);
      case Member::group:
        return keep_string(item_.group);
      case Member::iif:
        return keep_string(item_.iif);
      case Member::state:
        return keep_string(item_.state) || true;  // another type counts as absent
      case Member::type:
        return keep_string(item_.type) || true;
      case Member::packets:
      case Member::bytes: {
        auto& slot = member_ == Member::packets ? item_.packets : item_.bytes;
        if (t == Token::null) return true;
        if (t != Token::number && t != Token::string) return false;
        slot = std::move(text);
        return true;
      }
      case Member::oifs:
        return t == Token::null;  // null: no OIFs
      case Member::none:
        break;
    }
    return true;
  }

  bool finish_item() {
    if (!item_.group || !item_.iif) return false;
    RouteRow row;
    row.sg = sg_text(item_.source ? &*item_.source : nullptr, *item_.group);
    row.iif = std::move(*item_.iif);
    row.state = item_.type ? *item_.type : item_.state ? *item_.state : "-";
    row.packets = item_.packets ? std::move(*item_.packets) : "-";
    row.bytes = item_.bytes ? std::move(*item_.bytes) : "-";
    row.oifs = std::move(item_.oifs);
    out.page.sections[section_].push_back(std::move(row));
    return true;
  }

  std::vector<Where> stack_;
  size_t skipping_ = 0;  // depth inside a value being skipped
  std::string key_;
  Member member_ = Member::none;
  unsigned seen_ = 0;  // envelope/result members: jsonrpc 1, id 2, result 4, next 8, routes 16
  unsigned sections_seen_ = 0;
  size_t section_ = 0;
  Item item_;
};

}  // namespace

std::optional<RoutesReply> read_routes_reply(std::string_view line) {
  Reader reader;
  const bool ok = json::sax_parse(line, &reader, json::input_format_t::json, true, false);
  if (!ok || !reader.complete) return std::nullopt;
  return std::move(reader.out);
}

}  // namespace mfcd::client
