#include "common/http/shutdown.h"

#include <csignal>
#include <cstdio>
#include <cstring>
#include <exception>

#include "common/http/server.h"

namespace common {

SignalWatch::SignalWatch(uv_loop_t& loop, std::function<void(int)> on_first,
                         std::function<void(int)> on_again)
    : sigint_(loop, uv_signal_init),
      sigterm_(loop, uv_signal_init),
      on_first_(std::move(on_first)),
      on_again_(std::move(on_again)) {
  sigint_->data = this;
  sigterm_->data = this;
  check(uv_signal_start(sigint_.get(), on_signal, SIGINT), "uv_signal_start SIGINT");
  check(uv_signal_start(sigterm_.get(), on_signal, SIGTERM), "uv_signal_start SIGTERM");
}

void SignalWatch::close() noexcept {
  sigint_.close();
  sigterm_.close();
}

void SignalWatch::on_signal(uv_signal_t* handle, int signum) {
  auto* self = static_cast<SignalWatch*>(handle->data);
  if (self == nullptr) return;
  guard(*handle->loop, [&] {
    bool first = self->received_++ == 0;
    if (first && self->on_first_) self->on_first_(signum);
    if (!first && self->on_again_) self->on_again_(signum);
  });
}

}  // namespace common

namespace common::http {

int serve_until_signal(uv_loop_t& loop, Server& server, std::string_view announcement,
                       std::function<void()> on_stopping, std::chrono::milliseconds grace) {
  // Process-wide, once: a write to a client that has gone must fail with EPIPE, not kill us.
  std::signal(SIGPIPE, SIG_IGN);
  Handle<uv_timer_t> grace_timer(loop, uv_timer_init);
  grace_timer->data = &server;
  SignalWatch signals(
      loop,
      [&](int signum) {
        std::fprintf(stderr, "%s: finishing the requests in flight, then exiting\n",
                     strsignal(signum));
        auto on_grace_over = [](uv_timer_t* timer) {
          guard(*timer->loop, [&] { static_cast<Server*>(timer->data)->close_connections(); });
        };
        auto grace_ms = static_cast<uint64_t>(grace.count());
        check(uv_timer_start(grace_timer.get(), on_grace_over, grace_ms, 0), "uv_timer_start");
        server.close([&] {
          grace_timer.close();
          signals.close();
          if (on_stopping) on_stopping();
        });
      },
      [&](int) { server.close_connections(); });
  server.announce(announcement);
  try {
    run_loop(loop);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "fatal: %s\n", error.what());
    return 1;
  }
  return 0;
}

int serve_until_signal(Loop& loop, Server& server, std::string_view announcement,
                       std::function<void()> on_stopping, std::chrono::milliseconds grace) {
  int rc = serve_until_signal(loop.get(), server, announcement, std::move(on_stopping), grace);
  // After a fatal error the broker and the server still own handles on this loop: their
  // destructors close them, and ~Loop then drains what is left. Closing the loop here first
  // would close those handles under them.
  if (rc != 0) return rc;
  int closed = loop.close();
  if (closed != 0)
    std::fprintf(stderr, "exit: the loop still had handles open (%s)\n", uv_err_name(closed));
  return closed == 0 ? 0 : 1;
}

}  // namespace common::http
