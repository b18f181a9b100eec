#include "common/http/parser.h"

#include <algorithm>

namespace common::http {
namespace {

// A body's bytes on the wire: a one-byte chunk takes six ("1\r\nx\r\n"), and some room is
// left for chunk extensions (Node allows 16 KiB of them per request) and the last chunk.
constexpr size_t kWirePerDataByte = 6;
constexpr size_t kFramingAllowance = size_t{64} * 1024;

}  // namespace

struct RequestParser::Events {
  // Adapts On(parser) or On(parser, chunk) to llhttp's callback types. No exception may unwind
  // through llhttp's C frames: one (out of memory) fails the request.
  template <auto On, typename... Chunk>
  static int call(llhttp_t* llhttp, Chunk... chunk) noexcept {
    RequestParser& parser = *static_cast<RequestParser*>(llhttp->data);
    try {
      if constexpr (sizeof...(Chunk) == 0)
        return On(parser);
      else
        return On(parser, std::string_view(chunk...));
    } catch (...) {
      llhttp_set_error_reason(llhttp, "internal error while parsing");
      return -1;
    }
  }

  // Built once, fields assigned by name: llhttp's struct layout changes between versions.
  static const llhttp_settings_t& settings() {
    static const llhttp_settings_t built = [] {
      llhttp_settings_t s;
      llhttp_settings_init(&s);
      s.on_message_begin = call<on_message_begin>;
      s.on_url = call<on_url>;
      s.on_header_field = call<on_header_field>;
      s.on_header_value = call<on_header_value>;
      s.on_header_value_complete = call<on_header_value_complete>;
      s.on_headers_complete = call<on_headers_complete>;
      s.on_body = call<on_body>;
      s.on_message_complete = call<on_message_complete>;
      return s;
    }();
    return built;
  }

  static int on_message_begin(RequestParser& p) {
    p.request_.arrived = std::chrono::steady_clock::now();
    p.header_bytes_ = p.body_bytes_ = p.body_wire_bytes_ = 0;
    p.in_headers_ = p.in_message_ = true;
    return 0;
  }

  static int on_url(RequestParser& p, std::string_view chunk) {
    if (p.request_.target.size() + chunk.size() > p.limits_.max_url_bytes)
      return p.fail(414, "URI Too Long");
    p.request_.target.append(chunk);
    return 0;
  }

  // Names and values count toward max_header_bytes, so a flood of them is refused (431).
  static int count_header_bytes(RequestParser& p, size_t length) {
    p.header_bytes_ += length;
    if (p.header_bytes_ > p.limits_.max_header_bytes)
      return p.fail(431, "Request Header Fields Too Large");
    return 0;
  }

  static int on_header_field(RequestParser& p, std::string_view chunk) {
    p.field_.append(chunk);
    return count_header_bytes(p, chunk.size());
  }

  static int on_header_value(RequestParser& p, std::string_view chunk) {
    p.value_.append(chunk);
    return count_header_bytes(p, chunk.size());
  }

  static int on_header_value_complete(RequestParser& p) {
    // ": " and CRLF count too, so many empty headers still add up.
    if (count_header_bytes(p, 4) < 0) return -1;
    // llhttp 8 lets "Host : x" through; RFC 9112 §5.1 says such a request must be refused (a
    // proxy in front might read the header differently: a smuggling vector).
    if (p.field_.find_first_of(" \t") != std::string::npos)
      return p.fail(400, "Bad Request: whitespace in a header name");
    p.request_.headers.emplace_back(std::exchange(p.field_, {}), trim(p.value_));
    p.value_.clear();
    return 0;
  }

  static int on_headers_complete(RequestParser& p) {
    p.in_headers_ = false;
    Request& request = p.request_;
    split_target(request.target, request.path, request.query);
    llhttp_t* llhttp = &p.parser_;
    request.method = llhttp_method_name(static_cast<llhttp_method_t>(llhttp_get_method(llhttp)));
    request.http_major = llhttp_get_http_major(llhttp);
    request.http_minor = llhttp_get_http_minor(llhttp);
    const bool http11 =
        request.http_major > 1 || (request.http_major == 1 && request.http_minor > 0);
    if (int refused = check_host(p, http11); refused != 0) return refused;
    // A declared length over the limit is refused now, before reading any of it.
    if ((llhttp->flags & F_CONTENT_LENGTH) != 0 &&
        llhttp->content_length > p.limits_.max_body_bytes)
      return p.fail(413, "Payload Too Large");
    // RFC 9110 §10.1.1: 100-continue is the one expectation there is; HTTP/1.0 cannot have it.
    std::string_view expect = request.header("Expect");
    if (!expect.empty() && !iequals(expect, "100-continue"))
      return p.fail(417, "Expectation Failed");
    p.continue_wanted_ = http11 && !expect.empty();
    return 0;
  }

