// http/parser.h: bytes in, requests out — the socket-free core of the HTTP server.
//
// feed() stops after each complete request (llhttp is paused in on_message_complete), so the
// caller decides when to take the next one: that is how pipelining is bounded. The limits of
// docs/http.md §4 are enforced while parsing, so a huge URL or header block is refused before it
// is buffered; llhttp refuses the request-smuggling shapes (Content-Length with
// Transfer-Encoding, a duplicate or invalid Content-Length), and we refuse obsolete line folding
// and a missing or doubled Host (RFC 9112 §5.2, §3.2). A failed parser stays failed.
#pragma once

#include <llhttp.h>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "common/http/request.h"

namespace common::http {

struct ParserLimits {
  size_t max_url_bytes = size_t{8} * 1024;      // request target; over it → 414
  size_t max_header_bytes = size_t{16} * 1024;  // names + values of the header block; over it → 431
  size_t max_body_bytes = size_t{1024} * 1024;  // bodies are read and discarded; over it → 413
};

struct ParseError {
  int status = 400;     // 400, 413, 414 or 431
  std::string message;  // for the JSON error body and the log
};

class RequestParser {
 public:
  explicit RequestParser(ParserLimits limits = {});
  RequestParser(const RequestParser&) = delete;  // llhttp keeps a pointer to us
  RequestParser& operator=(const RequestParser&) = delete;

  // Parses until one request is complete, an error happens or the bytes run out, and returns how
  // many bytes it used; unused bytes must be fed again later. Returns 0 once failed or closed.
  size_t feed(std::string_view bytes);
  // The client closed its side: a half-received request becomes an error (400).
  void finish();

  [[nodiscard]] bool has_request() const noexcept { return ready_; }
  Request take_request();  // only when has_request()
  [[nodiscard]] const std::optional<ParseError>& error() const noexcept { return error_; }
  // A request has begun and its header block is not complete yet (the slowloris window).
  [[nodiscard]] bool reading_headers() const noexcept { return in_headers_; }
  // Some bytes of a request not yet complete have been parsed.
  [[nodiscard]] bool in_message() const noexcept { return in_message_; }
  // The last request closed the connection (no keep-alive, Upgrade, CONNECT): parsing is over.
  [[nodiscard]] bool closed() const noexcept { return closed_; }
  // The request being read expects "100 Continue" (HTTP/1.1, Expect: 100-continue) and its body
  // has not arrived yet. True once per request.
  bool take_continue() noexcept { return std::exchange(continue_wanted_, false); }

 private:
  struct Events;  // llhttp's callbacks (parser.cpp)
  int fail(int status, std::string message);
  void record_llhttp_error(llhttp_errno_t code);
  bool folds(std::string_view bytes) noexcept;

  llhttp_t parser_{};
  ParserLimits limits_;
  Request request_;
  std::string field_;
  std::string value_;
  size_t header_bytes_ = 0;
  size_t body_bytes_ = 0;
  size_t body_wire_bytes_ = 0;  // the body as sent: chunk sizes, extensions and CRLFs included
  std::optional<ParseError> error_;
  enum class Head { before, in_line, line_start, done } head_ = Head::before;  // for folds()
  bool continue_wanted_ = false;
  bool ready_ = false;
  bool in_headers_ = false;
  bool in_message_ = false;
  bool closed_ = false;
};

}  // namespace common::http
