// Tests for common/http/parser: requests out of bytes however they are split, limits, and the
// request-smuggling shapes llhttp must refuse — all without a socket.
#include <string>
#include <vector>

#include "common/http/parser.h"
#include "tests/support/catch.h"

using common::http::ParserLimits;
using common::http::Request;
using common::http::RequestParser;
using namespace std::string_literals;

namespace {

struct Parsed {
  std::vector<Request> requests;
  int error_status = 0;  // 0 = no error
  std::string error_message;
};

// Feeds `bytes` in pieces of `step` bytes (0 = all at once), taking every request as it comes.
Parsed parse_all(std::string_view bytes, size_t step = 0, ParserLimits limits = {}) {
  RequestParser parser(limits);
  Parsed result;
  std::string pending;
  for (size_t at = 0; at < bytes.size();) {
    size_t n = step == 0 ? bytes.size() - at : std::min(step, bytes.size() - at);
    pending.append(bytes.substr(at, n));
    at += n;
    while (!pending.empty()) {  // each turn uses bytes, takes a request, or stops
      size_t used = parser.feed(pending);
      pending.erase(0, used);
      if (parser.has_request())
        result.requests.push_back(parser.take_request());
      else if (used == 0)
        break;
    }
    if (parser.error() || parser.closed()) break;
  }
  if (parser.error()) {
    result.error_status = parser.error()->status;
    result.error_message = parser.error()->message;
  }
  return result;
}

const char* kGet = "GET /sync/42?trace=1 HTTP/1.1\r\nHost: x\r\nX-Long: abc def\r\n\r\n";

}  // namespace

TEST_CASE("a simple GET is parsed into method, target, path, query and headers", "[http][parser]") {
  Parsed parsed = parse_all(kGet);
  REQUIRE(parsed.error_status == 0);
  REQUIRE(parsed.requests.size() == 1);
  const Request& req = parsed.requests[0];
  CHECK(req.method == "GET");
  CHECK(req.target == "/sync/42?trace=1");
  CHECK(req.path == "/sync/42");
  CHECK(req.query == "trace=1");
  CHECK(req.http_major == 1);
  CHECK(req.http_minor == 1);
  CHECK(req.keep_alive);
  CHECK(req.header("host") == "x");
  CHECK(req.header("X-LONG") == "abc def");
  CHECK(req.header("missing").empty());
  CHECK(req.query_param("trace") == "1");
  CHECK_FALSE(req.query_param("nope"));
}

TEST_CASE("a request split into single bytes parses the same", "[http][parser]") {
  Parsed parsed = parse_all(kGet, 1);
  REQUIRE(parsed.requests.size() == 1);
  CHECK(parsed.requests[0].target == "/sync/42?trace=1");
  CHECK(parsed.requests[0].header("X-Long") == "abc def");
  CHECK(parsed.requests[0].headers.size() == 2);
}

TEST_CASE("pipelined requests in one read come out one per feed, in order", "[http][parser]") {
  std::string three =
      "GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\nX: 1\r\n\r\nHEAD /c "
      "HTTP/1.1\r\nHost: h\r\n\r\n";
  RequestParser parser;
  std::string_view rest = three;
  size_t used = parser.feed(rest);
  CHECK(used == std::string_view("GET /a HTTP/1.1\r\nHost: h\r\n\r\n").size());
  REQUIRE(parser.has_request());
  CHECK(parser.take_request().path == "/a");
  CHECK(parser.feed(rest.substr(used)) > 0);  // take_request() was called, so it goes on
  Parsed all = parse_all(three);
  REQUIRE(all.requests.size() == 3);
  CHECK(all.requests[1].path == "/b");
  CHECK(all.requests[2].method == "HEAD");
}

TEST_CASE("feed waits for take_request before parsing the next request", "[http][parser]") {
  RequestParser parser;
  std::string two = "GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n";
  size_t used = parser.feed(two);
  REQUIRE(parser.has_request());
  CHECK(parser.feed(std::string_view(two).substr(used)) == 0);
  parser.take_request();
  CHECK(parser.feed(std::string_view(two).substr(used)) == two.size() - used);
  CHECK(parser.take_request().path == "/b");
}

TEST_CASE("empty header values and odd but valid targets are kept", "[http][parser]") {
  Parsed parsed = parse_all("GET /x/?a=&b HTTP/1.1\r\nHost: h\r\nX-Empty:\r\nY:  v  \r\n\r\n");
  REQUIRE(parsed.requests.size() == 1);
  const Request& req = parsed.requests[0];
  CHECK(req.path == "/x/");
  CHECK(req.query_param("a") == "");
  CHECK(req.query_param("b") == "");
  REQUIRE(req.headers.size() == 3);
  CHECK(req.headers[1].first == "X-Empty");
  CHECK(req.headers[1].second.empty());
  CHECK(req.header("y") == "v");
}

