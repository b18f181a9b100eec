#include "common/json.h"

#include <rapidjson/error/en.h>
#include <rapidjson/memorystream.h>

#include <utility>

namespace common {
namespace {

// "invalid JSON at offset 7: Missing a name for object member."
std::string invalid_json(size_t offset, std::string_view why) {
  return "invalid JSON at offset " + std::to_string(offset) + ": " + std::string(why);
}

// A document that refuses to open more than kMaxJsonDepth arrays and objects one inside
// another. RapidJSON's reader is a template on its handler, so it calls these, which hide the
// document's own; a handler returning false stops it with kParseErrorTermination.
class DepthLimitedDocument : public Json {
 public:
  // NOLINTBEGIN(readability-identifier-naming): RapidJSON's names
  bool StartObject() { return ++depth_ <= kMaxJsonDepth && Json::StartObject(); }
  bool StartArray() { return ++depth_ <= kMaxJsonDepth && Json::StartArray(); }
  bool EndObject(rapidjson::SizeType members) {
    --depth_;
    return Json::EndObject(members);
  }
  bool EndArray(rapidjson::SizeType elements) {
    --depth_;
    return Json::EndArray(elements);
  }
  // NOLINTEND(readability-identifier-naming)

 private:
  int depth_ = 0;
};

// Why the text holds a byte JSON never allows unescaped: a control character other than the
// whitespace tab, newline and carriage return (NUL included); nullopt if it holds none.
std::optional<std::string> raw_control_error(std::string_view text) {
  for (size_t at = 0; at < text.size(); ++at) {
    auto byte = static_cast<unsigned char>(text[at]);
    if (byte >= 0x20 || byte == '\t' || byte == '\n' || byte == '\r') continue;
    if (byte == 0) return invalid_json(at, "a NUL byte.");
    static constexpr char kHex[] = "0123456789ABCDEF";
    return invalid_json(at, std::string("an unescaped control character 0x") + kHex[byte >> 4] +
                                kHex[byte & 0xF] + ".");
  }
  return std::nullopt;
}

}  // namespace

// Raw control characters are refused before parsing: RapidJSON takes a NUL for the end of the
// text (it would accept `{}<NUL>anything`), and calls the others an "invalid escape".
// kParseStopWhenDoneFlag is not used: trailing garbage after the value is an error, as in
// JSON.parse.
std::optional<Json> parse_json(std::string_view text, std::string* error) {
  if (std::optional<std::string> refused = raw_control_error(text)) {
    if (error != nullptr) *error = std::move(*refused);
    return std::nullopt;
  }
  // Document::Parse without the depth limit; Populate lets our own reader fill the document.
  DepthLimitedDocument document;
  rapidjson::ParseResult result;
  auto parse = [&](Json& /*the document itself*/) {
    rapidjson::MemoryStream stream(text.data(), text.size());
    result = rapidjson::Reader().Parse(stream, document);
    return !result.IsError();
  };
  document.Populate(parse);
  if (!result.IsError()) return Json(std::move(document));
  if (error != nullptr) {
    *error = result.Code() == rapidjson::kParseErrorTermination
                 ? invalid_json(result.Offset(), "more than " + std::to_string(kMaxJsonDepth) +
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
  Json body(rapidjson::kObjectType);
  body.AddMember("error", rapidjson::StringRef(message.data(), message.size()),
                 body.GetAllocator());
  return to_json(body);
}

const rapidjson::Value* find_member(const rapidjson::Value& object, const char* name) {
  if (!object.IsObject()) return nullptr;
  auto member = object.FindMember(name);
  return member == object.MemberEnd() ? nullptr : &member->value;
}

std::optional<int64_t> get_int(const rapidjson::Value& object, const char* name) {
  const rapidjson::Value* member = find_member(object, name);
  if (member == nullptr || !member->IsInt64()) return std::nullopt;
  return member->GetInt64();
}

}  // namespace common
