// Promises/A+ 1.1.1 for common::Promise: one test case per numbered requirement that applies to
// a statically typed C++ promise, named after it, ported from promises-aplus-tests 2.1.2
// (docs/promises.md §15). Value tests run in the suite's three timings — already,
// immediately (right after then), eventually (from a uv timer) — as Catch2 sections.
//
// Not ported, and why:
//  - 2.2.5 (handlers called with `this` undefined): C++ handlers are plain callables; there is
//    no `this` to pass.
//  - 2.3.3 (assimilating arbitrary thenables: reading `x.then` once, throwing getters, thenables
//    calling back twice): a typed promise only adopts common::Promise, so there is no duck-typed
//    `then` to read. What survives of it is tested at the end: resolvers are one-shot and the
//    first call wins (2.3.3.3.3); a throw after calling back is ignored (2.3.3.3.4.1); long
//    chains have no depth limit (note 3.6).
//  - 2.2.1's "non-function" values (numbers, objects): the type system rejects them at compile
//    time; what is left is "no handler" (nullptr, a null function pointer, an empty
//    std::function), tested under 2.2.1.
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tests/unit/flow/promise_support.h"

using common::Deferred;
using common::Promise;
using promise_test::after;
using promise_test::PromiseLoop;
using promise_test::reason;
using promise_test::what;

namespace {

constexpr std::uint64_t kEventually = 20;  // ms; the suite uses 50

// One way a promise of T settles, so that a case written once runs in both directions where the
// spec says the same of onFulfilled and onRejected: fulfilled with `value`, or rejected with
// `error`. `state` names the direction in section names ("already-fulfilled", ...).
template <typename T>
struct Fulfilment {
  using Value = T;
  T value;
  static constexpr const char* state = "fulfilled";

  [[nodiscard]] Promise<T> settled() const { return common::resolved(value); }
  void settle(const Deferred<T>& deferred) const { deferred.resolve(value); }
  // Attaches `handler` (called without arguments) as onFulfilled. The empty onRejected keeps a
  // promise that is rejected instead from being reported as unhandled.
  template <typename Handler>
  void on_settled(const Promise<T>& promise, Handler handler) const {
    promise.then([handler](const T&) { handler(); }, [](const std::exception_ptr&) {});
  }
};

template <typename T>
struct Rejection {
  using Value = T;
  std::exception_ptr error;
  static constexpr const char* state = "rejected";

