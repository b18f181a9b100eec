// fuzz_ipc: libFuzzer target over the IPC framing and message decoding.
//
// The input is a byte stream as a peer might send it. It is framed twice — whole, and in chunks
// whose sizes come from the input itself — and both must give the same lines. Every line is
// decoded as a message, then as a request (the worker's view) and as a reply (the broker's
// view). Whatever we write back must be one valid JSON line that decodes to what we meant.
//   mkdir -p build-fuzz/corpus_ipc
//   build-fuzz/bin/fuzz_ipc -max_total_time=60 build-fuzz/corpus_ipc
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "common/ipc/channel.h"
#include "common/ipc/protocol.h"

namespace {

constexpr size_t kMaxLine = 4096;

void require(bool condition) {
  if (!condition) std::abort();
}

std::vector<std::string> frame(std::string_view bytes, size_t chunk_seed, bool& overflow) {
  common::LineFramer framer(kMaxLine);
  std::vector<std::string> lines;
  auto collect = [&](std::string_view line) {
    lines.emplace_back(line);
    return true;
  };
  size_t at = 0;
  size_t step = chunk_seed;
  while (at < bytes.size()) {
    size_t size = chunk_seed == 0 ? bytes.size() : 1 + step % 97;
    step = step * 31 + 7;
    auto result = framer.feed(bytes.substr(at, size), collect);
    if (result == common::LineFramer::Result::overflow) {
      overflow = true;
      break;
    }
    at += size;
  }
  return lines;
}

// Anything we write must be one line of valid JSON (IpcChannel::send adds the '\n').
common::Json reparse(const std::string& written) {
  require(written.find('\n') == std::string::npos);
  auto doc = common::parse_json(written);
  require(doc.has_value());
  return std::move(*doc);
}

void check_request_round_trip(const common::QueryRequest& request) {
  common::Json echoed = reparse(common::request_line(42, request.bucket, *request.query));
  auto decoded = common::decode_request(echoed);
  require(std::holds_alternative<common::QueryRequest>(decoded));
  require(std::get<common::QueryRequest>(decoded).bucket == request.bucket);
  require(*std::get<common::QueryRequest>(decoded).query == *request.query);
}

void check_replies_to(const rapidjson::Value& id, const rapidjson::Value& query) {
  common::Json result = reparse(common::result_line(id, common::to_json(query)));
  require(result["id"] == id);
  common::Json error =
      reparse(common::error_line(id, common::Error{"EFAIL", common::to_json(query)}));
  const auto& message = error["error"]["message"];
  require(std::string_view(message.GetString(), message.GetStringLength()) ==
          common::to_json(query));
}

void decode(std::string_view line) {
  std::optional<common::Json> message = common::parse_json(line);
  if (!message || common::is_internal_message(*message)) return;
  auto request = common::decode_request(*message);
  if (auto* good = std::get_if<common::QueryRequest>(&request)) {
    check_request_round_trip(*good);
    check_replies_to(*good->id, *good->query);
  }
  common::Json as_reply;
  as_reply.CopyFrom(*message, as_reply.GetAllocator());
  if (auto reply = common::decode_reply(as_reply)) {
    std::string text = common::to_json(as_reply);
    require(!text.empty());
    if (reply->error) require(!reply->error->code.empty());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  size_t chunk_seed = data[0];
  std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  bool overflow_whole = false;
  bool overflow_chunked = false;
  auto whole = frame(bytes, 0, overflow_whole);
  auto chunked = frame(bytes, chunk_seed | 1, overflow_chunked);
  require(overflow_whole == overflow_chunked);
  if (!overflow_whole) require(whole == chunked);  // chunking never changes the messages
  for (const auto& line : whole) decode(line);
  return 0;
}
