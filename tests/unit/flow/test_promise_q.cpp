// Q 1.5.1 behaviours of common::Promise beyond Promises/A+ (docs/promises.md §2, §6–§14): all,
// spread, fin, fail, nfbind, deferreds, unhandled-rejection reports; and what the C++ port adds:
// the scheduler leaves nothing open behind it, move-only values, and no leaks when chains are
// abandoned or the loop stops with promises pending.
#include <chrono>
#include <memory>
#include <string>
#include <tuple>
#include <variant>
#include <vector>

#include "common/json.h"
#include "tests/unit/flow/promise_support.h"

using common::Deferred;
using common::Promise;
using promise_test::after;
using promise_test::delay;
using promise_test::delay_reject;
using promise_test::PromiseLoop;
using promise_test::reason;
using promise_test::what;

namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// A Node-style function, as stage code has them: calls back later, from a timer.
void lookup_user(uv_loop_t* loop, int id,
                 std::function<void(std::optional<common::Error>, std::string)> callback) {
  after(*loop, 1, [id, callback = std::move(callback)] {
    if (id > 0) {
      callback(std::nullopt, "user " + std::to_string(id));
    } else {
      callback(common::Error{"ENOTFOUND", "no user " + std::to_string(id)}, "");
    }
  });
}

// Like the tutorial's Broker: a member function whose last parameter is the callback.
struct FakeBroker {
  int queries = 0;
  void query(const std::string& bucket, int id,
             const std::function<void(std::optional<common::Error>, common::Json)>& callback) {
    ++queries;
    common::Json result;
    result.SetObject();
    result.AddMember("bucket", rapidjson::Value(bucket.c_str(), result.GetAllocator()),
                     result.GetAllocator());
    result.AddMember("id", id, result.GetAllocator());
    callback(std::nullopt, std::move(result));
  }
};

}  // namespace

// ---- all -----------------------------------------------------------------------------------

TEST_CASE("Q all: results come in input order, whatever the completion order", "[promise][q]") {
  PromiseLoop t;
  std::vector<Promise<std::string>> inputs{
      delay<std::string>(t.loop, 20, "a"), common::resolved(std::string("b")),
      delay<std::string>(t.loop, 5, "c"), common::resolved(std::string("d"))};
  std::vector<std::string> result;
  common::all(inputs).then([&](std::vector<std::string> values) { result = std::move(values); });
  t.run();
  CHECK(result == std::vector<std::string>{"a", "b", "c", "d"});
  REQUIRE(t.loop.close() == 0);
}

TEST_CASE("Q all: the first rejection in time wins, not the lowest index", "[promise][q]") {
  PromiseLoop t;
  auto start = Clock::now();
  std::vector<Promise<int>> inputs{delay_reject<int>(t.loop, 60, "slow, index 0"),
                                   delay_reject<int>(t.loop, 5, "fast, index 1"),
                                   delay(t.loop, 1, 2)};
  std::string winner;
  double rejected_after = 0;
  common::all(inputs).then([](const std::vector<int>&) { FAIL("all() fulfilled"); },
                           [&](const std::exception_ptr& e) {
                             winner = what(e);
                             rejected_after = ms_since(start);
                           });
  t.run();  // runs until the slow rejection is done too: nothing is cancelled, nothing reported
  CHECK(winner == "fast, index 1");
  CHECK(rejected_after < 50);
  REQUIRE(t.loop.close() == 0);
}

TEST_CASE("Q all: an empty input fulfils with an empty vector, asynchronously", "[promise][q]") {
  PromiseLoop t;
  bool called = false;
  common::all(std::vector<Promise<int>>{}).then([&](const std::vector<int>& values) {
    CHECK(values.empty());
    called = true;
  });
  CHECK_FALSE(called);
  t.run();
  CHECK(called);
  REQUIRE(t.loop.close() == 0);
}

TEST_CASE("Q all: promises of different types give a tuple, unpacked by spread", "[promise][q]") {
  PromiseLoop t;
  std::string seen;
  auto done =
      common::all(delay(t.loop, 5, 3), common::resolved(std::string("posts")), common::resolved())
          .spread([&](int n, const std::string& s, std::monostate) {
            seen = std::to_string(n) + " " + s;
          });
  static_assert(std::is_same_v<decltype(done), Promise<void>>);
  t.run();
  CHECK(seen == "3 posts");
  REQUIRE(t.loop.close() == 0);
}

