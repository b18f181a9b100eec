#include "common/http/router.h"

#include <algorithm>
#include <optional>
#include <stdexcept>

#include "common/http/request.h"

namespace common::http {
namespace {

// "/a/b/" gives "a", "b" (one trailing slash is dropped), "/" none and "//" one empty segment;
// a path that does not start with '/' gives nullopt.
std::optional<std::vector<std::string_view>> split_path(std::string_view path) {
  if (!path.starts_with('/')) return std::nullopt;
  std::vector<std::string_view> segments;
  if (path.size() == 1) return segments;
  path.remove_prefix(1);
  if (path.ends_with('/')) path.remove_suffix(1);
  for (size_t at = 0;;) {
    size_t slash = path.find('/', at);
    segments.push_back(path.substr(at, slash - at));
    if (slash == std::string_view::npos) return segments;
    at = slash + 1;
  }
}

bool is_param(std::string_view segment) {
  return segment.size() > 1 && segment.front() == ':';
}

bool segments_match(const Route& route, const std::vector<std::string_view>& path) {
  auto same = [](const std::string& expected, std::string_view segment) {
    return is_param(expected) ? !segment.empty() : iequals(segment, expected);
  };
  return std::equal(route.segments.begin(), route.segments.end(), path.begin(), path.end(), same);
}

// Appends `method` to a list like "GET, HEAD" unless it is there already.
void add_allowed(std::string& allow, const std::string& method) {
  if ((", " + allow + ", ").find(", " + method + ", ") != std::string::npos) return;
  allow += allow.empty() ? method : ", " + method;
}

}  // namespace

void Router::add(std::string_view method, std::string_view pattern, Handler handler) {
  std::optional<std::vector<std::string_view>> segments = split_path(pattern);
  if (!segments)
    throw std::invalid_argument("route pattern must start with '/': " + std::string(pattern));
  Route route{std::string(method), {}, std::move(handler)};
  std::transform(route.method.begin(), route.method.end(), route.method.begin(),
                 [](char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 32) : c; });
  for (std::string_view segment : *segments) {
    if (segment == ":")
      throw std::invalid_argument("route param without a name: " + std::string(pattern));
    route.segments.emplace_back(segment);
  }
  routes_.push_back(std::move(route));
}

RouteMatch Router::match(std::string_view method, std::string_view path) const {
  RouteMatch result;
  result.message = "Cannot " + std::string(method) + " " + std::string(path);
  std::optional<std::vector<std::string_view>> segments = split_path(path);
  if (!segments) return result;
  for (const Route& route : routes_) {
    if (!segments_match(route, *segments)) continue;
    bool same = route.method == method || (method == "HEAD" && route.method == "GET");
    if (same && (result.route == nullptr || route.method == method)) result.route = &route;
    add_allowed(result.allow, route.method);
    if (route.method == "GET") add_allowed(result.allow, "HEAD");
  }
  if (result.route == nullptr) {
    if (!result.allow.empty()) result.status = 405;
    return result;
  }
  result.allow.clear();
  // Decoded after matching, so an encoded '/' stays inside its segment.
  for (size_t i = 0; i < segments->size(); ++i) {
    const std::string& expected = result.route->segments[i];
    if (!is_param(expected)) continue;
    std::optional<std::string> decoded = decode_uri_component((*segments)[i]);
    if (!decoded)
      return {400, nullptr, {}, {}, "Failed to decode param '" + std::string((*segments)[i]) + "'"};
    result.params.insert_or_assign(expected.substr(1), std::move(*decoded));
  }
  result.status = 200;
  result.message.clear();
  return result;
}

}  // namespace common::http