  [[nodiscard]] Promise<T> settled() const { return common::rejected<T>(error); }
  void settle(const Deferred<T>& deferred) const { deferred.reject(error); }
  // Attaches `handler` (called without arguments) as onRejected.
  template <typename Handler>
  void on_settled(const Promise<T>& promise, Handler handler) const {
    promise.fail([handler](const std::exception_ptr&) {
      handler();
      return T{};
    });
  }
};

// Runs the loop, then the check `attach` returned, and asserts nothing was left behind.
template <typename Check>
void run_and_check(PromiseLoop& t, const Check& check) {
  t.run();
  check();
  REQUIRE(t.loop.close() == 0);
}

// Runs `attach(t, promise)` against a promise that settles as `outcome` already, immediately
// after attach returns, and eventually (from a timer); then runs the loop and calls the returned
// check.
template <typename Outcome, typename Attach>
void in_three_timings(const Outcome& outcome, Attach attach) {
  using T = typename Outcome::Value;
  const std::string state = Outcome::state;
  SECTION("already-" + state) {
    PromiseLoop t;
    auto check = attach(t, outcome.settled());
    run_and_check(t, check);
  }
  SECTION("immediately-" + state) {
    PromiseLoop t;
    Deferred<T> deferred;
    auto check = attach(t, deferred.promise());
    outcome.settle(deferred);
    run_and_check(t, check);
  }
  SECTION("eventually-" + state) {
    PromiseLoop t;
    Deferred<T> deferred;
    auto check = attach(t, deferred.promise());
    after(t.loop, kEventually, [deferred, outcome] { outcome.settle(deferred); });
    run_and_check(t, check);
  }
}

template <typename T, typename Attach>
void with_fulfilled(T value, Attach attach) {
  in_three_timings(Fulfilment<T>{std::move(value)}, std::move(attach));
}

template <typename T, typename Attach>
void with_rejected(std::exception_ptr error, Attach attach) {
  in_three_timings(Rejection<T>{std::move(error)}, std::move(attach));
}

struct Sentinel {
  int id = 0;
};

// The state of `promise` as a word, to compare with an outcome's state.
template <typename T>
std::string state_of(const Promise<T>& promise) {
  if (promise.is_fulfilled()) return "fulfilled";
  return promise.is_rejected() ? "rejected" : "pending";
}

// 2.1.2.1 and 2.1.3.1: a promise settled as `first` ignores `second`, offered synchronously right
// after and again from a timer: it keeps its state, and only first's handler runs, once.
template <typename First, typename Second>
void stays_settled(const First& first, const Second& second) {
  PromiseLoop t;
  Deferred<int> deferred;
  std::map<std::string, int> calls;
  first.on_settled(deferred.promise(), [&] { ++calls[First::state]; });
  second.on_settled(deferred.promise(), [&] { ++calls[Second::state]; });
  first.settle(deferred);
  second.settle(deferred);                                            // synchronously after
  after(t.loop, 5, [deferred, second] { second.settle(deferred); });  // and later
  t.run();
  CHECK(state_of(deferred.promise()) == First::state);
  CHECK(calls == std::map<std::string, int>{{First::state, 1}});
  REQUIRE(t.loop.close() == 0);
}

// 2.2.2.2 and 2.2.3.2: the handler for `outcome` waits for it, and never runs while the promise
// stays pending or when it settles as `other` instead.
template <typename Outcome, typename Other>
void not_called_before_settling(const Outcome& outcome, const Other& other) {
  const std::string state = Outcome::state;
  SECTION(state + " after a delay") {
    PromiseLoop t;
    Deferred<int> deferred;
    bool settled = false;
    bool called = false;
    outcome.on_settled(deferred.promise(), [&] {
      CHECK(settled);
      called = true;
    });
    after(t.loop, 10, [&, deferred] {
      settled = true;
      outcome.settle(deferred);
    });
    t.run();
    CHECK(called);
    REQUIRE(t.loop.close() == 0);
  }
  SECTION("never " + state) {
    PromiseLoop t;
    Deferred<int> deferred;
    bool called = false;
    outcome.on_settled(deferred.promise(), [&] { called = true; });
    after(t.loop, 30, [] {});
    t.run();  // returns once the timer is done: a pending promise does not keep the loop alive
    CHECK_FALSE(called);
    REQUIRE(t.loop.close() == 0);
  }
  SECTION(std::string(Other::state) + " instead") {
    PromiseLoop t;
    Deferred<int> deferred;
    bool called = false;
    outcome.on_settled(deferred.promise(), [&] { called = true; });
    other.settle(deferred);
    t.run();
    CHECK_FALSE(called);
    REQUIRE(t.loop.close() == 0);
  }
}

// 2.2.4: the handler for `outcome` is not called before then returns, in the three timings.
template <typename Outcome>
void not_called_before_then_returns(const Outcome& outcome) {
  using T = typename Outcome::Value;
  in_three_timings(outcome, [outcome](PromiseLoop&, const Promise<T>& promise) {
    auto then_has_returned = std::make_shared<bool>(false);
    auto called = std::make_shared<bool>(false);
    outcome.on_settled(promise, [=] {
      CHECK(*then_has_returned);
      *called = true;
    });
    *then_has_returned = true;
    return [called] { CHECK(*called); };
  });
}

// 2.2.4, clean stack: a promise settled from a timer callback runs its handler only after that
// callback has returned.
template <typename Outcome>
void settled_asynchronously(const Outcome& outcome) {
  PromiseLoop t;
  Deferred<int> deferred;
  bool first_stack_finished = false;
  bool called = false;
  after(t.loop, 0, [&, deferred] {
    outcome.settle(deferred);
    first_stack_finished = true;
  });
  outcome.on_settled(deferred.promise(), [&] {
    CHECK(first_stack_finished);
    called = true;
  });
  t.run();
  CHECK(called);
  REQUIRE(t.loop.close() == 0);
}

}  // namespace

// ---- 2.1 Promise states ------------------------------------------------------------------

TEST_CASE("2.1.1.1: a pending promise may become fulfilled or rejected", "[promise][aplus]") {
  PromiseLoop t;
  Deferred<int> to_fulfil;
  Deferred<int> to_reject;
  REQUIRE(to_fulfil.promise().is_pending());
  REQUIRE(to_reject.promise().is_pending());
  to_fulfil.resolve(1);
  to_reject.reject(reason("no"));
  REQUIRE(to_fulfil.promise().is_fulfilled());
  REQUIRE(to_reject.promise().is_rejected());
  auto handled = to_reject.promise().fail([](const std::exception_ptr&) { return 0; });
  t.run();
  REQUIRE(t.loop.close() == 0);
}

