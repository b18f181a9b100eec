#include "common/flow/auto.h"

#include <limits>
#include <ostream>
#include <stdexcept>

#include "common/uv/loop.h"

namespace common {
namespace auto_detail {
namespace {

// Results pool chunks: small, because most runs store a few numbers or small objects.
constexpr std::size_t kPoolChunk = 4096;
// Up to this many tasks, names are looked up by scanning; beyond it, through a hash table.
constexpr std::size_t kScanLimit = 16;

std::string quoted(std::string_view name) {
  std::string text = "`";
  text += name;
  text += '`';
  return text;
}

// Per-run arrays are recycled, per thread: a server runs the same small graphs over and over,
// and allocating and freeing them was a good part of the time of a 3-task graph (callgrind on
// bench_auto). Only small arrays are kept, and only a few, so nothing big stays reserved.
constexpr std::size_t kSpareArrays = 32;
constexpr std::size_t kSpareCapacity = 256;

template <typename T>
struct SpareArrays {
  std::vector<std::vector<T>> arrays;
  bool* gone;  // set when the thread's spares are destroyed: a graph freed later frees its own
  ~SpareArrays() { *gone = true; }
};

template <typename T>
std::vector<std::vector<T>>* spare_arrays() {
  thread_local bool gone = false;  // trivially destructible: still readable at thread exit
  if (gone) return nullptr;
  thread_local SpareArrays<T> spares{{}, &gone};
  return &spares.arrays;
}

template <typename T>
std::vector<T> reuse_array() {
  auto* spares = spare_arrays<T>();
  if (spares == nullptr || spares->empty()) return {};
  std::vector<T> array = std::move(spares->back());
  spares->pop_back();
  return array;
}

template <typename T>
void recycle_array(std::vector<T>& array) noexcept {
  array.clear();
  auto* spares = spare_arrays<T>();
  if (spares == nullptr || array.capacity() == 0 || array.capacity() > kSpareCapacity ||
      spares->size() >= kSpareArrays)
    return;
  try {
    spares->push_back(std::move(array));
  } catch (...) {  // out of memory for the list of spares: let the array go instead
  }
}

// Task names are short: a plain loop beats a call to memcmp (callgrind on bench_auto).
bool same_name(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (a[i] != b[i]) return false;
  return true;
}

}  // namespace

// Task names and their entries. Names are interned to positions once, when the graph is built;
// the scheduler works on positions only.
struct ResultsData {
  struct Entry {
    Entry() = default;
    explicit Entry(std::string task) : name(std::move(task)) {}

    std::string name;
    rapidjson::Value value;
    bool present = false;
  };

  ResultsData() = default;
  ~ResultsData() { recycle_array(entries); }
  ResultsData(const ResultsData&) = delete;
  ResultsData& operator=(const ResultsData&) = delete;

  std::vector<Entry> entries = reuse_array<Entry>();
  std::vector<std::uint32_t> table;  // open addressing, position + 1 (0 = free); empty = scan
  Pool pool{kPoolChunk};
  std::size_t present = 0;

  static constexpr std::uint32_t kAbsent = std::numeric_limits<std::uint32_t>::max();

  // The position of the task with this name, or kAbsent.
  [[nodiscard]] std::uint32_t position(std::string_view name) const {
    if (table.empty()) return scan(name);
    std::size_t mask = table.size() - 1;
    for (std::size_t slot = std::hash<std::string_view>{}(name)&mask;; slot = (slot + 1) & mask) {
      std::uint32_t held = table[slot];
      if (held == 0) return kAbsent;
      if (same_name(entries[held - 1].name, name)) return held - 1;
    }
  }

  [[nodiscard]] std::uint32_t scan(std::string_view name) const {
    const auto count = static_cast<std::uint32_t>(entries.size());
    for (std::uint32_t i = 0; i < count; ++i)
      if (same_name(entries[i].name, name)) return i;
    return kAbsent;
  }

