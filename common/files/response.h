// files/response.h: answering GET/HEAD for one file — 200, 206, 304 or 416 — from memory or
// straight from an open file descriptor.
//
// plan_file_response decides (a pure function); send_planned_body sends a body held in memory,
// stream_file_body one from an open file with sendfile(2) (Response::send_file).
//
// A Range (RFC 9110 §14) is "bytes=0-99", "bytes=100-" (to the end) or "bytes=-100" (the last
// 100), trimmed to the file. A header we do not understand (another unit, bad syntax, several
// ranges) is ignored and the whole file sent, which the RFC allows and clients cope with best.
#pragma once

#include <uv.h>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "common/http/conditional.h"
#include "common/http/response.h"

namespace common::http {

struct ByteRange {
  enum class Kind { whole, partial, unsatisfiable };
  Kind kind = Kind::whole;
  uint64_t first = 0;   // for partial: first byte
  uint64_t length = 0;  // for partial: number of bytes (≥ 1)
};

// `header` is the Range value ("" when absent); `size` the file's size.
[[nodiscard]] ByteRange parse_range(std::string_view header, uint64_t size) noexcept;
// "bytes 0-99/1000" for a partial range, "bytes */1000" for an unsatisfiable one.
[[nodiscard]] std::string content_range(const ByteRange& range, uint64_t size);

struct FileMeta {
  uint64_t size = 0;
  Validators validators;
  std::string_view content_type;
};

struct FilePlan {
  int status = 200;  // 200, 206, 304 or 416
  uint64_t offset = 0;
  uint64_t length = 0;  // body bytes (0 for 304 and 416)
  Headers headers;      // validators, Accept-Ranges, Content-Range, Content-Type
};

// 304 if the client's copy is current; 206 for a satisfiable Range, 416 for another; else 200.
// Every answer carries ETag and Last-Modified; 200 and 206 say "Accept-Ranges: bytes".
[[nodiscard]] FilePlan plan_file_response(const Request& request, const FileMeta& file);

// Answers with `plan`; `whole` is the file's entire content (the part sent is taken from it).
void send_planned_body(Response& res, const FilePlan& plan, std::string_view whole);

// Starts the answer and streams the planned bytes of `fd`; done(status) runs once, from the
// loop, when the body has been handed over (0) or abandoned (< 0); close the file there.
void stream_file_body(uv_loop_t& loop, Response& res, const FilePlan& plan, uv_file fd,
                      std::function<void(int status)> done);

}  // namespace common::http