TEST_CASE("2.1.2.1: a fulfilled promise never becomes rejected or pending again",
          "[promise][aplus]") {
  stays_settled(Fulfilment<int>{1}, Rejection<int>{reason("too late")});
}

TEST_CASE("2.1.2.2: a fulfilled promise's value never changes", "[promise][aplus]") {
  PromiseLoop t;
  Deferred<Sentinel> deferred;
  std::vector<const Sentinel*> seen;
  std::vector<int> ids;
  auto record = [&](const Sentinel& value) {
    seen.push_back(&value);
    ids.push_back(value.id);
  };
  deferred.promise().then(record);
  deferred.resolve(Sentinel{1});
  deferred.resolve(Sentinel{2});
  deferred.promise().then(record);
  after(t.loop, 5, [&, deferred] { deferred.promise().then(record); });
  t.run();
  REQUIRE(seen.size() == 3);
  CHECK(seen[0] == seen[1]);  // the same stored object, not a copy per handler
  CHECK(seen[1] == seen[2]);
  CHECK(ids == std::vector<int>{1, 1, 1});
  REQUIRE(t.loop.close() == 0);
}

TEST_CASE("2.1.3.1: a rejected promise never becomes fulfilled or pending again",
          "[promise][aplus]") {
  stays_settled(Rejection<int>{reason("no")}, Fulfilment<int>{1});
}

TEST_CASE("2.1.3.2: a rejected promise's reason never changes", "[promise][aplus]") {
  PromiseLoop t;
  Deferred<int> deferred;
  auto first = reason("first");
  std::vector<std::exception_ptr> seen;
  auto record = [&](const std::exception_ptr& e) {
    seen.push_back(e);
    return 0;
  };
  deferred.promise().then(nullptr, record);
  deferred.reject(first);
  deferred.reject(reason("second"));
  after(t.loop, 5, [&, deferred] { deferred.promise().then(nullptr, record); });
  t.run();
  REQUIRE(seen.size() == 2);
  CHECK(seen[0] == first);  // the same exception object
  CHECK(seen[1] == first);
  REQUIRE(t.loop.close() == 0);
}

// ---- 2.2 The then method ------------------------------------------------------------------

TEST_CASE("2.2.1: a missing onFulfilled or onRejected is ignored", "[promise][aplus]") {
  SECTION("2.2.1.1: onFulfilled nullptr, null function pointer or empty std::function") {
    PromiseLoop t;
    std::vector<int> values;
    int (*no_function)(int) = nullptr;
    std::function<int(int)> empty;
    auto keep = [&](int v) { values.push_back(v); };
    common::resolved(1).then(nullptr).then(keep);
    common::resolved(2).then(no_function).then(keep);
    common::resolved(3).then(empty).then(keep);
    common::rejected<int>(reason("r"))
        .then(nullptr, [](const std::exception_ptr&) { return 4; })
        .then(keep);
    t.run();
    CHECK(values == std::vector<int>{1, 2, 3, 4});
    REQUIRE(t.loop.close() == 0);
  }
  SECTION("2.2.1.2: onRejected nullptr, null function pointer or empty std::function") {
    PromiseLoop t;
    std::vector<std::string> reasons;
    int (*no_function)(std::exception_ptr) = nullptr;
    std::function<int(std::exception_ptr)> empty;
    auto keep = [&](const std::exception_ptr& e) {
      reasons.push_back(what(e));
      return 0;
    };
    auto identity = [](int v) { return v; };
    common::rejected<int>(reason("a")).then(identity, nullptr).fail(keep);
    common::rejected<int>(reason("b")).then(identity, no_function).fail(keep);
    common::rejected<int>(reason("c")).then(identity, empty).fail(keep);
    int value = 0;
    common::resolved(5).then(identity, nullptr).then([&](int v) { value = v; });
    t.run();
    CHECK(reasons == std::vector<std::string>{"a", "b", "c"});
    CHECK(value == 5);
    REQUIRE(t.loop.close() == 0);
  }
}

TEST_CASE("2.2.2.1: onFulfilled is called after fulfilment, with the value as its argument",
          "[promise][aplus]") {
  Sentinel sentinel{42};
  with_fulfilled(sentinel, [](PromiseLoop&, const Promise<Sentinel>& promise) {
    auto seen = std::make_shared<int>(0);
    promise.then([promise, seen](const Sentinel& value) {
      CHECK(promise.is_fulfilled());
      *seen = value.id;
    });
    return [seen] { CHECK(*seen == 42); };
  });
}

