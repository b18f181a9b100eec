// http/router.h: Express-style routes — "/sync/:userId" — matched against the raw request path.
//
// The rules are Express 4/5's with default settings, plus 405 + Allow (docs/http.md §8). Matching
// runs on the still-encoded path and each param is decoded afterwards (decodeURIComponent), so
// "a%2Fb" is one param "a/b"; a bad escape is a 400. HEAD falls back to the GET route.
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/http/response.h"

namespace common::http {

struct Route {
  std::string method;                 // upper case: "GET"
  std::vector<std::string> segments;  // "/sync/:userId" gives "sync", ":userId"
  Handler handler;
};

// Found (200, with route and params), or why not: 404, 405 (with allow) or 400 (a bad escape).
struct RouteMatch {
  int status = 404;
  const Route* route = nullptr;
  std::unordered_map<std::string, std::string> params;  // decoded
  std::string allow;                                    // for a 405: "GET, HEAD"
  std::string message;                                  // unless found: the text of the JSON error
};

class Router {
 public:
  // Throws std::invalid_argument for a pattern not starting with '/' or with an empty `:` name.
  void add(std::string_view method, std::string_view pattern, Handler handler);
  [[nodiscard]] RouteMatch match(std::string_view method, std::string_view path) const;

 private:
  std::vector<Route> routes_;
};

}  // namespace common::http
