// flow/auto.h: async.auto on the libuv loop: name your tasks and what each needs; the runner starts
// each one as soon as the tasks it needs have succeeded, runs independent ones concurrently and
// hands every result, keyed by task name, to one final callback.
//
//   common::auto_run(loop, {
//     {"user",     {},       [&](const Results&, Done done) { broker.query("users", id, done); }},
//     {"posts",    {"user"}, [&](const Results& r, Done done) { ... r["user"] ... }},
//     {"comments", {"user"}, [&](const Results& r, Done done) { ... }},
//   }, [](std::optional<common::Error> error, common::Results results) { ... });
//
//            user
//           /    \          final callback: (error, {"user": …, "posts": …, "comments": …})
//       posts    comments
//
// The semantics are caolan/async v3 `auto` (docs/auto.md), with three deliberate
// fixes: the final callback never runs inside auto_run() (async calls it synchronously when every
// task does: the tutorial's first commandment forbids that), a bad graph is reported through the
// final callback instead of thrown, and long chains of synchronous tasks do not grow the stack.
#pragma once

#include <uv.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "common/json.h"
#include "common/uv/error.h"

namespace common {

namespace auto_detail {
struct AutoRun;
struct ResultsData;
using Pool = rapidjson::MemoryPoolAllocator<>;
}  // namespace auto_detail

// The results object: one entry per task that has completed, in declaration order. Like the
// JavaScript object async hands around, it is shared, not copied: copying a Results gives another
// handle to the same entries, and the one a task receives keeps growing as other tasks complete
// (on success the final callback gets that same object; after an error, a copy). A task that
// reported no value has an entry holding null; several values are held as an array. Tasks only
// read it: unlike async's object, nothing else can be written into it.
class Results {
 public:
  Results() = default;

  // Is there an entry for this task (it succeeded, or it is the task whose error ended the run)?
  [[nodiscard]] bool has(std::string_view task) const { return find(task) != nullptr; }
  // The task's entry, or nullptr when there is none (yet).
  [[nodiscard]] const rapidjson::Value* find(std::string_view task) const;
  // The task's entry; throws std::out_of_range naming the task when there is none.
  [[nodiscard]] const rapidjson::Value& at(std::string_view task) const;
  const rapidjson::Value& operator[](std::string_view task) const { return at(task); }
  // How many entries there are.
  [[nodiscard]] std::size_t size() const;
  // {"user": …, "posts": …}: a deep copy, entries in declaration order (what res.json sends).
  [[nodiscard]] Json as_json() const;

 private:
  friend struct auto_detail::AutoRun;
  explicit Results(std::shared_ptr<auto_detail::ResultsData> data) : data_(std::move(data)) {}
  std::shared_ptr<auto_detail::ResultsData> data_;
};

namespace auto_detail {
// One value for a results entry: JSON (deep-copied), a number, a bool, a string or nullptr.
template <typename T>
rapidjson::Value to_value(T&& value, Pool& pool);
}  // namespace auto_detail

// The Node-style callback a task receives: done(error) or done(error, value...).
//  - done(std::nullopt, v) stores v; done(std::nullopt, a, b) stores [a, b]; done(std::nullopt)
//    stores null. Values may be JSON (common::Json or any rapidjson::Value), numbers, bools,
//    strings or nullptr.
//  - done(common::Error{…}, …) ends the run: see auto_run.
// A Done is copyable and matches std::function<void(std::optional<Error>, Json)>, so it can be
// passed straight on as another API's completion callback. All copies are one callback: call it
// once. A second call is a programming error: it throws std::logic_error ("… called its callback
// twice (Callback was already called.)") out of that call, in the caller's frame, and is not
// counted. Call it from inside common::guard in libuv callbacks, so the throw is trapped there.
class Done {
 public:
  template <typename... Values>
  void operator()(const std::optional<Error>& error, Values&&... values) const {
    report(error, pack(std::forward<Values>(values)...));
  }

 private:
  friend struct auto_detail::AutoRun;
  Done(std::shared_ptr<auto_detail::AutoRun> run, std::size_t task) noexcept
      : run_(std::move(run)), task_(task) {}

  template <typename... Values>
  rapidjson::Value pack(Values&&... values) const {
    if constexpr (sizeof...(Values) == 0) {
      return rapidjson::Value();
    } else if constexpr (sizeof...(Values) == 1) {
      return auto_detail::to_value(std::forward<Values>(values)..., pool());
    } else {
      rapidjson::Value array(rapidjson::kArrayType);
      array.Reserve(static_cast<rapidjson::SizeType>(sizeof...(Values)), pool());
      (array.PushBack(auto_detail::to_value(std::forward<Values>(values), pool()), pool()), ...);
      return array;
    }
  }
  [[nodiscard]] auto_detail::Pool& pool() const;
  void report(const std::optional<Error>& error, rapidjson::Value value) const;