TEST_CASE("2.2.2.2: onFulfilled is not called before fulfilment, nor ever if it never comes",
          "[promise][aplus]") {
  not_called_before_settling(Fulfilment<int>{1}, Rejection<int>{reason("no")});
}

TEST_CASE("2.2.2.3: onFulfilled is called at most once", "[promise][aplus]") {
  SECTION("resolved twice synchronously, then rejected") {
    PromiseLoop t;
    Deferred<int> deferred;
    int calls = 0;
    deferred.promise().then([&](int) { ++calls; });
    deferred.resolve(1);
    deferred.resolve(2);
    deferred.reject(reason("no"));
    t.run();
    CHECK(calls == 1);
    REQUIRE(t.loop.close() == 0);
  }
  SECTION("resolved twice from timers") {
    PromiseLoop t;
    Deferred<int> deferred;
    int calls = 0;
    deferred.promise().then([&](int) { ++calls; });
    after(t.loop, 5, [deferred] { deferred.resolve(1); });
    after(t.loop, 10, [deferred] { deferred.resolve(2); });
    t.run();
    CHECK(calls == 1);
    REQUIRE(t.loop.close() == 0);
  }
  SECTION("then interleaved with fulfilment") {
    PromiseLoop t;
    Deferred<int> deferred;
    int first = 0;
    int second = 0;
    deferred.promise().then([&](int) { ++first; });
    deferred.resolve(1);
    deferred.promise().then([&](int) { ++second; });
    deferred.resolve(2);
    t.run();
    CHECK(first == 1);
    CHECK(second == 1);
    REQUIRE(t.loop.close() == 0);
  }
}

TEST_CASE("2.2.3.1: onRejected is called after rejection, with the reason as its argument",
          "[promise][aplus]") {
  auto error = reason("the reason");
  with_rejected<int>(error, [error](PromiseLoop&, const Promise<int>& promise) {
    auto seen = std::make_shared<std::exception_ptr>();
    promise.then(nullptr, [promise, seen](std::exception_ptr e) {
      CHECK(promise.is_rejected());
      *seen = std::move(e);
      return 0;
    });
    return [seen, error] { CHECK(*seen == error); };
  });
}

TEST_CASE("2.2.3.2: onRejected is not called before rejection, nor ever if it never comes",
          "[promise][aplus]") {
  not_called_before_settling(Rejection<int>{reason("late")}, Fulfilment<int>{1});
}

TEST_CASE("2.2.3.3: onRejected is called at most once", "[promise][aplus]") {
  PromiseLoop t;
  Deferred<int> deferred;
  int calls = 0;
  int late_calls = 0;
  auto count = [](int& counter) {
    return [&counter](const std::exception_ptr&) {
      ++counter;
      return 0;
    };
  };
  deferred.promise().fail(count(calls));
  deferred.reject(reason("a"));
  deferred.reject(reason("b"));
  deferred.resolve(1);
  deferred.promise().fail(count(late_calls));
  after(t.loop, 5, [deferred] { deferred.reject(reason("c")); });
  t.run();
  CHECK(calls == 1);
  CHECK(late_calls == 1);
  REQUIRE(t.loop.close() == 0);
}

// 2.2.4: the cases of promises-aplus-tests' 2.2.4.js, including the four "clean-stack" ones.
TEST_CASE("2.2.4: onFulfilled is not called before then returns", "[promise][aplus]") {
  not_called_before_then_returns(Fulfilment<int>{1});
}

TEST_CASE("2.2.4: onRejected is not called before then returns", "[promise][aplus]") {
  not_called_before_then_returns(Rejection<int>{reason("r")});
}

TEST_CASE("2.2.4: clean stack: onFulfilled added immediately before fulfilment",
          "[promise][aplus]") {
  PromiseLoop t;
  Deferred<int> deferred;
  bool called = false;
  deferred.promise().then([&](int) { called = true; });
  deferred.resolve(1);
  CHECK_FALSE(called);  // not inside resolve()
  t.run();
  CHECK(called);
  REQUIRE(t.loop.close() == 0);
}

TEST_CASE("2.2.4: clean stack: onFulfilled added immediately after fulfilment",
          "[promise][aplus]") {
  PromiseLoop t;
  Deferred<int> deferred;
  bool called = false;
  deferred.resolve(1);
  deferred.promise().then([&](int) { called = true; });
  CHECK_FALSE(called);  // not inside then()
  t.run();
  CHECK(called);
  REQUIRE(t.loop.close() == 0);
}

