#include "common/http/parser.h"

#include <utility>

#include "common/http/request.h"

namespace common::http {
namespace {

// No exception may unwind through llhttp's C frames: one (out of memory) fails the request.
template <typename Call>
int shielded(llhttp_t* parser, Call call) noexcept {
  try {
    return call();
  } catch (...) {
    llhttp_set_error_reason(parser, "internal error while parsing");
    return -1;
  }
}

// A body's bytes on the wire: a one-byte chunk takes six ("1\r\nx\r\n"), and some room is
// left for chunk extensions (Node allows 16 KiB of them per request) and the last chunk.
constexpr size_t kWirePerDataByte = 6;
constexpr size_t kFramingAllowance = size_t{64} * 1024;

}  // namespace

template <int (RequestParser::*Event)()>
int RequestParser::event(llhttp_t* parser) noexcept {
  return shielded(parser, [&] { return (static_cast<RequestParser*>(parser->data)->*Event)(); });
}

template <int (RequestParser::*Data)(std::string_view)>
int RequestParser::data(llhttp_t* parser, const char* at, size_t length) noexcept {
  auto* self = static_cast<RequestParser*>(parser->data);
  return shielded(parser, [&] { return (self->*Data)(std::string_view(at, length)); });
}

// Built once, fields assigned by name: llhttp's struct layout changes between versions.
const llhttp_settings_t& RequestParser::settings() {
  static const llhttp_settings_t built = [] {
    llhttp_settings_t s;
    llhttp_settings_init(&s);
    s.on_message_begin = event<&RequestParser::on_message_begin>;
    s.on_url = data<&RequestParser::on_url>;
    s.on_header_field = data<&RequestParser::on_header_field>;
    s.on_header_value = data<&RequestParser::on_header_value>;
    s.on_header_value_complete = event<&RequestParser::on_header_value_complete>;
    s.on_headers_complete = event<&RequestParser::on_headers_complete>;
    s.on_body = data<&RequestParser::on_body>;
    s.on_message_complete = event<&RequestParser::on_message_complete>;
    return s;
  }();
  return built;
}

RequestParser::RequestParser(ParserLimits limits) : limits_(limits) {
  llhttp_init(&parser_, HTTP_REQUEST, &settings());
  parser_.data = this;
}

size_t RequestParser::feed(std::string_view bytes) {
  if (error_ || closed_ || ready_ || bytes.empty()) return 0;
  const bool in_body = in_message_ && !in_headers_;
  llhttp_errno_t code = llhttp_execute(&parser_, bytes.data(), bytes.size());
  if (code == HPE_OK) {
    // llhttp passes only the data of a chunked body to on_body: chunk extensions and a chunk
    // size with endless leading zeros would go on for ever. Everything read during a body
    // counts here, against a bound that still lets max_body_bytes arrive in one-byte chunks.
    if (in_body) body_wire_bytes_ += bytes.size();
    if (body_wire_bytes_ > kWirePerDataByte * limits_.max_body_bytes + kFramingAllowance)
      fail(413, "Payload Too Large");
    return bytes.size();
  }
  if (code == HPE_PAUSED || code == HPE_PAUSED_UPGRADE) {
    // Paused in on_message_complete: the next request starts at the pause position.
    size_t used = static_cast<size_t>(llhttp_get_error_pos(&parser_) - bytes.data());
    if (code == HPE_PAUSED_UPGRADE) closed_ = true;
    llhttp_resume(&parser_);
    return used;
  }
  record_llhttp_error(code);
  return 0;
}

void RequestParser::finish() {
  // Between requests an end is clean (and llhttp, paused after the last one, would not know).
  if (error_ || closed_ || !in_message_) return;
  llhttp_errno_t code = llhttp_finish(&parser_);
  if (code != HPE_OK) record_llhttp_error(code);
}

Request RequestParser::take_request() {
  ready_ = false;
  return std::exchange(request_, Request{});
}

void RequestParser::record_llhttp_error(llhttp_errno_t code) {
  in_headers_ = in_message_ = false;
  if (error_) return;  // a limit set by fail() already explains it
  const char* reason = llhttp_get_error_reason(&parser_);
  error_ = ParseError{400, std::string("Bad Request: ") + llhttp_errno_name(code) +
                               (reason != nullptr ? std::string(" ") + reason : std::string())};
}

// Records why parsing stops, which ends the message; the returned -1 makes llhttp_execute fail.
int RequestParser::fail(int status, std::string message) {
  in_headers_ = in_message_ = false;
  error_ = ParseError{status, std::move(message)};
  return -1;
}

int RequestParser::on_message_begin() {
  request_.arrived = std::chrono::steady_clock::now();
  header_bytes_ = body_bytes_ = body_wire_bytes_ = 0;
  in_headers_ = in_message_ = true;
  return 0;
}

int RequestParser::on_url(std::string_view chunk) {
  if (request_.target.size() + chunk.size() > limits_.max_url_bytes)
    return fail(414, "URI Too Long");
  request_.target.append(chunk);
  return 0;
}

// Names and values count toward max_header_bytes, so a flood of them is refused (431).
int RequestParser::count_header_bytes(size_t length) {
  header_bytes_ += length;
  if (header_bytes_ > limits_.max_header_bytes) return fail(431, "Request Header Fields Too Large");
  return 0;
}

int RequestParser::on_header_field(std::string_view chunk) {
  field_.append(chunk);
  return count_header_bytes(chunk.size());
}

int RequestParser::on_header_value(std::string_view chunk) {
  value_.append(chunk);
  return count_header_bytes(chunk.size());
}

int RequestParser::on_header_value_complete() {
  // ": " and CRLF count too, so many empty headers still add up.
  if (count_header_bytes(4) < 0) return -1;
  // llhttp 8 lets "Host : x" through; RFC 9112 §5.1 says such a request must be refused (a
  // proxy in front might read the header differently: a smuggling vector).
  if (field_.find_first_of(" \t") != std::string::npos)
    return fail(400, "Bad Request: whitespace in a header name");
  request_.headers.emplace_back(std::exchange(field_, {}), trim(value_));
  value_.clear();
  return 0;
}

int RequestParser::on_headers_complete() {
  in_headers_ = false;
  split_target(request_.target, request_.path, request_.query);
  request_.method = llhttp_method_name(static_cast<llhttp_method_t>(llhttp_get_method(&parser_)));
  request_.http_major = llhttp_get_http_major(&parser_);
  request_.http_minor = llhttp_get_http_minor(&parser_);
  // A declared length over the limit is refused now, before reading any of it.
  if ((parser_.flags & F_CONTENT_LENGTH) != 0 && parser_.content_length > limits_.max_body_bytes)
    return fail(413, "Payload Too Large");
  return 0;
}

int RequestParser::on_body(std::string_view chunk) {
  body_bytes_ += chunk.size();  // read and discarded: no route of ours takes a body
  if (body_bytes_ > limits_.max_body_bytes) return fail(413, "Payload Too Large");
  return 0;
}

int RequestParser::on_message_complete() {
  in_message_ = false;
  request_.keep_alive = llhttp_should_keep_alive(&parser_) != 0;
  if (llhttp_get_upgrade(&parser_) != 0) request_.keep_alive = false;  // we speak no other protocol
  closed_ = !request_.keep_alive;
  ready_ = true;
  return HPE_PAUSED;  // one request per feed(): the caller bounds the pipeline
}

}  // namespace common::http
