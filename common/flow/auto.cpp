#include "common/flow/auto.h"

#include <algorithm>
#include <deque>
#include <limits>
#include <map>
#include <stdexcept>

#include "common/uv/immediate.h"

namespace common {
namespace auto_detail {
namespace {

std::string quoted(std::string_view name) {
  return "`" + std::string(name) + "`";
}

// Sets a flag for the lifetime of a scope, also when a task function throws through it.
struct FlagScope {
  explicit FlagScope(bool& raised) noexcept : flag(raised) { flag = true; }
  ~FlagScope() { flag = false; }
  FlagScope(const FlagScope&) = delete;
  FlagScope& operator=(const FlagScope&) = delete;
  bool& flag;
};

}  // namespace

// The entries behind a Results object: one per declared task, in declaration order, with a value
// (allocated in `pool`) once the task has reported one.
struct ResultsData {
  struct Entry {
    std::string name;
    std::optional<rapidjson::Value> value;
  };
  std::vector<Entry> entries;
  std::map<std::string, std::size_t, std::less<>> positions;  // task name → index in entries
  Pool pool{4096};  // most runs store a few small values: small chunks keep a run light

  // A frozen deep copy plus the failing task's value: the final callback's results after an error.
  [[nodiscard]] std::shared_ptr<ResultsData> partial(std::size_t failed,
                                                     const rapidjson::Value& value) const {
    auto copy = std::make_shared<ResultsData>();
    copy->positions = positions;
    for (const Entry& entry : entries) {
      Entry& copied = copy->entries.emplace_back(Entry{entry.name, std::nullopt});
      if (entry.value) copied.value.emplace(*entry.value, copy->pool);
    }
    copy->entries[failed].value.emplace(value, copy->pool);
    return copy;
  }
};

// One declared task, its edges held as positions in AutoRun::nodes.
struct AutoNode {
  TaskFunction run;
  std::vector<std::size_t> dependencies;  // the tasks it needs
  std::vector<std::size_t> dependents;    // the tasks that need it, in declaration order
  std::size_t unmet = 0;                  // dependencies that have not succeeded yet
  bool called_back = false;
};

// One run of a graph, owned by auto_run while it starts the graph, then by the Done callbacks.
struct AutoRun {
  AutoRun(uv_loop_t& l, FinalCallback f, std::size_t concurrency)
      : loop(&l),
        final(std::move(f)),
        limit(concurrency == 0 ? std::numeric_limits<std::size_t>::max() : concurrency) {}

  uv_loop_t* loop;
  FinalCallback final;
  std::size_t limit;
  std::shared_ptr<ResultsData> data = std::make_shared<ResultsData>();
  Results results{data};  // the live object every task receives
  std::vector<AutoNode> nodes;
  std::deque<std::size_t> ready;  // tasks whose dependencies have all succeeded, to start in order
  std::size_t running = 0;
  std::size_t succeeded = 0;
  bool starting = false;  // inside auto_run: final must wait for the next turn
  bool draining = false;  // a drain() further up the stack will start newly ready tasks
  bool failed = false;

  // Takes the names and functions out of `tasks`, links the graph and queues the tasks that need
  // none; the error, if the graph is bad.
  std::optional<Error> build(std::vector<Task>& tasks) {
    nodes.reserve(tasks.size());
    for (Task& task : tasks) {
      if (!data->positions.emplace(task.name, nodes.size()).second)
        return Error{"EDUPTASK", "auto: task " + quoted(task.name) + " is declared twice"};
      data->entries.push_back({std::move(task.name), std::nullopt});
      nodes.emplace_back().run = std::move(task.run);
    }
    for (std::size_t i = 0; i < nodes.size(); ++i)
      if (!nodes[i].run)
        return Error{"ENOFUNCTION", "auto: task " + quoted(name(i)) + " has no function"};
    for (std::size_t i = 0; i < nodes.size(); ++i)
      for (const std::string& wanted : tasks[i].dependencies)
        if (auto error = link(i, wanted)) return error;
    for (std::size_t i = 0; i < nodes.size(); ++i)
      if (nodes[i].unmet == 0) ready.push_back(i);
    return check_acyclic();
  }

  std::optional<Error> link(std::size_t task, const std::string& wanted) {
    auto found = data->positions.find(wanted);
    if (found == data->positions.end()) {
      return Error{"EUNKNOWNDEP", "auto: task " + quoted(name(task)) +
                                      " has a non-existent dependency " + quoted(wanted)};
    }
    if (found->second == task)
      return Error{"ECYCLE", "auto: task " + quoted(name(task)) + " depends on itself"};
    nodes[task].dependencies.push_back(found->second);
    nodes[found->second].dependents.push_back(task);
    ++nodes[task].unmet;
    return std::nullopt;
  }

