#include "common/files/range.h"

#include <charconv>
#include <limits>
#include <optional>

#include "common/http/request.h"

namespace common::http {
namespace {

constexpr uint64_t kHuge = std::numeric_limits<uint64_t>::max();

std::string_view trim(std::string_view text) noexcept {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// Digits only (no sign, no spaces); a number too big for 64 bits reads as "huge".
std::optional<uint64_t> parse_digits(std::string_view text) noexcept {
  if (text.empty()) return std::nullopt;
  for (char c : text)
    if (c < '0' || c > '9') return std::nullopt;
  uint64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error == std::errc::result_out_of_range) return kHuge;
  return end == text.data() + text.size() ? std::optional<uint64_t>(value) : std::nullopt;
}

ByteRange partial(uint64_t first, uint64_t last) noexcept {
  return {ByteRange::Kind::partial, first, last - first + 1};
}

}  // namespace

ByteRange parse_range(std::string_view header, uint64_t size) noexcept {
  const ByteRange whole{};
  const ByteRange unsatisfiable{ByteRange::Kind::unsatisfiable};
  header = trim(header);
  size_t equals = header.find('=');
  if (equals == std::string_view::npos || !iequals(trim(header.substr(0, equals)), "bytes"))
    return whole;
  std::string_view spec = trim(header.substr(equals + 1));
  size_t dash = spec.find('-');
  if (dash == std::string_view::npos || spec.find(',') != std::string_view::npos) return whole;
  std::string_view first_text = trim(spec.substr(0, dash));
  std::optional<uint64_t> first = parse_digits(first_text);
  if (!first && !first_text.empty()) return whole;
  std::string_view last_text = trim(spec.substr(dash + 1));
  std::optional<uint64_t> last = parse_digits(last_text);
  if (!first) {  // suffix form "-N": the last N bytes
    if (!last) return whole;
    if (*last == 0 || size == 0) return unsatisfiable;
    return partial(*last >= size ? 0 : size - *last, size - 1);
  }
  if (!last_text.empty() && (!last || *last < *first)) return whole;  // invalid: ignored
  if (*first >= size) return unsatisfiable;
  return partial(*first, last && *last < size ? *last : size - 1);
}

std::string content_range(const ByteRange& range, uint64_t size) {
  if (range.kind != ByteRange::Kind::partial) return "bytes */" + std::to_string(size);
  return "bytes " + std::to_string(range.first) + "-" +
         std::to_string(range.first + range.length - 1) + "/" + std::to_string(size);
}

}  // namespace common::http
