// Tests for common/flow/auto.h, each modelled on a case of caolan/async's test/auto.js (named in a
// comment) or on an item of docs/auto.md (cited by number). Every test runs on a
// private loop with uv timers standing in for slow queries, and ends with loop.close() == 0.
#include "common/flow/auto.h"

#include <algorithm>
#include <functional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "common/uv/loop.h"
#include "tests/support/catch.h"

using common::Done;
using common::Results;
using common::Task;

namespace {

// Calls fn once after ms milliseconds; the timer frees itself in its close callback.
void after(uv_loop_t& loop, uint64_t ms, std::function<void()> fn) {
  struct Timer {
    uv_timer_t handle{};
    std::function<void()> fn;
  };
  auto* timer = new Timer{{}, std::move(fn)};
  common::check(uv_timer_init(&loop, &timer->handle), "uv_timer_init");
  timer->handle.data = timer;
  auto on_timeout = [](uv_timer_t* handle) {
    auto* fired = static_cast<Timer*>(handle->data);
    uv_close(reinterpret_cast<uv_handle_t*>(handle),
             [](uv_handle_t* closed) { delete static_cast<Timer*>(closed->data); });
    common::guard(*handle->loop, [fired] { fired->fn(); });
  };
  common::check(uv_timer_start(&timer->handle, on_timeout, ms, 0), "uv_timer_start");
}

// What the final callback received, and how many times it was called.
struct Outcome {
  int calls = 0;
  std::optional<common::Error> error;
  Results results;

  common::FinalCallback callback() {
    return [this](std::optional<common::Error> e, Results r) {
      ++calls;
      error = std::move(e);
      results = std::move(r);
    };
  }
};

// A task that notes its name in `order` when it starts and calls back synchronously.
common::TaskFunction note(std::vector<std::string>& order, std::string name) {
  return [&order, name = std::move(name)](const Results&, Done done) {
    order.push_back(name);
    done(std::nullopt);
  };
}

// A task that calls back `ms` milliseconds after it starts, noting its name in `order` then.
common::TaskFunction note_after(uv_loop_t& loop, std::vector<std::string>& order, std::string name,
                                uint64_t ms) {
  return [&loop, &order, name = std::move(name), ms](const Results&, Done done) {
    after(loop, ms, [&order, name, done] {
      order.push_back(name);
      done(std::nullopt);
    });
  };
}

std::string text(const rapidjson::Value& value) {
  return common::to_json(value);
}

// "t7". Appending, not "t" + std::to_string(i): gcc 12 warns falsely (-Wrestrict) on the latter.
std::string numbered(const char* prefix, int i) {
  std::string name = prefix;
  name += std::to_string(i);
  return name;
}

}  // namespace

// async: 'basics'
TEST_CASE("auto starts each task when its dependencies succeed, ready tasks in declaration order",
          "[auto]") {
  common::Loop loop;
  std::vector<std::string> order;
  Outcome outcome;
  common::auto_run(loop,
                   {
                       {"task1", {"task2"}, note_after(loop, order, "task1", 25)},
                       {"task2", {}, note_after(loop, order, "task2", 50)},
                       {"task3", {"task2"}, note(order, "task3")},
                       {"task4", {"task1", "task2"}, note(order, "task4")},
                       {"task5", {"task2"}, note_after(loop, order, "task5", 0)},
                       {"task6", {"task2"}, note(order, "task6")},
                   },
                   outcome.callback());
  common::run_loop(loop);
  CHECK(outcome.calls == 1);
  CHECK_FALSE(outcome.error);
  CHECK(order == std::vector<std::string>{"task2", "task3", "task6", "task5", "task1", "task4"});
  CHECK(outcome.results.as_json().MemberCount() == 6);
  REQUIRE(loop.close() == 0);
}

// async: 'auto petrify'
TEST_CASE("auto: a dependency is satisfied by its callback, not by the clock", "[auto]") {
  common::Loop loop;
  std::vector<std::string> order;
  Outcome outcome;
  common::auto_run(loop,
                   {
                       {"task1", {"task2"}, note_after(loop, order, "task1", 10)},
                       {"task2", {}, note_after(loop, order, "task2", 20)},
                       {"task3", {"task2"}, note(order, "task3")},
                       {"task4", {"task1", "task2"}, note(order, "task4")},
                   },
                   outcome.callback());
  common::run_loop(loop);
  CHECK(outcome.calls == 1);
  CHECK(order == std::vector<std::string>{"task2", "task3", "task1", "task4"});
  REQUIRE(loop.close() == 0);
}

