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
#include <iostream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "child-processes/child.h"
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

// Keeps `window` round trips outstanding until the time is up, then stops. A timer says when
// the time is up, so the loop measured reads no clock per answer. A driver supplies ask() (start
// one round trip, whose answer calls answered()) and stop() (close what it opened).
class Window {
 public:
  Window(uv_loop_t& loop, unsigned window, Clock::duration run_for)
      : window_(window), run_for_(run_for), timer_(loop, uv_timer_init) {
    timer_->data = this;
  }
  virtual ~Window() = default;
  Window(const Window&) = delete;
  Window& operator=(const Window&) = delete;

  void start() {
    started_ = Clock::now();
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(run_for_).count();
    common::check(uv_timer_start(
                      timer_.get(),
                      [](uv_timer_t* timer) { static_cast<Window*>(timer->data)->time_up_ = true; },
                      static_cast<uint64_t>(ms), 0),
                  "uv_timer_start");
    for (unsigned i = 0; i < window_; ++i) ask_next();
  }
  [[nodiscard]] uint64_t completed() const { return completed_; }
  [[nodiscard]] uint64_t failed() const { return failed_; }
  [[nodiscard]] double elapsed() const {
    return std::chrono::duration<double>(finished_ - started_).count();
  }

 protected:
  virtual void ask(uint64_t n) = 0;  // the n-th round trip, counted from 1
  virtual void stop() = 0;

  void answered(bool failed) {
    --outstanding_;
    ++completed_;
    if (failed) ++failed_;
    if (!time_up_) return ask_next();
    if (outstanding_ == 0 && !closing_) {
      closing_ = true;
      finished_ = Clock::now();
      timer_.close();
      stop();
    }
  }

 private:
  void ask_next() {
    ++outstanding_;
    ask(++asked_);
  }

  unsigned window_;
  Clock::duration run_for_;
  common::Handle<uv_timer_t> timer_;
  Clock::time_point started_;
  Clock::time_point finished_;
  uint64_t asked_ = 0;
  uint64_t completed_ = 0;
  uint64_t failed_ = 0;
  unsigned outstanding_ = 0;
  bool time_up_ = false;
  bool closing_ = false;
};

// Round trips through common::Broker.
class BrokerDriver : public Window {
 public:
  BrokerDriver(uv_loop_t& loop, common::Broker& broker, unsigned window, Clock::duration run_for)
      : Window(loop, window, run_for), broker_(broker) {}

 private:
  void ask(uint64_t n) override {
    query_.SetInt(static_cast<int>(n % 100 + 1));
    broker_.query("users", query_,
                  [this](const std::optional<common::Error>& error, const common::Json&,
                         common::QueryTiming) { answered(error.has_value()); });
  }
  void stop() override {
    broker_.close([] {});
  }

  common::Broker& broker_;
  rapidjson::Document query_;
};

// Round trips written straight into the channels of `workers` worker processes started here
// (round-robin, no broker, no queue); stop() closes the channels, and the workers exit on EOF.
class ChannelDriver : public Window {
 public:
  ChannelDriver(uv_loop_t& loop, const std::vector<std::string>& command, unsigned workers,
                unsigned window, Clock::duration run_for)
      : Window(loop, window, run_for) {
    for (unsigned i = 0; i < workers; ++i) {
      auto& channel = *channels_.emplace_back(std::make_unique<common::IpcChannel>(loop));
      child::start(loop, command,
                   {child::inherit(0), child::inherit(1), child::inherit(2),
                    child::pipe_to(channel.stream(), UV_READABLE_PIPE | UV_WRITABLE_PIPE)},
                   {"NODE_CHANNEL_FD=3"}, [](child::Ended) {});
      channel.start(
          [this](common::Json& reply) { answered(!reply.IsObject() || reply.HasMember("error")); },
          [](const std::optional<common::Error>&) {});
    }
  }

 private:
  void ask(uint64_t n) override {
    channels_[n % channels_.size()]->send(R"({"id":)" + std::to_string(n) +
                                          R"(,"bucket":"users","query":)" +
                                          std::to_string(n % 100 + 1) + "}");
  }
  void stop() override {
    for (auto& channel : channels_) channel->close();
  }

  std::vector<std::unique_ptr<common::IpcChannel>> channels_;
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
    if (command.empty()) command.push_back(common::default_worker_path());
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
    BrokerDriver driver(loop.get(), broker, window, run_for);
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
