// json.h: the few RapidJSON helpers every part uses — compact text out, checked parsing in.
//
// Compact output (no spaces, raw UTF-8) is what Node's JSON.stringify and Express's res.json
// produce, and it is the IPC wire format: one message per line, so it must never contain '\n'
// (inside strings every control character is escaped, so a compact writer never emits one).
#pragma once

#include <rapidjson/document.h>

#include <optional>
#include <string>
#include <string_view>

namespace common {

using Json = rapidjson::Document;

// Compact JSON text of a value.
std::string to_json(const rapidjson::Value& value);
// The same text appended to `out` (no intermediate buffer). Byte for byte what RapidJSON's
// Writer prints with its plain byte-at-a-time scanner: the only escapes are the ones JSON
// requires (`"`, `\`, control characters), and runs of plain characters are copied whole,
// eight bytes checked at a time. Unlike Writer<StringBuffer> with RAPIDJSON_SSE2 (which we
// enable for parsing), whose scanner lets 0x1A-0x1F through unescaped (invalid JSON), it
// escapes every control character. And on purpose: NaN and ±Infinity, which a parsed document
// never holds and the Writer refuses mid-output, print as null, as JSON.stringify prints them.
void append_json(std::string& out, const rapidjson::Value& value);
// A JSON string literal, quotes included, for text that is not in a document.
void append_json_string(std::string& out, std::string_view text);

// Parses text as one JSON value. On failure returns nullopt and, if `error` is given, a message
// like "invalid JSON at offset 7: Missing a name for object member.". A raw control character
// (NUL included) is an error anywhere, except tab, newline and carriage return between tokens;
// so is nesting deeper than kMaxJsonDepth arrays and objects: the parser, append_json and
// copy_json all recurse, and a line of a million '[' must cost an error, not the stack.
constexpr int kMaxJsonDepth = 512;
std::optional<Json> parse_json(std::string_view text, std::string* error = nullptr);

// Parses many texts, one after another, RapidJSON's fastest way: from a NUL-terminated copy
// (kept here and reused, so it rarely allocates) with room after it for the aligned 16-byte
// reads of RapidJSON's SSE2 string scanner. Parse(data, size) takes a slower, byte-at-a-time
// path; for the IPC channel's small messages the copy is the cheaper of the two (about a third
// fewer instructions per reply). parse_json uses one for a single text.
// Parse through these two, not with Document::Parse(str.c_str()): with RAPIDJSON_SSE2 (defined
// for the whole build) that call may read up to 15 bytes past the string's end — harmless on the
// hardware, but AddressSanitizer reports it, and the tests run under it.
class JsonParser {
 public:
  // Parses `text` into `document`, replacing what it held. On failure returns false, leaves
  // `document` null and, if `error` is given, says why and where, like parse_json. (The
  // document's own HasParseError() is not set: ask the return value.)
  bool parse(Json& document, std::string_view text, std::string* error = nullptr);

 private:
  std::string copy_;
  rapidjson::Reader reader_;  // its stack, too, is reused from one text to the next
};

// A deep copy of a value into a new document (RapidJSON values are move-only).
Json copy_json(const rapidjson::Value& value);

// {"error":"<message>"}: the body of every JSON error answer.
std::string error_body(std::string_view message);

// Reads an integer member, if present and integral.
std::optional<int64_t> get_int(const rapidjson::Value& object, const char* name);

}  // namespace common