// async: 'auto results'
TEST_CASE("auto results: one value, several values as an array, no value as a present null",
          "[auto]") {
  common::Loop loop;
  std::vector<std::string> order;
  std::vector<std::string> seen;
  Outcome outcome;
  common::auto_run(loop,
                   {
                       {"task1",
                        {"task2"},
                        [&](const Results& r, Done done) {
                          seen.push_back("task1 sees task2=" + text(r["task2"]));
                          after(loop, 25, [&order, done] {
                            order.push_back("task1");
                            done(std::nullopt, "task1a", "task1b");
                          });
                        }},
                       {"task2",
                        {},
                        [&](const Results&, Done done) {
                          after(loop, 50, [&order, done] {
                            order.push_back("task2");
                            done(std::nullopt, "task2");
                          });
                        }},
                       {"task3",
                        {"task2"},
                        [&](const Results& r, Done done) {
                          seen.push_back("task3 sees task2=" + text(r["task2"]));
                          order.push_back("task3");
                          done(std::nullopt);
                        }},
                       {"task4",
                        {"task1", "task2"},
                        [&](const Results& r, Done done) {
                          seen.push_back("task4 sees task1=" + text(r["task1"]));
                          order.push_back("task4");
                          done(std::nullopt, "task4");
                        }},
                   },
                   outcome.callback());
  common::run_loop(loop);
  REQUIRE(outcome.calls == 1);
  CHECK_FALSE(outcome.error);
  CHECK(order == std::vector<std::string>{"task2", "task3", "task1", "task4"});
  CHECK(seen == std::vector<std::string>{"task1 sees task2=\"task2\"", "task3 sees task2=\"task2\"",
                                         "task4 sees task1=[\"task1a\",\"task1b\"]"});
  CHECK(text(outcome.results.as_json()) ==
        R"({"task1":["task1a","task1b"],"task2":"task2","task3":null,"task4":"task4"})");
  CHECK(outcome.results.has("task3"));  // present, like `'task3' in results` in async
  CHECK(outcome.results["task3"].IsNull());
  REQUIRE(loop.close() == 0);
}

// docs/auto.md item 6 (async: 'should work as an embedded task' asserts one shared
// object): a task sees the live results, which keep growing after it started.
TEST_CASE("auto hands every task the same live results object", "[auto]") {
  common::Loop loop;
  bool slow_seen_at_start = true;
  bool slow_seen_later = false;
  const rapidjson::Value* x_seen_by_reader = nullptr;
  Outcome outcome;
  common::auto_run(
      loop,
      {
          {"x", {}, [](const Results&, Done done) { done(std::nullopt, 1); }},
          {"slow",
           {},
           [&](const Results&, Done done) { after(loop, 10, [done] { done(std::nullopt, 2); }); }},
          {"reader",
           {"x"},
           [&](const Results& r, Done done) {
             x_seen_by_reader = &r["x"];
             slow_seen_at_start = r.has("slow");
             after(loop, 30, [&r, &slow_seen_later, done] {
               slow_seen_later = r.has("slow");
               done(std::nullopt, r["x"].GetInt() + r["slow"].GetInt());
             });
           }},
      },
      outcome.callback());
  common::run_loop(loop);
  REQUIRE(outcome.calls == 1);
  CHECK_FALSE(slow_seen_at_start);
  CHECK(slow_seen_later);
  CHECK(&outcome.results["x"] == x_seen_by_reader);  // the very same entries, not a copy
  CHECK(outcome.results["reader"].GetInt() == 3);
  REQUIRE(loop.close() == 0);
}