TEST_CASE("2.2.4: clean stack: one onFulfilled added inside another onFulfilled",
          "[promise][aplus]") {
  PromiseLoop t;
  auto promise = common::resolved(1);
  bool first_finished = false;
  bool inner_called = false;
  promise.then([&](int) {
    promise.then([&](int) {
      CHECK(first_finished);
      inner_called = true;
    });
    first_finished = true;
  });
  t.run();
  CHECK(inner_called);
  REQUIRE(t.loop.close() == 0);
}

TEST_CASE("2.2.4: clean stack: onFulfilled added inside an onRejected", "[promise][aplus]") {
  PromiseLoop t;
  auto rejected = common::rejected<int>(reason("r"));
  auto fulfilled = common::resolved(1);
  bool first_finished = false;
  bool inner_called = false;
  rejected.fail([&](const std::exception_ptr&) {
    fulfilled.then([&](int) {
      CHECK(first_finished);
      inner_called = true;
    });
    first_finished = true;
    return 0;
  });
  t.run();
  CHECK(inner_called);
  REQUIRE(t.loop.close() == 0);
}

TEST_CASE("2.2.4: clean stack: the promise is fulfilled asynchronously", "[promise][aplus]") {
  settled_asynchronously(Fulfilment<int>{1});
}

TEST_CASE("2.2.4: clean stack: onRejected added immediately before and after rejection",
          "[promise][aplus]") {
  PromiseLoop t;
  Deferred<int> before;
  Deferred<int> afterwards;
  int called = 0;
  auto handler = [&](const std::exception_ptr&) {
    ++called;
    return 0;
  };
  before.promise().fail(handler);
  before.reject(reason("r"));
  afterwards.reject(reason("r"));
  afterwards.promise().fail(handler);
  CHECK(called == 0);
  t.run();
  CHECK(called == 2);
  REQUIRE(t.loop.close() == 0);
}

TEST_CASE("2.2.4: clean stack: onRejected added inside an onFulfilled or onRejected",
          "[promise][aplus]") {
  PromiseLoop t;
  auto fulfilled = common::resolved(1);
  auto rejected = common::rejected<int>(reason("r"));
  bool first_finished = false;
  bool second_finished = false;
  int inner_called = 0;
  fulfilled.then([&](int) {
    rejected.fail([&](const std::exception_ptr&) {
      CHECK(first_finished);
      ++inner_called;
      return 0;
    });
    first_finished = true;
  });
  rejected.fail([&](const std::exception_ptr&) {
    rejected.fail([&](const std::exception_ptr&) {
      CHECK(second_finished);
      ++inner_called;
      return 0;
    });
    second_finished = true;
    return 0;
  });
  t.run();
  CHECK(inner_called == 2);
  REQUIRE(t.loop.close() == 0);
}

TEST_CASE("2.2.4: clean stack: the promise is rejected asynchronously", "[promise][aplus]") {
  settled_asynchronously(Rejection<int>{reason("r")});
}

TEST_CASE("2.2.6.1: onFulfilled handlers run in the order their then calls were made",
          "[promise][aplus]") {
  with_fulfilled(7, [](PromiseLoop&, const Promise<int>& promise) {
    auto order = std::make_shared<std::vector<std::string>>();
    auto results = std::make_shared<std::vector<int>>();
    auto keep = [results](int v) { results->push_back(v); };
    promise
        .then([order](int v) {
          order->push_back("a");
          return v + 1;
        })
        .then(keep);
    promise
        .then([order](int) -> int {  // a throwing handler does not stop the others
          order->push_back("b");
          throw std::runtime_error("b failed");
        })
        .fail([results](const std::exception_ptr&) {
          results->push_back(-1);
          return 0;
        });
    promise
        .then([order, promise](int v) {
          order->push_back("c");
          promise.then([order](int) { order->push_back("added inside c"); });
          return v + 3;
        })
        .then(keep);
    promise.then([order](int) { order->push_back("d"); });
    return [order, results] {
      CHECK(*order == std::vector<std::string>{"a", "b", "c", "d", "added inside c"});
      // The chained promises settle one turn later, in the same order.
      CHECK(*results == std::vector<int>{8, -1, 10});
    };
  });
}

