// ipc/protocol.h: the messages the broker and its workers exchange (docs/ipc.md §4).
//
//   request  {"id":7,"bucket":"users","query":1}
//   reply    {"id":7,"result":…}   or   {"id":7,"error":{"message":"…","code":"ENOTFOUND"}}
//
// Encoding gives one compact JSON line without its '\n' (IpcChannel::send adds it). Decoding
// works on an already parsed message (see channel.h) and never throws: a malformed message is
// an error value.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "common/json.h"
#include "common/uv/error.h"

namespace common {

// --- parent → worker ---
std::string request_line(uint64_t id, std::string_view bucket, const rapidjson::Value& query);

// A query request as the worker sees it; the pointers point into the parsed message.
struct QueryRequest {
  const rapidjson::Value* id = nullptr;
  std::string_view bucket;
  const rapidjson::Value* query = nullptr;
};
// A query request that cannot be answered; `id` is null when there is none to reply to.
struct BadQueryRequest {
  const rapidjson::Value* id = nullptr;
  Error error;  // code EINVAL
};
std::variant<QueryRequest, BadQueryRequest> decode_request(const rapidjson::Value& message);

// --- worker → parent ---
// `result_json` is already compact JSON text (the worker keeps its answers serialised).
std::string result_line(const rapidjson::Value& id, std::string_view result_json);
std::string error_line(const rapidjson::Value& id, const Error& error);

struct Reply {
  uint64_t id = 0;
  std::optional<Error> error;  // set for an error reply; then the result is null
};
// Decodes a reply in place: on success `message` itself becomes the result value (no copy), so
// the caller can hand the document on. Neither a result nor an error is an EWORKER error reply
// (docs/ipc.md §4); anything but a reply to a numeric id is nullopt (and `why`).
std::optional<Reply> decode_reply(Json& message, std::string* why = nullptr);

}  // namespace common