// async: 'should handle array tasks with just a function' (a → b), grown into a diamond.
TEST_CASE("auto runs a diamond: a, then b and c, then d with both", "[auto]") {
  common::Loop loop;
  std::vector<std::string> order;
  Outcome outcome;
  auto step = [&](std::string name, uint64_t ms) {
    return [&, name = std::move(name), ms](const Results&, Done done) {
      order.push_back(name + " starts");
      after(loop, ms, [&order, name, done] {
        order.push_back(name + " ends");
        done(std::nullopt, name);
      });
    };
  };
  common::auto_run(loop,
                   {
                       {"d",
                        {"b", "c"},
                        [&](const Results& r, Done done) {
                          order.push_back("d starts");
                          done(std::nullopt,
                               r["b"].GetString() + std::string("+") + r["c"].GetString());
                        }},
                       {"c", {"a"}, step("c", 5)},
                       {"b", {"a"}, step("b", 15)},
                       {"a", {}, step("a", 5)},
                   },
                   outcome.callback());
  common::run_loop(loop);
  REQUIRE(outcome.calls == 1);
  CHECK(order == std::vector<std::string>{"a starts", "a ends", "c starts", "b starts", "c ends",
                                          "b ends", "d starts"});
  CHECK(text(outcome.results.as_json()) == R"({"d":"b+c","c":"c","b":"b","a":"a"})");
  REQUIRE(loop.close() == 0);
}

// async: 'auto concurrency'
TEST_CASE("auto never runs more tasks at once than the concurrency limit", "[auto]") {
  const std::size_t limit = GENERATE(std::size_t{1}, std::size_t{2}, std::size_t{3});
  common::Loop loop;
  std::size_t running = 0;
  std::size_t most = 0;
  std::vector<std::string> order;
  auto counted = [&](std::string name) {
    return [&, name = std::move(name)](const Results&, Done done) {
      order.push_back(name);
      most = std::max(most, ++running);
      after(loop, 1, [&running, done] {
        --running;
        done(std::nullopt);
      });
    };
  };
  Outcome outcome;
  common::auto_run(loop,
                   {
                       {"task1", {"task2"}, counted("task1")},
                       {"task2", {}, counted("task2")},
                       {"task3", {"task2"}, counted("task3")},
                       {"task4", {"task1", "task2"}, counted("task4")},
                       {"task5", {"task2"}, counted("task5")},
                       {"task6", {"task2"}, counted("task6")},
                   },
                   limit, outcome.callback());
  common::run_loop(loop);
  CHECK(outcome.calls == 1);
  CHECK(most == limit);  // never more, and the limit was actually reached
  CHECK(order.size() == 6);
  CHECK(order.at(0) == "task2");
  CHECK(order.at(1) == "task1");  // the ready ones start in declaration order
  REQUIRE(loop.close() == 0);
}

// docs/auto.md item 4: 0 (or no limit) means unlimited.
TEST_CASE("auto with concurrency 0 starts every ready task at once", "[auto]") {
  common::Loop loop;
  std::size_t running = 0;
  std::size_t most = 0;
  std::vector<Task> tasks;
  tasks.reserve(20);
  for (int i = 0; i < 20; ++i) {
    tasks.push_back({numbered("t", i), {}, [&](const Results&, Done done) {
                       most = std::max(most, ++running);
                       after(loop, 1, [&running, done] {
                         --running;
                         done(std::nullopt);
                       });
                     }});
  }
  Outcome outcome;
  common::auto_run(loop, std::move(tasks), 0, outcome.callback());
  common::run_loop(loop);
  CHECK(outcome.calls == 1);
  CHECK(most == 20);
  CHECK(outcome.results.as_json().MemberCount() == 20);
  REQUIRE(loop.close() == 0);
}

// async: 'auto error should pass partial results'
TEST_CASE("auto on error passes a copy of the results so far plus the failing task's value",
          "[auto]") {
  common::Loop loop;
  bool task3_started = false;
  Outcome outcome;
  common::auto_run(
      loop,
      {
          {"task1", {}, [](const Results&, Done done) { done(std::nullopt, "result1"); }},
          {"task2",
           {"task1"},
           [](const Results&, Done done) {
             done(common::Error{"ETEST", "testerror"}, "result2");
           }},
          {"task3", {"task2"}, [&](const Results&, Done) { task3_started = true; }},
      },
      outcome.callback());
  CHECK(outcome.calls == 0);  // everything was synchronous, but final waits for the loop
  common::run_loop(loop);
  REQUIRE(outcome.calls == 1);
  REQUIRE(outcome.error);
  CHECK(outcome.error->message == "testerror");
  CHECK_FALSE(task3_started);
  CHECK(text(outcome.results.as_json()) == R"({"task1":"result1","task2":"result2"})");
  REQUIRE(loop.close() == 0);
}

