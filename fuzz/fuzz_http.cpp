// fuzz_http: arbitrary bytes through the HTTP request parser, the router and the response
// writer — the path every request takes, without sockets. The first byte picks how the input
// is split into reads (split reads are where parsers go wrong). Built with -DFUZZ=ON:
//   mkdir -p build-fuzz/corpus_http
//   build-fuzz/bin/fuzz_http -max_total_time=60 build-fuzz/corpus_http
#include <cstddef>
#include <cstdint>
#include <string>

#include "common/http/parser.h"
#include "common/http/response.h"
#include "common/http/router.h"

namespace {

using namespace common::http;

struct NullSink final : ResponseSink {
  size_t bytes = 0;
  void on_output(ResponseState& state) override { bytes += std::exchange(state.out, {}).size(); }
  bool congested(const ResponseState&) const override { return false; }
};

const Router& router() {
  static const Router built = [] {
    Router r;
    Handler answer = [](const Request& req, Response res) {
      res.set_header("X-Param", req.params.empty() ? "" : req.params.begin()->second);
      res.send(200, req.query_param("q").value_or("none"));
    };
    r.add("GET", "/", answer);
    r.add("GET", "/sync/:userId", answer);
    r.add("GET", "/a/:x/b/:y", answer);
    r.add("POST", "/a/:x/b/:y", answer);
    return r;
  }();
  return built;
}

void answer(Request request) {
  NullSink sink;
  auto state = std::make_shared<ResponseState>();
  state->request = std::move(request);
  state->sink = &sink;
  state->keep_alive = state->request.keep_alive;
  Response res(state);
  RouteMatch match = router().match(state->request.method, state->request.path);
  if (match.route != nullptr) {
    state->request.params = std::move(match.params);
    match.route->handler(state->request, res);
  } else {
    if (!match.allow.empty()) res.set_header("Allow", match.allow);
    res.error(match.status, match.message);
  }
  state->sink = nullptr;  // the fake connection goes; the state must not point at it
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t step = 1 + data[0] % 64;
  std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  ParserLimits limits;
  limits.max_url_bytes = 256;  // small limits reach the limit paths with small inputs
  limits.max_header_bytes = 512;
  limits.max_body_bytes = 128;
  RequestParser parser(limits);
  std::string pending;
  for (size_t at = 0; at < input.size() && !parser.error() && !parser.closed();) {
    size_t n = std::min(step, input.size() - at);
    pending.append(input.substr(at, n));
    at += n;
    while (!pending.empty()) {
      size_t used = parser.feed(pending);
      pending.erase(0, used);
      if (parser.has_request())
        answer(parser.take_request());
      else if (used == 0)
        break;
    }
  }
  parser.finish();
  return 0;
}
