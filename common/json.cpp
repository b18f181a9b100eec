#include "common/json.h"

#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace common {
namespace {

// "invalid JSON at offset 7: Missing a name for object member."
std::string invalid_json(size_t offset, std::string_view why) {
  return "invalid JSON at offset " + std::to_string(offset) + ": " + std::string(why);
}

}  // namespace

std::string to_json(const rapidjson::Value& value) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  value.Accept(writer);
  return {buffer.GetString(), buffer.GetSize()};
}

std::optional<Json> parse_json(std::string_view text, std::string* error) {
  JsonParser parser;
  Json document;
  if (!parser.parse(document, text, error)) return std::nullopt;
  return document;
}

// kParseStopWhenDoneFlag is not used: trailing garbage after the value is an error, as in
// JSON.parse. For the same reason a NUL byte is refused before parsing: RapidJSON would take it
// for the end of the text and accept `{}<NUL>anything`.
bool JsonParser::parse(Json& document, std::string_view text, std::string* error) {
  if (auto nul = text.find('\0'); nul != std::string_view::npos) {
    document.SetNull();
    if (error != nullptr) *error = invalid_json(nul, "a NUL byte.");
    return false;
  }
  // An aligned 16-byte read that holds the terminator ends at most 15 bytes past it.
  constexpr size_t kReadPastEnd = 16;
  copy_.reserve(text.size() + 1 + kReadPastEnd);
  copy_.assign(text);
  document.Parse<rapidjson::kParseDefaultFlags>(copy_.c_str());
  if (!document.HasParseError()) return true;
  if (error != nullptr)
    *error = invalid_json(document.GetErrorOffset(),
                          rapidjson::GetParseError_En(document.GetParseError()));
  return false;
}

Json copy_json(const rapidjson::Value& value) {
  Json copy;
  copy.CopyFrom(value, copy.GetAllocator());
  return copy;
}

std::string error_body(std::string_view message) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  writer.StartObject();
  writer.Key("error");
  writer.String(message.data(), static_cast<rapidjson::SizeType>(message.size()));
  writer.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

std::optional<int64_t> get_int(const rapidjson::Value& object, const char* name) {
  if (!object.IsObject()) return std::nullopt;
  auto member = object.FindMember(name);
  if (member == object.MemberEnd() || !member->value.IsInt64()) return std::nullopt;
  return member->value.GetInt64();
}

}  // namespace common
