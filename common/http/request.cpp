#include "common/http/request.h"

#include <algorithm>
#include <charconv>

#include "common/json.h"

namespace common::http {
namespace {

// The byte of "%XX" at text[at], or -1 if it is not a well-formed escape.
int escaped_byte(std::string_view text, size_t at) noexcept {
  if (at + 2 >= text.size()) return -1;
  const char* digits = text.data() + at + 1;
  unsigned value = 0;
  auto [end, error] = std::from_chars(digits, digits + 2, value, 16);
  return error == std::errc() && end == digits + 2 ? static_cast<int>(value) : -1;
}

// Decodes every %XX. A form component also reads '+' as a space and keeps a broken escape as it
// is; otherwise a broken escape fails the whole decoding (nullopt).
std::optional<std::string> percent_decode(std::string_view text, bool form) {
  std::string decoded;
  decoded.reserve(text.size());
  for (size_t at = 0; at < text.size(); ++at) {
    const char c = text[at];
    const int value = c == '%' ? escaped_byte(text, at) : -1;
    if (value >= 0) {
      decoded += static_cast<char>(value);
      at += 2;
    } else if (c == '%' && !form) {
      return std::nullopt;
    } else {
      decoded += form && c == '+' ? ' ' : c;
    }
  }
  return decoded;
}

}  // namespace

std::optional<std::string> decode_uri_component(std::string_view text) {
  std::optional<std::string> decoded = percent_decode(text, false);
  if (!decoded || !is_utf8(*decoded)) return std::nullopt;
  return decoded;
}

std::string decode_query_component(std::string_view text) {
  return *percent_decode(text, true);
}

void split_target(std::string_view target, std::string& path, std::string& query) {
  target = target.substr(0, target.find('#'));
  size_t mark = target.find('?');
  path.assign(target.substr(0, mark));
  query.assign(mark == std::string_view::npos ? std::string_view() : target.substr(mark + 1));
}

bool iequals(std::string_view a, std::string_view b) noexcept {
  auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [&](char x, char y) { return lower(x) == lower(y); });
}

std::string_view trim(std::string_view text) noexcept {
  const size_t first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(" \t") - first + 1);
}

std::string_view Request::header(std::string_view name) const {
  for (const auto& [key, value] : headers)
    if (iequals(key, name)) return value;
  return {};
}

std::optional<std::string> Request::query_param(std::string_view name) const {
  std::string_view rest = query;
  while (!rest.empty()) {
    size_t end = rest.find('&');
    std::string_view pair = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
    size_t equals = pair.find('=');
    std::string_view key = pair.substr(0, equals);
    if (decode_query_component(key) != name) continue;
    if (equals == std::string_view::npos) return std::string();
    return decode_query_component(pair.substr(equals + 1));
  }
  return std::nullopt;
}

}  // namespace common::http
