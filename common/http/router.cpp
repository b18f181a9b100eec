#include "common/http/router.h"

#include <algorithm>
#include <stdexcept>

#include "common/http/url.h"

namespace common::http {
namespace {

// Walks the segments of a path: "/a/b/" gives "a", "b" (one trailing slash dropped), "/" none.
class Segments {
 public:
  explicit Segments(std::string_view path) {
    if (path.empty() || path.front() != '/') {
      valid_ = false;
      return;
    }
    rest_ = path.substr(1);
    if (!rest_.empty() && rest_.back() == '/') rest_.remove_suffix(1);
    more_ = !rest_.empty() || path.size() > 1;  // "//" leaves one empty segment
  }
  [[nodiscard]] bool valid() const { return valid_; }
  bool next(std::string_view& segment) {
    if (!more_) return false;
    size_t slash = rest_.find('/');
    segment = rest_.substr(0, slash);
    more_ = slash != std::string_view::npos;
    rest_ = more_ ? rest_.substr(slash + 1) : std::string_view();
    return true;
  }

 private:
  std::string_view rest_;
  bool valid_ = true;
  bool more_ = false;
};

std::string upper(std::string_view text) {
  std::string result(text);
  std::transform(result.begin(), result.end(), result.begin(),
                 [](char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 32) : c; });
  return result;
}

bool is_param(std::string_view segment) {
  return segment.size() > 1 && segment.front() == ':';
}

void add_allowed(std::string& allow, std::string_view method) {
  for (std::string_view rest = allow; !rest.empty();) {  // "GET, HEAD, POST": skip duplicates
    size_t comma = rest.find(", ");
    if (rest.substr(0, comma) == method) return;
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 2);
  }
  if (!allow.empty()) allow += ", ";
  allow += method;
}

}  // namespace

int RouteMatch::status() const noexcept {
  switch (outcome) {
    case Outcome::found:
      return 200;
    case Outcome::method_not_allowed:
      return 405;
    case Outcome::bad_param:
      return 400;
    case Outcome::not_found:
      break;
  }
  return 404;
}

void Router::add(std::string_view method, std::string_view pattern, Handler handler) {
  Segments walk(pattern);
  if (!walk.valid())
    throw std::invalid_argument("route pattern must start with '/': " + std::string(pattern));
  Route route{upper(method), std::string(pattern), {}, std::move(handler)};
  for (std::string_view segment; walk.next(segment);) {
    if (segment == ":")
      throw std::invalid_argument("route param without a name: " + std::string(pattern));
    route.segments.emplace_back(segment);
  }
  routes_.push_back(std::move(route));
}

bool Router::path_matches(const Route& route, std::string_view path) const {
  Segments walk(path);
  if (!walk.valid()) return false;
  std::string_view segment;
  for (const std::string& expected : route.segments) {
    if (!walk.next(segment)) return false;
    bool ok = is_param(expected) ? !segment.empty() : iequals(segment, expected);
    if (!ok) return false;
  }
  return !walk.next(segment);
}

RouteMatch Router::match(std::string_view method, std::string_view path) const {
  RouteMatch result;
  const Route* found = nullptr;
  for (const Route& route : routes_) {
    if (!path_matches(route, path)) continue;
    bool same = route.method == method || (method == "HEAD" && route.method == "GET");
    if (same && (found == nullptr || route.method == method)) found = &route;
    add_allowed(result.allow, route.method);
    if (route.method == "GET") add_allowed(result.allow, "HEAD");
  }
  if (found == nullptr) {
    result.outcome = result.allow.empty() ? RouteMatch::Outcome::not_found
                                          : RouteMatch::Outcome::method_not_allowed;
    result.message = "Cannot " + std::string(method) + " " + std::string(path);
    if (result.outcome == RouteMatch::Outcome::not_found) result.allow.clear();
    return result;
  }
  // Decode after matching, so an encoded '/' stays inside its segment.
  Segments walk(path);
  std::string_view segment;
  for (const std::string& expected : found->segments) {
    walk.next(segment);
    if (!is_param(expected)) continue;
    std::optional<std::string> decoded = decode_uri_component(segment);
    if (!decoded) {
      result.outcome = RouteMatch::Outcome::bad_param;
      result.message = "Failed to decode param '" + std::string(segment) + "'";
      result.params.clear();
      return result;
    }
    result.params.insert_or_assign(expected.substr(1), std::move(*decoded));
  }
  result.outcome = RouteMatch::Outcome::found;
  result.route = found;
  result.allow.clear();
  return result;
}

}  // namespace common::http
