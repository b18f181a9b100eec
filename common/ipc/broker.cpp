#include "common/ipc/broker.h"

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <iostream>
#include <utility>

#include "common/ipc/protocol.h"
#include "common/uv/immediate.h"
#include "common/uv/loop.h"

extern char** environ;  // NOLINT: POSIX, the environment handed to the workers

namespace common {
namespace {

using Clock = std::chrono::steady_clock;

constexpr uint64_t kFirstBackoffMs = 100;
constexpr uint64_t kMaxBackoffMs = 5000;

bool still_wanted(const PendingQuery& pending) {
  return !pending.wanted || pending.wanted();
}

Error cancelled() {
  return Error{"ECANCELED", "nobody wanted the answer any more; no worker was asked"};
}

// The environment of a Node child with an IPC channel on fd 3 (docs/ipc.md §1).
std::vector<std::string> worker_environment() {
  std::vector<std::string> env;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    std::string_view text(*entry);  // ours replace whatever our own parent gave us
    if (!text.starts_with("NODE_CHANNEL_FD=") &&
        !text.starts_with("NODE_CHANNEL_SERIALIZATION_MODE="))
      env.emplace_back(text);
  }
  env.emplace_back("NODE_CHANNEL_FD=3");
  env.emplace_back("NODE_CHANNEL_SERIALIZATION_MODE=json");
  return env;
}

std::vector<std::string> worker_arguments(const BrokerOptions& options) {
  std::vector<std::string> args = options.worker_command;
  if (args.empty()) args.push_back(default_worker_path());
  args.insert(args.end(),
              {"--latency", std::to_string(options.latency_ms), "--block", options.block});
  if (!options.data_file.empty()) args.insert(args.end(), {"--data", options.data_file});
  if (options.quiet_workers) args.emplace_back("--quiet");
  return args;
}

std::vector<char*> pointers_to(std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  pointers.reserve(strings.size() + 1);
  for (auto& text : strings) pointers.push_back(text.data());
  pointers.push_back(nullptr);
  return pointers;
}

}  // namespace

std::string default_worker_path() {
  char path[4096];
  size_t size = sizeof path;
  check(uv_exepath(path, &size), "uv_exepath");
  return std::filesystem::path(path, path + size).replace_filename("broker-worker");
}

BrokerOptions BrokerOptions::from(const StageOptions& stage) {
  return {.workers = stage.workers,
          .latency_ms = stage.latency_ms,
          .block = stage.block,
          .worker_command = split_command(stage.worker_command),
          .data_file = stage.data_file,
          .quiet_workers = stage.quiet,
          .queue_limit = stage.queue_limit,
          .query_timeout_ms =
              stage.query_timeout_ms != 0 ? stage.query_timeout_ms : stage.latency_ms * 5 + 5000,
          .fork_per_query = stage.fork_per_query};
}

int http_status_for(const Error& error) {
  const std::string& code = error.code;
  if (code == "ENOTFOUND") return 404;
  if (code == "EINVAL" || code == "EBADQUERY") return 400;
  if (code == "EQUEUEFULL" || code == "ECLOSED") return 503;
  if (code == "ETIMEDOUT") return 504;
  return 502;
}

std::vector<std::string> split_command(std::string_view command) {
  std::vector<std::string> words;
  for (size_t start = 0, end = 0; start < command.size(); start = end + 1) {
    end = std::min(command.find(' ', start), command.size());
    if (end > start) words.emplace_back(command.substr(start, end - start));
  }
  return words;
}

Broker::Broker(uv_loop_t& loop, BrokerOptions options)
    : loop_(loop),
      options_(std::move(options)),
      argv_storage_(worker_arguments(options_)),
      env_storage_(worker_environment()),
      argv_(pointers_to(argv_storage_)),
      env_(pointers_to(env_storage_)),
      respawn_timer_(loop, uv_timer_init) {
  if (options_.workers == 0) options_.workers = 1;
  respawn_timer_->data = this;
  if (options_.fork_per_query) return;  // children are started per query
  for (unsigned i = 0; i < options_.workers; ++i) {
    if (int rc = spawn_worker(false); rc < 0) {
      for (auto& worker : workers_) worker->abandon();
      throw UvError(rc, "cannot start worker '" + argv_storage_[0] + "'");
    }
  }
}

