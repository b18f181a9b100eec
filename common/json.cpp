#include "common/json.h"

#include <rapidjson/error/en.h>
#include <rapidjson/memorystream.h>

#include <algorithm>

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

// The offset of the first byte JSON never allows unescaped: a control character other than the
// whitespace tab, newline and carriage return (NUL included); npos if there is none.
size_t find_raw_control(std::string_view text) {
  auto bad = std::find_if(text.begin(), text.end(), [](char c) {
    auto byte = static_cast<unsigned char>(c);
    return byte < 0x20 && byte != '\t' && byte != '\n' && byte != '\r';
  });
  return bad == text.end() ? std::string_view::npos : static_cast<size_t>(bad - text.begin());
}

std::string describe_control(char byte) {
  if (byte == '\0') return "a NUL byte.";
  static constexpr char kHex[] = "0123456789ABCDEF";
  auto code = static_cast<unsigned char>(byte);
  return std::string("an unescaped control character 0x") + kHex[code >> 4] + kHex[code & 0xF] +
         ".";
}

}  // namespace

std::string to_json(const rapidjson::Value& value) {
  rapidjson::StringBuffer text;
  JsonWriter writer(text);
  value.Accept(writer);
  return {text.GetString(), text.GetSize()};
}

void append_json(std::string& out, const rapidjson::Value& value) {
  out += to_json(value);
}

// Raw control characters are refused before parsing: RapidJSON takes a NUL for the end of the
// text (it would accept `{}<NUL>anything`), and calls the others an "invalid escape".
// kParseStopWhenDoneFlag is not used: trailing garbage after the value is an error, as in
// JSON.parse.
std::optional<Json> parse_json(std::string_view text, std::string* error) {
  if (size_t bad = find_raw_control(text); bad != std::string_view::npos) {
    if (error != nullptr) *error = invalid_json(bad, describe_control(text[bad]));
    return std::nullopt;
  }
  // Document::Parse would be this without the depth limit; Populate runs a reader of our own.
  Json document;
  rapidjson::ParseResult result;
  bool too_deep = false;
  auto parse_into = [&](Json& handler) {
    rapidjson::MemoryStream stream(text.data(), text.size());
    DepthLimited limited(handler);
    result = rapidjson::Reader().Parse(stream, limited);
    too_deep = limited.too_deep();
    return !result.IsError();
  };
  document.Populate(parse_into);
  if (!result.IsError()) return document;
  if (error != nullptr) {
    *error = too_deep ? invalid_json(result.Offset(), "more than " + std::to_string(kMaxJsonDepth) +
                                                          " arrays and objects nested.")
                      : invalid_json(result.Offset(), rapidjson::GetParseError_En(result.Code()));
  }
  return std::nullopt;
}

Json copy_json(const rapidjson::Value& value) {
  Json copy;
  copy.CopyFrom(value, copy.GetAllocator());
  return copy;
}

std::string error_body(std::string_view message) {
  rapidjson::StringBuffer text;
  JsonWriter writer(text);
  writer.StartObject();
  writer.Key("error");
  writer.String(message.data(), static_cast<rapidjson::SizeType>(message.size()));
  writer.EndObject();
  return {text.GetString(), text.GetSize()};
}

std::optional<int64_t> get_int(const rapidjson::Value& object, const char* name) {
  if (!object.IsObject()) return std::nullopt;
  auto member = object.FindMember(name);
  if (member == object.MemberEnd() || !member->value.IsInt64()) return std::nullopt;
  return member->value.GetInt64();
}

}  // namespace common
