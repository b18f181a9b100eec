// Tests for common/files/mime: the extension table, case, charset on text types, the default.
#include "common/files/mime.h"
#include "tests/support/catch.h"

using common::http::content_type_for;

TEST_CASE("content types come from the extension", "[mime]") {
  CHECK(content_type_for("/index.html") == "text/html; charset=utf-8");
  CHECK(content_type_for("/a.HTM") == "text/html; charset=utf-8");
  CHECK(content_type_for("/s.css") == "text/css; charset=utf-8");
  CHECK(content_type_for("/app.js") == "text/javascript; charset=utf-8");
  CHECK(content_type_for("/mod.mjs") == "text/javascript; charset=utf-8");
  CHECK(content_type_for("/d.json") == "application/json; charset=utf-8");
  CHECK(content_type_for("/notes.txt") == "text/plain; charset=utf-8");
  CHECK(content_type_for("/README.md") == "text/markdown; charset=utf-8");
  CHECK(content_type_for("/logo.svg") == "image/svg+xml");
  CHECK(content_type_for("/p.png") == "image/png");
  CHECK(content_type_for("/p.jpg") == "image/jpeg");
  CHECK(content_type_for("/p.JPEG") == "image/jpeg");
  CHECK(content_type_for("/p.gif") == "image/gif");
  CHECK(content_type_for("/p.webp") == "image/webp");
  CHECK(content_type_for("/favicon.ico") == "image/x-icon");
  CHECK(content_type_for("/m.wasm") == "application/wasm");
  CHECK(content_type_for("/doc.pdf") == "application/pdf");
}

TEST_CASE("unknown or missing extensions are octet-stream", "[mime]") {
  CHECK(content_type_for("/data.bin") == "application/octet-stream");
  CHECK(content_type_for("/README") == "application/octet-stream");
  CHECK(content_type_for("/dir.html/README") == "application/octet-stream");
  CHECK(content_type_for("/archive.tar.gz") == "application/octet-stream");
  CHECK(content_type_for("/trailing.") == "application/octet-stream");
}
