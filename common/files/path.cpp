#include "common/files/path.h"

#include <algorithm>
#include <cctype>
#include <optional>
#include <vector>

#include "common/http/request.h"

namespace common::http {
namespace {

// "http://host:8080/a/b" → "/a/b", "HTTP://host" → "/"; an origin-form path is returned as is.
std::string_view strip_absolute_uri(std::string_view path) noexcept {
  size_t scheme_end = path.find("://");
  if (path.starts_with('/') || scheme_end == std::string_view::npos) return path;
  std::string_view scheme = path.substr(0, scheme_end);
  if (!iequals(scheme, "http") && !iequals(scheme, "https")) return path;
  size_t slash = path.find('/', scheme_end + 3);
  return slash == std::string_view::npos ? std::string_view("/") : path.substr(slash);
}

}  // namespace

RequestedPath parse_request_path(std::string_view path) {
  path = strip_absolute_uri(path);
  if (!path.starts_with('/')) return {.status = 400};
  std::vector<std::string> segments;
  bool names_directory = false;
  for (size_t at = 1; at <= path.size();) {
    size_t end = std::min(path.find('/', at), path.size());
    std::optional<std::string> segment = decode_uri_component(path.substr(at, end - at));
    if (!segment) return {.status = 400};
    if (segment->find_first_of(std::string_view("/\\\0", 3)) != std::string::npos)
      return {.status = 403};  // a separator or NUL hidden in an escape
    names_directory = segment->empty() || *segment == "." || *segment == "..";
    if (*segment == "..") {
      if (segments.empty()) return {.status = 403};  // above the root
      segments.pop_back();
    } else if (!names_directory) {
      segments.push_back(std::move(*segment));
    }
    at = end + 1;
  }
  RequestedPath result;
  for (const std::string& segment : segments) result.relative.append("/").append(segment);
  result.trailing_slash = names_directory;
  if (segments.empty() || names_directory) result.relative += '/';
  return result;
}

bool path_within(std::string_view root, std::string_view path) noexcept {
  if (!path.starts_with(root)) return false;
  if (path.size() == root.size()) return true;
  return root.ends_with('/') || path[root.size()] == '/';
}

std::string encode_path(std::string_view path) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string encoded;
  for (char c : path) {
    auto byte = static_cast<unsigned char>(c);
    if (std::isalnum(byte) != 0 || std::string_view("/-._~").find(c) != std::string_view::npos)
      encoded += c;
    else
      encoded.append({'%', kHex[byte >> 4], kHex[byte & 15]});
  }
  return encoded;
}

}  // namespace common::http