TEST_CASE("Q all: void inputs give a Promise<void>, a tuple rejects on the first rejection",
          "[promise][q]") {
  PromiseLoop t;
  bool all_void_done = false;
  common::all(std::vector<Promise<void>>{common::resolved(), common::resolved()}).then([&] {
    all_void_done = true;
  });
  std::string reason_seen;
  common::all(delay(t.loop, 20, 1), delay_reject<std::string>(t.loop, 5, "comments failed"))
      .spread([](int, const std::string&) {},
              [&](const std::exception_ptr& e) { reason_seen = what(e); });
  t.run();
  CHECK(all_void_done);
  CHECK(reason_seen == "comments failed");
  REQUIRE(t.loop.close() == 0);
}

// ---- spread --------------------------------------------------------------------------------

TEST_CASE("Q spread: the tuple of all(a, b, c) becomes arguments, then() takes all(v) whole",
          "[promise][q]") {
  PromiseLoop t;
  int sum = 0;
  std::size_t size = 0;
  common::all(common::resolved(1), delay(t.loop, 2, 2), common::resolved(3))
      .spread([&](int a, int b, int c) { sum = a * 100 + b * 10 + c; });
  std::vector<Promise<int>> three{common::resolved(1), delay(t.loop, 2, 2), common::resolved(3)};
  common::all(three).then([&](const std::vector<int>& whole) { size = whole.size(); });
  t.run();
  CHECK(sum == 123);
  CHECK(size == 3);
  REQUIRE(t.loop.close() == 0);
}

TEST_CASE("Q spread: onRejected sees an element's rejection, not the handler's own throw",
          "[promise][q]") {
  PromiseLoop t;
  std::vector<std::string> seen;
  common::all(common::resolved(1), common::rejected<int>(reason("element")))
      .spread([](int, int) {},
              [&](const std::exception_ptr& e) { seen.push_back("onRejected " + what(e)); });
  common::all(common::resolved(1), common::resolved(2))
      .spread([](int, int) { throw std::runtime_error("from the handler"); },
              [&](const std::exception_ptr& e) { seen.push_back("onRejected " + what(e)); })
      .fail([&](const std::exception_ptr& e) { seen.push_back("next " + what(e)); });
  t.run();
  CHECK(seen == std::vector<std::string>{"onRejected element", "next from the handler"});
  REQUIRE(t.loop.close() == 0);
}

// ---- fail / fin ----------------------------------------------------------------------------

TEST_CASE("Q fail: recovers with its result, a value passes through, gets common::Error",
          "[promise][q]") {
  PromiseLoop t;
  std::vector<std::string> seen;
  common::rejected<std::string>(common::Error{"ENOTFOUND", "no such user"})
      .fail([](const common::Error& e) { return e.code + ": " + e.message; })
      .then([&](const std::string& s) { seen.push_back(s); });
  common::resolved(std::string("value"))
      .catch_([](const std::exception_ptr&) { return std::string("not called"); })
      .then([&](const std::string& s) { seen.push_back(s); });
  t.run();
  CHECK(seen == std::vector<std::string>{"ENOTFOUND: no such user", "value"});
  REQUIRE(t.loop.close() == 0);
}

TEST_CASE("Q fin: runs on both outcomes and passes the original outcome on", "[promise][q]") {
  PromiseLoop t;
  std::vector<std::string> seen;
  common::resolved(std::string("orig"))
      .fin([&] { seen.push_back("fin 1"); })
      .then([&](const std::string& v) { seen.push_back("value " + v); });
  common::rejected<int>(reason("orig reason"))
      .finally([&] {
        seen.push_back("fin 2");
        return 42;  // ignored
      })
      .fail([&](const std::exception_ptr& e) {
        seen.push_back("reason " + what(e));
        return 0;
      });
  t.run();
  CHECK(seen == std::vector<std::string>{"fin 1", "fin 2", "value orig", "reason orig reason"});
  REQUIRE(t.loop.close() == 0);
}