  // Builds the lookup; returns the position of the first name declared twice, if any.
  std::optional<std::uint32_t> index_names() {
    if (entries.size() <= kScanLimit) return first_duplicate_by_scan();
    std::size_t size = 1;
    while (size < 2 * entries.size()) size *= 2;
    table.assign(size, 0);
    std::size_t mask = size - 1;
    for (std::uint32_t i = 0; i < entries.size(); ++i) {
      std::size_t slot = std::hash<std::string_view>{}(entries[i].name) & mask;
      for (; table[slot] != 0; slot = (slot + 1) & mask)
        if (entries[table[slot] - 1].name == entries[i].name) return i;
      table[slot] = i + 1;
    }
    return std::nullopt;
  }

  [[nodiscard]] std::optional<std::uint32_t> first_duplicate_by_scan() const {
    for (std::uint32_t i = 1; i < entries.size(); ++i)
      for (std::uint32_t j = 0; j < i; ++j)
        if (entries[i].name == entries[j].name) return i;
    return std::nullopt;
  }

  void store(std::uint32_t task, rapidjson::Value value) {
    Entry& entry = entries[task];
    entry.value = std::move(value);  // RapidJSON moves on assignment
    if (!entry.present) ++present;
    entry.present = true;
  }

  // A deep copy whose entries no longer change, for the final callback after an error.
  [[nodiscard]] std::shared_ptr<ResultsData> snapshot() const {
    auto copy = std::make_shared<ResultsData>();
    copy->table = table;
    copy->entries.resize(entries.size());
    for (std::size_t i = 0; i < entries.size(); ++i) {
      copy->entries[i].name = entries[i].name;
      if (!entries[i].present) continue;
      copy->entries[i].value.CopyFrom(entries[i].value, copy->pool);
      copy->entries[i].present = true;
    }
    copy->present = present;
    return copy;
  }
};

enum class Status : std::uint8_t { waiting, queued, running, done };

struct Node {
  explicit Node(TaskFunction function) : run(std::move(function)) {}

  TaskFunction run;
  std::uint32_t first_dependency = 0;  // into State::links
  std::uint32_t dependency_count = 0;
  std::uint32_t first_dependent = 0;  // into State::links
  std::uint32_t dependent_count = 0;
  std::uint32_t unmet = 0;  // dependencies that have not succeeded yet
  Status status = Status::waiting;
};

// Sets a flag for the lifetime of a scope, also when a task function throws through it.
class FlagScope {
 public:
  explicit FlagScope(bool& flag) noexcept : flag_(flag) { flag_ = true; }
  ~FlagScope() { flag_ = false; }
  FlagScope(const FlagScope&) = delete;
  FlagScope& operator=(const FlagScope&) = delete;

 private:
  bool& flag_;
};

// One run of a graph. Owned by shared_ptr: by auto_run while it starts the graph, then by the
// Done callbacks handed to tasks and, for one loop turn, by a deferred final callback.
struct State : std::enable_shared_from_this<State> {
  uv_loop_t* loop;
  FinalCallback final;
  std::size_t limit;
  std::shared_ptr<ResultsData> data = std::make_shared<ResultsData>();
  Results results{data};  // the live object every task receives

  std::vector<Node> nodes = reuse_array<Node>();
  // Every index list in one allocation: [dependencies | dependents | ready queue]. Each task's
  // dependencies and dependents are a stretch of it (see Node); each task enters the ready queue
  // at most once, so the queue is a plain stretch with a head and a tail.
  std::vector<std::uint32_t> links = reuse_array<std::uint32_t>();
  std::size_t ready_begin = 0;
  std::size_t ready_head = 0;
  std::size_t ready_tail = 0;
  std::size_t running = 0;
  std::size_t succeeded = 0;
  bool starting = false;  // inside auto_run: final must be deferred
  bool draining = false;  // a drain() further up the stack will start newly ready tasks
  bool failed = false;
  bool finished = false;

  // The final callback deferred to the next loop turn, and what it will receive.
  uv_idle_t idle{};
  std::optional<Error> deferred_error;
  Results deferred_results;
  std::shared_ptr<State> keep_alive;  // until the idle handle's close callback