// async: 'ignores results after an error' and 'auto calls callback multiple times with parallel
// functions'; docs/auto.md items 10–13 (error fan-in).
TEST_CASE("auto reports the first error once and drops what running tasks report later", "[auto]") {
  common::Loop loop;
  std::vector<std::string> order;
  Outcome outcome;
  auto fail_after = [&](std::string name, uint64_t ms) {
    return [&, name = std::move(name), ms](const Results&, Done done) {
      after(loop, ms, [&order, name, done] {
        order.push_back(name);
        done(common::Error{"E" + name, name + " failed"}, name + " value");
      });
    };
  };
  Results partial_seen_by_final;
  bool slow_dependent_started = false;
  common::auto_run(
      loop,
      {
          {"first", {}, fail_after("first", 5)},
          {"second", {}, fail_after("second", 10)},
          {"slow", {}, note_after(loop, order, "slow", 30)},
          {"after_slow", {"slow"}, [&](const Results&, Done) { slow_dependent_started = true; }},
      },
      [&](std::optional<common::Error> error, Results results) {
        outcome.callback()(std::move(error), results);
        partial_seen_by_final = results;
      });
  common::run_loop(loop);
  CHECK(order == std::vector<std::string>{"first", "second", "slow"});  // running tasks finished
  REQUIRE(outcome.calls == 1);
  REQUIRE(outcome.error);
  CHECK(outcome.error->code == "Efirst");
  CHECK_FALSE(slow_dependent_started);
  // The copy did not change when "second" and "slow" reported later.
  CHECK(text(partial_seen_by_final.as_json()) == R"({"first":"first value"})");
  REQUIRE(loop.close() == 0);
}

// async: 'auto error' — a synchronous failure stops tasks later in the same start loop.
TEST_CASE("auto does not start other ready tasks after a synchronous error", "[auto]") {
  common::Loop loop;
  std::vector<std::string> started;
  Outcome outcome;
  common::auto_run(
      loop,
      {
          {"task1",
           {},
           [&](const Results&, Done done) {
             started.push_back("task1");
             done(common::Error{"ETEST", "testerror"});
           }},
          {"task2", {"task1"}, [&](const Results&, Done) { started.push_back("task2"); }},
          {"task3",
           {},
           [&](const Results&, Done done) {
             started.push_back("task3");
             done(common::Error{"ETEST", "testerror2"});
           }},
      },
      outcome.callback());
  common::run_loop(loop);
  CHECK(started == std::vector<std::string>{"task1"});
  REQUIRE(outcome.calls == 1);
  CHECK(outcome.error->message == "testerror");
  CHECK(outcome.results.has("task1"));  // the failing task's entry is present (null: no value)
  CHECK(outcome.results["task1"].IsNull());
  REQUIRE(loop.close() == 0);
}

// async: 'auto stops running tasks on error'
TEST_CASE("auto never starts tasks queued behind the concurrency limit after an error", "[auto]") {
  common::Loop loop;
  std::vector<std::string> started;
  Outcome outcome;
  common::auto_run(loop,
                   {
                       {"task1",
                        {},
                        [&](const Results&, Done done) {
                          started.push_back("task1");
                          after(loop, 1, [done] { done(common::Error{"ETEST", "error"}); });
                        }},
                       {"task2", {}, [&](const Results&, Done) { started.push_back("task2"); }},
                   },
                   1, outcome.callback());
  common::run_loop(loop);
  CHECK(started == std::vector<std::string>{"task1"});
  REQUIRE(outcome.calls == 1);
  CHECK(outcome.error->message == "error");
  REQUIRE(loop.close() == 0);
}

// async: 'does not allow calling callbacks twice'
TEST_CASE("auto: calling a task's callback twice throws from the second call", "[auto]") {
  common::Loop loop;
  Outcome outcome;
  auto twice = [](const Results&, Done done) {
    done(std::nullopt, 1);
    done(std::nullopt, 2);
  };
  REQUIRE_THROWS_AS(common::auto_run(loop, {{"bad", {}, twice}}, outcome.callback()),
                    std::logic_error);
  REQUIRE_THROWS_WITH(common::auto_run(loop, {{"bad", {}, twice}}, outcome.callback()),
                      test_support::contains_text("`bad` called its callback twice"));
  common::run_loop(loop);
  REQUIRE(loop.close() == 0);
}

