#include "common/http_conditional.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace common::http {
namespace {

constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

int month_index(const char* name) {
  for (int i = 0; i < 12; ++i)
    if (std::strcmp(name, kMonths[i]) == 0) return i;
  return -1;
}

std::optional<std::time_t> to_time(int year, const char* month, int day, int hour, int minute,
                                   int second) {
  int mon = month_index(month);
  if (mon < 0 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60 || year < 1970)
    return std::nullopt;
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = mon;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  return timegm(&tm);
}

std::string_view trim(std::string_view text) noexcept {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

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
  std::snprintf(text, sizeof text, "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[utc.tm_wday],
                utc.tm_mday, kMonths[utc.tm_mon], utc.tm_year + 1900, utc.tm_hour, utc.tm_min,
                utc.tm_sec);
  return text;
}

std::optional<std::time_t> parse_http_date(std::string_view text) {
  text = trim(text);
  if (text.empty() || text.size() > 64) return std::nullopt;  // most requests send none
  const std::string copy(text);                               // sscanf wants a terminated string
  char weekday[16] = {}, month[4] = {}, zone[4] = {};
  int day = 0, year = 0, hour = 0, minute = 0, second = 0, used = 0;
  // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT"
  if (std::sscanf(copy.c_str(), "%3[A-Za-z], %2d %3[A-Za-z] %4d %2d:%2d:%2d %3[A-Z]%n", weekday,
                  &day, month, &year, &hour, &minute, &second, zone, &used) == 8 &&
      used == static_cast<int>(copy.size()) && std::strcmp(zone, "GMT") == 0)
    return to_time(year, month, day, hour, minute, second);
  // RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT" (two-digit years: 70–99 are 19xx)
  if (std::sscanf(copy.c_str(), "%15[A-Za-z], %2d-%3[A-Za-z]-%2d %2d:%2d:%2d %3[A-Z]%n", weekday,
                  &day, month, &year, &hour, &minute, &second, zone, &used) == 8 &&
      used == static_cast<int>(copy.size()) && std::strcmp(zone, "GMT") == 0)
    return to_time(year < 70 ? 2000 + year : 1900 + year, month, day, hour, minute, second);
  // asctime: "Sun Nov  6 08:49:37 1994"
  if (std::sscanf(copy.c_str(), "%3[A-Za-z] %3[A-Za-z] %2d %2d:%2d:%2d %4d%n", weekday, month, &day,
                  &hour, &minute, &second, &year, &used) == 7 &&
      used == static_cast<int>(copy.size()))
    return to_time(year, month, day, hour, minute, second);
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