  State(uv_loop_t& l, FinalCallback f, std::size_t concurrency)
      : loop(&l),
        final(std::move(f)),
        limit(concurrency == 0 ? std::numeric_limits<std::size_t>::max() : concurrency) {}
  ~State() {
    recycle_array(nodes);
    recycle_array(links);
  }
  State(const State&) = delete;
  State& operator=(const State&) = delete;

  // --- building --------------------------------------------------------------------------------

  template <typename Tasks>
  std::optional<Error> build(Tasks& tasks) {
    adopt(tasks);
    if (auto twice = data->index_names())
      return Error{"EDUPTASK", "auto: task " + quoted(name(*twice)) + " is declared twice"};
    for (std::uint32_t i = 0; i < nodes.size(); ++i)
      if (!nodes[i].run)
        return Error{"ENOFUNCTION", "auto: task " + quoted(name(i)) + " has no function"};
    bool only_earlier = true;  // every dependency declared before its dependent: cannot cycle
    if (auto error = resolve_dependencies(tasks, only_earlier)) return error;
    link_dependents();
    return only_earlier ? std::nullopt : check_acyclic();
  }

  // Names and functions move out of a vector we own; an initializer_list's are copied.
  template <typename Tasks>
  void adopt(Tasks& tasks) {
    data->entries.reserve(tasks.size());
    nodes.reserve(tasks.size());
    std::size_t edges = 0;
    for (auto& task : tasks) {
      if constexpr (std::is_const_v<std::remove_reference_t<decltype(task)>>) {
        data->entries.emplace_back(task.name);
        nodes.emplace_back(task.run);
      } else {
        data->entries.emplace_back(std::move(task.name));
        nodes.emplace_back(std::move(task.run));
      }
      edges += task.dependencies.size();
    }
    ready_begin = ready_head = ready_tail = 2 * edges;
    links.resize(2 * edges + tasks.size());
  }

  template <typename Tasks>
  std::optional<Error> resolve_dependencies(const Tasks& tasks, bool& only_earlier) {
    std::uint32_t next = 0;
    std::uint32_t i = 0;
    for (const Task& task : tasks) {
      Node& node = nodes[i];
      node.first_dependency = next;
      for (const std::string& wanted : task.dependencies) {
        std::uint32_t found = data->position(wanted);
        if (found == ResultsData::kAbsent) return unknown_dependency(i, wanted);
        if (found == i)
          return Error{"ECYCLE", "auto: task " + quoted(name(i)) + " depends on itself"};
        only_earlier = only_earlier && found < i;
        links[next++] = found;
        ++nodes[found].dependent_count;
      }
      node.dependency_count = next - node.first_dependency;
      node.unmet = node.dependency_count;
      ++i;
    }
    return std::nullopt;
  }

  Error unknown_dependency(std::uint32_t task, std::string_view wanted) const {
    return Error{"EUNKNOWNDEP", "auto: task " + quoted(name(task)) +
                                    " has a non-existent dependency " + quoted(wanted)};
  }

  // Inverts the dependency lists, so a completing task finds its dependents directly.
  void link_dependents() {
    auto next = static_cast<std::uint32_t>(ready_begin / 2);  // the dependents stretch
    for (Node& node : nodes) {
      node.first_dependent = next;
      next += node.dependent_count;
      node.dependent_count = 0;  // counts up again while filling
    }
    for (std::uint32_t i = 0; i < nodes.size(); ++i) {
      for (std::uint32_t d : dependencies_of(i)) {
        Node& dependency = nodes[d];
        links[dependency.first_dependent + dependency.dependent_count++] = i;
      }
    }
  }

  // Kahn's algorithm on the unmet counters, with the ready queue as its queue; both are reset.
  std::optional<Error> check_acyclic() {
    for (std::uint32_t i = 0; i < nodes.size(); ++i)
      if (nodes[i].unmet == 0) links[ready_tail++] = i;
    for (std::size_t head = ready_begin; head < ready_tail; ++head)
      for (std::uint32_t d : dependents_of(links[head]))
        if (--nodes[d].unmet == 0) links[ready_tail++] = d;
    std::optional<Error> error;
    if (ready_tail - ready_begin < nodes.size())
      error = Error{"ECYCLE", "auto: cyclic dependency: " + describe_cycle()};
    ready_tail = ready_begin;
    for (Node& node : nodes) node.unmet = node.dependency_count;
    return error;
  }

