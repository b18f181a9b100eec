#include "common/uv/immediate.h"

#include <memory>
#include <utility>

#include "common/uv/loop.h"
#include "common/uv/error.h"

namespace common {
namespace {

struct Immediate {
  uv_timer_t timer{};
  std::function<void()> fn;
};

void on_immediate(uv_timer_t* timer) {
  auto* immediate = static_cast<Immediate*>(timer->data);
  std::function<void()> fn = std::move(immediate->fn);
  // Freed in the close callback: libuv owns the timer's memory until then.
  uv_close(reinterpret_cast<uv_handle_t*>(timer),
           [](uv_handle_t* closed) { delete static_cast<Immediate*>(closed->data); });
  guard(*timer->loop, fn);
}

}  // namespace

void set_immediate(uv_loop_t& loop, std::function<void()> fn) {
  auto immediate = std::make_unique<Immediate>();
  immediate->fn = std::move(fn);
  check(uv_timer_init(&loop, &immediate->timer), "uv_timer_init");
  immediate->timer.data = immediate.get();
  int rc = uv_timer_start(&immediate->timer, on_immediate, 0, 0);
  if (rc < 0) {
    // Initialised, so it must be closed before its memory goes.
    uv_close(reinterpret_cast<uv_handle_t*>(&immediate.release()->timer),
             [](uv_handle_t* closed) { delete static_cast<Immediate*>(closed->data); });
    throw UvError(rc, "uv_timer_start");
  }
  static_cast<void>(immediate.release());  // on_immediate owns it now
}

}  // namespace common
