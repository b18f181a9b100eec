// bench_ipc: IPC round trips per second through common::Broker, and the cost of a spawn.
//
//   bench_ipc [--mode seq|inflight|spawn] [--inflight N] [--workers N] [--seconds S]
//             [--worker 'CMD ARGS']
//
//   seq       one query at a time to one worker: the latency of a round trip
//   inflight  N queries outstanding at all times (default 64), queued for the workers, which
//             answer one at a time each
//   spawn     --fork-per-query, one at a time: what starting a child per query costs
//
// Workers run with --latency 0 --quiet, so the figure is the broker and the channel, not the
// "database". Prints one JSON line: {"mode":…,"round_trips":…,"seconds":…,"per_second":…}.
// bench/ipc.sh runs it next to bench/node/ipc.js (the same with Node's child_process.fork).
#include <chrono>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <string>
#include <string_view>

#include "common/ipc/broker.h"
#include "common/uv/handle.h"
#include "common/uv/loop.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Settings {
  std::string mode = "seq";
  unsigned inflight = 64;
  unsigned workers = 1;
  double seconds = 3;
  std::string worker;
};

// Keeps `window` queries outstanding until the time is up, then closes the broker. A timer says
// when the time is up, so the loop measured reads no clock per answer.
class Driver {
 public:
  Driver(uv_loop_t& loop, common::Broker& broker, unsigned window, Clock::duration run_for)
      : broker_(broker), window_(window), run_for_(run_for), timer_(loop, uv_timer_init) {
    timer_->data = this;
  }

  void start() {
    started_ = Clock::now();
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(run_for_).count();
    common::check(uv_timer_start(
                      timer_.get(),
                      [](uv_timer_t* timer) { static_cast<Driver*>(timer->data)->time_up_ = true; },
                      static_cast<uint64_t>(ms), 0),
                  "uv_timer_start");
    for (unsigned i = 0; i < window_; ++i) ask();
  }
  [[nodiscard]] uint64_t completed() const { return completed_; }
  [[nodiscard]] uint64_t failed() const { return failed_; }
  [[nodiscard]] double elapsed() const {
    return std::chrono::duration<double>(finished_ - started_).count();
  }

 private:
  void ask() {
    ++outstanding_;
    query_.SetInt(static_cast<int>(next_user_++ % 100 + 1));
    broker_.query("users", query_,
                  [this](const std::optional<common::Error>& error, const common::Json&,
                         common::QueryTiming) { on_answer(error.has_value()); });
  }

  void on_answer(bool failed) {
    --outstanding_;
    ++completed_;
    if (failed) ++failed_;
    if (!time_up_) {
      ask();
      return;
    }
    if (outstanding_ == 0 && !closing_) {
      closing_ = true;
      finished_ = Clock::now();
      timer_.close();
      broker_.close([] {});
    }
  }

  common::Broker& broker_;
  unsigned window_;
  Clock::duration run_for_;
  common::Handle<uv_timer_t> timer_;
  Clock::time_point started_;
  Clock::time_point finished_;
  rapidjson::Document query_;
  uint64_t next_user_ = 0;
  uint64_t completed_ = 0;
  uint64_t failed_ = 0;
  unsigned outstanding_ = 0;
  bool time_up_ = false;
  bool closing_ = false;
};

int usage(std::string_view problem) {
  std::cerr << "bench_ipc: " << problem << "\n";
  return 2;
}

}  // namespace

int main(int argc, char* argv[]) {
  std::signal(SIGPIPE, SIG_IGN);  // a write to a worker that died must fail with EPIPE, not kill us
  Settings settings;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (i + 1 >= argc) return usage("every option takes a value");
    std::string value = argv[++i];
    if (arg == "--mode") {
      settings.mode = value;
    } else if (arg == "--inflight") {
      settings.inflight = static_cast<unsigned>(std::stoul(value));
    } else if (arg == "--workers") {
      settings.workers = static_cast<unsigned>(std::stoul(value));
    } else if (arg == "--seconds") {
      settings.seconds = std::stod(value);
    } else if (arg == "--worker") {
      settings.worker = value;
    } else {
      return usage("unknown option " + std::string(arg));
    }
  }
  if (settings.mode != "seq" && settings.mode != "inflight" && settings.mode != "spawn")
    return usage("--mode is seq, inflight or spawn");

  common::BrokerOptions options;
  options.latency_ms = 0;
  options.quiet_workers = true;
  options.worker_command = common::split_command(settings.worker);
  options.workers = settings.mode == "inflight" ? settings.workers : 1;
  unsigned window = settings.mode == "inflight" ? settings.inflight : 1;
  options.fork_per_query = settings.mode == "spawn";
  options.queue_limit = window + 16;

  common::Loop loop;
  uint64_t completed = 0;
  uint64_t failed = 0;
  double elapsed = 0;
  {
    common::Broker broker(loop, options);
    Driver driver(loop.get(), broker, window,
                  std::chrono::duration_cast<Clock::duration>(
                      std::chrono::duration<double>(settings.seconds)));
    driver.start();
    common::run_loop(loop);
    completed = driver.completed();
    failed = driver.failed();
    elapsed = driver.elapsed();
  }
  if (loop.close() != 0) return usage("the loop did not close cleanly");
  std::printf(
      "{\"impl\":\"c++\",\"mode\":\"%s\",\"inflight\":%u,\"workers\":%u,\"round_trips\":%llu,"
      "\"failed\":%llu,\"seconds\":%.3f,\"per_second\":%.0f}\n",
      settings.mode.c_str(), window, options.workers, static_cast<unsigned long long>(completed),
      static_cast<unsigned long long>(failed), elapsed, static_cast<double>(completed) / elapsed);
  return failed == 0 ? 0 : 1;
}
