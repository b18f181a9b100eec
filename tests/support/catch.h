// catch.h: include this instead of Catch2's own header, so tests build with Catch2 2.x (Debian 12)
// and 3.x (Debian 13, Ubuntu 24.04, Homebrew). Where the two majors spell a matcher differently,
// the test code uses the one spelling defined here.
#pragma once
#include <string>

#if __has_include(<catch2/catch_all.hpp>)
#include <catch2/catch_all.hpp>
#else
#include <catch2/catch.hpp>
#endif

namespace test_support {

// Matches a string that contains `part` (Catch2 3: ContainsSubstring; Catch2 2: Contains).
inline auto contains_text(const std::string& part) {
#if __has_include(<catch2/catch_all.hpp>)
  return Catch::Matchers::ContainsSubstring(part);
#else
  return Catch::Matchers::Contains(part);
#endif
}

}  // namespace test_support
