// json.h: the few RapidJSON helpers every part uses — compact text out, checked parsing in.
// Compact output (no spaces, raw UTF-8) is what JSON.stringify produces and the IPC wire format
// (docs/ipc.md §2): it escapes every control character, so it never holds a '\n'.
#pragma once

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace common {

using Json = rapidjson::Document;

// RapidJSON's compact Writer, with two changes. NaN and ±Infinity, which JSON cannot spell and
// the Writer refuses mid-output, print as null, as JSON.stringify prints them. A string that is
// not UTF-8 (a raw byte from a request target, say) is written as to_utf8() of it: what we write
// is always valid JSON, whatever went in.
class JsonWriter : public rapidjson::Writer<rapidjson::StringBuffer> {
 public:
  using Writer::Writer;
  // NOLINTBEGIN(readability-identifier-naming): RapidJSON's names
  bool Double(double value) {
    return std::isfinite(value) ? Writer::Double(value) : Writer::Null();
  }
  bool String(const char* text, rapidjson::SizeType length, bool copy = false);
  bool Key(const char* text, rapidjson::SizeType length, bool copy = false) {
    return String(text, length, copy);  // the Writer knows from its state that it is a key
  }
  bool Key(const char* text) {
    return Key(text, static_cast<rapidjson::SizeType>(std::strlen(text)));
  }
  // NOLINTEND(readability-identifier-naming)
};

// The text that write(JsonWriter&) produces: JSON built event by event, without a document.
template <typename Write>
std::string write_json(Write&& write) {
  rapidjson::StringBuffer text;
  JsonWriter writer(text);
  std::forward<Write>(write)(writer);
  return {text.GetString(), text.GetSize()};
}

// Compact JSON text of a value.
inline std::string to_json(const rapidjson::Value& value) {
  return write_json([&](JsonWriter& writer) { value.Accept(writer); });
}

// Parses one JSON value; on failure nullopt and, if `error` is given, "invalid JSON at offset 7:
// <why>". Raw control characters are errors (tab, newline and carriage return only between
// tokens), so is a string that is not UTF-8 (JSON text is UTF-8, RFC 8259 §8.1), and so is nesting
// deeper than kMaxJsonDepth: the parser, the writer and copy_json all recurse, and a line of a
// million '[' must cost an error, not the stack.
constexpr int kMaxJsonDepth = 512;
std::optional<Json> parse_json(std::string_view text, std::string* error = nullptr);
// A whole file parsed with parse_json, read with blocking calls: for start-up, never from the
// loop. On failure `error` (if given) says why: the system's message, "not a regular file",
// "cannot be read", or "not JSON: " and parse_json's message.
std::optional<Json> read_json_file(const std::string& path, std::string* error = nullptr);

// A deep copy of a value into a new document (RapidJSON values are move-only).
Json copy_json(const rapidjson::Value& value);

// {"error":"<message>"}: the body of every JSON error answer.
std::string error_body(std::string_view message);

// Whether `text` is valid UTF-8: no overlong forms, surrogates or code points above U+10FFFF,
// which JavaScript's decoder refuses too.
bool is_utf8(std::string_view text);
// `text` with each byte that is not part of a valid UTF-8 sequence replaced by U+FFFD.
std::string to_utf8(std::string_view text);

// A member of an object; nullptr if there is none or `object` is not an object.
const rapidjson::Value* find_member(const rapidjson::Value& object, const char* name);
// Reads an integer member, if present and integral.
inline std::optional<int64_t> get_int(const rapidjson::Value& object, const char* name) {
  const rapidjson::Value* member = find_member(object, name);
  return member != nullptr && member->IsInt64() ? std::optional(member->GetInt64()) : std::nullopt;
}
// The text of a string value (which may hold NUL bytes).
inline std::string_view string_of(const rapidjson::Value& text) {
  return {text.GetString(), text.GetStringLength()};
}

}  // namespace common