  // Kahn's algorithm: take every task whose dependencies have all been taken, until none is
  // left. Tasks that are never taken wait, directly or not, on a cycle.
  [[nodiscard]] std::optional<Error> check_acyclic() const {
    std::vector<std::size_t> unmet;
    for (const AutoNode& node : nodes) unmet.push_back(node.unmet);
    std::vector<std::size_t> free(ready.begin(), ready.end());
    std::size_t taken = 0;
    while (!free.empty()) {
      std::size_t task = free.back();
      free.pop_back();
      ++taken;
      for (std::size_t d : nodes[task].dependents)
        if (--unmet[d] == 0) free.push_back(d);
    }
    if (taken == nodes.size()) return std::nullopt;
    return Error{"ECYCLE", "auto: cyclic dependency: " + describe_cycle(unmet)};
  }

  // Every task left with unmet dependencies waits on another such task. Following those from the
  // first one must come back to a task already seen; the path from it back to itself is a cycle.
  [[nodiscard]] std::string describe_cycle(const std::vector<std::size_t>& unmet) const {
    std::vector<std::size_t> path;
    std::vector<bool> seen(nodes.size());
    std::size_t at = 0;
    while (unmet[at] == 0) ++at;
    while (!seen[at]) {
      seen[at] = true;
      path.push_back(at);
      for (std::size_t d : nodes[at].dependencies) {
        if (unmet[d] != 0) {
          at = d;
          break;
        }
      }
    }
    std::string text;
    for (auto step = std::find(path.begin(), path.end(), at); step != path.end(); ++step)
      text += quoted(name(*step)) + " needs ";
    return text + quoted(name(at));
  }

  // The trampoline: starts ready tasks in FIFO order. A task completing synchronously calls
  // drain() again from inside its function; that nested call returns at once and this loop picks
  // up what it queued, so the stack stays flat however long the chain.
  void drain(const std::shared_ptr<AutoRun>& self) {
    if (draining) return;
    {
      FlagScope scope(draining);
      while (!failed && !ready.empty() && running < limit) {
        std::size_t task = ready.front();
        ready.pop_front();
        ++running;
        try {
          nodes[task].run(results, Done(self, task, data->pool));
        } catch (...) {
          // The exception is the caller's (item 16), but the run is not: the tasks that are
          // ready still start, on the next turn, as async starts them before its throw leaves.
          set_immediate(*loop, [self] { self->drain(self); });
          throw;
        }
      }
    }
    if (!failed && succeeded == nodes.size()) finish(std::nullopt, results);
  }

  void complete(const std::shared_ptr<AutoRun>& self, std::size_t task,
                const std::optional<Error>& error, rapidjson::Value value) {
    AutoNode& node = nodes[task];
    if (std::exchange(node.called_back, true)) {
      throw std::logic_error("auto: task " + quoted(name(task)) +
                             " called its callback twice (Callback was already called.)");
    }
    --running;
    if (failed) return;  // the run already ended with an earlier error: drop this outcome
    if (error) {
      failed = true;
      return finish(*error, Results(data->partial(task, value)));
    }
    data->entries[task].value = std::move(value);
    ++succeeded;
    for (std::size_t d : node.dependents)
      if (--nodes[d].unmet == 0) ready.push_back(d);
    drain(self);
  }

  // Calls final once; from inside auto_run, only on the next turn of the loop.
  void finish(std::optional<Error> error, Results out) {
    if (!final) return;
    FinalCallback callback = std::exchange(final, nullptr);  // its captures go when it returns
    if (!starting) return callback(std::move(error), std::move(out));
    set_immediate(*loop,
                  [callback = std::move(callback), error = std::move(error),
                   out = std::move(out)]() mutable { callback(std::move(error), std::move(out)); });
  }

  [[nodiscard]] const std::string& name(std::size_t task) const { return data->entries[task].name; }
};

}  // namespace auto_detail

const rapidjson::Value* Results::find(std::string_view task) const {
  if (!data_) return nullptr;
  auto found = data_->positions.find(task);
  if (found == data_->positions.end()) return nullptr;
  const auto& value = data_->entries[found->second].value;
  return value ? &*value : nullptr;
}

const rapidjson::Value& Results::operator[](std::string_view task) const {
  if (const rapidjson::Value* value = find(task)) return *value;
  throw std::out_of_range("auto: no result for task " + auto_detail::quoted(task));
}

Json Results::as_json() const {
  Json object(rapidjson::kObjectType);
  if (!data_) return object;
  auto& allocator = object.GetAllocator();
  for (const auto& entry : data_->entries) {
    if (!entry.value) continue;
    object.AddMember(rapidjson::Value(entry.name, allocator),
                     rapidjson::Value(*entry.value, allocator), allocator);
  }
  return object;
}

void Done::report(const std::optional<Error>& error, rapidjson::Value value) const {
  run_->complete(run_, task_, error, std::move(value));
}

void auto_run(uv_loop_t& loop, std::vector<Task> tasks, std::size_t concurrency,
              FinalCallback final) {
  auto run = std::make_shared<auto_detail::AutoRun>(loop, std::move(final), concurrency);
  auto_detail::FlagScope scope(run->starting);
  if (std::optional<Error> error = run->build(tasks)) return run->finish(std::move(error), {});
  run->drain(run);
}

}  // namespace common