TEST_CASE("2.2.6.2: onRejected handlers run in the order their then calls were made",
          "[promise][aplus]") {
  with_rejected<int>(reason("r"), [](PromiseLoop&, const Promise<int>& promise) {
    auto order = std::make_shared<std::vector<std::string>>();
    auto results = std::make_shared<std::vector<int>>();
    promise
        .fail([order](const std::exception_ptr&) {
          order->push_back("a");
          return 1;
        })
        .then([results](int v) { results->push_back(v); });
    promise
        .fail([order](const std::exception_ptr&) -> int {
          order->push_back("b");
          throw std::runtime_error("b failed");
        })
        .fail([results](const std::exception_ptr& e) {
          results->push_back(what(e) == "b failed" ? -1 : -2);
          return 0;
        });
    promise.fail([order, promise](const std::exception_ptr&) {
      order->push_back("c");
      promise.fail([order](const std::exception_ptr&) {
        order->push_back("added inside c");
        return 0;
      });
      return 3;
    });
    return [order, results] {
      CHECK(*order == std::vector<std::string>{"a", "b", "c", "added inside c"});
      CHECK(*results == std::vector<int>{1, -1});
    };
  });
}

TEST_CASE("2.2.7: then returns a new promise", "[promise][aplus]") {
  PromiseLoop t;
  auto promise = common::resolved(1);
  auto next = promise.then([](int v) { return std::to_string(v); });
  static_assert(std::is_same_v<decltype(next), Promise<std::string>>);
  static_assert(std::is_same_v<decltype(promise.then([](int) {})), Promise<void>>);
  static_assert(std::is_same_v<decltype(promise.then([](int) { return common::resolved(2.5); })),
                               Promise<double>>);
  static_assert(std::is_same_v<decltype(promise.fail([](const std::exception_ptr&) { return 0; })),
                               Promise<int>>);
  CHECK(next.valid());
  CHECK(next.is_pending());
  t.run();
  CHECK(next.is_fulfilled());
  REQUIRE(t.loop.close() == 0);
}

TEST_CASE("2.2.7.1: a handler's return value x resolves promise2 with x", "[promise][aplus]") {
  SECTION("onFulfilled returns a value") {
    with_fulfilled(1, [](PromiseLoop&, const Promise<int>& promise) {
      auto seen = std::make_shared<std::string>();
      promise.then([](int v) { return std::to_string(v * 10); }).then([seen](std::string s) {
        *seen = std::move(s);
      });
      return [seen] { CHECK(*seen == "10"); };
    });
  }
  SECTION("onRejected returns a value (recovery)") {
    with_rejected<int>(reason("r"), [](PromiseLoop&, const Promise<int>& promise) {
      auto seen = std::make_shared<int>(0);
      promise.then([](int v) { return v; }, [](const std::exception_ptr&) { return 99; })
          .then([seen](int v) { *seen = v; });
      return [seen] { CHECK(*seen == 99); };
    });
  }
  SECTION("onFulfilled returns a promise: promise2 adopts it") {
    with_fulfilled(1, [](PromiseLoop& t, const Promise<int>& promise) {
      auto seen = std::make_shared<int>(0);
      uv_loop_t* loop = &t.loop.get();
      promise.then([loop](int v) { return promise_test::delay(*loop, 5, v + 1); })
          .then([seen](int v) { *seen = v; });
      return [seen] { CHECK(*seen == 2); };
    });
  }
}

TEST_CASE("2.2.7.2: a handler that throws e rejects promise2 with e", "[promise][aplus]") {
  SECTION("onFulfilled throws") {
    with_fulfilled(1, [](PromiseLoop&, const Promise<int>& promise) {
      auto seen = std::make_shared<std::string>();
      promise.then([](int) -> int { throw std::out_of_range("thrown by onFulfilled"); })
          .fail([seen](const std::exception_ptr& e) {
            try {
              std::rethrow_exception(e);
            } catch (const std::out_of_range& thrown) {
              *seen = thrown.what();
            }
            return 0;
          });
      return [seen] { CHECK(*seen == "thrown by onFulfilled"); };
    });
  }
  SECTION("onRejected throws") {
    with_rejected<int>(reason("r"), [](PromiseLoop&, const Promise<int>& promise) {
      auto seen = std::make_shared<std::string>();
      promise
          .fail([](const std::exception_ptr&) -> int { throw 42; })  // not even a std::exception
          .fail([seen](const std::exception_ptr& e) {
            try {
              std::rethrow_exception(e);
            } catch (int thrown) {
              *seen = std::to_string(thrown);
            }
            return 0;
          });
      return [seen] { CHECK(*seen == "42"); };
    });
  }
}

TEST_CASE("2.2.7.3: without onFulfilled, promise2 fulfils with promise1's value",
          "[promise][aplus]") {
  with_fulfilled(Sentinel{5}, [](PromiseLoop&, const Promise<Sentinel>& promise) {
    auto seen = std::make_shared<int>(0);
    promise.then(nullptr, [](const std::exception_ptr&) { return Sentinel{-1}; })
        .then([seen](const Sentinel& s) { *seen = s.id; });
    return [seen] { CHECK(*seen == 5); };
  });
}

