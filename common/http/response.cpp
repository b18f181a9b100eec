#include "common/http/response.h"

#include <algorithm>
#include <charconv>
#include <ctime>
#include <utility>

#include "common/http/conditional.h"
#include "common/json.h"
#include "common/uv/immediate.h"

namespace common::http {
namespace {

void append_header(std::string& out, std::string_view name, std::string_view value) {
  out.append(name).append(": ").append(value).append("\r\n");
}

}  // namespace

void Response::set_header(std::string name, std::string value) {
  if (iequals(name, "Content-Length") || iequals(name, "Transfer-Encoding") ||
      iequals(name, "Date"))
    return;
  if (iequals(name, "Connection")) {
    if (iequals(value, "close")) state_->keep_alive = false;
    return;
  }
  state_->headers.emplace_back(std::move(name), std::move(value));
}

// Writes the status line and headers into state.out and fixes how the body is framed.
void Response::begin(int status, std::string_view content_type, std::optional<uint64_t> length) {
  ResponseState& s = *state_;
  const bool http10 =
      s.request.http_major < 1 || (s.request.http_major == 1 && s.request.http_minor == 0);
  const bool body_allowed = status >= 200 && status != 204 && status != 304;
  s.status = status;
  s.head_only = s.request.method == "HEAD" || !body_allowed;
  if (body_allowed && length) s.declared_length = length;
  if (body_allowed && !length) {
    s.chunked = !http10;
    if (http10) s.keep_alive = false;  // the body ends when the connection does
  }
  std::string& out = s.out;
  out.append(http10 ? "HTTP/1.0 " : "HTTP/1.1 ").append(std::to_string(status)).append(" ");
  out.append(reason_phrase(status)).append("\r\n");
  for (const auto& [name, value] : s.headers) append_header(out, name, value);
  auto is_content_type = [](const auto& header) { return iequals(header.first, "Content-Type"); };
  if (!content_type.empty() && std::none_of(s.headers.begin(), s.headers.end(), is_content_type))
    append_header(out, "Content-Type", content_type);
  if (s.declared_length) append_header(out, "Content-Length", std::to_string(*s.declared_length));
  if (s.chunked) append_header(out, "Transfer-Encoding", "chunked");
  append_header(out, "Date", format_http_date(std::time(nullptr)));
  if (!s.keep_alive) append_header(out, "Connection", "close");
  if (s.keep_alive && http10) append_header(out, "Connection", "keep-alive");
  out.append("\r\n");
}

void Response::send(int status, std::string_view body, std::string_view content_type) {
  if (answered()) return;
  state_->phase = ResponseState::Phase::ended;
  if (!connected()) return;
  begin(status, content_type, body.size());
  if (!state_->head_only) state_->out.append(body);
  state_->body_bytes = body.size();
  state_->sink->on_output(*state_);
}

void Response::json(int status, const rapidjson::Value& value) {
  send(status, to_json(value), kJsonType);
}

void Response::error(int status, std::string_view message) {
  send(status, error_body(message), kJsonType);
}

void Response::start(int status, Headers headers, std::optional<uint64_t> content_length) {
  if (answered()) return;
  state_->phase = ResponseState::Phase::streaming;
  if (!connected()) return;
  for (auto& header : headers) set_header(std::move(header.first), std::move(header.second));
  begin(status, {}, content_length);  // a Content-Type, if any, came with the headers
  state_->sink->on_output(*state_);
}

void Response::write(std::string_view chunk) {
  ResponseState& s = *state_;
  if (s.phase != ResponseState::Phase::streaming || !connected() || s.head_only || chunk.empty())
    return;
  if (s.declared_length) chunk = chunk.substr(0, *s.declared_length - s.body_bytes);
  if (s.chunked) {
    char size[20];
    s.out.append(size, std::to_chars(size, size + sizeof size, chunk.size(), 16).ptr);
    s.out.append("\r\n").append(chunk).append("\r\n");
  } else {
    s.out.append(chunk);
  }
  s.body_bytes += chunk.size();
  s.sink->on_output(s);
}

void Response::end() {
  ResponseState& s = *state_;
  if (s.phase == ResponseState::Phase::waiting) start(200, {}, 0);
  if (s.phase != ResponseState::Phase::streaming) return;
  s.phase = ResponseState::Phase::ended;
  if (!connected()) return;
  if (s.chunked && !s.head_only) s.out.append("0\r\n\r\n");
  if (s.declared_length && !s.head_only && s.body_bytes < *s.declared_length) s.short_body = true;
  s.sink->on_output(s);
}

bool Response::should_pause() const {
  return state_->sink == nullptr || state_->sink->congested(*state_);
}

void Response::on_drain(std::function<void()> resume) {
  state_->drain = std::move(resume);
  if (connected() && state_->sink->congested(*state_)) return;  // the connection calls it later
  // Not paused, or gone (the producer meets connected() == false): on the next turn.
  set_immediate(*state_->loop, [state = state_] {
    if (std::function<void()> drain = std::exchange(state->drain, nullptr)) drain();
  });
}

bool Response::send_file(uv_file fd, uint64_t offset, uint64_t length,
                         std::function<void(int)> done) {
  ResponseState& s = *state_;
  if (s.phase != ResponseState::Phase::streaming || s.chunked) return false;
  if (!connected() || s.head_only || length == 0) {
    // Nothing to send: the answer ends here and `done` still runs later, never from this call.
    int status = connected() ? 0 : UV_ECANCELED;
    end();
    set_immediate(*s.loop, [done = std::move(done), status] { done(status); });
    return true;
  }
  if (!s.sink->can_send_files(s)) return false;
  if (s.declared_length) length = std::min(length, *s.declared_length - s.body_bytes);
  s.body_bytes += length;
  s.file = FileBody{fd, offset, length, false, std::move(done)};
  end();  // the file is the last part of the body
  return true;
}

std::string_view reason_phrase(int status) noexcept {
  static constexpr std::pair<int, std::string_view> kPhrases[] = {
      {200, "OK"},
      {201, "Created"},
      {204, "No Content"},
      {206, "Partial Content"},
      {301, "Moved Permanently"},
      {304, "Not Modified"},
      {400, "Bad Request"},
      {403, "Forbidden"},
      {404, "Not Found"},
      {405, "Method Not Allowed"},
      {413, "Payload Too Large"},
      {414, "URI Too Long"},
      {416, "Range Not Satisfiable"},
      {417, "Expectation Failed"},
      {431, "Request Header Fields Too Large"},
      {500, "Internal Server Error"},
      {502, "Bad Gateway"},
      {503, "Service Unavailable"},
      {504, "Gateway Timeout"}};
  for (const auto& [code, phrase] : kPhrases)
    if (code == status) return phrase;
  return "Unknown";
}

}  // namespace common::http
