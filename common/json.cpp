#include "common/json.h"

#include <rapidjson/error/en.h>
#include <rapidjson/internal/dtoa.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>

namespace common {
namespace {

// "invalid JSON at offset 7: Missing a name for object member."
std::string invalid_json(size_t offset, std::string_view why) {
  return "invalid JSON at offset " + std::to_string(offset) + ": " + std::string(why);
}

// Hands the reader's events on to the document, refusing to open more than kMaxJsonDepth
// arrays and objects one inside another.
class DepthLimited {
 public:
  explicit DepthLimited(Json& document) : document_(document) {}
  [[nodiscard]] bool too_deep() const { return too_deep_; }

  // RapidJSON's SAX handler interface, under its names.
  // NOLINTBEGIN(readability-identifier-naming)
  bool Null() { return document_.Null(); }
  bool Bool(bool value) { return document_.Bool(value); }
  bool Int(int value) { return document_.Int(value); }
  bool Uint(unsigned value) { return document_.Uint(value); }
  bool Int64(int64_t value) { return document_.Int64(value); }
  bool Uint64(uint64_t value) { return document_.Uint64(value); }
  bool Double(double value) { return document_.Double(value); }
  bool RawNumber(const char* text, rapidjson::SizeType length, bool copy) {
    return document_.RawNumber(text, length, copy);
  }
  bool String(const char* text, rapidjson::SizeType length, bool copy) {
    return document_.String(text, length, copy);
  }
  bool Key(const char* text, rapidjson::SizeType length, bool copy) {
    return document_.Key(text, length, copy);
  }
  bool StartObject() { return enter() && document_.StartObject(); }
  bool EndObject(rapidjson::SizeType members) {
    --depth_;
    return document_.EndObject(members);
  }
  bool StartArray() { return enter() && document_.StartArray(); }
  bool EndArray(rapidjson::SizeType elements) {
    --depth_;
    return document_.EndArray(elements);
  }
  // NOLINTEND(readability-identifier-naming)

 private:
  bool enter() {
    too_deep_ = ++depth_ > kMaxJsonDepth;
    return !too_deep_;
  }

  Json& document_;
  int depth_ = 0;
  bool too_deep_ = false;
};

// Eight bytes at a time ("SWAR"): yes/no tests on a whole 64-bit word, for the scans below.
// Subtracting n from every byte sets the top bit of the lowest byte below n (it wraps to 0x80 or
// more) and of no byte when none is below n, for n <= 0x80; `& ~word` drops bytes that had their
// top bit set already (UTF-8). Bytes above a match may be flagged too, through the borrow, so
// the answer says whether a word holds a match, not where: the byte loops find it.
constexpr uint64_t kOnes = 0x0101010101010101;
constexpr uint64_t kTopBits = 0x8080808080808080;

uint64_t load_word(const char* bytes) {
  uint64_t word = 0;
  std::memcpy(&word, bytes, sizeof word);
  return word;
}

constexpr bool has_byte_below(uint64_t word, uint8_t n) {  // n <= 0x80
  return ((word - kOnes * n) & ~word & kTopBits) != 0;
}

constexpr bool has_byte(uint64_t word, uint8_t byte) {
  return has_byte_below(word ^ (kOnes * byte), 1);
}

// The offset of the first byte JSON never allows unescaped: a control character other than the
// whitespace tab, newline and carriage return (NUL included); npos if there is none.
size_t find_raw_control(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    if (text.size() - i >= 8 && !has_byte_below(load_word(text.data() + i), 0x20)) {
      i += 8;
      continue;
    }
    // A word with some byte below 0x20 (maybe only the whitespace of a pretty-printed text), or
    // the last few bytes: one at a time, then words again.
    for (size_t stop = std::min(text.size(), i + 8); i < stop; ++i) {
      auto byte = static_cast<unsigned char>(text[i]);
      if (byte < 0x20 && byte != '\t' && byte != '\n' && byte != '\r') return i;
    }
  }
  return std::string_view::npos;
}

// Two hex digits, upper case as RapidJSON writes them (\u001B).
void append_hex(std::string& out, char byte) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  auto code = static_cast<unsigned char>(byte);
  out.push_back(kHex[code >> 4]);
  out.push_back(kHex[code & 0xF]);
}

std::string describe_control(char byte) {
  if (byte == '\0') return "a NUL byte.";
  std::string text = "an unescaped control character 0x";
  append_hex(text, byte);
  return text + ".";
}

// What each byte becomes inside a JSON string, as RapidJSON's Writer does it: 0 copies the byte,
// 'u' writes \u00XX, any other letter writes a backslash and that letter.
constexpr std::array<char, 256> kEscapes = [] {
  std::array<char, 256> table{};
  for (int c = 0; c < 0x20; ++c) table[c] = 'u';
  table['\b'] = 'b';
  table['\t'] = 't';
  table['\n'] = 'n';
  table['\f'] = 'f';
  table['\r'] = 'r';
  table['"'] = '"';
  table['\\'] = '\\';
  return table;
}();

// How many bytes at the start of `text` a JSON string takes as they are (up to the first that
// needs an escape): whole words while they hold no such byte, then byte by byte.
size_t plain_length(std::string_view text) {
  const char* begin = text.data();
  const char* end = begin + text.size();
  const char* at = begin;
  while (end - at >= 8) {
    uint64_t word = load_word(at);
    if (has_byte_below(word, 0x20) || has_byte(word, '"') || has_byte(word, '\\')) break;
    at += 8;
  }
  while (at != end && kEscapes[static_cast<unsigned char>(*at)] == 0) ++at;
  return static_cast<size_t>(at - begin);
}

