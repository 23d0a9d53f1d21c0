// JSON written straight into a string, for results too big to build as a
// json object first. A listing of 10,000 routes built as nlohmann objects
// costs a map node per member and a string per key before a byte is
// written; written here it costs the bytes. The text is the same as
// rpc::dump's for the same value (keys in the order the caller writes them,
// so a caller that wants dump's order writes them sorted; strings escaped
// alike, invalid UTF-8 replaced alike), so a client cannot tell which way a
// result was made.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace mfcd::rpc {

// A result handed to the dispatcher as finished JSON text: it must be one
// object, and is sent as it is.
struct JsonText {
  std::string text;
};

class JsonWriter {
 public:
  JsonWriter& begin_object();
  JsonWriter& end_object();
  JsonWriter& begin_array();
  JsonWriter& end_array();
  // A member's name; the next call writes its value. Names are the
  // caller's literals: written as they are, unescaped.
  JsonWriter& key(std::string_view name);
  JsonWriter& value(std::string_view text);
  JsonWriter& value(const char* text) { return value(std::string_view(text)); }
  JsonWriter& value(const std::string& text) { return value(std::string_view(text)); }
  JsonWriter& value(uint64_t number);
  JsonWriter& value(bool flag);
  JsonWriter& null();
  // Text that already is one JSON value (a cursor's dump, say).
  JsonWriter& raw(std::string_view json);

  const std::string& text() const { return out_; }
  std::string take() { return std::move(out_); }

 private:
  void separate();  // the comma before a value or a member, when one is due
  JsonWriter& open(char bracket);
  JsonWriter& close(char bracket);

  std::string out_;
  bool first_ = true;       // nothing written yet in the innermost container
  bool after_key_ = false;  // a member's name was written: its value comes next
};

// Appends `text` as a JSON string, quotes included.
void append_json_string(std::string& out, std::string_view text);

}  // namespace mfcd::rpc