// docs/auto.md item 16: the exception leaves auto_run, but the run is not frozen by it.
TEST_CASE("auto goes on after a task that called back and then threw", "[auto]") {
  for (bool twice : {false, true}) {
    INFO((twice ? "a calls back twice" : "a calls back, then throws"));
    common::Loop loop;
    std::vector<std::string> order;
    Outcome outcome;
    auto a = [&order, twice](const Results&, Done done) {
      order.push_back("a");
      done(std::nullopt, 1);
      if (twice) done(std::nullopt, 2);  // throws std::logic_error
      throw std::runtime_error("a failed after calling back");
    };
    CHECK_THROWS(common::auto_run(
        loop, {{"a", {}, a}, {"b", {"a"}, note(order, "b")}, {"c", {}, note(order, "c")}},
        outcome.callback()));
    common::run_loop(loop);
    CHECK(order == std::vector<std::string>{"a", "c", "b"});
    CHECK(outcome.calls == 1);
    CHECK_FALSE(outcome.error);
    CHECK(outcome.results.as_json().MemberCount() == 3);
    REQUIRE(loop.close() == 0);
  }
}

// docs/auto.md item 14: in async v1 the second call counted and
// the final callback fired before another task had finished.
TEST_CASE("auto does not count a second callback: final still waits for the others", "[auto]") {
  common::Loop loop;
  int throws = 0;
  Outcome outcome;
  common::auto_run(loop,
                   {
                       {"bad",
                        {},
                        [&](const Results&, Done done) {
                          after(loop, 1, [&throws, done] {
                            done(std::nullopt, "first");
                            try {
                              done(std::nullopt, "second");
                            } catch (const std::logic_error&) {
                              ++throws;
                            }
                          });
                        }},
                       {"other",
                        {},
                        [&](const Results&, Done done) {
                          after(loop, 20, [done] { done(std::nullopt, "other"); });
                        }},
                   },
                   outcome.callback());
  common::run_loop(loop);
  CHECK(throws == 1);
  REQUIRE(outcome.calls == 1);
  CHECK(text(outcome.results.as_json()) == R"({"bad":"first","other":"other"})");
  REQUIRE(loop.close() == 0);
}

TEST_CASE("auto: a second callback from inside a libuv callback is trapped by guard", "[auto]") {
  common::Loop loop;
  Outcome outcome;
  common::auto_run(loop,
                   {{"bad",
                     {},
                     [&](const Results&, Done done) {
                       after(loop, 1, [done] {
                         done(std::nullopt);
                         done(std::nullopt);
                       });
                     }}},
                   outcome.callback());
  REQUIRE_THROWS_AS(common::run_loop(loop), std::logic_error);
  CHECK(outcome.calls == 1);  // the first call completed the run
  REQUIRE(loop.close() == 0);
}

namespace {

// Runs a graph that should be refused: returns the error, checking that no task started and
// that the error arrived through the final callback, after auto_run had returned.
common::Error refused(std::vector<Task> tasks) {
  common::Loop loop;
  bool started = false;
  for (Task& task : tasks) task.run = [&started](const Results&, Done) { started = true; };
  Outcome outcome;
  common::auto_run(loop, std::move(tasks), outcome.callback());
  CHECK(outcome.calls == 0);
  common::run_loop(loop);
  CHECK_FALSE(started);
  REQUIRE(outcome.calls == 1);
  REQUIRE(outcome.error);
  CHECK(outcome.results.as_json().MemberCount() == 0);
  REQUIRE(loop.close() == 0);
  return *outcome.error;
}

}  // namespace

// async: 'auto prevent dead-locks due to inexistant dependencies'
TEST_CASE("auto refuses a dependency on an unknown task before running anything", "[auto]") {
  common::Error error = refused({{"task1", {"noexist"}, {}}});
  CHECK(error.code == "EUNKNOWNDEP");
  CHECK(error.message == "auto: task `task1` has a non-existent dependency `noexist`");
}

// docs/auto.md item 18 (a self-dependency; async v3 refuses it too)
TEST_CASE("auto refuses a task that depends on itself", "[auto]") {
  common::Error error = refused({{"ok", {}, {}}, {"a", {"ok", "a"}, {}}});
  CHECK(error.code == "ECYCLE");
  CHECK(error.message == "auto: task `a` depends on itself");
}

