// common/flow/coroutine.h: co_await over common::Promise resumes from the loop, never inside the
// co_await; values arrive, rejections are rethrown there, an escaping exception rejects the
// coroutine's own promise, and a frame whose awaited promise is dropped unsettled is destroyed.
#include <optional>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include "common/flow/coroutine.h"
#include "tests/unit/flow/promise_support.h"

using common::Deferred;
using common::Promise;
using promise_test::delay;
using promise_test::PromiseLoop;
using promise_test::what;

namespace {

Promise<int> add_one(Promise<int> input, std::vector<std::string>& log) {
  log.emplace_back("before co_await");
  int value = co_await std::move(input);
  log.emplace_back("resumed with " + std::to_string(value));
  co_return value + 1;
}

Promise<std::string> catch_rejection(Promise<int> input) {
  try {
    co_await std::move(input);
    co_return "no exception";
  } catch (const std::runtime_error& error) {
    co_return std::string("caught: ") + error.what();
  }
}

Promise<void> throw_after(Promise<void> input) {
  co_await std::move(input);
  throw std::runtime_error("escaped");
}

// Counts how many are alive: a local of the frame, to see the frame go.
struct Counted {
  static inline int alive = 0;
  Counted() { ++alive; }
  Counted(const Counted&) = delete;
  Counted& operator=(const Counted&) = delete;
  ~Counted() { --alive; }
};

Promise<void> wait_holding_a_local(Promise<int> input) {
  Counted local;
  co_await std::move(input);
}

Promise<int> sum_of_all(Promise<int> a, Promise<int> b) {
  auto [x, y] = co_await common::all(a, b);
  co_return x + y;
}

}  // namespace

TEST_CASE("co_await resumes on a later turn, never inside the co_await", "[coroutine]") {
  PromiseLoop test;
  std::vector<std::string> log;
  auto result = add_one(common::resolved(41), log);  // already settled: still not inside
  log.emplace_back("after the call");
  CHECK(log == std::vector<std::string>{"before co_await", "after the call"});
  std::optional<int> seen;
  result.then([&](int value) { seen = value; });
  test.run();
  CHECK(log.back() == "resumed with 41");
  CHECK(seen == 42);
}

TEST_CASE("co_await delivers a value that arrives later", "[coroutine]") {
  PromiseLoop test;
  std::vector<std::string> log;
  std::optional<int> seen;
  add_one(delay(test.loop, 5, 9), log).then([&](int value) { seen = value; });
  CHECK_FALSE(seen);
  test.run();
  CHECK(seen == 10);
}

TEST_CASE("a rejection is rethrown at the co_await and can be caught", "[coroutine]") {
  PromiseLoop test;
  std::optional<std::string> seen;
  catch_rejection(common::rejected<int>(std::runtime_error("no user")))
      .then([&](const std::string& text) { seen = text; });
  test.run();
  CHECK(seen == "caught: no user");
}

TEST_CASE("an exception escaping the coroutine rejects its promise", "[coroutine]") {
  PromiseLoop test;
  std::optional<std::string> seen;
  throw_after(common::resolved()).fail([&](const std::exception_ptr& reason) {
    seen = what(reason);
  });
  test.run();
  REQUIRE(seen);
  CHECK(seen->find("escaped") != std::string::npos);
}

TEST_CASE("a frame whose awaited promise is dropped unsettled is destroyed", "[coroutine]") {
  PromiseLoop test;
  auto baseline = common::live_promise_states();
  {
    std::optional<Deferred<int>> never;
    never.emplace();
    auto done = wait_holding_a_local(never->promise());
    CHECK(Counted::alive == 1);  // suspended at the co_await, its local alive
    never.reset();               // the last reference to the awaited promise goes
    CHECK(Counted::alive == 0);  // ...and the frame with it
    CHECK(done.is_pending());    // its own promise never settles
  }
  CHECK(common::live_promise_states() == baseline);
  test.run();
}

TEST_CASE("shutdown destroys a frame that waits for a promise nobody will settle", "[coroutine]") {
  auto baseline = common::live_promise_states();
  {
    PromiseLoop test;
    Deferred<int> never;
    wait_holding_a_local(never.promise());
    CHECK(Counted::alive == 1);
    test.scheduler.shutdown();  // what a stage does on SIGTERM, through ~PromiseScheduler
    CHECK(Counted::alive == 0);
  }
  CHECK(common::live_promise_states() == baseline);
}

TEST_CASE("all(...) can be awaited: both at once, one resumption", "[coroutine]") {
  PromiseLoop test;
  std::optional<int> seen;
  sum_of_all(delay(test.loop, 5, 1), delay(test.loop, 5, 2)).then([&](int sum) { seen = sum; });
  test.run();
  CHECK(seen == 3);
}
