// files/path.h: from a request target to a file path that cannot leave the served directory.
//
// The tutorial's path.join(process.cwd(), uri) lets "GET /../../etc/passwd" walk out. Here each
// segment is percent-decoded once ("%2e%2e" is "..", "%252e" stays the name "%2e") and "." and
// ".." are resolved lexically; a ".." above the root, or a segment that decodes to '/', '\' or
// NUL, is refused. Symbolic links are a separate matter: the file server asks the descriptor it
// opened for its real path, and checks that with path_within().
#pragma once

#include <string>
#include <string_view>

namespace common::http {

struct RequestedPath {
  int status = 0;               // 0 = usable; 400 = malformed target; 403 = refused
  std::string relative{};       // "/", "/a/b.txt", "/docs/": decoded, normalised, starts with '/'
  bool trailing_slash = false;  // the target names a directory ("/docs/", "/docs/.")
};

// `path` is the raw path of the request target (no query); an absolute-URI target
// ("http://host:8080/a") is accepted and its path used.
[[nodiscard]] RequestedPath parse_request_path(std::string_view path);

// True if `path` is `root` or lies inside it; both absolute and free of "..", "." and symlinks
// (as realpath(3) returns them).
[[nodiscard]] bool path_within(std::string_view root, std::string_view path) noexcept;

// Percent-encodes a decoded path for a Location header; '/' and unreserved characters stay.
[[nodiscard]] std::string encode_path(std::string_view path);

}  // namespace common::http
