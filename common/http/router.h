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

struct RouteMatch {
  enum class Outcome { found, not_found, method_not_allowed, bad_param };
  Outcome outcome = Outcome::not_found;
  const Route* route = nullptr;                         // when found
  std::unordered_map<std::string, std::string> params;  // decoded, when found
  std::string allow;                                    // "GET, HEAD" for method_not_allowed
  std::string message;  // for every outcome but found: the text of the JSON error
  [[nodiscard]] int status() const noexcept {
    return outcome == Outcome::found                ? 200
           : outcome == Outcome::bad_param          ? 400
           : outcome == Outcome::method_not_allowed ? 405
                                                    : 404;
  }
};

class Router {
 public:
  // Throws std::invalid_argument for a pattern that does not start with '/' or has an empty
  // `:` name.
  void add(std::string_view method, std::string_view pattern, Handler handler);
  [[nodiscard]] RouteMatch match(std::string_view method, std::string_view path) const;

 private:
  std::vector<Route> routes_;
};

}  // namespace common::http