  // RFC 9112 §3.2: an HTTP/1.1 request names its Host, and no request names two.
  static int check_host(RequestParser& p, bool http11) {
    const Headers& headers = p.request_.headers;
    auto hosts = std::count_if(headers.begin(), headers.end(),
                               [](const auto& header) { return iequals(header.first, "Host"); });
    if (hosts > 1) return p.fail(400, "Bad Request: more than one Host header");
    if (hosts == 0 && http11) return p.fail(400, "Bad Request: an HTTP/1.1 request needs a Host");
    return 0;
  }

  static int on_body(RequestParser& p, std::string_view chunk) {
    p.body_bytes_ += chunk.size();  // read and discarded: no route of ours takes a body
    if (p.body_bytes_ > p.limits_.max_body_bytes) return p.fail(413, "Payload Too Large");
    return 0;
  }

  static int on_message_complete(RequestParser& p) {
    p.in_message_ = p.continue_wanted_ = false;  // the body came with its head: no 100 needed
    // An Upgrade ends the connection too: we speak no other protocol.
    p.request_.keep_alive =
        llhttp_should_keep_alive(&p.parser_) != 0 && llhttp_get_upgrade(&p.parser_) == 0;
    p.closed_ = !p.request_.keep_alive;
    p.ready_ = true;
    return HPE_PAUSED;  // one request per feed(): the caller bounds the pipeline
  }
};

RequestParser::RequestParser(ParserLimits limits) : limits_(limits) {
  llhttp_init(&parser_, HTTP_REQUEST, &Events::settings());
  parser_.data = this;
}

size_t RequestParser::feed(std::string_view bytes) {
  if (error_ || closed_ || ready_ || bytes.empty()) return 0;
  const bool in_body = in_message_ && !in_headers_;
  llhttp_errno_t code = llhttp_execute(&parser_, bytes.data(), bytes.size());
  const bool paused = code == HPE_PAUSED || code == HPE_PAUSED_UPGRADE;
  // Paused in on_message_complete: the next request starts at the pause position.
  size_t used =
      paused ? static_cast<size_t>(llhttp_get_error_pos(&parser_) - bytes.data()) : bytes.size();
  if ((code == HPE_OK || paused) && folds(bytes.substr(0, used))) {
    ready_ = false;  // what llhttp made of a folded head is no request
    fail(400, "Bad Request: obsolete line folding");
    return 0;
  }
  if (code == HPE_OK) {
    // llhttp passes only the data of a chunked body to on_body: chunk extensions and a chunk
    // size with endless leading zeros would go on for ever. Everything read during a body
    // counts here, against a bound that still lets max_body_bytes arrive in one-byte chunks.
    if (in_body) body_wire_bytes_ += bytes.size();
    if (body_wire_bytes_ > kWirePerDataByte * limits_.max_body_bytes + kFramingAllowance)
      fail(413, "Payload Too Large");
    return bytes.size();
  }
  if (paused) {
    head_ = Head::before;
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
  if (error_) return;  // a limit set by fail() already explains it
  const char* reason = llhttp_get_error_reason(&parser_);
  fail(400, std::string("Bad Request: ") + llhttp_errno_name(code) +
                (reason != nullptr ? std::string(" ") + reason : std::string()));
}

// Obsolete line folding: a line of the head that begins with a blank continues the line before.
// llhttp 8 joins it to that header's value (llhttp 9 refuses it); a proxy in front might not, and
// would read other headers than we do, so it is refused. Follows the head through `bytes`.
bool RequestParser::folds(std::string_view bytes) noexcept {
  for (char c : bytes) {
    if (head_ == Head::done) return false;  // the body
    if (head_ == Head::line_start && (c == ' ' || c == '\t')) return true;
    if (c == '\n')  // empty lines before the request line do not count; one after it ends the head
      head_ = head_ == Head::before       ? Head::before
              : head_ == Head::line_start ? Head::done
                                          : Head::line_start;
    else if (c != '\r')
      head_ = Head::in_line;
  }
  return false;
}

// Records why parsing stops, which ends the message; the returned -1 makes llhttp_execute fail.
int RequestParser::fail(int status, std::string message) {
  in_headers_ = in_message_ = continue_wanted_ = false;
  error_ = ParseError{status, std::move(message)};
  return -1;
}

}  // namespace common::http
