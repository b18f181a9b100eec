// http/config.h: every limit and timeout of the HTTP server in one struct, so a stage or a test
// can change them in code. docs/http.md §4–§6 say what each one does to a client.
#pragma once

#include <chrono>
#include <cstddef>

#include "common/http/parser.h"

namespace common::http {

struct Config {
  ParserLimits limits;                               // 414 / 431 / 413 thresholds
  std::chrono::milliseconds header_timeout{10'000};  // the slowloris bound
  // Idle keep-alive, an incomplete body, a queued answer that makes no progress.
  std::chrono::milliseconds idle_timeout{60'000};
  // Unread input is drained this long after the half-close: closing with unread bytes would
  // reset the connection and could destroy the last answer.
  std::chrono::milliseconds linger_timeout{2'000};
  // Above this many bytes queued on the socket (or, for a pipelined answer not at the front, in
  // its own buffer) a response should pause, and the connection takes in no new request.
  size_t write_high_water = size_t{256} * 1024;
  // Requests parsed but not yet answered on one connection; beyond it reading stops.
  size_t max_pipelined = 16;
  // One line per answered request on stderr: method, target, status, body bytes, milliseconds.
  bool access_log = false;
};

}  // namespace common::http