TEST_CASE("query_param decodes like a form", "[http][parser]") {
  Request req;
  req.query = "q=a+b%21&x=%ZZ&q=second&e%61sy=1";
  CHECK(req.query_param("q") == "a b!");
  CHECK(req.query_param("x") == "%ZZ");
  CHECK(req.query_param("easy") == "1");
}

TEST_CASE("HTTP/1.0 and Connection headers decide keep-alive", "[http][parser]") {
  CHECK_FALSE(parse_all("GET / HTTP/1.0\r\n\r\n").requests.at(0).keep_alive);
  CHECK(parse_all("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").requests.at(0).keep_alive);
  CHECK(parse_all("GET / HTTP/1.1\r\nHost: h\r\n\r\n").requests.at(0).keep_alive);
  RequestParser parser;
  std::string close =
      "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\nGET /more HTTP/1.1\r\nHost: h\r\n\r\n";
  size_t used = parser.feed(close);
  REQUIRE(parser.has_request());
  CHECK_FALSE(parser.take_request().keep_alive);
  CHECK(parser.closed());
  CHECK(parser.feed(std::string_view(close).substr(used)) == 0);  // nothing after "close"
  CHECK(parse_all("GET / HTTP/1.0\r\n\r\n").requests.at(0).http_minor == 0);
}

TEST_CASE("a URL over the limit is a 414, a header block over it a 431", "[http][parser]") {
  std::string long_url = "GET /" + std::string(9000, 'a') + " HTTP/1.1\r\nHost: h\r\n\r\n";
  CHECK(parse_all(long_url).error_status == 414);
  CHECK(parse_all(long_url, 100).error_status == 414);
  std::string big_header =
      "GET / HTTP/1.1\r\nHost: h\r\nX: " + std::string(17000, 'b') + "\r\n\r\n";
  CHECK(parse_all(big_header).error_status == 431);
  std::string many = "GET / HTTP/1.1\r\nHost: h\r\n";
  for (int i = 0; i < 2000; ++i) many.append("H").append(std::to_string(i)).append(": v\r\n");
  CHECK(parse_all(many + "\r\n", 7).error_status == 431);
  std::string just_under = "GET /" + std::string(8000, 'a') +
                           " HTTP/1.1\r\nHost: h\r\nX: " + std::string(16000, 'b') + "\r\n\r\n";
  CHECK(parse_all(just_under).requests.size() == 1);
}

TEST_CASE("request-smuggling shapes are refused with 400", "[http][parser]") {
  auto status = [](const std::string& head) { return parse_all(head + "\r\n").error_status; };
  CHECK(
      status("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n") ==
      400);
  CHECK(
      status("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n") ==
      400);
  CHECK(status("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 4\r\n") == 400);
  CHECK(status("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 3\r\n") == 400);
  CHECK(status("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3x\r\n") == 400);
  CHECK(status("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n") == 400);
  CHECK(status("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n") == 400);
  CHECK(status("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, gzip\r\n") == 400);
  CHECK(status("GET / HTTP/1.1\r\nHost : x\r\n") == 400);    // space before the colon
  CHECK(status("GET / HTTP/1.1\r\n X: folded\r\n") == 400);  // obsolete line folding at start
}

TEST_CASE("an HTTP/1.1 request needs exactly one Host, an HTTP/1.0 one none", "[http][parser]") {
  CHECK(parse_all("GET / HTTP/1.1\r\n\r\n").error_status == 400);
  CHECK(parse_all("GET / HTTP/1.1\r\nX: y\r\n\r\n", 1).error_status == 400);
  CHECK(parse_all("GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n").error_status == 400);
  CHECK(parse_all("GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n").error_status == 400);
  CHECK(parse_all("GET / HTTP/1.1\r\nHOST: a\r\n\r\n").requests.size() == 1);
  CHECK(parse_all("GET / HTTP/1.0\r\n\r\n").requests.size() == 1);
  CHECK_THAT(parse_all("GET / HTTP/1.1\r\n\r\n").error_message,
             test_support::contains_text("Host"));
}

TEST_CASE("obsolete line folding is refused with 400, never joined, however the bytes are split",
          "[http][parser]") {
  const std::string folds[] = {
      "GET / HTTP/1.1\r\nHost: h\r\nX-A: one\r\n two\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: h\r\nX-A: one\r\n\ttwo\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: h\r\nX-A: one\r\n \r\n\r\n",
      "GET / HTTP/1.1\r\nX-A: one\r\n  \t two\r\nHost: h\r\n\r\n",
      "POST / HTTP/1.1\r\nHost: h\r\nContent-Length:\r\n 5\r\n\r\nhello",
      "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n 0\r\n\r\n0123456789",
  };
  for (const std::string& fold : folds) {
    for (size_t step : {size_t{0}, size_t{1}, size_t{2}, size_t{5}}) {
      INFO(fold << " in pieces of " << step);
      Parsed parsed = parse_all(fold, step);
      CHECK(parsed.error_status == 400);
      CHECK(parsed.requests.empty());
    }
  }
  // Blanks inside a value, a value split between reads, and an empty value are no folds.
  const std::string fine = "GET / HTTP/1.1\r\nHost: h\r\nX-A:  one  two \r\nX-B:\r\n\r\n";
  for (size_t step = 0; step < 8; ++step) {
    Parsed parsed = parse_all(fine, step);
    REQUIRE(parsed.requests.size() == 1);
    CHECK(parsed.requests[0].header("X-A") == "one  two");
  }
}

