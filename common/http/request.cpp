#include "common/http/request.h"

#include <algorithm>

#include "common/http/url.h"

namespace common::http {

bool iequals(std::string_view a, std::string_view b) noexcept {
  auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [&](char x, char y) { return lower(x) == lower(y); });
}

std::string_view Request::header(std::string_view name) const {
  for (const auto& [key, value] : headers)
    if (iequals(key, name)) return value;
  return {};
}

std::optional<std::string> Request::query_param(std::string_view name) const {
  std::string_view rest = query;
  while (!rest.empty()) {
    size_t end = rest.find('&');
    std::string_view pair = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
    size_t equals = pair.find('=');
    std::string_view key = pair.substr(0, equals);
    if (decode_query_component(key) != name) continue;
    if (equals == std::string_view::npos) return std::string();
    return decode_query_component(pair.substr(equals + 1));
  }
  return std::nullopt;
}

}  // namespace common::http
