// files/range.h: the Range request header (RFC 9110 §14), single byte ranges only.
//
// "bytes=0-99" (the first 100 bytes), "bytes=100-" (from byte 100 on), "bytes=-100" (the last
// 100). A range past the end is trimmed; one starting past the end is unsatisfiable (416). A
// header we do not understand — another unit, bad syntax, several ranges — is ignored and the
// whole file sent (200), which the RFC allows and which is what a client copes with best.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

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

}  // namespace common::http
