// ipc/protocol.h: the messages the broker and its workers exchange (DESIGN.md, IPC contract).
//
//   request  {"id":7,"bucket":"users","query":1}
//   reply    {"id":7,"result":…}   or   {"id":7,"error":{"message":"…","code":"ENOTFOUND"}}
//
// Encoding appends compact JSON lines (with their '\n') straight to an outgoing buffer, so a
// batch of messages is one string and one write. Decoding works on an already parsed message
// (see ipc_channel.h) and never throws: a malformed message is an error value.
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
void append_request(std::string& out, uint64_t id, std::string_view bucket,
                    const rapidjson::Value& query);

// A request as the worker sees it; the pointers point into the parsed message.
struct Request {
  const rapidjson::Value* id = nullptr;
  std::string_view bucket;
  const rapidjson::Value* query = nullptr;
};
// A request that cannot be answered; `id` is null when there is none to reply to.
struct BadRequest {
  const rapidjson::Value* id = nullptr;
  Error error;  // code EINVAL
};
std::variant<Request, BadRequest> decode_request(const rapidjson::Value& message);

// --- worker → parent ---
// `result_json` is already compact JSON text (the worker keeps its answers serialised).
void append_result_reply(std::string& out, const rapidjson::Value& id,
                         std::string_view result_json);
void append_error_reply(std::string& out, const rapidjson::Value& id, const Error& error);

struct Reply {
  uint64_t id = 0;
  std::optional<Error> error;  // set for an error reply; then the result is null
};
// Decodes a reply in place: on success `message` itself becomes the result value (no copy; its
// allocator already holds the result), so the caller can hand the document on. A reply with our
// id but neither a result nor an error (what a Node worker sends for `result: undefined`) is an
// EWORKER error reply. Returns nullopt (and `why`) for anything that is not a reply to one of
// our numeric ids.
std::optional<Reply> decode_reply(Json& message, std::string* why = nullptr);

}  // namespace common