// async: 'auto prevent dead-locks due to cyclic dependencies'
TEST_CASE("auto refuses a 2-cycle, naming both tasks", "[auto]") {
  common::Error error = refused({{"task1", {"task2"}, {}}, {"task2", {"task1"}, {}}});
  CHECK(error.code == "ECYCLE");
  CHECK(error.message == "auto: cyclic dependency: `task1` needs `task2` needs `task1`");
}

// async: 'extended cycle detection'
TEST_CASE("auto refuses a 3-cycle, even behind tasks that could run", "[auto]") {
  common::Error error = refused({{"start", {}, {}},
                                 {"a", {"start", "c"}, {}},
                                 {"b", {"a"}, {}},
                                 {"c", {"b"}, {}},
                                 {"end", {"c"}, {}}});
  CHECK(error.code == "ECYCLE");
  CHECK(error.message == "auto: cyclic dependency: `a` needs `c` needs `b` needs `a`");
}

// No async counterpart: a JavaScript object cannot hold a key twice, a C++ list can.
TEST_CASE("auto refuses a task declared twice and a task without a function", "[auto]") {
  common::Error twice = refused({{"a", {}, {}}, {"b", {}, {}}, {"a", {}, {}}});
  CHECK(twice.code == "EDUPTASK");
  CHECK(twice.message == "auto: task `a` is declared twice");

  common::Loop loop;
  Outcome outcome;
  common::auto_run(loop, {{"a", {}, nullptr}}, outcome.callback());
  common::run_loop(loop);
  REQUIRE(outcome.error);
  CHECK(outcome.error->code == "ENOFUNCTION");
  REQUIRE(loop.close() == 0);
}

TEST_CASE("auto finds unknown dependencies and cycles in large graphs too", "[auto]") {
  std::vector<Task> tasks;
  tasks.reserve(100);
  for (int i = 0; i < 100; ++i) tasks.push_back({numbered("t", i), {}, {}});
  for (int i = 1; i < 100; ++i) tasks[i].dependencies = {numbered("t", i - 1)};
  std::vector<Task> unknown = tasks;
  unknown[50].dependencies.push_back("t100");
  // Each graph is moved out before its CHECK: CHECK repeats its expression in the macro (only
  // one copy runs), so a std::move inside it would read as a use after the move.
  const common::Error unknown_refused = refused(std::move(unknown));
  CHECK(unknown_refused.message == "auto: task `t50` has a non-existent dependency `t100`");
  tasks[10].dependencies.push_back("t12");
  const common::Error cycle_refused = refused(std::move(tasks));
  CHECK(cycle_refused.message ==
        "auto: cyclic dependency: `t10` needs `t12` needs `t11` needs `t10`");
}

// async: 'auto empty object' — and the house rule: never call back synchronously.
TEST_CASE("auto with no tasks completes on the next loop turn with empty results", "[auto]") {
  common::Loop loop;
  Outcome outcome;
  common::auto_run(loop, std::vector<Task>{}, outcome.callback());
  CHECK(outcome.calls == 0);
  common::run_loop(loop);
  REQUIRE(outcome.calls == 1);
  CHECK_FALSE(outcome.error);
  CHECK(outcome.results.as_json().MemberCount() == 0);
  CHECK(text(outcome.results.as_json()) == "{}");
  REQUIRE(loop.close() == 0);
}

// async: 'should avoid unncecessary deferrals' — deliberately the opposite: async calls the final
// callback before auto() returns when every task is synchronous; we wait for the next turn.
TEST_CASE("auto never calls the final callback inside auto_run", "[auto]") {
  common::Loop loop;
  bool is_sync = true;
  bool final_saw_sync = true;
  common::auto_run(loop,
                   {
                       {"step1", {}, [](const Results&, Done done) { done(std::nullopt, 1); }},
                       {"step2", {"step1"}, [](const Results&, Done done) { done(std::nullopt); }},
                   },
                   [&](const std::optional<common::Error>&, Results) { final_saw_sync = is_sync; });
  is_sync = false;
  common::run_loop(loop);
  CHECK_FALSE(final_saw_sync);
  REQUIRE(loop.close() == 0);
}

