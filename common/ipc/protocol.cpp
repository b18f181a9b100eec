#include "common/ipc/protocol.h"

namespace common {
namespace {

std::string_view string_of(const rapidjson::Value& value) {
  return {value.GetString(), value.GetStringLength()};
}

const rapidjson::Value* member(const rapidjson::Value& object, const char* name) {
  auto found = object.FindMember(name);
  return found == object.MemberEnd() ? nullptr : &found->value;
}

void write_string(JsonWriter& writer, std::string_view text) {
  writer.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
}

std::string text_of(const rapidjson::StringBuffer& text) {
  return {text.GetString(), text.GetSize()};
}

BadQueryRequest bad_request(const rapidjson::Value* id, std::string message) {
  return BadQueryRequest{id, Error{"EINVAL", std::move(message)}};
}

Error decode_error_object(const rapidjson::Value& error) {
  Error decoded{"EWORKER", "the worker reported an error"};
  if (error.IsString()) {
    decoded.message = string_of(error);
    return decoded;
  }
  if (!error.IsObject()) return decoded;
  const rapidjson::Value* code = member(error, "code");
  const rapidjson::Value* message = member(error, "message");
  if (code != nullptr && code->IsString() && code->GetStringLength() > 0)
    decoded.code = string_of(*code);
  if (message != nullptr && message->IsString()) decoded.message = string_of(*message);
  return decoded;
}

}  // namespace

std::string request_line(uint64_t id, std::string_view bucket, const rapidjson::Value& query) {
  rapidjson::StringBuffer text;
  JsonWriter writer(text);
  writer.StartObject();
  writer.Key("id");
  writer.Uint64(id);
  writer.Key("bucket");
  write_string(writer, bucket);
  writer.Key("query");
  query.Accept(writer);
  writer.EndObject();
  return text_of(text);
}

std::variant<QueryRequest, BadQueryRequest> decode_request(const rapidjson::Value& message) {
  if (!message.IsObject()) return bad_request(nullptr, "a request must be a JSON object");
  const rapidjson::Value* id = member(message, "id");
  if (id == nullptr || id->IsNull()) return bad_request(nullptr, "a request needs an \"id\"");
  const rapidjson::Value* bucket = member(message, "bucket");
  if (bucket == nullptr || !bucket->IsString())
    return bad_request(id, "a request needs a string \"bucket\"");
  const rapidjson::Value* query = member(message, "query");
  if (query == nullptr) return bad_request(id, "a request needs a \"query\"");
  return QueryRequest{id, string_of(*bucket), query};
}

std::string result_line(const rapidjson::Value& id, std::string_view result_json) {
  rapidjson::StringBuffer text;
  JsonWriter writer(text);
  writer.StartObject();
  writer.Key("id");
  id.Accept(writer);
  writer.Key("result");
  // Copied as it is; the type argument only matters where the Writer expects a key.
  writer.RawValue(result_json.data(), result_json.size(), rapidjson::kObjectType);
  writer.EndObject();
  return text_of(text);
}

std::string error_line(const rapidjson::Value& id, const Error& error) {
  rapidjson::StringBuffer text;
  JsonWriter writer(text);
  writer.StartObject();
  writer.Key("id");
  id.Accept(writer);
  writer.Key("error");
  writer.StartObject();
  writer.Key("message");
  write_string(writer, error.message);
  writer.Key("code");
  write_string(writer, error.code);
  writer.EndObject();
  writer.EndObject();
  return text_of(text);
}

std::optional<Reply> decode_reply(Json& message, std::string* why) {
  auto fail = [why](const char* reason) -> std::optional<Reply> {
    if (why != nullptr) *why = reason;
    return std::nullopt;
  };
  if (!message.IsObject()) return fail("a reply must be a JSON object");
  const rapidjson::Value* id = member(message, "id");
  if (id == nullptr || !id->IsUint64())
    return fail("a reply needs the numeric \"id\" of a request");
  Reply reply{id->GetUint64(), std::nullopt};
  if (const rapidjson::Value* error = member(message, "error");
      error != nullptr && !error->IsNull()) {
    reply.error = decode_error_object(*error);
    message.SetNull();
    return reply;
  }
  if (!message.HasMember("result")) {
    reply.error = Error{"EWORKER", "the worker answered query " + std::to_string(reply.id) +
                                       " with neither a \"result\" nor an \"error\""};
    message.SetNull();
    return reply;
  }
  // Swap the result up to the root: it stays in the document's allocator, nothing is copied.
  rapidjson::Value taken;
  taken.Swap(message["result"]);
  static_cast<rapidjson::Value&>(message).Swap(taken);
  return reply;
}

}  // namespace common