TEST_CASE("Q fin: a promise returned by the callback delays the outcome", "[promise][q]") {
  PromiseLoop t;
  auto start = Clock::now();
  double fulfilled_after = 0;
  double rejected_after = 0;
  std::string value;
  std::string reason_seen;
  uv_loop_t* loop = &t.loop.get();
  common::resolved(std::string("orig"))
      .fin([loop] { return delay(*loop, 30, 0); })
      .then([&](const std::string& v) {
        value = v;
        fulfilled_after = ms_since(start);
      });
  common::rejected<int>(reason("orig reason"))
      .fin([loop] { return delay(*loop, 30, std::string("ignored")); })
      .fail([&](const std::exception_ptr& e) {
        reason_seen = what(e);
        rejected_after = ms_since(start);
        return 0;
      });
  t.run();
  CHECK(value == "orig");
  CHECK(reason_seen == "orig reason");
  CHECK(fulfilled_after >= 25);
  CHECK(rejected_after >= 25);
  REQUIRE(t.loop.close() == 0);
}

TEST_CASE("Q fin: a throw, or a rejected promise, from the callback replaces the outcome",
          "[promise][q]") {
  PromiseLoop t;
  std::vector<std::string> seen;
  auto keep = [&](const std::exception_ptr& e) {
    seen.push_back(what(e));
    return 0;
  };
  common::resolved(1).fin([] { throw std::runtime_error("fin threw"); }).fail(keep);
  common::rejected<int>(reason("original"))
      .fin([] { throw std::runtime_error("fin threw again"); })
      .fail(keep);
  uv_loop_t* loop = &t.loop.get();
  common::resolved(2)
      .fin([loop] { return delay_reject<void>(*loop, 5, "fin's promise rejected"); })
      .fail(keep);
  t.run();
  CHECK(seen == std::vector<std::string>{"fin threw", "fin threw again", "fin's promise rejected"});
  REQUIRE(t.loop.close() == 0);
}

// ---- nfbind / partial ----------------------------------------------------------------------

TEST_CASE("Q nfbind: a value fulfils, an error rejects with its common::Error", "[promise][q]") {
  PromiseLoop t;
  auto find_user = common::nfbind(lookup_user, &t.loop.get());  // deduced from std::function
  std::string found;
  common::Error error;
  find_user(7).then([&](const std::string& user) { found = user; });
  find_user(-1).then([](const std::string&) { FAIL("fulfilled"); },
                     [&](const common::Error& e) { error = e; });
  t.run();
  CHECK(found == "user 7");
  CHECK(error.code == "ENOTFOUND");
  CHECK(error.message == "no user -1");
  REQUIRE(t.loop.close() == 0);
}

TEST_CASE("Q nfbind: the wrapped function is not called synchronously", "[promise][q]") {
  PromiseLoop t;
  bool called = false;
  auto wrapped =
      common::nfbind<int>([&](const std::function<void(std::optional<common::Error>, int)>& cb) {
        called = true;
        cb(std::nullopt, 1);
      });
  auto promise = wrapped();
  CHECK_FALSE(called);
  CHECK(promise.is_pending());
  t.run();
  CHECK(called);
  CHECK(promise.is_fulfilled());
  REQUIRE(t.loop.close() == 0);
}

TEST_CASE("Q nfbind: a synchronous throw inside becomes a rejection", "[promise][q]") {
  PromiseLoop t;
  auto throws =
      common::nfbind<int>([](int, const std::function<void(std::optional<common::Error>, int)>&) {
        throw std::invalid_argument("bad query");
      });
  Promise<int> promise;
  REQUIRE_NOTHROW(promise = throws(1));  // not an exception out of the wrapper
  std::string seen;
  promise.fail([&](const std::exception_ptr& e) {
    seen = what(e);
    return 0;
  });
  t.run();
  CHECK(seen == "bad query");
  REQUIRE(t.loop.close() == 0);
}

