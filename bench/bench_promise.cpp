// bench_promise: common::Promise against itself in the two shapes bench/node/promise.js runs
// for Q 1.5.1, Q 2.0.3 and native Promise (bench/promise.sh prints the ratios):
//   chain: p = resolved(0); N times p = p.then(v => v + 1); wait for the last one.
//   all:   M times all([resolved(0) … resolved(9)]).then(count); wait for all of them.
// Each shape runs once at a tenth of its size to warm up, then once measured. Times include
// building the promises and draining the loop.
//   bin/bench_promise [chain N=1000000] [all M=100000]
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <system_error>
#include <vector>

#include "common/flow/promise.h"
#include "common/uv/loop.h"

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

double run_chain(uv_loop_t& loop, int count) {
  auto start = Clock::now();
  int last = -1;
  {
    common::Promise<int> promise = common::resolved(0);
    for (int i = 0; i < count; ++i) promise = promise.then([](int v) { return v + 1; });
    promise.then([&last](int v) { last = v; });
  }
  common::run_loop(loop);
  double seconds = seconds_since(start);
  if (last != count) {
    std::fprintf(stderr, "chain: got %d, expected %d\n", last, count);
    std::exit(1);
  }
  return seconds;
}

double run_all(uv_loop_t& loop, int count) {
  auto start = Clock::now();
  long long total = 0;
  for (int i = 0; i < count; ++i) {
    std::vector<common::Promise<int>> inputs;
    inputs.reserve(10);
    for (int j = 0; j < 10; ++j) inputs.push_back(common::resolved(j));
    common::all(inputs).then([&total](const std::vector<int>& values) {
      total += static_cast<long long>(values.size());
    });
  }
  common::run_loop(loop);
  double seconds = seconds_since(start);
  if (total != 10LL * count) {
    std::fprintf(stderr, "all: got %lld values, expected %lld\n", total, 10LL * count);
    std::exit(1);
  }
  return seconds;
}

// The count given as argument `index`, or `fallback` when there is none; a typo stops the run
// (a size read as 0 would measure nothing and report it as fast).
int arg_or(int argc, char** argv, int index, int fallback) {
  if (argc <= index) return fallback;
  std::string_view text = argv[index];
  int value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value < 0) {
    std::fprintf(stderr, "bench_promise: '%s' is not a count\n", argv[index]);
    std::exit(2);
  }
  return value;
}

}  // namespace

int main(int argc, char** argv) {
  int chain = arg_or(argc, argv, 1, 1000000);
  int alls = arg_or(argc, argv, 2, 100000);
  common::Loop loop;
  double chain_seconds = 0;
  double all_seconds = 0;
  {
    common::PromiseScheduler scheduler(loop);
    run_chain(loop, chain / 10);
    chain_seconds = run_chain(loop, chain);
    run_all(loop, alls / 10);
    all_seconds = run_all(loop, alls);
  }
  std::printf("chain: %d thens in %.3f s = %.0f thens/s\n", chain, chain_seconds,
              chain / chain_seconds);
  std::printf("all: %d alls of 10 in %.3f s = %.0f alls/s\n", alls, all_seconds,
              alls / all_seconds);
  return loop.close() == 0 ? 0 : 1;
}
