// http/conditional.h: validators and conditional requests (RFC 9110 §8.8, §13) for files.
//
// A browser that has a copy asks "If-None-Match: <etag>" or "If-Modified-Since: <date>"; when
// the file has not changed we answer 304 with no body. Our ETag is strong and built from the
// file's size and modification time in nanoseconds (as nginx does), so it changes whenever the
// file is rewritten, without reading the content. If-Range lets a client resume a download only
// if the file is still the one it started with.
#pragma once

#include <cstdint>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>

#include "common/http/request.h"

namespace common::http {

struct Validators {
  std::string etag;           // "\"<size hex>-<mtime ns hex>\""
  std::string last_modified;  // IMF-fixdate of the modification time
  std::time_t modified = 0;   // the modification time, whole seconds
};

[[nodiscard]] Validators make_validators(uint64_t size, int64_t mtime_sec, int64_t mtime_nsec);

// IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT".
[[nodiscard]] std::string format_http_date(std::time_t when);
// Accepts the three formats RFC 9110 requires (IMF-fixdate, RFC 850, asctime); nullopt if none.
[[nodiscard]] std::optional<std::time_t> parse_http_date(std::string_view text);

// True if a GET or HEAD may be answered 304: If-None-Match lists our ETag (weak comparison) or
// "*", or, without If-None-Match, If-Modified-Since is a valid date not older than the file.
[[nodiscard]] bool not_modified(const Request& request, const Validators& file);

// True if a Range header may be honoured: If-Range is absent, or it is our strong ETag, or
// exactly our Last-Modified date.
[[nodiscard]] bool if_range_allows(std::string_view if_range, const Validators& file);

}  // namespace common::http