TEST_CASE("Expect: 100-continue is noted while the body is owed, other expectations get 417",
          "[http][parser]") {
  const std::string head = "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n";
  RequestParser waiting;
  waiting.feed(head + "Expect: 100-Continue\r\n\r\n");
  CHECK(waiting.take_continue());
  CHECK_FALSE(waiting.take_continue());  // once
  waiting.feed("hello");
  CHECK(waiting.has_request());
  // Body already there, no body at all, or HTTP/1.0: no 100.
  RequestParser complete;
  complete.feed(head + "Expect: 100-continue\r\n\r\nhello");
  CHECK(complete.has_request());
  CHECK_FALSE(complete.take_continue());
  RequestParser bodiless;
  bodiless.feed("GET / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\n\r\n");
  CHECK_FALSE(bodiless.take_continue());
  RequestParser old;
  old.feed("POST / HTTP/1.0\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
  CHECK_FALSE(old.take_continue());
  Parsed teapot = parse_all(head + "Expect: teapot\r\n\r\nhello");
  CHECK(teapot.error_status == 417);
  CHECK(teapot.requests.empty());
}

TEST_CASE("malformed request lines are refused with 400", "[http][parser]") {
  CHECK(parse_all("HELLO\r\n\r\n").error_status == 400);
  CHECK(parse_all("GET / HTTP/9.9\r\n\r\n").error_status == 400);
  CHECK(parse_all("GET /a b HTTP/1.1\r\nHost: h\r\n\r\n").error_status == 400);
  CHECK(parse_all("GET / HTTP/1.1\nX: \x01\r\n\r\n").error_status == 400);
  CHECK(parse_all("GET /\0 HTTP/1.1\r\nHost: h\r\n\r\n"s).error_status ==
        400);  // a NUL in the target
}

TEST_CASE("bodies are read and discarded up to the limit, 413 above it", "[http][parser]") {
  ParserLimits limits;
  limits.max_body_bytes = 10;
  Parsed ok = parse_all(
      "GET /a HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhelloGET /b HTTP/1.1\r\nHost: "
      "h\r\n\r\n",
      3, limits);
  REQUIRE(ok.requests.size() == 2);
  CHECK(ok.requests[1].path == "/b");
  Parsed declared =
      parse_all("GET /a HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\n", 0, limits);
  CHECK(declared.error_status == 413);  // refused before a byte of it arrives
  std::string chunked =
      "POST /a HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: "
      "chunked\r\n\r\n6\r\nabcdef\r\n6\r\nghijkl\r\n0\r\n\r\n";
  CHECK(parse_all(chunked, 0, limits).error_status == 413);
  limits.max_body_bytes = 12;
  CHECK(parse_all(chunked, 1, limits).requests.size() == 1);
}

TEST_CASE("a chunked body's framing counts too, but one-byte chunks up to the limit pass",
          "[http][parser]") {
  ParserLimits limits;
  limits.max_body_bytes = 4096;
  const std::string head = "POST /a HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n";
  std::string one_byte_chunks = head;
  for (size_t i = 0; i < limits.max_body_bytes; ++i) one_byte_chunks += "1\r\nx\r\n";
  one_byte_chunks += "0\r\n\r\n";
  Parsed fine = parse_all(one_byte_chunks, 1000, limits);
  CHECK(fine.error_status == 0);
  CHECK(fine.requests.size() == 1);
  // Neither an endless chunk extension nor endless leading zeros reach on_body.
  Parsed extension = parse_all(head + "1;e=" + std::string(size_t{1} << 20, 'a'), 1000, limits);
  CHECK(extension.error_status == 413);
  Parsed zeros = parse_all(head + std::string(size_t{1} << 20, '0'), 1000, limits);
  CHECK(zeros.error_status == 413);
}

TEST_CASE("finish() in the middle of a request is an error, between requests it is not",
          "[http][parser]") {
  RequestParser partial;
  partial.feed("GET / HTTP/1.1\r\nHost:");
  CHECK(partial.reading_headers());
  CHECK(partial.in_message());
  partial.finish();
  REQUIRE(partial.error());
  CHECK(partial.error()->status == 400);
  RequestParser idle;
  idle.feed("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
  idle.take_request();
  CHECK_FALSE(idle.in_message());
  idle.finish();
  CHECK_FALSE(idle.error());
}

TEST_CASE("after an error the parser stays failed", "[http][parser]") {
  RequestParser parser;
  CHECK(parser.feed("BAD\r\n\r\n") == 0);
  REQUIRE(parser.error());
  CHECK(parser.feed("GET / HTTP/1.1\r\nHost: h\r\n\r\n") == 0);
  CHECK_FALSE(parser.has_request());
}