Broker::~Broker() {
  if (closed_) return;
  for (auto& worker : workers_) worker->abandon();
}

void Broker::query(std::string_view bucket, const rapidjson::Value& query, Callback done) {
  this->query(
      bucket, query,
      TimedCallback([done = std::move(done)](std::optional<Error> error, Json result, QueryTiming) {
        done(std::move(error), std::move(result));
      }));
}

void Broker::query(std::string_view bucket, const rapidjson::Value& query, TimedCallback done,
                   Wanted wanted) {
  PendingQuery pending;
  pending.id = ++next_id_;
  pending.bucket = bucket;
  pending.done = std::move(done);
  pending.wanted = std::move(wanted);
  pending.started = Clock::now();
  if (closing_) {
    fail_later(loop_, std::move(pending), Error{"ECLOSED", "the broker is shutting down"});
    return;
  }
  pending.request = request_line(pending.id, bucket, query);
  queue_.push_back(std::move(pending));
  pump();
  if (queue_.size() > options_.queue_limit) drop_unwanted();  // room made by askers that left
  if (queue_.size() <= options_.queue_limit) return;
  PendingQuery refused = std::move(queue_.back());
  queue_.pop_back();
  fail_later(loop_, std::move(refused),
             Error{"EQUEUEFULL", std::to_string(options_.queue_limit) +
                                     " queries are already waiting for a worker"});
}

size_t Broker::in_flight() const noexcept {
  return static_cast<size_t>(
      std::count_if(workers_.begin(), workers_.end(), [](const auto& w) { return w->busy(); }));
}

std::vector<int> Broker::worker_pids() const {
  std::vector<int> pids;
  for (const auto& worker : workers_)
    if (!worker->retiring()) pids.push_back(worker->pid());
  return pids;
}

size_t Broker::active_workers() const noexcept {
  return static_cast<size_t>(std::count_if(workers_.begin(), workers_.end(),
                                           [](const auto& w) { return !w->retiring(); }));
}

// Hands queued queries to idle workers, oldest first (fork-per-query: to fresh ones); one that
// nobody wants any more is dropped on the way.
void Broker::pump() {
  while (!queue_.empty() && !closing_) {
    auto idle = std::find_if(workers_.begin(), workers_.end(),
                             [](const auto& worker) { return worker->accepts_queries(); });
    if (!still_wanted(queue_.front())) {
      fail_later(loop_, std::move(queue_.front()), cancelled());
    } else if (idle != workers_.end()) {
      (*idle)->send(std::move(queue_.front()));
    } else if (!options_.fork_per_query || active_workers() >= options_.workers) {
      break;
    } else if (int rc = spawn_worker(true); rc < 0) {
      fail_later(loop_, std::move(queue_.front()), spawn_failure(rc));
    } else {
      continue;  // the new worker is picked on the next round
    }
    queue_.pop_front();
  }
}

int Broker::spawn_worker(bool single_use) {
  WorkerProcess::Limits limits{options_.query_timeout_ms, options_.shutdown_grace_ms};
  Owner& owner = *this;  // a private base: only the broker itself can hand it out
  auto worker = std::make_unique<WorkerProcess>(loop_, owner, limits, single_use);
  int rc = worker->spawn(argv_.data(), env_.data());
  if (rc < 0) return rc;
  ++workers_started_;
  workers_.push_back(std::move(worker));
  return 0;
}

Error Broker::spawn_failure(int rc) const {
  return Error{"EWORKER", describe_uv(rc, "cannot start worker '" + argv_storage_[0] + "'")};
}

