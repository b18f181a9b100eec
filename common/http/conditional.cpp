#include "common/http/conditional.h"

#include <algorithm>
#include <cstdio>
#include <ctime>

namespace common::http {
namespace {

// Dates are written and read with strftime(3) and strptime(3) in the C locale (no program here
// changes it), which keeps day and month names English.
constexpr const char* kImfFixdate = "%a, %d %b %Y %H:%M:%S GMT";

std::string_view opaque_tag(std::string_view tag) noexcept {
  return tag.starts_with("W/") ? tag.substr(2) : tag;
}

// Weak comparison of our ETag against a list like `"a", W/"b"` (or "*").
bool etag_listed(std::string_view list, std::string_view etag) {
  for (size_t at = 0; at <= list.size();) {
    size_t comma = std::min(list.find(',', at), list.size());
    std::string_view tag = trim(list.substr(at, comma - at));
    if (tag == "*" || (!tag.empty() && opaque_tag(tag) == opaque_tag(etag))) return true;
    at = comma + 1;
  }
  return false;
}

}  // namespace

Validators make_validators(uint64_t size, int64_t mtime_sec, int64_t mtime_nsec) {
  char etag[64];
  auto nanos = static_cast<unsigned long long>(mtime_sec) * 1'000'000'000ULL +
               static_cast<unsigned long long>(mtime_nsec);
  std::snprintf(etag, sizeof etag, "\"%llx-%llx\"", static_cast<unsigned long long>(size), nanos);
  auto modified = static_cast<std::time_t>(mtime_sec);
  return Validators{etag, format_http_date(modified), modified};
}

std::string format_http_date(std::time_t when) {
  std::tm utc{};
  gmtime_r(&when, &utc);
  char text[40];
  return {text, std::strftime(text, sizeof text, kImfFixdate, &utc)};
}

std::optional<std::time_t> parse_http_date(std::string_view text) {
  text = trim(text);
  if (text.empty() || text.size() > 64) return std::nullopt;  // absent, or too long for a date
  const std::string terminated(text);  // strptime reads a C string; it checks every field's range
  for (const char* format : {kImfFixdate,
                             "%A, %d-%b-%y %H:%M:%S GMT",  // RFC 850 (69–99 are 19xx)
                             "%a %b %d %H:%M:%S %Y"}) {    // asctime
    std::tm tm{};
    const char* end = strptime(terminated.c_str(), format, &tm);
    if (end != nullptr && *end == '\0' && tm.tm_year >= 70) return timegm(&tm);
  }
  return std::nullopt;
}

bool not_modified(const Request& request, const Validators& file) {
  std::string_view if_none_match = request.header("If-None-Match");
  if (!if_none_match.empty()) return etag_listed(if_none_match, file.etag);
  std::optional<std::time_t> since = parse_http_date(request.header("If-Modified-Since"));
  return since && file.modified <= *since;
}

bool if_range_allows(std::string_view if_range, const Validators& file) {
  if_range = trim(if_range);
  if (if_range.empty()) return true;
  if (if_range.starts_with("W/")) return false;  // a weak tag never allows a range
  if (if_range.starts_with("\"")) return if_range == file.etag;
  return if_range == file.last_modified;
}

}  // namespace common::http