TEST_CASE("2.2.7.4: without onRejected, promise2 rejects with promise1's reason",
          "[promise][aplus]") {
  auto error = reason("passed on");
  with_rejected<int>(error, [error](PromiseLoop&, const Promise<int>& promise) {
    auto seen = std::make_shared<std::exception_ptr>();
    promise.then([](int v) { return v; }).fail([seen](std::exception_ptr e) {
      *seen = std::move(e);
      return 0;
    });
    return [seen, error] { CHECK(*seen == error); };
  });
}

// ---- 2.3 The promise resolution procedure --------------------------------------------------

namespace {
bool is_type_error(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const common::TypeError&) {
    return true;
  } catch (...) {
    return false;
  }
}
}  // namespace

TEST_CASE("2.3.1: a promise resolved with itself rejects with a TypeError", "[promise][aplus]") {
  SECTION("via the return value of onFulfilled") {
    PromiseLoop t;
    Promise<int> promise;
    bool type_error = false;
    promise = common::resolved(1).then([&](int) { return promise; });
    promise.fail([&](const std::exception_ptr& e) {
      type_error = is_type_error(e);
      return 0;
    });
    t.run();  // promptly: no busy loop (Q 1.5.1 spins here)
    CHECK(type_error);
    promise = {};
    REQUIRE(t.loop.close() == 0);
  }
  SECTION("via the return value of onRejected") {
    PromiseLoop t;
    Promise<int> promise;
    bool type_error = false;
    promise =
        common::rejected<int>(reason("r")).fail([&](const std::exception_ptr&) { return promise; });
    promise.fail([&](const std::exception_ptr& e) {
      type_error = is_type_error(e);
      return 0;
    });
    t.run();
    CHECK(type_error);
    promise = {};
    REQUIRE(t.loop.close() == 0);
  }
  SECTION("a deferred resolved with its own promise") {
    PromiseLoop t;
    Deferred<int> deferred;
    deferred.resolve(deferred.promise());
    bool type_error = false;
    deferred.promise().fail([&](const std::exception_ptr& e) {
      type_error = is_type_error(e);
      return 0;
    });
    t.run();
    CHECK(type_error);
    REQUIRE(t.loop.close() == 0);
  }
  SECTION("two promises adopting each other (note 3.6: a detected cycle)") {
    PromiseLoop t;
    Promise<int> first;
    Promise<int> second;
    first = common::resolved(1).then([&](int) { return second; });
    second = common::resolved(2).then([&](int) { return first; });
    int type_errors = 0;
    auto count = [&](const std::exception_ptr& e) {
      type_errors += is_type_error(e) ? 1 : 0;
      return 0;
    };
    first.fail(count);
    second.fail(count);
    t.run();
    CHECK(type_errors == 2);  // second detects the cycle; first adopts second's rejection
    first = {};
    second = {};
    REQUIRE(t.loop.close() == 0);
  }
}

// Each new deferred adopts the promise of the one before, which already adopts its own
// predecessor: the cycle check must not walk the whole chain again at every link.
TEST_CASE("2.3.2: a chain of adoptions built inside out costs one step per link",
          "[promise][aplus]") {
  PromiseLoop t;
  constexpr int kLinks = 100000;  // a walk per link would take minutes here
  auto started = std::chrono::steady_clock::now();
  Deferred<int> root;
  std::vector<Deferred<int>> links(kLinks);
  links[0].resolve(root.promise());
  for (int i = 1; i < kLinks; ++i) links[i].resolve(links[i - 1].promise());
  int seen = 0;
  links.back().promise().then([&](int v) { seen = v; });
  root.resolve(7);
  t.run();
  CHECK(seen == 7);
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(10));
  links.clear();
  REQUIRE(t.loop.close() == 0);
}

TEST_CASE("2.3.2.1: adopting a pending promise stays pending until it settles",
          "[promise][aplus]") {
  PromiseLoop t;
  Deferred<int> inner;
  Deferred<int> outer;
  outer.resolve(inner.promise());
  outer.reject(reason("ignored: outer is already resolved to inner"));
  bool pending_at_timer = false;
  int value = 0;
  outer.promise().then([&](int v) { value = v; });
  after(t.loop, 10, [&, inner, outer] {
    pending_at_timer = outer.promise().is_pending();
    inner.resolve(3);
  });
  t.run();
  CHECK(pending_at_timer);
  CHECK(value == 3);
  REQUIRE(t.loop.close() == 0);
}

