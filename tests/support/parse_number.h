// parse_number.h: text to a number for the tests and their helper programs, or a clear "no".
//
// std::atoi and std::atof read "12abc" as 12 and "abc" as 0 without a word, so a port, a status
// code or a pid read from a server's output could be wrong and the test would never say why.
// These accept exactly a number (std::from_chars: no spaces, no '+', nothing left over).
#pragma once

#include <charconv>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>

namespace test_support {

// The number `text` spells, or nothing if it is empty, not a number, out of range or has more.
template <typename Number>
std::optional<Number> parse_number(std::string_view text) {
  Number value{};
  const char* end = text.data() + text.size();
  auto [stop, error] = std::from_chars(text.data(), end, value);
  if (text.empty() || error != std::errc() || stop != end) return std::nullopt;
  return value;
}

// The same, for text that must be a number: throws std::invalid_argument naming `what` otherwise.
template <typename Number>
Number require_number(std::string_view text, std::string_view what) {
  if (auto value = parse_number<Number>(text)) return *value;
  throw std::invalid_argument(std::string(what) + ": '" + std::string(text) + "' is not a number");
}

}  // namespace test_support
