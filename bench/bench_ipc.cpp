// bench_ipc: IPC round trips per second through common::Broker, and the cost of a spawn.
//
//   bench_ipc [--mode seq|inflight|spawn] [--inflight N] [--workers N] [--seconds S]
//             [--worker 'CMD ARGS']
//
//   seq       one query at a time to one worker: the latency of a round trip
//   inflight  N queries outstanding at all times (default 64), queued for the workers, which
//             answer one at a time each
//   channel   N queries outstanding, written straight into the workers' channels (no broker,
//             no queue: what bench/node/ipc.js does with Node's fork), each worker answering
//             its messages in order
//   spawn     --fork-per-query, one at a time: what starting a child per query costs
//
// Workers run with --latency 0 --quiet, so the figure is the broker and the channel, not the
// "database". Prints one JSON line: {"mode":…,"round_trips":…,"seconds":…,"per_second":…}.
// bench/ipc.sh runs it next to bench/node/ipc.js (the same with Node's child_process.fork).
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/ipc/broker.h"
#include "common/ipc/channel.h"
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

// Keeps `window` messages outstanding over the channels of `workers` broker-worker processes
// spawned here, round-robin, until the time is up; then closes the channels (the workers exit).
class ChannelDriver {
 public:
  ChannelDriver(uv_loop_t& loop, const std::vector<std::string>& command, unsigned workers,
                unsigned window, Clock::duration run_for)
      : loop_(loop), window_(window), run_for_(run_for), timer_(loop, uv_timer_init) {
    timer_->data = this;
    for (unsigned i = 0; i < workers; ++i) spawn(command);
  }

  void start() {
    started_ = Clock::now();
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(run_for_).count();
    common::check(
        uv_timer_start(
            timer_.get(),
            [](uv_timer_t* timer) { static_cast<ChannelDriver*>(timer->data)->time_up_ = true; },
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
  struct Worker {
    explicit Worker(uv_loop_t& loop) : channel(loop) {}
    common::IpcChannel channel;
    uv_process_t process{};
  };

  void spawn(std::vector<std::string> command) {
    auto worker = std::make_unique<Worker>(loop_);
    std::vector<std::string> env = {"NODE_CHANNEL_FD=3", "PATH=/usr/bin:/bin"};
    auto argv = c_strings(command);
    auto envp = c_strings(env);
    uv_stdio_container_t stdio[4] = {};
    for (int fd = 0; fd < 3; ++fd) {
      stdio[fd].flags = UV_INHERIT_FD;
      stdio[fd].data.fd = fd;
    }
    stdio[3].flags =
        static_cast<uv_stdio_flags>(UV_CREATE_PIPE | UV_READABLE_PIPE | UV_WRITABLE_PIPE);
    stdio[3].data.stream = worker->channel.stream();
    uv_process_options_t options{};
    options.file = argv[0];
    options.args = argv.data();
    options.env = envp.data();
    options.stdio = stdio;
    options.stdio_count = 4;
    options.exit_cb = [](uv_process_t* process, int64_t, int) {
      uv_close(reinterpret_cast<uv_handle_t*>(process), nullptr);
    };
    common::check(uv_spawn(&loop_, &worker->process, &options), "uv_spawn");
    worker->channel.start([this](common::Json& reply) { on_reply(reply); },
                          [](const std::optional<common::Error>&) {});
    workers_.push_back(std::move(worker));
  }

  static std::vector<char*> c_strings(std::vector<std::string>& strings) {
    std::vector<char*> pointers;
    pointers.reserve(strings.size() + 1);
    for (auto& text : strings) pointers.push_back(text.data());
    pointers.push_back(nullptr);
    return pointers;
  }

  void ask() {
    ++outstanding_;
    uint64_t id = ++next_id_;
    workers_[id % workers_.size()]->channel.send(R"({"id":)" + std::to_string(id) +
                                                 R"(,"bucket":"users","query":)" +
                                                 std::to_string(id % 100 + 1) + "}");
  }

  void on_reply(const common::Json& reply) {
    --outstanding_;
    ++completed_;
    if (!reply.IsObject() || reply.HasMember("error")) ++failed_;
    if (!time_up_) return ask();
    if (outstanding_ == 0 && !closing_) {
      closing_ = true;
      finished_ = Clock::now();
      timer_.close();
      for (auto& worker : workers_) worker->channel.close();  // EOF: the workers exit
    }
  }

  uv_loop_t& loop_;
  unsigned window_;
  Clock::duration run_for_;
  common::Handle<uv_timer_t> timer_;
  std::vector<std::unique_ptr<Worker>> workers_;  // their process handles live until the loop ends
  Clock::time_point started_;
  Clock::time_point finished_;
  uint64_t next_id_ = 0;
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
  if (settings.mode != "seq" && settings.mode != "inflight" && settings.mode != "spawn" &&
      settings.mode != "channel")
    return usage("--mode is seq, inflight, channel or spawn");

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
  auto run_for =
      std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(settings.seconds));
  if (settings.mode == "channel") {
    std::vector<std::string> command = options.worker_command;
    if (command.empty())
      command.push_back((std::filesystem::path(argv[0]).parent_path() / "broker-worker").string());
    command.insert(command.end(), {"--latency", "0", "--quiet"});
    options.workers = settings.workers;
    window = settings.inflight;
    ChannelDriver driver(loop.get(), command, settings.workers, window, run_for);
    driver.start();
    common::run_loop(loop);
    completed = driver.completed();
    failed = driver.failed();
    elapsed = driver.elapsed();
  } else {
    common::Broker broker(loop, options);
    Driver driver(loop.get(), broker, window, run_for);
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
