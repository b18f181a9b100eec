// http/request.h: one parsed HTTP request, as handlers see it (Express's `req`), and
// percent-decoding in the two flavours Express uses.
//
// A Request lives as long as the handler keeps its Response, which owns it. Route params are
// decoded strictly (docs/http.md §8); query strings leniently, like Node's querystring: '+' is a
// space and a broken escape is kept as it is.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace common::http {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct Request {
  std::string method;  // "GET", "HEAD", …
  std::string target;  // raw request target: "/sync/42?trace=1"
  std::string path;    // raw path, no query: "/sync/42"
  std::string query;   // raw query, no '?': "trace=1"
  int http_major = 1;
  int http_minor = 1;
  Headers headers;                                      // in arrival order, names as sent
  std::unordered_map<std::string, std::string> params;  // route params, percent-decoded
  bool keep_alive = true;  // what the client asked for (HTTP/1.0 needs "Connection: keep-alive")
  std::chrono::steady_clock::time_point arrived{};  // when its first byte was parsed

  // The first header with this name (case-insensitive), or "" if absent.
  [[nodiscard]] std::string_view header(std::string_view name) const;
  // The first `name=value` of the query, decoded like a form ('+' is a space); nullopt if absent.
  [[nodiscard]] std::optional<std::string> query_param(std::string_view name) const;
};

// ASCII case-insensitive equality (header names, route literals).
[[nodiscard]] bool iequals(std::string_view a, std::string_view b) noexcept;
// Without the spaces and tabs at either end (HTTP's optional whitespace).
[[nodiscard]] std::string_view trim(std::string_view text) noexcept;

// decodeURIComponent: nullopt on a malformed escape or invalid UTF-8.
[[nodiscard]] std::optional<std::string> decode_uri_component(std::string_view text);
// application/x-www-form-urlencoded component: never fails.
[[nodiscard]] std::string decode_query_component(std::string_view text);
// Splits "a/b?c" into path "a/b" and query "c" (no '?'); the fragment, if any, is dropped.
void split_target(std::string_view target, std::string& path, std::string& query);

}  // namespace common::http
