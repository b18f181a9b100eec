#include "common/ipc/protocol.h"

namespace common {
namespace {

void write_string(JsonWriter& writer, std::string_view text) {
  writer.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
}

// {"id":<id>,"<key>":<what write_value writes>}
template <typename WriteValue>
std::string reply_line(const rapidjson::Value& id, const char* key, WriteValue write_value) {
  return write_json([&](JsonWriter& writer) {
    writer.StartObject();
    writer.Key("id");
    id.Accept(writer);
    writer.Key(key);
    write_value(writer);
    writer.EndObject();
  });
}

// {"message":…,"code":…}, or just a message; whatever is missing is filled in.
Error decode_error(const rapidjson::Value& error) {
  Error decoded{"EWORKER", "the worker reported an error"};
  if (error.IsString()) decoded.message = string_of(error);
  const rapidjson::Value* code = find_member(error, "code");
  if (code != nullptr && code->IsString() && code->GetStringLength() > 0)
    decoded.code = string_of(*code);
  const rapidjson::Value* message = find_member(error, "message");
  if (message != nullptr && message->IsString()) decoded.message = string_of(*message);
  return decoded;
}

}  // namespace

std::string request_line(uint64_t id, std::string_view bucket, const rapidjson::Value& query) {
  return write_json([&](JsonWriter& writer) {
    writer.StartObject();
    writer.Key("id");
    writer.Uint64(id);
    writer.Key("bucket");
    write_string(writer, bucket);
    writer.Key("query");
    query.Accept(writer);
    writer.EndObject();
  });
}

std::variant<QueryRequest, BadQueryRequest> decode_request(const rapidjson::Value& message) {
  auto bad = [](const rapidjson::Value* id, std::string why) {
    return BadQueryRequest{id, Error{"EINVAL", std::move(why)}};
  };
  if (!message.IsObject()) return bad(nullptr, "a request must be a JSON object");
  const rapidjson::Value* id = find_member(message, "id");
  if (id == nullptr || id->IsNull()) return bad(nullptr, "a request needs an \"id\"");
  const rapidjson::Value* bucket = find_member(message, "bucket");
  if (bucket == nullptr || !bucket->IsString())
    return bad(id, "a request needs a string \"bucket\"");
  const rapidjson::Value* query = find_member(message, "query");
  if (query == nullptr) return bad(id, "a request needs a \"query\"");
  return QueryRequest{id, string_of(*bucket), query};
}

std::string result_line(const rapidjson::Value& id, std::string_view result_json) {
  return reply_line(id, "result", [&](JsonWriter& writer) {
    // Copied as it is; the type argument only matters where the Writer expects a key.
    writer.RawValue(result_json.data(), result_json.size(), rapidjson::kObjectType);
  });
}

std::string error_line(const rapidjson::Value& id, const Error& error) {
  return reply_line(id, "error", [&](JsonWriter& writer) {
    writer.StartObject();
    writer.Key("message");
    write_string(writer, error.message);
    writer.Key("code");
    write_string(writer, error.code);
    writer.EndObject();
  });
}

std::optional<Reply> decode_reply(Json& message, std::string* why) {
  const rapidjson::Value* id = find_member(message, "id");
  if (id == nullptr || !id->IsUint64()) {
    if (why != nullptr)
      *why = message.IsObject() ? "a reply needs the numeric \"id\" of a request"
                                : "a reply must be a JSON object";
    return std::nullopt;
  }
  Reply reply{id->GetUint64(), std::nullopt};
  if (const rapidjson::Value* error = find_member(message, "error");
      error != nullptr && !error->IsNull()) {
    reply.error = decode_error(*error);
  } else if (!message.HasMember("result")) {
    reply.error = Error{"EWORKER", "the worker answered query " + std::to_string(reply.id) +
                                       " with neither a \"result\" nor an \"error\""};
  }
  if (reply.error) {
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