// async: 'auto calls callback multiple times' — a throwing final callback runs once.
TEST_CASE("auto calls a throwing final callback once and run_loop rethrows", "[auto]") {
  common::Loop loop;
  int calls = 0;
  common::auto_run(loop,
                   {
                       {"task1", {}, [](const Results&, Done done) { done(std::nullopt); }},
                       {"task2", {"task1"}, [](const Results&, Done done) { done(std::nullopt); }},
                   },
                   [&](const std::optional<common::Error>&, Results) {
                     ++calls;
                     throw std::runtime_error("An error");
                   });
  REQUIRE_THROWS_WITH(common::run_loop(loop), "An error");
  common::run_loop(loop);  // nothing left to run, nothing called again
  CHECK(calls == 1);
  REQUIRE(loop.close() == 0);
}

// async: 'auto no callback' and 'auto concurrency no callback'
TEST_CASE("auto without a final callback still runs the tasks", "[auto]") {
  common::Loop loop;
  std::vector<std::string> order;
  common::auto_run(
      loop, {{"task1", {}, note(order, "task1")}, {"task2", {"task1"}, note(order, "task2")}},
      nullptr);
  common::auto_run(loop, {{"task3", {}, note_after(loop, order, "task3", 1)}}, 1, nullptr);
  common::run_loop(loop);
  CHECK(order == std::vector<std::string>{"task1", "task2", "task3"});
  REQUIRE(loop.close() == 0);
}

// docs/auto.md item 5: the value shapes a task can report.
TEST_CASE("auto stores numbers, strings, bools, null and JSON documents", "[auto]") {
  common::Loop loop;
  Outcome outcome;
  common::auto_run(
      loop,
      {
          {"int", {}, [](const Results&, Done done) { done(std::nullopt, -7); }},
          {"size", {}, [](const Results&, Done done) { done(std::nullopt, std::size_t{7}); }},
          {"double", {}, [](const Results&, Done done) { done(std::nullopt, 1.5); }},
          {"bool", {}, [](const Results&, Done done) { done(std::nullopt, true); }},
          {"null", {}, [](const Results&, Done done) { done(std::nullopt, nullptr); }},
          {"string",
           {},
           [](const Results&, Done done) { done(std::nullopt, std::string("a\"b")); }},
          {"json",
           {},
           [](const Results&, Done done) {
             done(std::nullopt, *common::parse_json(R"({"id":7,"tags":["x"]})"));
           }},
          {"mixed",
           {},
           [](const Results&, Done done) {
             common::Json list = *common::parse_json("[1,2]");
             done(std::nullopt, "two", 2, list);
           }},
      },
      outcome.callback());
  common::run_loop(loop);
  REQUIRE(outcome.calls == 1);
  CHECK(text(outcome.results.as_json()) ==
        R"({"int":-7,"size":7,"double":1.5,"bool":true,"null":null,"string":"a\"b",)"
        R"("json":{"id":7,"tags":["x"]},"mixed":["two",2,[1,2]]})");
  CHECK_THROWS_AS(outcome.results["nope"], std::out_of_range);
  CHECK_FALSE(outcome.results.has("nope"));
  REQUIRE(loop.close() == 0);
}

namespace {

// Stands in for the stage-04 broker: answers a query on a later loop turn through a callback of
// exactly the broker's type.
void fake_query(uv_loop_t& loop, std::string table, int id,
                std::function<void(std::optional<common::Error>, common::Json)> callback) {
  after(loop, 1, [table = std::move(table), id, callback = std::move(callback)] {
    if (id < 0) return callback(common::Error{"ENOTFOUND", table + " not found"}, common::Json());
    callback(std::nullopt, *common::parse_json(R"({"table":")" + table + R"(","id":)" +
                                               std::to_string(id) + "}"));
  });
}

}  // namespace

TEST_CASE("auto: a task passes its Done straight on as a broker-style callback", "[auto]") {
  for (int id : {7, -1}) {
    common::Loop loop;
    Outcome outcome;
    common::auto_run(
        loop,
        {
            {"user", {}, [&](const Results&, Done done) { fake_query(loop, "users", id, done); }},
            {"posts",
             {"user"},
             [&](const Results& r, Done done) {
               fake_query(loop, "posts", r["user"]["id"].GetInt(), done);
             }},
            {"comments",
             {"user"},
             [&](const Results& r, Done done) {
               fake_query(loop, "comments", r["user"]["id"].GetInt(), done);
             }},
        },
        outcome.callback());
    common::run_loop(loop);
    REQUIRE(outcome.calls == 1);
    if (id > 0) {
      CHECK_FALSE(outcome.error);
      CHECK(text(outcome.results.as_json()) ==
            R"({"user":{"table":"users","id":7},"posts":{"table":"posts","id":7},)"
            R"("comments":{"table":"comments","id":7}})");
    } else {
      REQUIRE(outcome.error);
      CHECK(outcome.error->code == "ENOTFOUND");
      CHECK(text(outcome.results.as_json()) == R"({"user":null})");
    }
    REQUIRE(loop.close() == 0);
  }
}

