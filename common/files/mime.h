// files/mime.h: the Content-Type of a file, from its extension (what Node's `mime` package does).
//
// Text types carry "; charset=utf-8" so a browser does not guess the encoding; anything we do
// not know is application/octet-stream, which browsers download instead of rendering.
#pragma once

#include <string_view>

namespace common::http {

// "index.HTML" → "text/html; charset=utf-8"; "a.bin", "README" → "application/octet-stream".
[[nodiscard]] std::string_view content_type_for(std::string_view path) noexcept;

}  // namespace common::http
