// bench_auto: common::auto_run on the graphs bench/node/auto.js gives async.auto 3.2.6.
//   bin/bench_auto [diamond_runs=100000] [dag_runs=100] [small_dag_runs=10000]
// diamond: a; b and c after a; the tasks call back synchronously, so each run's final callback
//   comes on the next loop turn (never inside auto_run). Runs start DIAMOND_BATCH (default 10)
//   at a time from one callback, the batch's last final callback starting the next batch; Node
//   needs no turn at all and starts them in a plain for loop. "1 per turn" starts each run from
//   the previous one's final callback: one whole libuv loop turn per run.
// dag: 100 layers of 100 tasks, each needing two tasks of the layer before and calling back on
//   the next loop turn (common::set_immediate, as Node's side uses setImmediate); one run after
//   another.
// small dag: the same with 10 layers of 10 tasks, where async's quadratic graph check matters less.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/flow/auto.h"
#include "common/uv/immediate.h"
#include "common/uv/loop.h"

using common::Done;
using common::Results;
using common::Task;

namespace {

// Wall time and this process's CPU time: on a busy machine the second is the steadier figure.
struct Stopwatch {
  std::chrono::steady_clock::time_point wall = std::chrono::steady_clock::now();
  double cpu = cpu_seconds();

  static double cpu_seconds() {
    timespec now{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
    return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) / 1e9;
  }
  void report(const char* name, long runs, const std::string& unit) const {
    double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall).count();
    double used = cpu_seconds() - cpu;
    auto count = static_cast<double>(runs);
    std::printf("%s: %ld runs%s in %.3f s (cpu %.3f s) = %.4f runs/s, %.4f runs/cpu-s\n", name,
                runs, unit.c_str(), elapsed, used, count / elapsed, count / used);
  }
};

// --- diamond -----------------------------------------------------------------------------------

// Starts `batch` runs at a time, from one callback (as Node's for loop does); each run's final
// callback comes on the next loop turn, and the batch's last one starts the next batch.
struct Diamond {
  uv_loop_t& loop;
  long runs;
  long batch;
  long completed = 0;

  void start_batch() {
    for (long i = 0; i < batch && completed + i < runs; ++i) run_one();
  }

  void run_one() {
    common::auto_run(
        loop,
        {
            {"a", {}, [](const Results&, Done done) { done(std::nullopt, 1); }},
            {"b",
             {"a"},
             [](const Results& r, Done done) { done(std::nullopt, r["a"].GetInt() + 1); }},
            {"c",
             {"a"},
             [](const Results& r, Done done) { done(std::nullopt, r["a"].GetInt() + 2); }},
        },
        [this](const std::optional<common::Error>& error, Results results) {
          if (error || results["b"].GetInt() + results["c"].GetInt() != 5)
            throw std::runtime_error("diamond: wrong results");
          if (++completed % batch == 0 && completed < runs) start_batch();
        });
  }
};

void bench_diamond(const char* name, long runs, long batch) {
  if (runs <= 0) return;
  common::Loop loop;
  Diamond diamond{loop, runs, batch};
  Stopwatch stopwatch;
  diamond.start_batch();
  common::run_loop(loop);
  if (diamond.completed != runs) throw std::runtime_error("diamond: not every run completed");
  if (name != nullptr) stopwatch.report(name, runs, "");
  if (loop.close() != 0) throw std::runtime_error("diamond: loop not clean");
}

// --- layered dag -------------------------------------------------------------------------------

// "L3_14". Appending, not "L" + std::to_string(…): gcc 12 warns falsely (-Wrestrict) on that.
std::string task_name(int layer, int i) {
  std::string name = "L";
  name += std::to_string(layer);
  name += '_';
  name += std::to_string(i);
  return name;
}

std::vector<Task> dag_tasks(uv_loop_t& loop, int layers, int width) {
  std::vector<Task> tasks;
  tasks.reserve(static_cast<std::size_t>(layers) * static_cast<std::size_t>(width));
  for (int layer = 0; layer < layers; ++layer) {
    for (int i = 0; i < width; ++i) {
      common::Dependencies needs;
      if (layer > 0) {
        needs.push_back(task_name(layer - 1, i));
        needs.push_back(task_name(layer - 1, (i + 1) % width));
      }
      tasks.push_back(
          {task_name(layer, i), std::move(needs), [&loop, layer](const Results&, Done done) {
             common::set_immediate(loop, [done, layer] { done(std::nullopt, layer); });
           }});
    }
  }
  return tasks;
}

struct Dag {
  uv_loop_t& loop;
  int layers;
  int width;
  long runs;
  long completed = 0;

  void run_one() {
    common::auto_run(loop, dag_tasks(loop, layers, width),
                     [this](const std::optional<common::Error>& error, Results results) {
                       if (error || results[task_name(layers - 1, 0)].GetInt() != layers - 1)
                         throw std::runtime_error("dag: wrong results");
                       if (++completed < runs) run_one();
                     });
  }
};

void bench_dag(const char* name, int layers, int width, long runs) {
  if (runs <= 0) return;
  common::Loop loop;
  Dag dag{loop, layers, width, runs};
  Stopwatch stopwatch;
  dag.run_one();
  common::run_loop(loop);
  if (dag.completed != runs) throw std::runtime_error("dag: not every run completed");
  stopwatch.report(name, runs, " of " + std::to_string(layers * width) + " tasks");
  if (loop.close() != 0) throw std::runtime_error("dag: loop not clean");
}

long argument(int argc, char** argv, int index, long fallback) {
  return argc > index ? std::strtol(argv[index], nullptr, 10) : fallback;
}

}  // namespace

int main(int argc, char** argv) {
  long diamond_runs = argument(argc, argv, 1, 100'000);
  bench_diamond(nullptr, diamond_runs / 5, 10);  // warm-up, not reported (Node's side does one too)
  const char* batch_env = std::getenv("DIAMOND_BATCH");
  bench_diamond("diamond", diamond_runs, batch_env ? std::strtol(batch_env, nullptr, 10) : 10);
  bench_diamond("diamond 1 per turn", diamond_runs, 1);
  bench_dag("dag", 100, 100, argument(argc, argv, 2, 100));
  bench_dag("small dag", 10, 10, argument(argc, argv, 3, 10'000));
  return 0;
}
