// Integration tests for common/http through bin/http-test-server, over 127.0.0.1 on port 0:
// keep-alive, pipelining, HEAD, HTTP/1.0, error statuses, smuggling, timeouts, disconnects,
// slow readers and SIGTERM.
#include <signal.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>

#include "tests/support/catch.h"
#include "tests/support/eventually.h"
#include "tests/support/http_client.h"
#include "tests/support/server_process.h"

using namespace std::chrono_literals;
using test_support::HttpResponse;
using test_support::RawClient;
using test_support::ServerProcess;

namespace {

ServerProcess start_server(std::vector<std::string> flags = {}) {
  flags.insert(flags.begin(), "0");
  return ServerProcess::start("http-test-server", std::move(flags));
}

std::string get(std::string_view target, std::string_view extra = "") {
  return "GET " + std::string(target) + " HTTP/1.1\r\nHost: t\r\n" + std::string(extra) + "\r\n";
}

// Resident memory of a process in KiB (VmRSS), or -1.
long rss_kib(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

// Sockets among a process's descriptors (links "socket:[inode]" in /proc/PID/fd).
int socket_fds(pid_t pid) {
  namespace fs = std::filesystem;
  int sockets = 0;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator("/proc/" + std::to_string(pid) + "/fd", error)) {
    std::error_code unreadable;  // the descriptor may be closed by now
    if (fs::read_symlink(entry.path(), unreadable).string().starts_with("socket:")) ++sockets;
  }
  return sockets;
}

// Sends `head`, then `piece` every 100 ms (at most `pieces` times) for as long as the server
// keeps the connection; returns how long the server took to close it, or nothing if it had not
// 5 s after the last piece.
std::optional<std::chrono::milliseconds> dribble(RawClient& client, std::string_view head,
                                                 std::string_view piece, int pieces) {
  auto begin = std::chrono::steady_clock::now();
  client.send(head);
  bool cut = false;
  for (int i = 0; i < pieces && !cut; ++i) {
    std::this_thread::sleep_for(100ms);
    try {
      client.send(piece);
    } catch (const std::runtime_error&) {  // the server closed meanwhile
      cut = true;
    }
    cut = cut || client.wait_closed(1ms);
  }
  if (!cut && !client.wait_closed(5s)) return std::nullopt;
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                               begin);
}

// What push() saw: how much the socket took, and whether it then took nothing for a while.
struct Pushed {
  size_t sent = 0;
  bool stalled = false;
};

// Sends `pattern` over and over without blocking (a copy sent in part is finished first) until
// the socket has taken nothing for `quiet`, the peer closes, `limit` bytes are sent, or `wait`
// has passed.
Pushed push(RawClient& client, std::string_view pattern, std::chrono::milliseconds quiet,
            size_t limit, std::chrono::milliseconds wait) {
  using Clock = std::chrono::steady_clock;
  Pushed pushed;
  auto deadline = Clock::now() + wait;
  auto last_taken = Clock::now();
  while (Clock::now() < deadline && pushed.sent < limit) {
    if (Clock::now() - last_taken >= quiet) {
      pushed.stalled = true;
      break;
    }
    size_t at = pushed.sent % pattern.size();
    ssize_t n =
        ::send(client.fd(), pattern.data() + at, pattern.size() - at, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n > 0) {
      pushed.sent += static_cast<size_t>(n);
      last_taken = Clock::now();
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      std::this_thread::sleep_for(5ms);
    } else {
      break;  // the peer has closed
    }
  }
  return pushed;
}

int open_connections(int port) {
  HttpResponse stats = test_support::http_get(port, "/stats");
  auto at = stats.body.find(':');
  return std::stoi(stats.body.substr(at + 1)) - 1;  // minus the /stats request's own
}

using test_support::eventually;

}  // namespace

