#include "common/http/conditional.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>

namespace common::http {
namespace {

constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

struct DateFields {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;  // month: 0–11
};

// Reads a date field by field; each step consumes what it expects, or fails and the date is
// refused. (sscanf would do, but cannot tell a number that overflows from a good one.)
class DateScanner {
 public:
  explicit DateScanner(std::string_view text) : rest_(text) {}

  bool literal(std::string_view expected) {
    if (!rest_.starts_with(expected)) return false;
    rest_.remove_prefix(expected.size());
    return true;
  }
  bool optional(std::string_view expected) {
    literal(expected);
    return true;
  }
  bool letters(size_t min, size_t max) {
    size_t n = 0;
    while (n < rest_.size() && n <= max && std::isalpha(static_cast<unsigned char>(rest_[n]))) ++n;
    if (n < min || n > max) return false;
    rest_.remove_prefix(n);
    return true;
  }
  bool number(size_t min_digits, size_t max_digits, int& value) {
    size_t n = 0;
    while (n < rest_.size() && n <= max_digits && rest_[n] >= '0' && rest_[n] <= '9') ++n;
    if (n < min_digits || n > max_digits) return false;
    std::from_chars(rest_.data(), rest_.data() + n, value);  // at most 4 digits: cannot fail
    rest_.remove_prefix(n);
    return true;
  }
  bool month(int& index) {
    for (int i = 0; i < 12; ++i) {
      if (literal(kMonths[i])) {
        index = i;
        return true;
      }
    }
    return false;
  }
  bool clock(DateFields& f) {  // "08:49:37"
    return number(2, 2, f.hour) && literal(":") && number(2, 2, f.minute) && literal(":") &&
           number(2, 2, f.second);
  }
  [[nodiscard]] bool done() const { return rest_.empty(); }

 private:
  std::string_view rest_;
};

std::optional<std::time_t> to_time(const DateFields& f) {
  if (f.day < 1 || f.day > 31 || f.hour > 23 || f.minute > 59 || f.second > 60 || f.year < 1970)
    return std::nullopt;
  std::tm tm{};
  tm.tm_year = f.year - 1900;
  tm.tm_mon = f.month;
  tm.tm_mday = f.day;
  tm.tm_hour = f.hour;
  tm.tm_min = f.minute;
  tm.tm_sec = f.second;
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
  DateFields f;
  // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT"
  DateScanner imf(text);
  if (imf.letters(3, 3) && imf.literal(", ") && imf.number(1, 2, f.day) && imf.literal(" ") &&
      imf.month(f.month) && imf.literal(" ") && imf.number(4, 4, f.year) && imf.literal(" ") &&
      imf.clock(f) && imf.literal(" GMT") && imf.done())
    return to_time(f);
  // RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT" (two-digit years: 70–99 are 19xx)
  DateScanner rfc850(text);
  if (rfc850.letters(6, 9) && rfc850.literal(", ") && rfc850.number(1, 2, f.day) &&
      rfc850.literal("-") && rfc850.month(f.month) && rfc850.literal("-") &&
      rfc850.number(2, 2, f.year) && rfc850.literal(" ") && rfc850.clock(f) &&
      rfc850.literal(" GMT") && rfc850.done()) {
    f.year += f.year < 70 ? 2000 : 1900;
    return to_time(f);
  }
  // asctime: "Sun Nov  6 08:49:37 1994" (a one-digit day is padded with a space)
  DateScanner asctime(text);
  if (asctime.letters(3, 3) && asctime.literal(" ") && asctime.month(f.month) &&
      asctime.literal(" ") && asctime.optional(" ") && asctime.number(1, 2, f.day) &&
      asctime.literal(" ") && asctime.clock(f) && asctime.literal(" ") &&
      asctime.number(4, 4, f.year) && asctime.done())
    return to_time(f);
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
