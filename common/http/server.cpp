#include "common/http/server.h"

#include <cstdio>
#include <vector>

#include "common/http/connection.h"
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
  check(uv_tcp_bind(listener_->get(), reinterpret_cast<const sockaddr*>(&address), 0),
        "uv_tcp_bind " + host);
  check(uv_listen(listener_->stream(), 511, on_connection),
        "uv_listen " + host);  // EADDRINUSE shows here
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
  // shut_down may close a connection, which leaves the set only in its close callback.
  for (Connection* connection : std::vector(core_->connections.begin(), core_->connections.end()))
    connection->shut_down();
}

void Server::close_connections() {
  core_->stopping = true;
  for (Connection* connection : std::vector(core_->connections.begin(), core_->connections.end()))
    connection->close_now();
}

size_t Server::connection_count() const noexcept {
  return core_->connections.size();
}

uv_loop_t& Server::loop() const noexcept {
  return *core_->loop;
}

}  // namespace common::http