// Tops the pool up to its size; if a worker cannot even be started, another attempt follows
// after a backoff. The queued queries wait for the workers still alive; only when there is
// none do they fail now (nothing waits forever).
void Broker::ensure_pool() {
  if (closing_ || options_.fork_per_query) return;
  while (active_workers() < options_.workers) {
    int rc = spawn_worker(false);
    if (rc == 0) continue;
    Error failure = spawn_failure(rc);
    std::cerr << "broker: " << failure.message << "\n";
    if (active_workers() == 0) fail_all_queued(failure);
    return schedule_respawn();
  }
}

// One more quick death: the pool is topped up after a backoff that doubles with each.
void Broker::schedule_respawn() {
  ++quick_deaths_;
  if (uv_is_active(respawn_timer_.handle())) return;
  unsigned shift = std::min(quick_deaths_ - 1, 6U);
  uint64_t delay = std::min(kFirstBackoffMs << shift, kMaxBackoffMs);
  check(uv_timer_start(respawn_timer_.get(), on_timer<&Broker::worker_retiring>, delay, 0),
        "uv_timer_start");
}

// The callback of the broker's timers: (broker->*Then)(), inside guard.
template <void (Broker::*Then)()>
void Broker::on_timer(uv_timer_t* timer) {
  auto* self = static_cast<Broker*>(timer->data);
  if (self != nullptr) guard(self->loop_, [self] { (self->*Then)(); });
}

void Broker::worker_answered() {
  quick_deaths_ = 0;  // this command works
  pump();
}

// Also the respawn timer's callback.
void Broker::worker_retiring() {
  ensure_pool();
  pump();
}

void Broker::worker_finished(WorkerProcess& worker) {
  if (!worker.expected_end() && !closing_)
    std::cerr << "broker: " << worker.describe_end() << "; starting another\n";
  const bool young = worker.died_young();
  // Called from inside the worker's own callbacks: it is freed on a later turn.
  auto owned = std::find_if(workers_.begin(), workers_.end(),
                            [&](const auto& w) { return w.get() == &worker; });
  std::shared_ptr<WorkerProcess> finished(std::move(*owned));
  workers_.erase(owned);
  set_immediate(loop_, [finished = std::move(finished)]() mutable { finished.reset(); });
  if (closing_) return finish_close_when_done();
  if (!young) return worker_retiring();  // replaced at once
  schedule_respawn();
  pump();
}

void Broker::fail_all_queued(const Error& error) {
  for (auto& pending : queue_) fail_later(loop_, std::move(pending), error);
  queue_.clear();
}

// A full queue first lets go of the queries whose askers have left.
void Broker::drop_unwanted() {
  auto unwanted = std::stable_partition(queue_.begin(), queue_.end(), still_wanted);
  for (auto it = unwanted; it != queue_.end(); ++it) fail_later(loop_, std::move(*it), cancelled());
  queue_.erase(unwanted, queue_.end());
}

void Broker::close(std::function<void()> done) {
  if (done) close_callbacks_.push_back(std::move(done));
  if (closing_) return finish_close_when_done();  // done waits for the close under way, if any
  closing_ = true;
  respawn_timer_.close();
  Error closed{"ECLOSED", "the broker is shutting down"};
  fail_all_queued(closed);
  // A worker not yet retiring has not exited, so retire() cannot finish it: workers_ stays put.
  for (auto& worker : workers_) {
    std::optional<PendingQuery> busy = worker->take_query();
    if (busy) fail_later(loop_, std::move(*busy), closed);
    if (!worker->retiring()) worker->retire(busy ? SIGTERM : 0);  // idle ones exit on EOF
  }
  finish_close_when_done();
}

// The close is done once the last worker is finished. The callbacks run on a later turn, after
// the finished workers have been freed; they need nothing of the broker, so one may destroy it.
void Broker::finish_close_when_done() {
  if (!workers_.empty()) return;
  closed_ = true;
  set_immediate(loop_, [callbacks = std::exchange(close_callbacks_, {})] {
    for (const auto& callback : callbacks) callback();
  });
}

}  // namespace common