TEST_CASE("2.3.2.2: adopting a promise that fulfils fulfils with the same value",
          "[promise][aplus]") {
  with_fulfilled(Sentinel{8}, [](PromiseLoop&, const Promise<Sentinel>& inner) {
    auto seen = std::make_shared<int>(0);
    common::resolved(0).then([inner](int) { return inner; }).then([seen](const Sentinel& s) {
      *seen += s.id;
    });
    Deferred<Sentinel> deferred;
    deferred.resolve(inner);
    deferred.promise().then([seen](const Sentinel& s) { *seen += s.id * 100; });
    return [seen] { CHECK(*seen == 808); };
  });
}

TEST_CASE("2.3.2.3: adopting a promise that rejects rejects with the same reason",
          "[promise][aplus]") {
  auto error = reason("inner reason");
  with_rejected<int>(error, [error](PromiseLoop&, const Promise<int>& inner) {
    auto seen = std::make_shared<std::vector<std::exception_ptr>>();
    auto keep = [seen](const std::exception_ptr& e) {
      seen->push_back(e);
      return 0;
    };
    common::resolved(0).then([inner](int) { return inner; }).fail(keep);
    Deferred<int> deferred;
    deferred.resolve(inner);
    deferred.promise().fail(keep);
    return [seen, error] {
      REQUIRE(seen->size() == 2);
      CHECK((*seen)[0] == error);
      CHECK((*seen)[1] == error);
    };
  });
}

TEST_CASE("2.3.3.3.3 (analogue): the first resolver call wins, later ones are ignored",
          "[promise][aplus]") {
  PromiseLoop t;
  std::vector<std::string> outcomes;
  auto record = [&](const Promise<std::string>& p) {
    p.then([&](const std::string& v) { outcomes.push_back("value " + v); },
           [&](const std::exception_ptr& e) { outcomes.push_back("reason " + what(e)); });
  };
  Deferred<std::string> resolve_then_reject;
  resolve_then_reject.resolve("first");
  resolve_then_reject.reject(reason("second"));
  resolve_then_reject.resolve("third");
  record(resolve_then_reject.promise());
  Deferred<std::string> reject_then_resolve;
  reject_then_resolve.reject(reason("first"));
  reject_then_resolve.resolve("second");
  record(reject_then_resolve.promise());
  Deferred<std::string> resolve_with_pending_then_again;  // locked in to the pending promise
  Deferred<std::string> pending;
  resolve_with_pending_then_again.resolve(pending.promise());
  resolve_with_pending_then_again.resolve("ignored");
  record(resolve_with_pending_then_again.promise());
  after(t.loop, 5, [pending] { pending.resolve("adopted"); });
  t.run();
  CHECK(outcomes == std::vector<std::string>{"value first", "reason first", "value adopted"});
  REQUIRE(t.loop.close() == 0);
}

TEST_CASE("2.3.3.3.4.1 (analogue): a throw after the callback was called is ignored",
          "[promise][aplus]") {
  PromiseLoop t;
  auto calls_back_then_throws = common::nfbind<int>(
      [](const std::function<void(std::optional<common::Error>, int)>& callback) {
        callback(std::nullopt, 1);
        throw std::runtime_error("after the callback");
      });
  int value = 0;
  calls_back_then_throws().then([&](int v) { value = v; });
  t.run();
  CHECK(value == 1);
  REQUIRE(t.loop.close() == 0);
}

TEST_CASE("2.3.4: a plain value fulfils the promise", "[promise][aplus]") {
  PromiseLoop t;
  std::string seen;
  common::resolved(0)
      .then([](int) { return std::string("plain"); })
      .then([&](const std::string& s) { seen = s; });
  t.run();
  CHECK(seen == "plain");
  REQUIRE(t.loop.close() == 0);
}

TEST_CASE("note 3.6: long chains of adopted promises have no depth limit", "[promise][aplus]") {
  PromiseLoop t;
  constexpr int kDepth = 100000;
  // count_down(n) returns a promise that adopts count_down(n - 1): a chain kDepth promises deep.
  std::function<Promise<int>(int)> count_down = [&](int n) -> Promise<int> {
    if (n == 0) return common::resolved(0);
    return common::resolved(n).then([&](int m) { return count_down(m - 1); });
  };
  int result = -1;
  count_down(kDepth).then([&](int v) { result = v; });
  t.run();
  CHECK(result == 0);
  REQUIRE(t.loop.close() == 0);
}