TEST_CASE("Q nfbind: bound arguments, several values, no value, move-only values", "[promise][q]") {
  PromiseLoop t;
  std::vector<std::string> seen;
  // nfbind(f, 10)(5) calls f(10, 5, callback).
  auto subtract = common::nfbind<int>(
      [](int a, int b, const std::function<void(std::optional<common::Error>, int)>& cb) {
        cb(std::nullopt, a - b);
      },
      10);
  subtract(5).then([&](int v) { seen.push_back("10-5=" + std::to_string(v)); });
  // (error, a, b) → tuple(a, b), which spread unpacks.
  auto pair = common::nfbind<int, std::string>(
      [](const std::function<void(std::exception_ptr, int, std::string)>& cb) {
        cb(nullptr, 1, "one");
      });
  pair().spread([&](int n, const std::string& s) { seen.push_back(std::to_string(n) + s); });
  // (error) alone → Promise<void>.
  auto nothing = common::nfbind<void>(
      [](const std::function<void(std::optional<common::Error>)>& cb) { cb(std::nullopt); });
  nothing().then([&] { seen.push_back("void"); });
  // A member function with the object bound first; the value is a move-only common::Json.
  FakeBroker broker;
  auto query = common::nfbind(&FakeBroker::query, &broker);
  query("posts", 3).then([&](const common::Json& json) { seen.push_back(common::to_json(json)); });
  // partial (underscore's _.partial) with named value types.
  auto users = common::nfbind<common::Json>(common::partial(&FakeBroker::query, &broker, "users"));
  users(4).then([&](const common::Json& json) { seen.push_back(common::to_json(json)); });
  // A generic callable may call back with std::nullopt, a plain common::Error or nullptr.
  auto generic = common::nfbind<int>([](int n, auto cb) {
    if (n == 1) return cb(std::nullopt, 1);
    if (n == 2) return cb(common::Error{"EPLAIN", "a plain error"}, 0);
    cb(nullptr, 3);
  });
  for (int n : {1, 2, 3})
    generic(n).then([&](int v) { seen.push_back("generic " + std::to_string(v)); },
                    [&](const common::Error& e) { seen.push_back("generic " + e.code); });
  t.run();
  CHECK(seen == std::vector<std::string>{"10-5=5", "1one", "void", R"({"bucket":"posts","id":3})",
                                         R"({"bucket":"users","id":4})", "generic 1",
                                         "generic EPLAIN", "generic 3"});
  CHECK(broker.queries == 2);
  REQUIRE(t.loop.close() == 0);
}

TEST_CASE("Q partial: binds arguments from the left, like _.partial", "[promise][q]") {
  auto set_header = [](int status, const std::string& body) {
    return std::to_string(status) + " " + body;
  };
  auto set200 = common::partial(set_header, 200);
  CHECK(set200("ok") == "200 ok");
}

// ---- deferred ------------------------------------------------------------------------------

TEST_CASE("Q defer: one-shot, shared by copies, adopts a promise", "[promise][q]") {
  PromiseLoop t;
  std::vector<std::string> seen;
  auto record = [&](const Promise<int>& p) {
    p.then([&](int v) { seen.push_back(std::to_string(v)); },
           [&](const std::exception_ptr& e) { seen.push_back(what(e)); });
  };
  Deferred<int> twice;
  Deferred<int> copy = twice;  // NOLINT(performance-unnecessary-copy-initialization): tested
  twice.resolve(1);
  copy.resolve(2);
  copy.reject(reason("ignored"));
  record(copy.promise());
  Deferred<int> adopts_rejection;
  adopts_rejection.resolve(common::rejected<int>(reason("adopted reason")));
  record(adopts_rejection.promise());
  Deferred<void> plain;
  plain.resolve();
  plain.promise().then([&] { seen.push_back("void"); });
  t.run();
  CHECK(seen == std::vector<std::string>{"1", "void", "adopted reason"});
  REQUIRE(t.loop.close() == 0);
}

// ---- unhandled rejections ------------------------------------------------------------------

TEST_CASE("Q unhandled rejection: reported when a rejected promise dies unhandled",
          "[promise][q]") {
  PromiseLoop t;
  auto before = common::unhandled_rejection_count();
  common::rejected<int>(reason("nobody handles me"));  // dropped at once
  Deferred<int> later;
  later.promise().then([](int v) { return v; });  // the end of this chain has no handler
  later.reject(reason("end of the chain"));
  t.run();
  REQUIRE(t.rejections.reasons ==
          std::vector<std::string>{"nobody handles me", "end of the chain"});
  CHECK(common::unhandled_rejection_count() == before + 2);
  t.rejections.reasons.clear();
  REQUIRE(t.loop.close() == 0);
}

