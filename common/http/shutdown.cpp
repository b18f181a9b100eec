#include "common/http/shutdown.h"

#include <csignal>
#include <cstdio>
#include <cstring>
#include <exception>

#include "common/http/server.h"
#include "common/uv/handle.h"

namespace common::http {
namespace {

// One graceful stop; the handles' data points to it.
struct Stop {
  Server& server;
  std::function<void()> on_stopping;
  std::chrono::milliseconds grace;
  Handle<uv_signal_t> sigint;
  Handle<uv_signal_t> sigterm;
  Handle<uv_timer_t> grace_timer;
  bool signalled = false;

  void watch(uv_signal_t* handle, int signum);
  void begin(int signum);
};

void on_grace_over(uv_timer_t* timer) {
  guard(*timer->loop, [&] { static_cast<Stop*>(timer->data)->server.close_connections(); });
}

// The first signal begins the graceful stop; a later one cuts it short.
void on_signal(uv_signal_t* handle, int signum) {
  auto* stop = static_cast<Stop*>(handle->data);
  if (stop == nullptr) return;  // closing
  guard(*handle->loop, [&] {
    if (std::exchange(stop->signalled, true)) return stop->server.close_connections();
    stop->begin(signum);
  });
}

void Stop::watch(uv_signal_t* handle, int signum) {
  handle->data = this;
  check(uv_signal_start(handle, on_signal, signum), "uv_signal_start");
}

void Stop::begin(int signum) {
  std::fprintf(stderr, "%s: finishing the requests in flight, then exiting\n", strsignal(signum));
  grace_timer->data = this;
  auto grace_ms = static_cast<uint64_t>(grace.count());
  check(uv_timer_start(grace_timer.get(), on_grace_over, grace_ms, 0), "uv_timer_start");
  server.close([this] {
    grace_timer.close();
    sigint.close();  // signal handles keep the loop alive
    sigterm.close();
    if (on_stopping) on_stopping();
  });
}

}  // namespace

int serve_until_signal(Loop& loop, Server& server, std::string_view announcement,
                       std::function<void()> on_stopping, std::chrono::milliseconds grace) {
  // Process-wide, once: a write to a client that has gone must fail with EPIPE, not kill us.
  std::signal(SIGPIPE, SIG_IGN);
  Stop stop{server,
            std::move(on_stopping),
            grace,
            {loop, uv_signal_init},
            {loop, uv_signal_init},
            {loop, uv_timer_init}};
  stop.watch(stop.sigint.get(), SIGINT);
  stop.watch(stop.sigterm.get(), SIGTERM);
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
