// http/url.h: percent-decoding, the two flavours Express uses.
//
// Route params go through decodeURIComponent: every %XX must be valid hex and the result valid
// UTF-8, otherwise Express answers 400 ("Failed to decode param"). Query strings are decoded
// leniently like Node's querystring: '+' is a space and a broken escape is kept as it is.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace common::http {

// decodeURIComponent: nullopt on a malformed escape or invalid UTF-8.
[[nodiscard]] std::optional<std::string> decode_uri_component(std::string_view text);

// application/x-www-form-urlencoded component: never fails.
[[nodiscard]] std::string decode_query_component(std::string_view text);

// Splits "a/b?c" into path "a/b" and query "c" (no '?'); the fragment, if any, is dropped.
void split_target(std::string_view target, std::string& path, std::string& query);

}  // namespace common::http