TEST_CASE("Q unhandled rejection: not reported when handled, chained off, or resolved first",
          "[promise][q]") {
  PromiseLoop t;
  auto before = common::unhandled_rejection_count();
  common::rejected<int>(reason("handled")).fail([](const std::exception_ptr&) { return 0; });
  // Chaining off a rejection: only the chain's end could report, and it is handled.
  common::rejected<int>(reason("chained"))
      .then([](int v) { return v + 1; })
      .then([](int v) { return v + 1; })
      .fail([](const std::exception_ptr&) { return 0; });
  Deferred<int> resolve_then_reject;  // gh-252
  resolve_then_reject.resolve(1);
  resolve_then_reject.reject(reason("ignored"));
  // Handled later, from a timer, before the promise dies.
  auto handled_later = common::rejected<int>(reason("handled later"));
  after(t.loop, 5, [&] {
    handled_later.fail([](const std::exception_ptr&) { return 0; });
    handled_later = {};
  });
  t.run();
  CHECK(t.rejections.reasons.empty());
  CHECK(common::unhandled_rejection_count() == before);
  REQUIRE(t.loop.close() == 0);
}

// ---- the scheduler and ownership -----------------------------------------------------------

TEST_CASE(
    "scheduler: jobs run FIFO, with none waiting, it neither keeps the loop alive nor is open",
    "[promise][q]") {
  PromiseLoop t;
  std::vector<int> order;
  t.scheduler.post([&] { order.push_back(1); });
  common::resolved(0).then([&](int) { order.push_back(2); });
  t.scheduler.post([&] {
    order.push_back(3);
    t.scheduler.post([&] { order.push_back(5); });  // queued while draining: same drain, last
  });
  common::resolved(0).then([&](int) { order.push_back(4); });
  CHECK(t.scheduler.queued() == 4);
  Deferred<int> never;  // pending forever: must not keep run() from returning
  never.promise().then([](int) {});
  t.run();
  CHECK(order == std::vector<int>{1, 2, 3, 4, 5});
  CHECK(t.scheduler.queued() == 0);
  REQUIRE(t.loop.close() == 0);  // with the scheduler still alive: nothing of it is open
}

TEST_CASE("scheduler: without one, scheduling fails loudly", "[promise][q]") {
  auto settled = common::resolved(1);  // settling with no handler needs no scheduler
  REQUIRE_THROWS_AS(settled.then([](int) {}), std::logic_error);
  REQUIRE_THROWS_AS(common::PromiseScheduler::current(), std::logic_error);
  common::Loop loop;
  {
    common::PromiseScheduler scheduler(loop);
    REQUIRE_THROWS_AS(common::PromiseScheduler(loop), std::logic_error);  // one per thread
  }
  REQUIRE(loop.close() == 0);
}

TEST_CASE("ownership: an abandoned pending chain is freed", "[promise][q]") {
  auto baseline = common::live_promise_states();
  {
    PromiseLoop t;
    {
      Deferred<int> root;
      auto end = root.promise().then([](int v) { return v; }).fin([] {}).then([&](int) {
        return delay(t.loop, 1, 1);
      });
      common::all(end, root.promise()).spread([](int, int) {});
      CHECK(common::live_promise_states() > baseline);
    }  // root's producer and every consumer handle gone: the chain goes with them
    CHECK(common::live_promise_states() == baseline);
    t.run();
    REQUIRE(t.loop.close() == 0);
  }
}

TEST_CASE("ownership: a million-long abandoned chain is freed without deep recursion",
          "[promise][q]") {
  auto baseline = common::live_promise_states();
  PromiseLoop t;
  {
    Deferred<int> root;
    Promise<int> end = root.promise();
    for (int i = 0; i < 1000000; ++i) end = end.then([](int v) { return v + 1; });
  }
  CHECK(common::live_promise_states() == baseline);
  REQUIRE(t.loop.close() == 0);
}

TEST_CASE("ownership: a handler capturing its own deferred is freed by shutdown", "[promise][q]") {
  auto baseline = common::live_promise_states();
  {
    PromiseLoop t;
    {
      Deferred<int> deferred;
      // A cycle: deferred's promise → then-promise → handler → deferred. Never resolved.
      deferred.promise().then([deferred](int v) { deferred.resolve(v); });
    }
    t.run();
    CHECK(common::live_promise_states() > baseline);  // the cycle keeps itself alive...
    t.scheduler.shutdown();
    CHECK(common::live_promise_states() == baseline);  // ...until the scheduler shuts down
    REQUIRE(t.loop.close() == 0);
  }
}