  // After Kahn, every task left with unmet dependencies waits on another such task. Following
  // those from the first one must revisit a task; the stretch from it back to itself is a cycle.
  std::string describe_cycle() const {
    std::vector<std::uint32_t> path;
    std::vector<std::size_t> step(nodes.size(), nodes.size());
    std::uint32_t at = 0;
    while (nodes[at].unmet == 0) ++at;
    while (step[at] == nodes.size()) {
      step[at] = path.size();
      path.push_back(at);
      for (std::uint32_t d : dependencies_of(at)) {
        if (nodes[d].unmet != 0) {
          at = d;
          break;
        }
      }
    }
    std::string text;
    for (std::size_t i = step[at]; i < path.size(); ++i) text += quoted(name(path[i])) + " needs ";
    return text + quoted(name(at));
  }

  // --- running ---------------------------------------------------------------------------------

  void start(const std::shared_ptr<State>& self) {
    for (std::uint32_t i = 0; i < nodes.size(); ++i)
      if (nodes[i].unmet == 0) enqueue(i);
    drain(self);
  }

  void enqueue(std::uint32_t task) {
    nodes[task].status = Status::queued;
    links[ready_tail++] = task;
  }

  // The trampoline: starts ready tasks in FIFO order. A task completing synchronously calls
  // drain() again from inside run_task; that nested call returns at once and this loop picks up
  // what it queued, so the stack stays flat however long the chain.
  void drain(const std::shared_ptr<State>& self) {
    if (draining) return;
    {
      FlagScope scope(draining);
      while (!failed && ready_head < ready_tail && running < limit)
        run_task(self, links[ready_head++]);
    }
    if (!failed && !finished && succeeded == nodes.size()) finish(std::nullopt, results);
  }

  void run_task(const std::shared_ptr<State>& self, std::uint32_t task) {
    Node& node = nodes[task];  // nodes never reallocates once built
    node.status = Status::running;
    ++running;
    node.run(results, Done(self, task));
  }

  void complete(const std::shared_ptr<State>& self, std::uint32_t task,
                const std::optional<Error>& error, rapidjson::Value value) {
    Node& node = nodes[task];
    if (node.status != Status::running) {
      throw std::logic_error("auto: task " + quoted(name(task)) +
                             " called its callback twice (Callback was already called.)");
    }
    node.status = Status::done;
    --running;
    if (failed) return;  // the run already ended with an earlier error: drop this outcome
    if (error) return fail(task, *error, value);
    data->store(task, std::move(value));
    ++succeeded;
    for (std::uint32_t d : dependents_of(task))
      if (--nodes[d].unmet == 0) enqueue(d);
    drain(self);
  }

  void fail(std::uint32_t task, Error error, const rapidjson::Value& value) {
    failed = true;
    std::shared_ptr<ResultsData> partial = data->snapshot();
    partial->store(task, rapidjson::Value(value, partial->pool));
    finish(std::move(error), Results(std::move(partial)));
  }

  void finish(std::optional<Error> error, Results out) {
    finished = true;
    if (!final) return;
    if (starting) return defer(std::move(error), std::move(out));
    FinalCallback callback = std::move(final);  // its captures go when it returns
    final = nullptr;
    callback(std::move(error), std::move(out));
  }

  // --- the final callback on the next loop turn --------------------------------------------------

  void defer(std::optional<Error> error, Results out) {
    deferred_error = std::move(error);
    deferred_results = std::move(out);
    check(uv_idle_init(loop, &idle), "uv_idle_init");
    idle.data = this;
    check(uv_idle_start(&idle, on_deferred_turn), "uv_idle_start");
    keep_alive = shared_from_this();
  }