  std::shared_ptr<auto_detail::AutoRun> run_;  // the run lives as long as a callback into it does
  std::size_t task_;
};

// A task receives the live results (every task completed so far, not only the ones it needs) and
// its callback. Tasks without dependencies get the results too, so every task has one signature.
// The reference stays valid while the task holds its Done; copy the Results (a shared handle) to
// keep it longer.
using TaskFunction = std::function<void(const Results&, Done)>;

// The names of the tasks a task needs: {"user"}, {"a", "b"}, or built with push_back.
using Dependencies = std::vector<std::string>;

// A task declaration, written like an entry of async's tasks object:
//   {"posts", {"user"}, [&](const Results& r, Done done) { … }}
struct Task {
  std::string name;
  Dependencies dependencies;  // names of tasks that must succeed first
  TaskFunction run;
};

// Called once with (nullopt, results) when every task has succeeded, or with (error, partial) as
// soon as the first task fails: partial is a copy of the results so far plus the failing task's
// entry (null if it gave no value).
using FinalCallback = std::function<void(std::optional<Error>, Results)>;

// Runs the tasks on the loop, then calls final (which may be empty: the tasks still run).
//  - Scheduling: a task starts once all its dependencies have succeeded; tasks that become ready
//    together start in declaration order; at most `concurrency` run at once (0 = no limit).
//  - The first error stops scheduling: no task starts afterwards, not even one already queued.
//    Tasks still running may call back later; their outcome is dropped and final is not called
//    again. A task that never calls back leaves its dependents, and final, waiting for ever.
//  - final never runs inside this call: when everything completes synchronously it is deferred
//    to the next loop turn (async v3 calls it synchronously; this is the deliberate fix).
//  - Synchronous completions are trampolined: a chain of 10 000 tasks that call done() before
//    returning runs in constant stack depth, without a loop turn per task.
//  - The graph is checked before any task starts. Task names must be unique, every task needs a
//    function and every dependency must name a declared task; a task depending on itself, or any
//    cycle, is refused. The error goes to final, asynchronously (codes EDUPTASK, ENOFUNCTION,
//    EUNKNOWNDEP, ECYCLE; the message names the tasks), because auto_run is usually called from
//    inside a libuv callback, where a throw would stop the whole loop instead of failing one
//    request. async throws synchronously here.
//  - An exception thrown by a task function propagates to whoever started it (auto_run, or the
//    done() call that completed its last dependency); that task then counts as never finished.
// The run's state is owned by the Done callbacks it hands out: when the loop stops with tasks
// pending and their callbacks are destroyed, everything is freed.
void auto_run(uv_loop_t& loop, std::vector<Task> tasks, std::size_t concurrency,
              FinalCallback final);
inline void auto_run(uv_loop_t& loop, std::vector<Task> tasks, FinalCallback final) {
  auto_run(loop, std::move(tasks), 0, std::move(final));
}

// The graph in Graphviz dot form, an edge from each dependency to its dependent, for READMEs:
//   digraph auto {
//     "user";
//     "user" -> "posts";
//     ...
void dump_dot(std::ostream& out, const std::vector<Task>& tasks);

// ---------------------------------------------------------------------------------------------

namespace auto_detail {

template <typename>
inline constexpr bool unsupported_value = false;

template <typename T>
rapidjson::Value to_value(T&& value, Pool& pool) {
  using U = std::remove_cvref_t<T>;
  if constexpr (std::is_base_of_v<rapidjson::Value, U>) {
    return rapidjson::Value(value, pool);  // a deep copy: the source's allocator may go away
  } else if constexpr (std::is_same_v<U, bool>) {
    return rapidjson::Value(value);
  } else if constexpr (std::is_integral_v<U> && std::is_signed_v<U>) {
    return rapidjson::Value(static_cast<std::int64_t>(value));
  } else if constexpr (std::is_integral_v<U>) {
    return rapidjson::Value(static_cast<std::uint64_t>(value));
  } else if constexpr (std::is_floating_point_v<U>) {
    return rapidjson::Value(static_cast<double>(value));
  } else if constexpr (std::is_same_v<U, std::nullptr_t>) {
    return rapidjson::Value();
  } else if constexpr (std::is_convertible_v<T, std::string_view>) {
    std::string_view text = value;
    return rapidjson::Value(text.data(), static_cast<rapidjson::SizeType>(text.size()), pool);
  } else {
    static_assert(unsupported_value<U>,
                  "done(): a value must be JSON, a number, a bool, a string or nullptr");
  }
}

}  // namespace auto_detail
}  // namespace common
