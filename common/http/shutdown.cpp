#include "common/http/shutdown.h"

#include <csignal>
#include <cstdio>
#include <cstring>
#include <exception>

#include "common/http/server.h"
#include "common/uv/handle.h"

namespace common::http {
namespace {

// One graceful stop; the data of its handles points to it.
struct Stop {
  Server& server;
  std::function<void()> on_stopping;
  std::chrono::milliseconds grace;
  Handle<uv_signal_t> sigint;
  Handle<uv_signal_t> sigterm;
  Handle<uv_timer_t> grace_timer;
  bool signalled = false;
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