  static void on_deferred_turn(uv_idle_t* handle) {
    auto* state = static_cast<State*>(handle->data);
    uv_close(reinterpret_cast<uv_handle_t*>(handle), on_idle_closed);  // runs after this callback
    guard(*state->loop, [state] {
      FinalCallback callback = std::move(state->final);
      state->final = nullptr;
      callback(std::move(state->deferred_error), std::move(state->deferred_results));
    });
  }

  static void on_idle_closed(uv_handle_t* handle) {
    auto* state = static_cast<State*>(handle->data);
    std::shared_ptr<State> last = std::move(state->keep_alive);  // may free the state on return
  }

  // --- small helpers -----------------------------------------------------------------------------

  [[nodiscard]] const std::string& name(std::uint32_t task) const {
    return data->entries[task].name;
  }

  struct Span {
    const std::uint32_t* first;
    const std::uint32_t* last;
    [[nodiscard]] const std::uint32_t* begin() const { return first; }
    [[nodiscard]] const std::uint32_t* end() const { return last; }
  };
  [[nodiscard]] Span dependencies_of(std::uint32_t task) const {
    const std::uint32_t* first = links.data() + nodes[task].first_dependency;
    return {first, first + nodes[task].dependency_count};
  }
  [[nodiscard]] Span dependents_of(std::uint32_t task) const {
    const std::uint32_t* first = links.data() + nodes[task].first_dependent;
    return {first, first + nodes[task].dependent_count};
  }
};

template <typename Tasks>
void run_graph(uv_loop_t& loop, Tasks& tasks, std::size_t concurrency, FinalCallback final) {
  auto state = std::make_shared<State>(loop, std::move(final), concurrency);
  FlagScope scope(state->starting);
  if (std::optional<Error> error = state->build(tasks))
    return state->finish(std::move(error), Results());
  state->start(state);
}

}  // namespace auto_detail

// --- Results -------------------------------------------------------------------------------------

const rapidjson::Value* Results::find(std::string_view task) const {
  if (!data_) return nullptr;
  std::uint32_t position = data_->position(task);
  if (position == auto_detail::ResultsData::kAbsent) return nullptr;
  const auto_detail::ResultsData::Entry& entry = data_->entries[position];
  return entry.present ? &entry.value : nullptr;
}

const rapidjson::Value& Results::at(std::string_view task) const {
  if (const rapidjson::Value* value = find(task)) return *value;
  throw std::out_of_range("auto: no result for task " + auto_detail::quoted(task));
}

std::size_t Results::size() const {
  return data_ ? data_->present : 0;
}

Json Results::as_json() const {
  Json object(rapidjson::kObjectType);
  if (!data_) return object;
  auto& allocator = object.GetAllocator();
  for (const auto& entry : data_->entries) {
    if (!entry.present) continue;
    rapidjson::Value key(entry.name.data(), static_cast<rapidjson::SizeType>(entry.name.size()),
                         allocator);
    object.AddMember(key, rapidjson::Value(entry.value, allocator), allocator);
  }
  return object;
}

// --- Done ----------------------------------------------------------------------------------------

auto_detail::Pool& Done::pool() const {
  return state_->data->pool;
}

void Done::report(const std::optional<Error>& error, rapidjson::Value value) const {
  state_->complete(state_, task_, error, std::move(value));
}

// --- auto_run ------------------------------------------------------------------------------------

void auto_run(uv_loop_t& loop, std::vector<Task> tasks, std::size_t concurrency,
              FinalCallback final) {
  auto_detail::run_graph(loop, tasks, concurrency, std::move(final));
}

void auto_run(uv_loop_t& loop, std::initializer_list<Task> tasks, std::size_t concurrency,
              FinalCallback final) {
  auto_detail::run_graph(loop, tasks, concurrency, std::move(final));
}

void dump_dot(std::ostream& out, const std::vector<Task>& tasks) {
  out << "digraph auto {\n";
  for (const Task& task : tasks) {
    out << "  \"" << task.name << "\";\n";
    for (const std::string& dependency : task.dependencies)
      out << "  \"" << dependency << "\" -> \"" << task.name << "\";\n";
  }
  out << "}\n";
}

}  // namespace common
