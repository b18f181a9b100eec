// ipc/worker_process.h: one worker of the broker's pool — its process, its IPC channel, the
// query it is answering, and the end of its life.
//
// A worker answers one query at a time, as the tutorial's db.js does. It is finished only when
// its process has exited *and* its channel has ended (EOF, or we closed it): the exit may be
// reported before the last reply has been read. Its owner, the broker, hears about it through
// WorkerProcess::Owner, always from inside one of the worker's own libuv callbacks, so the
// owner must not free the worker there (it frees it on a later turn).
#pragma once

#include <uv.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>

#include "common/ipc/channel.h"
#include "common/json.h"
#include "common/uv/error.h"
#include "common/uv/handle.h"

namespace common {

// When a query was written to its worker and when its answer arrived (steady clock). A query
// that never reached a worker has started == the moment Broker::query() was called.
struct QueryTiming {
  std::chrono::steady_clock::time_point started;
  std::chrono::steady_clock::time_point finished;
  [[nodiscard]] double duration_ms() const {
    return std::chrono::duration<double, std::milli>(finished - started).count();
  }
};

// Node style, plus the timing: done(error, result, timing). On error the result is null.
using QueryCallback =
    std::function<void(std::optional<Error> error, Json result, QueryTiming timing)>;

// A query from Broker::query() until its callback.
struct PendingQuery {
  uint64_t id = 0;
  std::string bucket;
  std::string request;  // the request line, built when the query was asked
  QueryCallback done;
  std::function<bool()> wanted;  // false once its asker has gone; empty: always wanted
  std::chrono::steady_clock::time_point started;  // written to a worker (else: when asked)
};

// Calls query.done with `error` on a later loop turn: a query never fails inside the call that
// gives up on it. Needs nothing of the broker, which may be gone by then.
void fail_later(uv_loop_t& loop, PendingQuery query, Error error);

class WorkerProcess {
 public:
  class Owner {
   public:
    // A worker answered: its command works, and it may take the next query.
    virtual void worker_answered() = 0;
    // A worker gave up on its query and is retiring: its replacement starts now, not when it
    // has been reaped.
    virtual void worker_retiring() = 0;
    // The process has exited and the channel has ended; a query it held has failed (EWORKER).
    virtual void worker_finished(WorkerProcess& worker) = 0;

   protected:
    ~Owner() = default;
  };

  struct Limits {
    unsigned query_timeout_ms;  // an unanswered query fails with ETIMEDOUT, the worker is killed
    unsigned grace_ms;          // a retiring worker is SIGKILLed if still alive then
  };

  // `single_use`: retires after its first answer (fork-per-query).
  WorkerProcess(uv_loop_t& loop, Owner& owner, Limits limits, bool single_use);

  // Starts the process with the channel on its fd 3. Returns 0, or a libuv error after which
  // the worker is only to be destroyed.
  [[nodiscard]] int spawn(char** argv, char** env);

  [[nodiscard]] bool accepts_queries() const { return !retiring() && !busy(); }
  [[nodiscard]] bool busy() const { return query_.has_value(); }
  // No new queries: we asked it to go, or its process or channel ended; waiting to be reaped.
  [[nodiscard]] bool retiring() const;
  [[nodiscard]] int pid() const { return pid_; }
  [[nodiscard]] bool expected_end() const { return expected_end_; }
  [[nodiscard]] bool died_young() const;
  [[nodiscard]] std::string describe_end() const;

  // Writes the query to the worker and starts its deadline. Only when accepts_queries().
  void send(PendingQuery query);
  std::optional<PendingQuery> take_query() { return std::exchange(query_, std::nullopt); }
  // Stops giving this worker queries and lets it go: closing our end of the channel makes a
  // well-behaved worker exit; `signal` (if any) hurries it. SIGKILL after the grace period.
  void retire(int signal);
  // Emergency stop (the broker destroyed without close): kill, then reap synchronously.
  void abandon() noexcept;

 private:
  static void on_exit(uv_process_t* process, int64_t exit_status, int term_signal);
  static void on_timer(uv_timer_t* timer);
  void on_message(Json& message);
  void garbled(const std::string& what);
  void deadline_passed();
  void grace_over();
  void replace(int signal, Error error);
  void finish();
  void kill(int signal);
  void start_timer(uint64_t ms);

  uv_loop_t& loop_;
  Owner& owner_;
  Limits limits_;
  IpcChannel channel_;
  Handle<uv_timer_t> timer_;  // the query's deadline, or a grace period once retiring
  Handle<uv_process_t> process_;
  std::optional<PendingQuery> query_;
  std::chrono::steady_clock::time_point spawned_at_;
  std::optional<Error> channel_error_;
  int64_t exit_status_ = 0;
  int term_signal_ = 0;
  int pid_ = 0;
  bool single_use_;
  bool expected_end_ = false;  // we asked it to go
  bool exited_ = false;
  bool finished_ = false;
};

}  // namespace common
