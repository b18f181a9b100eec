// utf8.h: a UTF-8 check of the tests' own, written from the Unicode standard's table of
// well-formed byte sequences (chapter 3, table 3-7), so that what the programs write is not judged
// by the validator they use themselves.
#pragma once

#include <cstddef>
#include <string_view>

namespace test_support {

inline bool is_well_formed_utf8(std::string_view text) {
  // The byte at `at`; past the end, 0, which no multi-byte sequence accepts.
  auto byte = [&](size_t at) -> unsigned {
    return at < text.size() ? static_cast<unsigned char>(text[at]) : 0;
  };
  for (size_t at = 0; at < text.size();) {
    const unsigned lead = byte(at);
    if (lead < 0x80) {
      ++at;
      continue;
    }
    // The number of continuation bytes, and the range the first one must fall in.
    size_t tail = 0;
    unsigned low = 0x80, high = 0xBF;
    if (lead >= 0xC2 && lead <= 0xDF) {
      tail = 1;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      tail = 2;
      low = lead == 0xE0 ? 0xA0 : 0x80;   // no overlong forms
      high = lead == 0xED ? 0x9F : 0xBF;  // no surrogates
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      tail = 3;
      low = lead == 0xF0 ? 0x90 : 0x80;   // no overlong forms
      high = lead == 0xF4 ? 0x8F : 0xBF;  // nothing above U+10FFFF
    } else {
      return false;
    }
    if (byte(at + 1) < low || byte(at + 1) > high) return false;
    for (size_t k = 2; k <= tail; ++k)
      if (byte(at + k) < 0x80 || byte(at + k) > 0xBF) return false;
    at += tail + 1;
  }
  return true;
}

}  // namespace test_support
