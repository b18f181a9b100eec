#include "common/json.h"

#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace common {

std::string to_json(const rapidjson::Value& value) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  value.Accept(writer);
  return {buffer.GetString(), buffer.GetSize()};
}

std::optional<Json> parse_json(std::string_view text, std::string* error) {
  Json document;
  // kParseStopWhenDoneFlag is not used: trailing garbage after the value is an error, as in
  // JSON.parse.
  document.Parse<rapidjson::kParseDefaultFlags>(text.data(), text.size());
  if (!document.HasParseError()) return document;
  if (error != nullptr) {
    *error = "invalid JSON at offset " + std::to_string(document.GetErrorOffset()) + ": " +
             rapidjson::GetParseError_En(document.GetParseError());
  }
  return std::nullopt;
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
