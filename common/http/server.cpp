// http/server.cpp: listening, accepting, the graceful stop, and serve_until_signal (shutdown.h).
#include "common/http/server.h"

#include <csignal>
#include <cstdio>
#include <cstring>
#include <exception>
#include <vector>

#include "common/http/connection.h"
#include "common/http/shutdown.h"
#include "common/uv/immediate.h"
#include "common/uv/loop.h"

namespace common::http {
namespace {

sockaddr_storage resolve(const std::string& host, int port) {
  sockaddr_storage address{};
  if (uv_ip4_addr(host.c_str(), port, reinterpret_cast<sockaddr_in*>(&address)) == 0)
    return address;
  check(uv_ip6_addr(host.c_str(), port, reinterpret_cast<sockaddr_in6*>(&address)),
        "listen address " + host);
  return address;
}

int bound_port(const uv_tcp_t* tcp) {
  sockaddr_storage address{};
  int length = sizeof address;
  check(uv_tcp_getsockname(tcp, reinterpret_cast<sockaddr*>(&address), &length),
        "uv_tcp_getsockname");
  if (address.ss_family == AF_INET6)
    return ntohs(reinterpret_cast<sockaddr_in6*>(&address)->sin6_port);
  return ntohs(reinterpret_cast<sockaddr_in*>(&address)->sin_port);
}

// One graceful stop; the data of its handles points to it.
struct Stop {
  Server& server;
  std::function<void()> on_stopping;
  std::chrono::milliseconds grace;
  Handle<uv_signal_t> sigint;
  Handle<uv_signal_t> sigterm;
  Handle<uv_timer_t> grace_timer;
  bool signalled = false;
  bool grace_over = false;
};

// Calls `step` on every connection. It may close one, which leaves the set only in its close
// callback; the snapshot keeps the walk valid either way.
void each_connection(ServerCore& core, void (Connection::*step)()) {
  for (Connection* connection : std::vector(core.connections.begin(), core.connections.end()))
    (connection->*step)();
}

constexpr uint64_t kLastWords = 2000;  // ms for the 503s of a stop to leave

// The grace is over: what is still unanswered gets a 503, and kLastWords later every connection
// still open is closed, whether its last answers have left or not.
void on_grace_over(uv_timer_t* timer) {
  auto* stop = static_cast<Stop*>(timer->data);
  guard(*timer->loop, [&] {
    if (std::exchange(stop->grace_over, true)) return stop->server.close_connections();
    stop->server.answer_unavailable();
    check(uv_timer_start(timer, on_grace_over, kLastWords, 0), "uv_timer_start");
  });
}

// The first signal begins the graceful stop; a later one cuts it short.
void on_signal(uv_signal_t* handle, int signum) {
  auto* stop = static_cast<Stop*>(handle->data);
  if (stop == nullptr) return;  // closing
  guard(*handle->loop, [&] {
    if (std::exchange(stop->signalled, true)) return stop->server.close_connections();
    std::fprintf(stderr, "%s: finishing the requests in flight, then exiting\n", strsignal(signum));
    auto grace_ms = static_cast<uint64_t>(stop->grace.count());
    check(uv_timer_start(stop->grace_timer.get(), on_grace_over, grace_ms, 0), "uv_timer_start");
    stop->server.close([stop] {
      stop->grace_timer.close();
      stop->sigint.close();  // signal handles keep the loop alive
      stop->sigterm.close();
      if (stop->on_stopping) stop->on_stopping();
    });
  });
}

}  // namespace

Server::Server(uv_loop_t& loop, Config config) : core_(std::make_shared<ServerCore>()) {
  core_->loop = &loop;
  core_->config = config;
}

Server::~Server() {
  listener_.reset();
  core_->on_all_closed = nullptr;  // nobody is left to tell
  close_connections();
}

void Server::route(std::string_view method, std::string_view pattern, Handler handler) {
  core_->router.add(method, pattern, std::move(handler));
}

void Server::fallback(Handler handler) {
  core_->fallback = std::move(handler);
}

int Server::listen(const std::string& host, int port) {
  sockaddr_storage address = resolve(host, port);
  listener_ = std::make_unique<Handle<uv_tcp_t>>(*core_->loop, uv_tcp_init);
  (*listener_)->data = this;
  const std::string where = host + ":" + std::to_string(port);  // EADDRINUSE names the port
  check(uv_tcp_bind(listener_->get(), reinterpret_cast<const sockaddr*>(&address), 0),
        "uv_tcp_bind " + where);
  check(uv_listen(listener_->stream(), 511, on_connection), "uv_listen " + where);
  host_ = host;
  port_ = bound_port(listener_->get());
  return port_;
}

void Server::on_connection(uv_stream_t* listener, int status) {
  auto* self = static_cast<Server*>(listener->data);
  if (self == nullptr) return;  // closing
  if (status < 0) {
    std::fprintf(stderr, "http: accept: %s\n", uv_strerror(status));  // e.g. EMFILE: keep serving
    return;
  }
  guard(*self->core_->loop, [&] { Connection::accept(self->core_, listener); });
}

void Server::announce(std::string_view prefix) const {
  std::string host = host_.find(':') == std::string::npos ? host_ : "[" + host_ + "]";  // IPv6
  std::printf("%.*s http://%s:%d/\n", static_cast<int>(prefix.size()), prefix.data(), host.c_str(),
              port_);
  std::fflush(stdout);
}

void Server::close(std::function<void()> done) {
  core_->stopping = true;
  listener_.reset();
  core_->on_all_closed = std::move(done);
  if (core_->connections.empty() && core_->on_all_closed)  // never call back from inside close()
    set_immediate(*core_->loop, std::exchange(core_->on_all_closed, nullptr));
  each_connection(*core_, &Connection::shut_down);
}

void Server::answer_unavailable() {
  each_connection(*core_, &Connection::give_up);
}

void Server::close_connections() {
  core_->stopping = true;
  each_connection(*core_, &Connection::close_now);
}

size_t Server::connection_count() const noexcept {
  return core_->connections.size();
}

uv_loop_t& Server::loop() const noexcept {
  return *core_->loop;
}

int serve_until_signal(Loop& loop, Server& server, std::string_view announcement,
                       std::function<void()> on_stopping, std::chrono::milliseconds grace) {
  std::signal(SIGPIPE, SIG_IGN);
  Stop stop{server,
            std::move(on_stopping),
            grace,
            {loop, uv_signal_init},
            {loop, uv_signal_init},
            {loop, uv_timer_init}};
  stop.sigint->data = stop.sigterm->data = stop.grace_timer->data = &stop;
  check(uv_signal_start(stop.sigint.get(), on_signal, SIGINT), "uv_signal_start SIGINT");
  check(uv_signal_start(stop.sigterm.get(), on_signal, SIGTERM), "uv_signal_start SIGTERM");
  server.announce(announcement);
  try {
    run_loop(loop);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "fatal: %s\n", error.what());
    // The broker and the server still own handles on this loop: their destructors close them,
    // and ~Loop then drains what is left. Closing the loop here would close them under them.
    return 1;
  }
  int closed = loop.close();
  if (closed != 0)
    std::fprintf(stderr, "exit: the loop still had handles open (%s)\n", uv_err_name(closed));
  return closed == 0 ? 0 : 1;
}

}  // namespace common::http
