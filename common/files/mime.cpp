#include "common/files/mime.h"

#include "common/http/request.h"

namespace common::http {
namespace {

struct MimeType {
  std::string_view extension;
  std::string_view type;
};

constexpr MimeType kTypes[] = {
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

}  // namespace

std::string_view content_type_for(std::string_view path) noexcept {
  std::string_view name = path.substr(path.rfind('/') + 1);  // npos + 1 == 0: the whole path
  size_t dot = name.rfind('.');
  for (const MimeType& known : kTypes)
    if (dot != std::string_view::npos && iequals(known.extension, name.substr(dot + 1)))
      return known.type;
  return "application/octet-stream";
}

}  // namespace common::http