// A backslash and the escape of one byte: \n, \", \u001B...
void append_escape(std::string& out, char byte) {
  auto code = static_cast<unsigned char>(byte);
  out.push_back('\\');
  out.push_back(kEscapes[code]);
  if (kEscapes[code] != 'u') return;
  out.append("00");
  append_hex(out, byte);
}

template <typename Number>
void append_number(std::string& out, Number value) {
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, value);
  out.append(digits, end);
}

void append_double(std::string& out, double value) {
  if (!std::isfinite(value)) {
    out.append("null");
    return;
  }
  char digits[32];  // dtoa writes at most 25 characters ("-1.2345678901234567e-308")
  char* end = rapidjson::internal::dtoa(value, digits);
  out.append(digits, end);
}

// `open`, the items separated by commas, `close`: an array's elements or an object's members.
template <typename Items, typename AppendItem>
void append_list(std::string& out, char open, const Items& items, char close,
                 AppendItem append_item) {
  out.push_back(open);
  bool first = true;
  for (const auto& item : items) {
    if (!first) out.push_back(',');
    first = false;
    append_item(item);
  }
  out.push_back(close);
}

}  // namespace

std::string to_json(const rapidjson::Value& value) {
  std::string text;
  append_json(text, value);
  return text;
}

void append_json(std::string& out, const rapidjson::Value& value) {
  switch (value.GetType()) {
    case rapidjson::kNullType:
      out.append("null");
      return;
    case rapidjson::kFalseType:
      out.append("false");
      return;
    case rapidjson::kTrueType:
      out.append("true");
      return;
    case rapidjson::kObjectType:
      return append_list(out, '{', value.GetObject(), '}', [&out](const auto& member) {
        append_json_string(out, {member.name.GetString(), member.name.GetStringLength()});
        out.push_back(':');
        append_json(out, member.value);
      });
    case rapidjson::kArrayType:
      return append_list(out, '[', value.GetArray(), ']',
                         [&out](const auto& element) { append_json(out, element); });
    case rapidjson::kStringType:
      return append_json_string(out, {value.GetString(), value.GetStringLength()});
    case rapidjson::kNumberType:
      if (value.IsDouble()) return append_double(out, value.GetDouble());
      if (value.IsInt64()) return append_number(out, value.GetInt64());
      return append_number(out, value.GetUint64());
  }
}

void append_json_string(std::string& out, std::string_view text) {
  constexpr size_t kShort = 64;
  size_t plain = plain_length(text);
  if (plain == text.size() && plain <= kShort) {  // the usual string: one append, no escapes
    char quoted[kShort + 2];
    quoted[0] = '"';
    if (plain != 0) std::memcpy(quoted + 1, text.data(), plain);  // data() may be null then
    quoted[plain + 1] = '"';
    out.append(quoted, plain + 2);
    return;
  }
  out.push_back('"');
  while (true) {
    out.append(text.data(), plain);
    if (plain == text.size()) break;
    append_escape(out, text[plain]);
    text.remove_prefix(plain + 1);
    plain = plain_length(text);
  }
  out.push_back('"');
}

std::optional<Json> parse_json(std::string_view text, std::string* error) {
  JsonParser parser;
  Json document;
  if (!parser.parse(document, text, error)) return std::nullopt;
  return document;
}

// kParseStopWhenDoneFlag is not used: trailing garbage after the value is an error, as in
// JSON.parse. Raw control characters are refused before parsing, for two reasons: RapidJSON
// takes a NUL for the end of the text (it would accept `{}<NUL>anything`), and its SSE2 string
// scanner (1.1.0) misses 0x1A-0x1F, so inside a string they passed or not depending on where a
// 16-byte block began. JSON.parse refuses them all.
bool JsonParser::parse(Json& document, std::string_view text, std::string* error) {
  if (size_t bad = find_raw_control(text); bad != std::string_view::npos) {
    document.SetNull();
    if (error != nullptr) *error = invalid_json(bad, describe_control(text[bad]));
    return false;
  }
  // An aligned 16-byte read that holds the terminator ends at most 15 bytes past it.
  constexpr size_t kReadPastEnd = 16;
  copy_.reserve(text.size() + 1 + kReadPastEnd);
  copy_.assign(text);
  // Document::Parse would be this without the depth limit; Populate runs a reader of our own.
  rapidjson::ParseResult result;
  bool too_deep = false;
  auto parse_into = [&](Json& handler) {
    rapidjson::StringStream stream(copy_.c_str());
    DepthLimited limited(handler);
    result = reader_.Parse<rapidjson::kParseDefaultFlags>(stream, limited);
    too_deep = limited.too_deep();
    return !result.IsError();
  };
  document.Populate(parse_into);
  if (!result.IsError()) return true;
  document.SetNull();
  if (error != nullptr) {
    *error = too_deep ? invalid_json(result.Offset(), "more than " + std::to_string(kMaxJsonDepth) +
                                                          " arrays and objects nested.")
                      : invalid_json(result.Offset(), rapidjson::GetParseError_En(result.Code()));
  }
  return false;
}

Json copy_json(const rapidjson::Value& value) {
  Json copy;
  copy.CopyFrom(value, copy.GetAllocator());
  return copy;
}

std::string error_body(std::string_view message) {
  std::string body = R"({"error":)";
  append_json_string(body, message);
  body.push_back('}');
  return body;
}

std::optional<int64_t> get_int(const rapidjson::Value& object, const char* name) {
  if (!object.IsObject()) return std::nullopt;
  auto member = object.FindMember(name);
  if (member == object.MemberEnd() || !member->value.IsInt64()) return std::nullopt;
  return member->value.GetInt64();
}

}  // namespace common
