// ipc/broker.h: the tutorial's "service broker" — a pool of worker processes answering slow
// queries, each spawned with a Node-compatible IPC channel on fd 3 (docs/ipc.md §1 and §6):
//
//   query() ──> FIFO queue (bounded) ──> idle worker ──> reply ──> done(error, result, timing)
//
// Every query completes exactly once and never inside query(), with a result or an Error whose
// code says what happened; http_status_for() maps it to a status. The timeout runs from when a
// worker takes the query: waiting in the queue is bounded by the queue's size, and by the asker,
// who may stop wanting the answer (then the query leaves the queue with ECANCELED). A program using
// the broker ignores SIGPIPE (the HTTP server does it for the stages): a write to a worker that
// just died must fail with EPIPE instead of killing the parent.
//
// Lifetime: call close(done) before the loop ends; done runs once every child is reaped and
// every handle of the broker is closing. Do not destroy the Broker inside one of its callbacks.
#pragma once

#include <uv.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/ipc/worker_process.h"
#include "common/json.h"
#include "common/options.h"
#include "common/uv/error.h"
#include "common/uv/handle.h"

namespace common {

struct BrokerOptions {
  unsigned workers = 1;                     // pool size (fork-per-query: children at once)
  unsigned latency_ms = 1000;               // passed to every worker as --latency
  std::string block = "spin";               // passed as --block (spin|sleep)
  std::vector<std::string> worker_command;  // argv; empty = broker-worker next to this program
  std::string data_file;                    // passed as --data when not empty
  bool quiet_workers = false;               // passes --quiet (no per-query log lines)
  unsigned queue_limit = 1024;              // queries that may wait for a worker, then EQUEUEFULL
  unsigned query_timeout_ms = 10000;        // max time in a worker (waiting in the queue is not)
  bool fork_per_query = false;              // one fresh child per query (the tutorial's toy)
  unsigned shutdown_grace_ms = 2000;        // close(): SIGKILL whoever is still alive then

  // From a stage's command line: split --worker on spaces, default the timeout; --quiet quiets
  // the workers' per-query lines as well as the access log.
  static BrokerOptions from(const StageOptions& stage);
};

// ENOTFOUND→404, EINVAL/EBADQUERY→400, EQUEUEFULL/ECLOSED→503, ETIMEDOUT→504, anything else→502
// (ECANCELED among them, which only an asker that has gone receives).
int http_status_for(const Error& error);

// Splits a command line on spaces (no quoting, no shell), dropping empty words.
std::vector<std::string> split_command(std::string_view command);
// broker-worker in the directory of the running program: the worker when none is given.
std::string default_worker_path();

class Broker : private WorkerProcess::Owner {
 public:
  // Node style: done(error, result). On error the result is null.
  using Callback = std::function<void(std::optional<Error> error, Json result)>;
  // The same, plus the query's measured timing (for Server-Timing and ?trace=1).
  using TimedCallback = QueryCallback;
  // Asked before the query goes to a worker: false means nobody waits for the answer any more.
  using Wanted = std::function<bool()>;

  // Spawns the pool (none in fork-per-query mode). Throws UvError if the worker cannot be
  // started at all (e.g. ENOENT for a missing program).
  Broker(uv_loop_t& loop, BrokerOptions options);
  // Without close(): children are killed (SIGKILL) and reaped at once; queries not yet failed
  // are dropped without their callbacks.
  ~Broker();
  Broker(const Broker&) = delete;
  Broker& operator=(const Broker&) = delete;

  // bucket "users" with query 1, "posts" with {"poster":1}, "comments" with {"commenter":1}.
  // The query is serialised before query() returns; it need not outlive the call. A queued query
  // whose `wanted` turns false never reaches a worker: done gets ECANCELED instead.
  void query(std::string_view bucket, const rapidjson::Value& query, Callback done);
  void query(std::string_view bucket, const rapidjson::Value& query, TimedCallback done,
             Wanted wanted = {});

  // docs/ipc.md §6 "Closing": ECLOSED for every query, SIGTERM, SIGKILL after the grace period,
  // every child reaped; then done, asynchronously (also when the broker is closed already).
  void close(std::function<void()> done);

  // Introspection, for tests and logs.
  [[nodiscard]] size_t queued() const noexcept { return queue_.size(); }
  [[nodiscard]] size_t in_flight() const noexcept;
  [[nodiscard]] std::vector<int> worker_pids() const;  // live workers (not being retired)
  [[nodiscard]] uint64_t workers_started() const noexcept { return workers_started_; }

 private:
  // WorkerProcess::Owner
  void worker_answered() override;
  void worker_retiring() override;
  void worker_finished(WorkerProcess& worker) override;

  template <void (Broker::*Then)()>
  static void on_timer(uv_timer_t* timer);
  void pump();
  [[nodiscard]] int spawn_worker(bool single_use);
  [[nodiscard]] Error spawn_failure(int rc) const;
  void ensure_pool();
  void schedule_respawn();
  void fail_all_queued(const Error& error);
  void drop_unwanted();
  void finish_close_when_done();
  [[nodiscard]] size_t active_workers() const noexcept;

  uv_loop_t& loop_;
  BrokerOptions options_;
  std::vector<std::string> argv_storage_;
  std::vector<std::string> env_storage_;
  std::vector<char*> argv_;  // point into the storage above, for uv_spawn
  std::vector<char*> env_;
  std::vector<std::unique_ptr<WorkerProcess>> workers_;  // live and retiring
  std::deque<PendingQuery> queue_;
  Handle<uv_timer_t> respawn_timer_;  // backoff before replacing workers that keep dying
  uint64_t next_id_ = 0;
  uint64_t workers_started_ = 0;
  unsigned quick_deaths_ = 0;  // workers in a row that died young: the backoff exponent
  bool closing_ = false;
  bool closed_ = false;
  std::vector<std::function<void()>> close_callbacks_;
};

}  // namespace common
