// files/mime.h: the Content-Type of a file, from its extension (what Node's `mime` package does).
//
// Text types carry "; charset=utf-8" so a browser does not guess the encoding; anything we do
// not know is application/octet-stream, which browsers download instead of rendering.
#pragma once

#include <string_view>
#include <utility>

#include "common/http/request.h"

namespace common::http {

// "index.HTML" → "text/html; charset=utf-8"; "a.bin", "README" → "application/octet-stream".
[[nodiscard]] inline std::string_view content_type_for(std::string_view path) noexcept {
  static constexpr std::pair<std::string_view, std::string_view> kTypes[] = {
      {"html", "text/html; charset=utf-8"},
      {"htm", "text/html; charset=utf-8"},
      {"css", "text/css; charset=utf-8"},
      {"js", "text/javascript; charset=utf-8"},
      {"mjs", "text/javascript; charset=utf-8"},
      {"json", "application/json; charset=utf-8"},
      {"txt", "text/plain; charset=utf-8"},
      {"md", "text/markdown; charset=utf-8"},  // so the tour shows README.md as text
      {"svg", "image/svg+xml"},
      {"png", "image/png"},
      {"jpg", "image/jpeg"},
      {"jpeg", "image/jpeg"},
      {"gif", "image/gif"},
      {"webp", "image/webp"},
      {"ico", "image/x-icon"},
      {"wasm", "application/wasm"},
      {"pdf", "application/pdf"},
  };
  std::string_view name = path.substr(path.rfind('/') + 1);  // npos + 1 == 0: the whole path
  size_t dot = name.rfind('.');
  for (const auto& [extension, type] : kTypes)
    if (dot != std::string_view::npos && iequals(extension, name.substr(dot + 1))) return type;
  return "application/octet-stream";
}

}  // namespace common::http
