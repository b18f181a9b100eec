// http/response.h: the handle a route handler answers through (Express's `res`).
//
// A Response is a cheap copyable handle on shared state that also owns the Request, so a
// handler may keep it in a lambda while a slow query runs. The state reaches its connection
// through a ResponseSink, which the connection detaches when the client goes away: a late answer
// then finds connected() == false and does nothing (docs/http.md §7). An answer goes all at once
// (send / json / error) or streamed (start, write…, end, or send_file for the last part) with
// back-pressure: while should_pause() is true, stop producing and register on_drain().
#pragma once

#include <rapidjson/document.h>
#include <uv.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/http/request.h"

namespace common::http {

inline constexpr std::string_view kJsonType = "application/json; charset=utf-8";
inline constexpr std::string_view kTextType = "text/plain; charset=utf-8";

struct ResponseState;

// The last part of a streamed body, taken straight from an open file (Response::send_file).
struct FileBody {
  uv_file fd = -1;
  uint64_t offset = 0;     // next byte of the file to send
  uint64_t remaining = 0;  // bytes still to send
  bool use_reads = false;  // sendfile(2) refused this file: copy it through pread + write
  std::function<void(int status)> done;  // 0, or why not every byte left (UV_ECANCELED: gone)
};

// What a response needs from its connection (implemented by the connection; a fake in tests).
class ResponseSink {
 public:
  virtual void on_output(ResponseState& state) = 0;  // new bytes in state.out, or the end
  [[nodiscard]] virtual bool congested(const ResponseState& state) const = 0;
  // Whether this sink can send a FileBody itself; the default (tests' fakes) cannot.
  [[nodiscard]] virtual bool can_send_files(const ResponseState&) const { return false; }

 protected:
  ~ResponseSink() = default;
};

struct ResponseState {
  enum class Phase { waiting, streaming, ended };

  Request request;
  ResponseSink* sink = nullptr;  // null once the connection is gone
  uv_loop_t* loop = nullptr;     // where on_drain and send_file callbacks are posted
  bool keep_alive = true;        // decided when the head is written
  Phase phase = Phase::waiting;
  int status = 0;
  Headers headers;  // set by the handler before answering
  std::string out;  // produced bytes the connection has not taken yet
  bool chunked = false;
  bool head_only = false;  // HEAD, 204, 304: the body is not sent
  std::optional<uint64_t> declared_length;
  uint64_t body_bytes = 0;  // body bytes produced (the access log's size)
  bool short_body = false;  // ended before declared_length: the connection must close
  std::function<void()> drain;
  std::optional<FileBody> file;  // set by send_file; the connection clears it once sent
};

class Response {
 public:
  explicit Response(std::shared_ptr<ResponseState> state) : state_(std::move(state)) {}

  [[nodiscard]] const Request& request() const noexcept { return state_->request; }
  [[nodiscard]] bool connected() const noexcept { return state_->sink != nullptr; }
  [[nodiscard]] bool answered() const noexcept {
    return state_->phase != ResponseState::Phase::waiting;
  }

  // Adds a header to the answer. Content-Length, Transfer-Encoding and Date are managed here and
  // ignored; "Connection: close" closes the connection after this answer.
  void set_header(std::string name, std::string value);

  // The whole answer at once. A second answer is ignored, as is anything after a disconnect.
  void send(int status, std::string_view body, std::string_view content_type = kTextType);
  void json(int status, const rapidjson::Value& value);  // compact, application/json
  void error(int status, std::string_view message);      // {"error":"<message>"}

  // Streaming. Without a content length the body is chunked (HTTP/1.1) or ends at close (1.0).
  void start(int status, Headers headers = {}, std::optional<uint64_t> content_length = {});
  void write(std::string_view chunk);
  void end();
  // True while the socket (or, for a pipelined answer, its own buffer) holds more than the
  // high-water mark; also true once disconnected, so a producer stops and meets connected().
  [[nodiscard]] bool should_pause() const;
  // Runs `resume` once, from the loop, when writing may go on, or when the client is gone.
  void on_drain(std::function<void()> resume);
  // Ends a streamed answer (started with a content length) with `length` bytes of `fd` from
  // `offset`, sent with sendfile(2) once everything before them has left. `done` runs once, from
  // the loop: 0 when every byte was handed to the socket, else a libuv error (UV_ECANCELED: the
  // client went away); close the fd there. Returns false, without calling `done`, when the
  // connection cannot send files or the answer is chunked: then read and write() the bytes.
  bool send_file(uv_file fd, uint64_t offset, uint64_t length, std::function<void(int)> done);

 private:
  void begin(int status, std::string_view content_type, std::optional<uint64_t> length);
  std::shared_ptr<ResponseState> state_;
};

using Handler = std::function<void(const Request&, Response)>;

// "OK", "Not Found", …; "Unknown" for codes we never send.
[[nodiscard]] std::string_view reason_phrase(int status) noexcept;

}  // namespace common::http
