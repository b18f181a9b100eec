#include "common/files/path.h"

#include <algorithm>
#include <optional>
#include <vector>

#include "common/http/request.h"
#include "common/http/url.h"

namespace common::http {
namespace {

bool refused_byte(char c) noexcept {
  return c == '/' || c == '\\' || c == '\0';
}

// One decoded segment, or nullopt (with `status` set) if it is malformed or refused.
std::optional<std::string> decode_segment(std::string_view raw, int& status) {
  std::optional<std::string> decoded = decode_uri_component(raw);
  if (!decoded) {
    status = 400;
    return std::nullopt;
  }
  for (char c : *decoded) {
    if (!refused_byte(c)) continue;
    status = 403;
    return std::nullopt;
  }
  return decoded;
}

}  // namespace

std::string_view strip_absolute_uri(std::string_view path) noexcept {
  size_t scheme_end = path.find("://");
  if (path.empty() || path[0] == '/' || scheme_end == std::string_view::npos) return path;
  std::string_view scheme = path.substr(0, scheme_end);
  if (!iequals(scheme, "http") && !iequals(scheme, "https")) return path;
  size_t slash = path.find('/', scheme_end + 3);
  return slash == std::string_view::npos ? std::string_view("/") : path.substr(slash);
}

RequestedPath parse_request_path(std::string_view path) {
  RequestedPath result;
  path = strip_absolute_uri(path);
  if (path.empty() || path[0] != '/') {
    result.status = 400;
    return result;
  }
  std::vector<std::string> segments;
  bool names_directory = false;
  for (size_t at = 1; at <= path.size();) {
    size_t end = std::min(path.find('/', at), path.size());
    std::optional<std::string> segment = decode_segment(path.substr(at, end - at), result.status);
    if (!segment) return result;
    names_directory = segment->empty() || *segment == "." || *segment == "..";
    if (*segment == "..") {
      if (segments.empty()) {
        result.status = 403;  // above the root
        return result;
      }
      segments.pop_back();
    } else if (!segment->empty() && *segment != ".") {
      segments.push_back(std::move(*segment));
    }
    at = end + 1;
  }
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
    bool keep = (byte >= 'a' && byte <= 'z') || (byte >= 'A' && byte <= 'Z') ||
                (byte >= '0' && byte <= '9') || c == '/' || c == '-' || c == '.' || c == '_' ||
                c == '~';
    if (keep) {
      encoded += c;
    } else {
      encoded.append("%").append(1, kHex[byte >> 4]).append(1, kHex[byte & 15]);
    }
  }
  return encoded;
}

}  // namespace common::http
