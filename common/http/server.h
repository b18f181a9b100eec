// http/server.h: the HTTP/1.1 server every stage uses (Node's http.createServer + Express routes).
//
//   common::http::Server server(loop, {.access_log = true});
//   server.get("/sync/:userId", [](const Request& req, Response res) {
//     res.json(200, ...);                                   // now or later, from any callback
//   });
//   server.listen("127.0.0.1", 0);                          // returns the bound port
//   // prints "listening on http://127.0.0.1:PORT/", runs until SIGINT/SIGTERM (shutdown.h):
//   return common::http::serve_until_signal(loop, server, "listening on");
//
// What a client can expect (keep-alive, pipelining, limits, timeouts) is docs/http.md. A program
// that runs the loop without serve_until_signal must ignore SIGPIPE itself.
#pragma once

#include <uv.h>

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "common/http/config.h"
#include "common/http/response.h"
#include "common/uv/handle.h"

namespace common::http {

struct ServerCore;

class Server {
 public:
  explicit Server(uv_loop_t& loop, Config config = {});
  ~Server();  // closes the listener and every connection at once
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  void get(std::string_view pattern, Handler handler) { route("GET", pattern, std::move(handler)); }
  // method in any case ("POST", "delete"); pattern like "/users/:id".
  void route(std::string_view method, std::string_view pattern, Handler handler);
  // Called for every request no route matches by path (stage 01's files); without it, 404.
  void fallback(Handler handler);

  // Binds and listens (port 0 = any free port); returns the bound port. Throws UvError.
  int listen(const std::string& host, int port);
  // Prints "<prefix> http://HOST:PORT/" as the first stdout line, flushed at once.
  void announce(std::string_view prefix = "listening on") const;
  [[nodiscard]] int port() const noexcept { return port_; }

  // Graceful stop: no new connections, idle ones close, busy ones close after their answers
  // (which say "Connection: close"); `done` runs, from the loop, once all are closed.
  void close(std::function<void()> done = {});
  // When a graceful stop's grace is over: on each connection the first request still without
  // an answer gets 503 with "Connection: close"; one whose answer is half streamed closes now.
  void answer_unavailable();
  // The bounded end of a graceful stop: every connection closes now, answers or not.
  void close_connections();
  [[nodiscard]] size_t connection_count() const noexcept;
  [[nodiscard]] uv_loop_t& loop() const noexcept;

 private:
  static void on_connection(uv_stream_t* listener, int status);
  std::shared_ptr<ServerCore> core_;
  std::unique_ptr<Handle<uv_tcp_t>> listener_;
  std::string host_;
  int port_ = 0;
};

}  // namespace common::http
