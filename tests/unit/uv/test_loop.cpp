// Tests for common/uv/loop.h and common/uv/handle.h: exceptions stay out of C frames, handles are
// freed in their close callback, and a loop with a forgotten handle is reported.
#include <stdexcept>

#include "common/uv/handle.h"
#include "common/uv/loop.h"
#include "tests/support/catch.h"

TEST_CASE("an exception thrown in a callback is rethrown by run_loop", "[loop]") {
  common::Loop loop;
  common::Handle<uv_timer_t> timer(loop, uv_timer_init);
  timer->data = &loop;
  common::check(uv_timer_start(
                    timer.get(),
                    [](uv_timer_t* t) {
                      auto& owner = *static_cast<common::Loop*>(t->data);
                      common::guard(owner, [] { throw std::runtime_error("from a timer"); });
                    },
                    0, 0),
                "uv_timer_start");
  REQUIRE_THROWS_WITH(common::run_loop(loop), "from a timer");
  timer.close();
  REQUIRE(loop.close() == 0);
}

TEST_CASE("a closed Handle leaves nothing behind", "[loop]") {
  common::Loop loop;
  {
    common::Handle<uv_timer_t> timer(loop, uv_timer_init);
    common::Handle<uv_pipe_t> pipe(loop, uv_pipe_init, 0);
  }
  common::run_loop(loop);
  REQUIRE(loop.close() == 0);
}

TEST_CASE("a handle nobody closed makes Loop::close report it", "[loop]") {
  common::Loop loop;
  uv_timer_t forgotten;
  common::check(uv_timer_init(&loop.get(), &forgotten), "uv_timer_init");
  REQUIRE(loop.close() == UV_EBUSY);
}

TEST_CASE("check() names the call and the libuv error", "[loop]") {
  REQUIRE_THROWS_WITH(common::check(UV_EADDRINUSE, "uv_listen"),
                      "uv_listen: EADDRINUSE (address already in use)");
  REQUIRE(common::check(3, "anything") == 3);
}
