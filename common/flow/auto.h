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
// caolan/async v3 `auto`, item by item in docs/auto.md, with three fixes: final never runs inside
// auto_run() (commandment 1), a bad graph goes to final instead of being thrown, and long chains
// of synchronous tasks do not grow the stack.
#pragma once

#include <uv.h>

#include <cstddef>
#include <cstdint>
#include <functional>
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

// One value for a results entry: JSON (deep-copied), a number, a bool, a string or nullptr.
template <typename T>
rapidjson::Value to_value(T&& value, Pool& pool) {
  using U = std::remove_cvref_t<T>;
  if constexpr (std::is_base_of_v<rapidjson::Value, U>) {
    return rapidjson::Value(value, pool);  // a deep copy: the source's allocator may go away
  } else if constexpr (std::is_same_v<U, bool>) {
    return rapidjson::Value(value);
  } else if constexpr (std::is_integral_v<U>) {
    using Wide = std::conditional_t<std::is_signed_v<U>, std::int64_t, std::uint64_t>;
    return rapidjson::Value(static_cast<Wide>(value));
  } else if constexpr (std::is_floating_point_v<U>) {
    return rapidjson::Value(static_cast<double>(value));
  } else if constexpr (std::is_same_v<U, std::nullptr_t>) {
    return rapidjson::Value();
  } else if constexpr (std::is_convertible_v<T, std::string_view>) {
    std::string_view text = value;
    return rapidjson::Value(text.data(), static_cast<rapidjson::SizeType>(text.size()), pool);
  } else {
    static_assert(sizeof(U) == 0,
                  "done(): a value must be JSON, a number, a bool, a string or nullptr");
  }
}

}  // namespace auto_detail

// The results object: one entry per task that has completed, in declaration order (a task that
// reported no value holds null; several values, an array). Like async's object it is shared:
// copies are handles on the same entries, which keep growing as tasks complete. Read-only.
class Results {
 public:
  Results() = default;
  // Whether the task has an entry: it succeeded, or it is the task whose error ended the run.
  [[nodiscard]] bool has(std::string_view task) const { return find(task) != nullptr; }
  // The task's entry; std::out_of_range naming the task when there is none (yet).
  const rapidjson::Value& operator[](std::string_view task) const;
  // {"user": …, "posts": …}: a deep copy, entries in declaration order (what res.json sends).
  [[nodiscard]] Json as_json() const;

 private:
  friend struct auto_detail::AutoRun;
  explicit Results(std::shared_ptr<auto_detail::ResultsData> data) : data_(std::move(data)) {}
  [[nodiscard]] const rapidjson::Value* find(std::string_view task) const;

  std::shared_ptr<auto_detail::ResultsData> data_;
};

// The Node-style callback a task receives: done(std::nullopt, v) stores v (see to_value),
// (std::nullopt, a, b) stores [a, b], (std::nullopt) null; an engaged error ends the run. Copies
// are one callback; it fits std::function<void(std::optional<Error>, Json)>. A second call throws
// std::logic_error and is not counted: call it inside common::guard in libuv callbacks.
class Done {
 public:
  template <typename... Values>
  void operator()(const std::optional<Error>& error, Values&&... values) const {
    if constexpr (sizeof...(Values) == 0) {
      report(error, rapidjson::Value());
    } else if constexpr (sizeof...(Values) == 1) {
      report(error, auto_detail::to_value(std::forward<Values>(values)..., *pool_));
    } else {
      rapidjson::Value array(rapidjson::kArrayType);
      (array.PushBack(auto_detail::to_value(std::forward<Values>(values), *pool_), *pool_), ...);
      report(error, std::move(array));
    }
  }

 private:
  friend struct auto_detail::AutoRun;
  Done(std::shared_ptr<auto_detail::AutoRun> run, std::size_t task, auto_detail::Pool& pool)
      : run_(std::move(run)), task_(task), pool_(&pool) {}

  void report(const std::optional<Error>& error, rapidjson::Value value) const;

  std::shared_ptr<auto_detail::AutoRun> run_;  // the run lives as long as a callback into it does
  std::size_t task_;
  auto_detail::Pool* pool_;  // where the run's values live
};

// A task receives the live results (every task completed so far) and its callback. The reference
// is valid while the task holds its Done; copy the Results (a handle) to keep it longer.
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

// Called once: with (nullopt, results) when every task has succeeded, or with (error, partial) as
// soon as the first task fails; partial is a copy of the results plus the failing task's entry.
using FinalCallback = std::function<void(std::optional<Error>, Results)>;

// Runs the tasks on the loop, then calls final (which may be empty), as docs/auto.md says: a task
// starts once its dependencies have succeeded (ready ones in declaration order, at most
// `concurrency` at once, 0 = no limit); after an error none starts; final never runs inside this
// call; a bad graph (EDUPTASK, ENOFUNCTION, EUNKNOWNDEP, ECYCLE) goes to final, not thrown. The
// run's state is owned by the Done callbacks it hands out, so it is freed with them.
void auto_run(uv_loop_t& loop, std::vector<Task> tasks, std::size_t concurrency,
              FinalCallback final);
inline void auto_run(uv_loop_t& loop, std::vector<Task> tasks, FinalCallback final) {
  auto_run(loop, std::move(tasks), 0, std::move(final));
}

}  // namespace common
