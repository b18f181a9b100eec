// Tests for common/uv/immediate.h: Node's setImmediate on a common::Loop. Functions run in order
// on a later turn, in the check phase; what they queue waits for the next turn; a waiting function
// keeps the loop from blocking in poll, and an empty queue keeps nothing alive.
#include "common/uv/immediate.h"

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/uv/handle.h"
#include "common/uv/loop.h"
#include "tests/support/catch.h"

TEST_CASE("set_immediate runs functions in order, never inside the call", "[immediate]") {
  common::Loop loop;
  std::vector<int> order;
  common::set_immediate(loop, [&] { order.push_back(1); });
  common::set_immediate(loop, [&] { order.push_back(2); });
  CHECK(order.empty());
  common::run_loop(loop);  // returns: once the queue is empty, nothing keeps the loop alive
  CHECK(order == std::vector<int>{1, 2});
  REQUIRE(loop.close() == 0);
}

TEST_CASE("set_immediate: what a running function queues waits for the next turn", "[immediate]") {
  common::Loop loop;
  std::vector<std::string> order;
  common::set_immediate(loop, [&] {
    order.emplace_back("first");
    common::set_immediate(loop, [&] { order.emplace_back("queued by first"); });
  });
  common::set_immediate(loop, [&] { order.emplace_back("second"); });
  uv_run(&loop.get(), UV_RUN_ONCE);
  CHECK(order == std::vector<std::string>{"first", "second"});
  uv_run(&loop.get(), UV_RUN_ONCE);
  CHECK(order == std::vector<std::string>{"first", "second", "queued by first"});
  REQUIRE(loop.close() == 0);
}

TEST_CASE("set_immediate: a waiting function keeps uv_run from blocking in poll", "[immediate]") {
  common::Loop loop;
  common::Handle<uv_timer_t> far_away(loop, uv_timer_init);
  common::check(uv_timer_start(
                    far_away.get(), [](uv_timer_t* /*timer*/) {}, 60'000, 0),
                "uv_timer_start");
  bool ran = false;
  common::set_immediate(loop, [&] { ran = true; });
  std::uint64_t before = uv_hrtime();
  uv_run(&loop.get(), UV_RUN_ONCE);  // would sleep a minute if poll waited for the timer
  CHECK(ran);
  CHECK(uv_hrtime() - before < 5'000'000'000ULL);
  far_away.close();
  REQUIRE(loop.close() == 0);
}

TEST_CASE("set_immediate: a throw is trapped and rethrown by its own loop's run_loop",
          "[immediate]") {
  common::Loop failing;
  common::Loop other;
  bool other_ran = false;
  common::set_immediate(failing, [] { throw std::runtime_error("from an immediate"); });
  common::set_immediate(other, [&] { other_ran = true; });
  REQUIRE_THROWS_WITH(common::run_loop(failing), "from an immediate");
  REQUIRE_NOTHROW(common::run_loop(other));
  CHECK(other_ran);
  REQUIRE_NOTHROW(common::run_loop(failing));  // rethrown once, then forgotten
  REQUIRE(failing.close() == 0);
  REQUIRE(other.close() == 0);
}

TEST_CASE("set_immediate: functions still queued run while the loop closes", "[immediate]") {
  common::Loop loop;
  bool ran = false;
  common::set_immediate(loop, [&] { ran = true; });
  REQUIRE(loop.close() == 0);
  CHECK(ran);
}

TEST_CASE("set_immediate refuses a closed loop and a loop that is not a common::Loop",
          "[immediate]") {
  common::Loop closed;
  REQUIRE(closed.close() == 0);
  REQUIRE_THROWS_AS(common::set_immediate(closed, [] {}), std::logic_error);

  uv_loop_t raw{};
  common::check(uv_loop_init(&raw), "uv_loop_init");
  REQUIRE_THROWS_AS(common::set_immediate(raw, [] {}), std::logic_error);
  REQUIRE(uv_loop_close(&raw) == 0);
}
