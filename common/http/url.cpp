#include "common/http/url.h"

namespace common::http {
namespace {

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The byte of "%XX" at text[at], or -1 if it is not a well-formed escape.
int escaped_byte(std::string_view text, size_t at) noexcept {
  if (at + 2 >= text.size()) return -1;
  int high = hex_value(text[at + 1]);
  int low = hex_value(text[at + 2]);
  return high < 0 || low < 0 ? -1 : high * 16 + low;
}

// Length of the UTF-8 sequence starting at text[at], or 0 if it is not a valid one
// (overlong forms, surrogates and code points above U+10FFFF are invalid, as in JavaScript).
size_t utf8_sequence_length(std::string_view text, size_t at) noexcept {
  auto byte = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
  unsigned char lead = byte(at);
  if (lead < 0x80) return 1;
  size_t length = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC2 ? 2 : 0;
  if (length == 0 || lead > 0xF4 || at + length > text.size()) return 0;
  for (size_t i = 1; i < length; ++i)
    if ((byte(at + i) & 0xC0) != 0x80) return 0;
  unsigned char second = byte(at + 1);
  if (lead == 0xE0 && second < 0xA0) return 0;  // overlong
  if (lead == 0xED && second > 0x9F) return 0;  // surrogate
  if (lead == 0xF0 && second < 0x90) return 0;  // overlong
  if (lead == 0xF4 && second > 0x8F) return 0;  // above U+10FFFF
  return length;
}

bool valid_utf8(std::string_view text) noexcept {
  for (size_t at = 0; at < text.size();) {
    size_t length = utf8_sequence_length(text, at);
    if (length == 0) return false;
    at += length;
  }
  return true;
}

}  // namespace

std::optional<std::string> decode_uri_component(std::string_view text) {
  std::string decoded;
  decoded.reserve(text.size());
  for (size_t at = 0; at < text.size(); ++at) {
    if (text[at] != '%') {
      decoded += text[at];
      continue;
    }
    int value = escaped_byte(text, at);
    if (value < 0) return std::nullopt;
    decoded += static_cast<char>(value);
    at += 2;
  }
  if (!valid_utf8(decoded)) return std::nullopt;
  return decoded;
}

std::string decode_query_component(std::string_view text) {
  std::string decoded;
  decoded.reserve(text.size());
  for (size_t at = 0; at < text.size(); ++at) {
    char c = text[at];
    int value = c == '%' ? escaped_byte(text, at) : -1;
    if (value >= 0) {
      decoded += static_cast<char>(value);
      at += 2;
    } else {
      decoded += c == '+' ? ' ' : c;
    }
  }
  return decoded;
}

void split_target(std::string_view target, std::string& path, std::string& query) {
  size_t fragment = target.find('#');
  if (fragment != std::string_view::npos) target = target.substr(0, fragment);
  size_t mark = target.find('?');
  path.assign(target.substr(0, mark));
  if (mark == std::string_view::npos)
    query.clear();
  else
    query.assign(target.substr(mark + 1));
}

}  // namespace common::http