TEST_CASE("ownership: stopping the loop with jobs queued leaks nothing", "[promise][q]") {
  auto baseline = common::live_promise_states();
  {
    PromiseLoop t;
    Deferred<int> pending;
    auto chain = pending.promise().then([](int v) { return v; });
    t.scheduler.post([] { throw std::runtime_error("stop"); });  // a failing task stops the loop
    for (int i = 0; i < 10; ++i) common::resolved(i).then([](int v) { return v; });
    REQUIRE_THROWS_WITH(t.run(), "stop");
    CHECK(t.scheduler.queued() == 10);  // the jobs behind it never ran
    t.scheduler.shutdown();             // drops the jobs
    REQUIRE(t.loop.close() == 0);
  }
  CHECK(common::live_promise_states() == baseline);
}

TEST_CASE("move-only values travel along a chain", "[promise][q]") {
  PromiseLoop t;
  int seen = 0;
  common::resolved(std::make_unique<int>(5))
      .then([](std::unique_ptr<int> p) {
        *p += 1;
        return p;
      })
      .fin([] {})
      .then([&](std::unique_ptr<int> p) { seen = *p; });
  // Handlers may read a move-only value by const reference; the first one taking it by value
  // gets it, and a handler reached after that is told.
  auto shared = common::resolved(std::make_unique<int>(1));
  std::vector<std::string> steps;
  shared.then(
      [&](const std::unique_ptr<int>& p) { steps.push_back("read " + std::to_string(*p)); });
  shared.then([&](std::unique_ptr<int> p) { steps.push_back("took " + std::to_string(*p)); });
  shared.then([](std::unique_ptr<int>) {}).fail([&](const std::exception_ptr& e) {
    steps.push_back(what(e));
  });
  // Adopting a value someone already took rejects the adopter (and does not stop the loop).
  Deferred<std::unique_ptr<int>> adopter;
  adopter.resolve(shared);
  adopter.promise().fail([&](const std::exception_ptr& e) {
    steps.push_back("adopter: " + what(e));
    return std::unique_ptr<int>();
  });
  t.run();
  const std::string taken = "a move-only promise value was already taken by another handler";
  CHECK(seen == 6);
  CHECK(steps == std::vector<std::string>{"read 1", "took 1", taken, "adopter: " + taken});
  REQUIRE(t.loop.close() == 0);
}

TEST_CASE("Q spread: a tuple of move-only values from all(a, b) is moved into the handler",
          "[promise][q]") {
  PromiseLoop t;
  FakeBroker broker;
  auto query = common::nfbind(&FakeBroker::query, &broker);
  std::string seen;
  common::all(query("posts", 1), query("comments", 1))
      .spread([&](const common::Json& posts, const common::Json& comments) {
        seen = common::to_json(posts) + common::to_json(comments);
      });
  t.run();
  CHECK(seen == R"({"bucket":"posts","id":1}{"bucket":"comments","id":1})");
  REQUIRE(t.loop.close() == 0);
}

TEST_CASE("race: the first promise to settle decides, fulfilled or rejected", "[promise][q]") {
  PromiseLoop t;
  std::vector<std::string> seen;
  auto keep = [&](const Promise<std::string>& p) {
    p.then([&](const std::string& v) { seen.push_back(v); },
           [&](const std::exception_ptr& e) { seen.push_back("rejected " + what(e)); });
  };
  keep(common::race(std::vector<Promise<std::string>>{delay<std::string>(t.loop, 30, "slow"),
                                                      delay<std::string>(t.loop, 5, "fast")}));
  keep(common::race(std::vector<Promise<std::string>>{
      delay<std::string>(t.loop, 30, "slow"), delay_reject<std::string>(t.loop, 10, "fast")}));
  t.run();
  CHECK(seen == std::vector<std::string>{"fast", "rejected fast"});
  REQUIRE(t.loop.close() == 0);
}

TEST_CASE("scheduler: shutdown from inside a handler waits for that handler to return",
          "[promise][q]") {
  PromiseLoop t;
  std::vector<std::string> steps;
  auto captured = std::make_shared<int>(7);
  common::resolved(1).then([&, captured](int) {
    t.scheduler.shutdown();
    steps.push_back("handler still alive: " + std::to_string(*captured));
  });
  common::resolved(2).then([&](int) { steps.push_back("dropped by shutdown"); });
  t.run();
  CHECK(steps == std::vector<std::string>{"handler still alive: 7"});
  CHECK(captured.use_count() == 1);  // the handler was freed afterwards
  REQUIRE(t.loop.close() == 0);
}