// docs/auto.md item 23: async v3 overflows the stack at ~1 200
// synchronous tasks (no async test); v1 survived by deferring every step.
TEST_CASE("auto runs 10 000 chained synchronous tasks without deep recursion or extra turns",
          "[auto]") {
  common::Loop loop;
  std::vector<Task> tasks;
  for (int i = 0; i < 10'000; ++i) {
    common::Dependencies needs;
    if (i > 0) needs.push_back(numbered("t", i - 1));
    tasks.push_back({numbered("t", i), std::move(needs), [i](const Results& r, Done done) {
                       int before = i > 0 ? r[numbered("t", i - 1)].GetInt() : 0;
                       done(std::nullopt, before + 1);
                     }});
  }
  Outcome outcome;
  common::auto_run(loop, std::move(tasks), outcome.callback());
  uv_run(&loop.get(), UV_RUN_ONCE);  // one turn delivers the deferred final callback
  REQUIRE(outcome.calls == 1);
  CHECK_FALSE(outcome.error);
  CHECK(outcome.results["t9999"].GetInt() == 10'000);
  REQUIRE(loop.close() == 0);
}

TEST_CASE("auto runs 10 000 independent synchronous tasks", "[auto]") {
  common::Loop loop;
  std::vector<Task> tasks;
  tasks.reserve(10'000);
  int ran = 0;
  for (int i = 0; i < 10'000; ++i) {
    tasks.push_back({numbered("t", i), {}, [&ran, i](const Results&, Done done) {
                       ++ran;
                       done(std::nullopt, i);
                     }});
  }
  Outcome outcome;
  common::auto_run(loop, std::move(tasks), 3, outcome.callback());
  uv_run(&loop.get(), UV_RUN_ONCE);
  REQUIRE(outcome.calls == 1);
  CHECK(ran == 10'000);
  CHECK(outcome.results.as_json().MemberCount() == 10'000);
  CHECK(outcome.results["t1234"].GetInt() == 1234);
  REQUIRE(loop.close() == 0);
}

// async: 'auto removeListener has side effect on loop iteratee' — a task that never calls back
// blocks its dependents and the final callback, not the other branches. When the loop stops with
// that task pending and its callback is destroyed, the whole graph is freed.
TEST_CASE("auto: a task that never calls back leaves final waiting and frees all once dropped",
          "[auto]") {
  auto canary = std::make_shared<int>(0);
  std::vector<Done> stashed;
  bool task1_ran = false;
  {
    common::Loop loop;
    Outcome outcome;
    common::auto_run(
        loop,
        {
            {"task1", {"task3"}, [&](const Results&, Done) { task1_ran = true; }},
            {"task2",
             {"task3"},
             [&stashed, canary](const Results&, Done done) { stashed.push_back(done); }},
            {"task3", {}, [](const Results&, Done done) { done(std::nullopt); }},
        },
        outcome.callback());
    common::run_loop(loop);  // returns: nothing left for the loop to wait on
    CHECK(task1_ran);
    CHECK(outcome.calls == 0);
    REQUIRE(loop.close() == 0);
  }
  CHECK(canary.use_count() == 2);  // the graph, kept by the stashed callback, holds the task
  stashed.clear();
  CHECK(canary.use_count() == 1);  // freed with the last callback into it
}

TEST_CASE("Dependencies keeps any number of names in order", "[auto]") {
  common::Dependencies none;
  CHECK(none.empty());
  common::Dependencies some{"a", "b"};
  some.push_back("c");
  some.push_back("d");
  CHECK(std::vector<std::string>(some.begin(), some.end()) ==
        std::vector<std::string>{"a", "b", "c", "d"});
  common::Dependencies from_vector(std::vector<std::string>{"x", "y", "z"});
  CHECK(from_vector.size() == 3);
  CHECK(from_vector[2] == "z");
  common::Dependencies copy = from_vector;
  copy.push_back("w");
  CHECK(copy.size() == 4);
  CHECK(from_vector.size() == 3);
}