TEST_CASE("keep-alive serves several requests on one connection", "[http][integration]") {
  ServerProcess server = start_server();
  CHECK(server.first_line() ==
        "listening on http://127.0.0.1:" + std::to_string(server.port()) + "/");
  RawClient client(server.port());
  for (int i = 0; i < 3; ++i) {
    client.send(get("/echo/n" + std::to_string(i)));
    HttpResponse res = client.read_response();
    CHECK(res.status == 200);
    CHECK(res.body == "{\"name\":\"n" + std::to_string(i) + "\",\"version\":\"1.1\"}");
    CHECK(res.header("Content-Type") == "application/json; charset=utf-8");
    CHECK(res.has_header("Date"));
    CHECK_FALSE(res.has_header("Connection"));
  }
  CHECK(server.stop() == 0);
}

TEST_CASE("pipelined requests are answered in request order", "[http][integration]") {
  ServerProcess server = start_server();
  RawClient client(server.port());
  client.send(get("/slow/300") + get("/hello") + get("/echo/third"));
  CHECK(client.read_response().body == "{\"slept\":300}");
  CHECK(client.read_response().body == "hello\n");
  CHECK(client.read_response().body == "{\"name\":\"third\",\"version\":\"1.1\"}");
  // Many more than the pipeline bound (16), slow and fast mixed, in one write.
  std::string burst;
  for (int i = 0; i < 60; ++i)
    burst += i % 7 == 0 ? get("/slow/20") : get("/echo/" + std::to_string(i));
  client.send(burst);
  for (int i = 0; i < 60; ++i) {
    HttpResponse res = client.read_response();
    REQUIRE(res.status == 200);
    if (i % 7 == 0)
      CHECK(res.body == "{\"slept\":20}");
    else
      CHECK(res.body == "{\"name\":\"" + std::to_string(i) + "\",\"version\":\"1.1\"}");
  }
  CHECK(server.stop() == 0);
}

TEST_CASE("HEAD gets GET's headers and no body", "[http][integration]") {
  ServerProcess server = start_server();
  RawClient client(server.port());
  client.send("HEAD /echo/x HTTP/1.1\r\nHost: t\r\n\r\n");
  HttpResponse head = client.read_response(true);
  CHECK(head.status == 200);
  CHECK(head.header("Content-Length") == "28");  // {"name":"x","version":"1.1"}
  client.send(get("/hello"));  // had a body been sent, this answer would be garbled
  CHECK(client.read_response().body == "hello\n");
  CHECK(server.stop() == 0);
}

TEST_CASE("HTTP/1.0 is answered in 1.0, closed unless keep-alive was asked",
          "[http][integration]") {
  ServerProcess server = start_server();
  RawClient plain(server.port());
  plain.send("GET /echo/old HTTP/1.0\r\n\r\n");
  HttpResponse res = plain.read_response();
  CHECK(res.version == "HTTP/1.0");
  CHECK(res.header("Connection") == "close");
  CHECK(res.body == "{\"name\":\"old\",\"version\":\"1.0\"}");
  CHECK(plain.wait_closed(3s));
  RawClient kept(server.port());
  for (int i = 0; i < 2; ++i) {
    kept.send("GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    HttpResponse again = kept.read_response();
    CHECK(again.header("Connection") == "keep-alive");
    CHECK(again.body == "hello\n");
  }
  kept.send("GET /big/64?chunked=1 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  HttpResponse streamed = kept.read_response();  // no chunking in 1.0: the body ends at close
  CHECK(streamed.body.size() == size_t{64} * 1024);
  CHECK_FALSE(streamed.has_header("Transfer-Encoding"));
  CHECK(server.stop() == 0);
}

TEST_CASE("unknown path 404, other method 405 with Allow, bad escape 400, throw 500",
          "[http][integration]") {
  ServerProcess server = start_server();
  HttpResponse nope = test_support::http_get(server.port(), "/nope");
  CHECK(nope.status == 404);
  CHECK(nope.body == R"({"error":"Cannot GET /nope"})");
  HttpResponse post = test_support::http_request(server.port(), "POST", "/hello", {}, "x");
  CHECK(post.status == 405);
  CHECK(post.header("Allow") == "GET, HEAD");
  CHECK(test_support::http_request(server.port(), "POST", "/echo/a", {}, "x").status == 201);
  CHECK(test_support::http_get(server.port(), "/echo/%ZZ").status == 400);
  CHECK(test_support::http_get(server.port(), "/ECHO/a%2Fb/").body ==
        R"({"name":"a/b","version":"1.1"})");
  HttpResponse boom = test_support::http_get(server.port(), "/throw");
  CHECK(boom.status == 500);
  CHECK(boom.body == R"({"error":"Internal Server Error"})");
  RawClient late(server.port());  // threw after the head went out: the body is cut, not faked
  late.send(get("/throw-late"));
  std::string cut = late.read_until_close(5s);
  CHECK(cut.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(cut.substr(cut.size() - 11) == "\r\n\r\npartial");
  CHECK(server.stop() == 0);
}

TEST_CASE("limits: 414, 431, 413, and 400 for malformed requests, each then closed",
          "[http][integration]") {
  ServerProcess server = start_server();
  auto refused = [&](const std::string& bytes) {
    RawClient client(server.port());
    client.send(bytes);
    HttpResponse res = client.read_response();
    CHECK(res.header("Connection") == "close");
    CHECK(res.header("Content-Type") == "application/json; charset=utf-8");
    CHECK(client.wait_closed(3s));
    return res.status;
  };
  CHECK(refused(get("/" + std::string(9000, 'a'))) == 414);
  CHECK(refused(get("/hello", "X-Big: " + std::string(17000, 'b') + "\r\n")) == 431);
  CHECK(refused(get("/hello", "Content-Length: 2000000\r\n")) == 413);
  CHECK(refused("NOT HTTP AT ALL\r\n\r\n") == 400);
  CHECK(refused("GET / HTTP/1.1\r\nHost : x\r\n\r\n") == 400);
  // A GET with a small body: read, discarded, and the connection goes on.
  RawClient client(server.port());
  client.send(get("/hello", "Content-Length: 5\r\n") + "abcde" + get("/echo/after"));
  CHECK(client.read_response().body == "hello\n");
  CHECK(client.read_response().body == R"({"name":"after","version":"1.1"})");
  CHECK(server.stop() == 0);
}

TEST_CASE("a request cut short by the end of the input gets a 400", "[http][integration]") {
  ServerProcess server = start_server();
  RawClient client(server.port());
  client.send(get("/hello") + "GET /hello HTTP/1.1\r\nHost:");
  ::shutdown(client.fd(), SHUT_WR);  // the client is done sending; it still reads
  std::string answers = client.read_until_close(5s);
  CHECK(answers.starts_with("HTTP/1.1 200"));
  CHECK(answers.find("HTTP/1.1 400") != std::string::npos);
  CHECK(server.stop() == 0);
}

// Node's default (httpAllowHalfOpen = false): the end of the input with answers still owed means
// the client has left. What is already written still goes out; the rest, and the 400 for the
// request cut short, are dropped, and the connection closes without waiting for /slow.
TEST_CASE("a client whose input ends while answers are owed gets only what was written",
          "[http][integration]") {
  ServerProcess server = start_server();
  RawClient client(server.port());
  client.send(get("/hello") + get("/slow/2000") + get("/hello") + "GET /hello HTTP/1.1\r\nHost:");
  auto ended = std::chrono::steady_clock::now();
  ::shutdown(client.fd(), SHUT_WR);
  std::string answers = client.read_until_close(5s);
  CHECK(std::chrono::steady_clock::now() - ended < 1s);
  // The first /hello only (answered as it was parsed): not /slow, the /hello behind it, or a 400.
  CHECK(answers.starts_with("HTTP/1.1 200"));
  CHECK(answers.ends_with("\r\n\r\nhello\n"));
  CHECK(answers.find("HTTP/1.1", 1) == std::string::npos);
  CHECK(test_support::http_get(server.port(), "/hello").body == "hello\n");
  CHECK(server.stop() == 0);
}

TEST_CASE("a chunked body cannot go on for ever in its framing", "[http][integration]") {
  ServerProcess server = start_server();
  RawClient client(server.port());
  // One chunk whose extension never ends: llhttp hands none of it to on_body.
  client.send("POST /echo/x HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n1;e=");
  auto pushed = push(client, std::string(size_t{64} * 1024, 'a'), 3s, size_t{16} << 20, 3s);
  INFO("sent " << pushed.sent / 1024 << " KiB of extension");
  CHECK(client.read_until_close(5s).starts_with("HTTP/1.1 413"));
  CHECK(server.stop() == 0);
}

TEST_CASE("request smuggling shapes get 400 and the connection closes", "[http][integration]") {
  ServerProcess server = start_server();
  const char* shapes[] = {
      ("POST /echo/a HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nTransfer-Encoding: "
       "chunked\r\n\r\n0\r\n\r\nGET /hello HTTP/1.1\r\nHost: t\r\n\r\n"),  // one string
      "POST /echo/a HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nContent-Length: 40\r\n\r\nabcd",
      "POST /echo/a HTTP/1.1\r\nHost: t\r\nContent-Length: 4, 4\r\n\r\nabcd",
      "POST /echo/a HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip\r\n\r\nabcd",
  };
  for (const char* shape : shapes) {
    RawClient client(server.port());
    client.send(shape);
    std::string all = client.read_until_close(5s);
    CHECK(all.rfind("HTTP/1.1 400 Bad Request\r\n", 0) == 0);
    CHECK(all.find("HTTP/1.1", 5) == std::string::npos);  // nothing smuggled behind it
  }
  // Answers before the bad request still arrive, in order, then the 400.
  RawClient client(server.port());
  client.send(get("/slow/100") + "BAD\r\n\r\n");
  CHECK(client.read_response().body == "{\"slept\":100}");
  CHECK(client.read_response().status == 400);
  CHECK(client.wait_closed(3s));
  CHECK(server.stop() == 0);
}

TEST_CASE("an HTTP/1.1 request without Host, or with two, gets 400 and HTTP/1.0 needs none",
          "[http][integration]") {
  ServerProcess server = start_server();
  for (const char* bad :
       {"GET /hello HTTP/1.1\r\n\r\n", "GET /hello HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"}) {
    RawClient client(server.port());
    client.send(bad);
    HttpResponse res = client.read_response();
    CHECK(res.status == 400);
    CHECK(res.header("Connection") == "close");
    CHECK(client.wait_closed(3s));
  }
  RawClient old(server.port());
  old.send("GET /hello HTTP/1.0\r\n\r\n");
  CHECK(old.read_response().body == "hello\n");
  CHECK(server.stop() == 0);
}

TEST_CASE("obsolete line folding gets 400, never joined, on Content-Length too",
          "[http][integration]") {
  ServerProcess server = start_server();
  const char* folds[] = {
      "POST /echo/a HTTP/1.1\r\nHost: t\r\nContent-Length:\r\n 5\r\n\r\nhello",
      "GET /hello HTTP/1.1\r\nHost: t\r\nX-A: one\r\n two\r\n\r\n",
      "GET /hello HTTP/1.1\r\nHost: t\r\nX-A: one\r\n\ttwo\r\n\r\n",
  };
  for (const char* fold : folds) {
    RawClient client(server.port());
    client.send(fold);
    std::string all = client.read_until_close(5s);
    CHECK(all.rfind("HTTP/1.1 400 Bad Request\r\n", 0) == 0);
    CHECK(all.find("HTTP/1.1", 5) == std::string::npos);
  }
  CHECK(server.stop() == 0);
}

TEST_CASE("Expect: 100-continue gets 100 Continue at once, after the answers before it",
          "[http][integration]") {
  ServerProcess server = start_server();
  const std::string head =
      "POST /echo/a HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n";
  RawClient client(server.port());
  client.send(get("/slow/200") + head);  // pipelined behind a slow answer
  CHECK(client.read_response(false, 3s).body == "{\"slept\":200}");
  // The client waits for the 100 before its body; one second is what curl would wait.
  HttpResponse go_on = client.read_response(false, 900ms);
  CHECK(go_on.status == 100);
  client.send("hello");
  HttpResponse res = client.read_response(false, 3s);
  CHECK(res.status == 201);
  CHECK_FALSE(res.has_header("Connection"));
  // An expectation we cannot meet: 417 at once, and the connection closes.
  RawClient odd(server.port());
  odd.send("POST /echo/a HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: teapot\r\n\r\n");
  HttpResponse refused = odd.read_response(false, 900ms);
  CHECK(refused.status == 417);
  CHECK(refused.header("Connection") == "close");
  CHECK(odd.wait_closed(3s));
  CHECK(server.stop() == 0);
}

TEST_CASE("a second answer to one request is dropped with a warning naming the route",
          "[http][integration]") {
  auto server = start_server();
  HttpResponse first = test_support::http_get(server.port(), "/answer-twice");
  CHECK(first.status == 200);
  CHECK(first.body == "{}");
  // The connection is still usable: nothing of the second answer reached the wire.
  CHECK(test_support::http_get(server.port(), "/hello").body == "hello\n");
  REQUIRE(test_support::eventually([&] {
    return server.stderr_text().find("GET /answer-twice was already answered") != std::string::npos;
  }));
  CHECK_THAT(server.stderr_text(), test_support::contains_text("second answer (502 too late)"));
}

TEST_CASE("a client that never finishes its headers is cut off (slowloris)",
          "[http][integration]") {
  ServerProcess server = start_server({"--header-timeout", "400"});
  RawClient client(server.port());
  // Dribbling header lines does not extend the deadline.
  auto took = dribble(client, "GET /hello HTTP/1.1\r\nHost: t\r\n", "X: y\r\n", 3);
  REQUIRE(took);
  CHECK(*took >= 350ms);
  CHECK(*took < 4s);
  RawClient silent(server.port());  // a connection that says nothing at all
  CHECK(silent.wait_closed(5s));
  CHECK(server.stop() == 0);
}

TEST_CASE("a body trickled a byte at a time is cut off at the idle timeout",
          "[http][integration]") {
  ServerProcess server = start_server({"--idle-timeout", "500"});
  RawClient client(server.port());
  // Each byte is progress, but the body must be complete 500 ms after its head.
  auto took =
      dribble(client, "POST /echo/x HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n", "x", 40);
  REQUIRE(took);
  CHECK(*took >= 450ms);
  CHECK(*took < 3s);
  CHECK(server.stop() == 0);
}

TEST_CASE("an idle keep-alive connection is closed after the idle timeout", "[http][integration]") {
  ServerProcess server = start_server({"--idle-timeout", "500"});
  RawClient client(server.port());
  client.send(get("/hello"));
  CHECK(client.read_response().status == 200);
  auto begin = std::chrono::steady_clock::now();
  CHECK(client.wait_closed(5s));
  CHECK(std::chrono::steady_clock::now() - begin >= 400ms);
  CHECK(server.stop() == 0);
}

TEST_CASE("a busy keep-alive connection is not cut by the idle timeout", "[http][integration]") {
  ServerProcess server = start_server({"--idle-timeout", "1000"});
  RawClient client(server.port());
  int answered = 0;
  // Every request is answered at once (the connection never waits for a handler); over 2.4 s,
  // more than two idle timeouts, it is never idle for much more than 300 ms.
  for (int i = 0; i < 8; ++i) {
    client.send(get("/hello"));
    if (client.read_response(false, 2s).status == 200) ++answered;
    std::this_thread::sleep_for(300ms);
  }
  CHECK(answered == 8);
  CHECK(server.stop() == 0);
}

TEST_CASE("clients that leave before their answer cost nothing", "[http][integration]") {
  ServerProcess server = start_server();
  {
    RawClient warm(server.port());  // let the server reach its steady set of descriptors
    warm.send(get("/hello"));
    warm.read_response();
  }
  // Not open_connections() == 0 here: its own /stats connection may not be closed yet on the
  // server's side, and a baseline counting it would never be reached again.
  REQUIRE(eventually([&] { return socket_fds(server.pid()) == 1; }));  // the listener alone
  int baseline = test_support::count_open_fds(server.pid());
  for (int i = 0; i < 20; ++i) {
    RawClient client(server.port());
    // /hello is answered at once but waits behind /slow. When /slow's answer meets the closed
    // socket, the write of /hello fails and closes the connection in the middle of the flush.
    client.send(get("/slow/200") + (i % 2 == 0 ? get("/big/4096") : get("/hello")));
    client.close();
  }
  std::this_thread::sleep_for(500ms);  // the slow answers complete for nobody
  CHECK(server.running());
  CHECK(test_support::http_get(server.port(), "/hello").body == "hello\n");
  CHECK(eventually([&] { return test_support::count_open_fds(server.pid()) == baseline; }, 10s));
  CHECK(server.stop() == 0);
}

TEST_CASE("a client that never reads cannot make the server buffer without bound",
          "[http][integration]") {
  ServerProcess server = start_server({"--high-water", "65536", "--idle-timeout", "1500"});
  long before = rss_kib(server.pid());
  RawClient sluggard(server.port());
  sluggard.send(get("/big/262144"));  // 256 MiB, never read
  std::this_thread::sleep_for(1000ms);
  long during = rss_kib(server.pid());
  CHECK(during - before < long{32} * 1024);  // paused at the high-water mark, not 256 MiB
  CHECK(test_support::http_get(server.port(), "/hello").body == "hello\n");  // others are served
  // No progress for the idle timeout: the stalled connection is dropped.
  CHECK(eventually([&] { return open_connections(server.port()) == 0; }, 8s));
  CHECK(server.stop() == 0);
}

TEST_CASE("a client that pipelines without reading cannot pile up answers without bound",
          "[http][integration]") {
  ServerProcess server = start_server({"--high-water", "65536"});
  long before = rss_kib(server.pid());
  RawClient greedy(server.port());
  std::string burst;
  for (int i = 0; i < 1000; ++i) burst += get("/hello");  // each answered at once
  // As fast as the kernel takes them. Once the server stops reading, its buffers and ours fill
  // up and send() says EAGAIN for good: wait (at most 5 s) for 700 ms of that.
  auto pushed = push(greedy, burst, 700ms, SIZE_MAX, 5s);
  INFO("sent " << pushed.sent / 1024 << " KiB of requests");
  CHECK(pushed.stalled);  // the server stopped reading
  // Loose, for AddressSanitizer's quarantine; without the limit it was hundreds of MB.
  CHECK(rss_kib(server.pid()) - before < long{128} * 1024);
  CHECK(test_support::http_get(server.port(), "/hello").body == "hello\n");  // others are served
  greedy.close();
  CHECK(eventually([&] { return open_connections(server.port()) == 0; }, 8s));
  CHECK(server.stop() == 0);
}

TEST_CASE("SIGTERM stops accepting, finishes the request in flight and exits 0",
          "[http][integration]") {
  ServerProcess server = start_server();
  RawClient busy(server.port());
  busy.send(get("/slow/700"));
  RawClient idle(server.port());
  std::this_thread::sleep_for(200ms);
  REQUIRE(kill(server.pid(), SIGTERM) == 0);
  HttpResponse res = busy.read_response(false, 5s);
  CHECK(res.body == "{\"slept\":700}");
  CHECK(res.header("Connection") == "close");
  CHECK(idle.wait_closed(3s));
  CHECK(server.wait_for_exit(5s) == 0);
  CHECK(server.stderr_text().find("finishing the requests in flight") != std::string::npos);
}

TEST_CASE("SIGTERM answers 503 with Connection: close to what the grace period did not finish",
          "[http][integration]") {
  ServerProcess server = start_server({"--grace", "300"});
  RawClient client(server.port());
  // In request order: one answer within the grace, one not, one never started.
  client.send(get("/slow/100") + get("/slow/2000") + get("/hello"));
  std::this_thread::sleep_for(50ms);
  REQUIRE(kill(server.pid(), SIGTERM) == 0);
  auto signalled = std::chrono::steady_clock::now();
  CHECK(client.read_response(false, 3s).body == "{\"slept\":100}");
  HttpResponse late = client.read_response(false, 3s);
  CHECK(late.status == 503);
  CHECK(late.header("Connection") == "close");
  CHECK(late.header("Content-Type") == "application/json; charset=utf-8");
  CHECK(late.body == R"({"error":"the server is shutting down"})");
  CHECK(std::chrono::steady_clock::now() - signalled < 3s);
  CHECK(client.read_until_close(3s).empty());  // nothing for the request behind it
  // The process lives until /slow/3000's timer has fired: its late answer is dropped quietly.
  CHECK(server.wait_for_exit(8s) == 0);
}
