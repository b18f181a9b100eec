#include "common/ipc/broker.h"

#include <sys/wait.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <iostream>
#include <utility>

#include "common/ipc/protocol.h"
#include "common/ipc/channel.h"
#include "common/uv/loop.h"

extern char** environ;  // NOLINT: POSIX, the environment handed to the workers

namespace common {
namespace {

using Clock = std::chrono::steady_clock;

constexpr auto kYoungDeath = std::chrono::seconds(1);  // died sooner: back off before respawning
constexpr uint64_t kFirstBackoffMs = 100;
constexpr uint64_t kMaxBackoffMs = 5000;
constexpr uint64_t kLostGraceMs = 1000;  // after exit, wait this long for EOF (and vice versa)

uint64_t ms_until(Clock::time_point deadline) {
  auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left > 0 ? static_cast<uint64_t>(left) : 0;
}

// Failing a query must never happen inside query(): such callbacks run from a one-shot timer of
// their own, which needs nothing of the broker (it may be gone by then).
struct DeferredCalls {
  uv_timer_t timer{};
  std::vector<std::function<void()>> calls;

  static void on_timer(uv_timer_t* timer) {
    auto* self = static_cast<DeferredCalls*>(timer->data);
    uv_loop_t& loop = *timer->loop;
    auto calls = std::move(self->calls);
    uv_close(reinterpret_cast<uv_handle_t*>(timer),
             [](uv_handle_t* closed) { delete static_cast<DeferredCalls*>(closed->data); });
    for (auto& call : calls) guard(loop, call);
  }
};

void call_later(uv_loop_t& loop, std::vector<std::function<void()>> calls) {
  if (calls.empty()) return;
  auto* deferred = new DeferredCalls;
  deferred->calls = std::move(calls);
  check(uv_timer_init(&loop, &deferred->timer), "uv_timer_init");  // cannot fail on Unix
  deferred->timer.data = deferred;
  check(uv_timer_start(&deferred->timer, DeferredCalls::on_timer, 0, 0), "uv_timer_start");
}

// The environment of a Node child with an IPC channel on fd 3 (REFERENCE-SEMANTICS §4.1).
std::vector<std::string> worker_environment() {
  std::vector<std::string> env;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    std::string_view text(*entry);
    if (text.starts_with("NODE_CHANNEL_FD=") ||
        text.starts_with("NODE_CHANNEL_SERIALIZATION_MODE="))
      continue;  // ours replace whatever our own parent gave us
    env.emplace_back(text);
  }
  env.emplace_back("NODE_CHANNEL_FD=3");
  env.emplace_back("NODE_CHANNEL_SERIALIZATION_MODE=json");
  return env;
}

std::string default_worker_path() {
  char path[4096];
  size_t size = sizeof path;
  check(uv_exepath(path, &size), "uv_exepath");
  std::string text(path, size);
  auto slash = text.rfind('/');
  return (slash == std::string::npos ? std::string(".") : text.substr(0, slash)) + "/broker-worker";
}

std::vector<std::string> worker_arguments(const BrokerOptions& options) {
  std::vector<std::string> args = options.worker_command;
  if (args.empty()) args.push_back(default_worker_path());
  args.insert(args.end(),
              {"--latency", std::to_string(options.latency_ms), "--block", options.block});
  if (!options.data_file.empty()) args.insert(args.end(), {"--data", options.data_file});
  if (options.quiet_workers) args.emplace_back("--quiet");
  if (options.poll_us != 0) args.insert(args.end(), {"--poll-us", std::to_string(options.poll_us)});
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

// ---------------------------------------------------------------------------------------------
// Options and helpers

BrokerOptions BrokerOptions::from(const StageOptions& stage) {
  BrokerOptions options;
  options.workers = stage.workers == 0 ? 1 : stage.workers;
  options.latency_ms = stage.latency_ms;
  options.block = stage.block;
  options.worker_command = split_command(stage.worker_command);
  options.data_file = stage.data_file;
  options.queue_limit = stage.queue_limit;
  options.query_timeout_ms =
      stage.query_timeout_ms != 0 ? stage.query_timeout_ms : stage.latency_ms * 5 + 5000;
  options.fork_per_query = stage.fork_per_query;
  return options;
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
  size_t start = 0;
  while (start < command.size()) {
    size_t end = command.find(' ', start);
    if (end == std::string_view::npos) end = command.size();
    if (end > start) words.emplace_back(command.substr(start, end - start));
    start = end + 1;
  }
  return words;
}

// ---------------------------------------------------------------------------------------------
// One worker process: its IPC channel, the queries it is answering, and the end of its life.
//
// A worker is finished only when its process has exited *and* its channel has ended (EOF, or we
// closed it): the exit may be reported before the last reply has been read.

class Broker::Worker {
 public:
  Worker(Broker& broker, bool single_use)
      : broker_(broker),
        channel_(broker.loop_),
        timer_(broker.loop_, uv_timer_init),
        single_use_(single_use) {
    timer_->data = this;
  }
  ~Worker() {
    close_process();
    channel_.close();
  }
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  int spawn(char** argv, char** env) {
    uv_stdio_container_t stdio[4];
    for (int fd = 0; fd < 3; ++fd) {  // index = the child's fd: 0–2 inherited, 3 the channel
      stdio[fd].flags = UV_INHERIT_FD;
      stdio[fd].data.fd = fd;
    }
    stdio[3].flags =
        static_cast<uv_stdio_flags>(UV_CREATE_PIPE | UV_READABLE_PIPE | UV_WRITABLE_PIPE);
    stdio[3].data.stream = reinterpret_cast<uv_stream_t*>(channel_.pipe());
    uv_process_options_t options{};
    options.exit_cb = on_exit;
    options.file = argv[0];
    options.args = argv;
    options.env = env;
    options.stdio_count = 4;
    options.stdio = stdio;
    // A session of its own: Ctrl-C in a terminal signals the whole foreground process group,
    // and the workers must not die under the queries the server is still finishing. They stop
    // when we close the channel (or when it breaks because we died).
    options.flags = UV_PROCESS_DETACHED;
    spawned_at_ = Clock::now();
    process_ = new uv_process_t{};
    process_->data = this;
    int rc = uv_spawn(&broker_.loop_, process_, &options);
    if (rc < 0) {
      close_process();  // a failed uv_spawn still needs uv_close
      return rc;
    }
    pid_ = process_->pid;
    channel_.poll_after_write(std::chrono::microseconds(broker_.options_.poll_us));
    channel_.start([this](Json& message) { on_message(message); },
                   [this](std::optional<Error> error) { on_channel_end(std::move(error)); },
                   [this](std::string_view, const std::string& why) {
                     garbled("a line that is not JSON (" + why + ")");
                   });
    return 0;
  }

  [[nodiscard]] bool accepts_queries() const {
    if (retiring_) return false;
    if (single_use_) return !used_;
    return in_flight_.size() < broker_.options_.pipeline;
  }
  [[nodiscard]] size_t load() const { return in_flight_.size(); }
  [[nodiscard]] bool retiring() const { return retiring_; }
  [[nodiscard]] int pid() const { return pid_; }
  [[nodiscard]] bool finished() const { return finished_; }

  // `now`: when the query goes out (its bytes leave at once for an idle worker, otherwise in
  // this loop turn's flush).
  void send(Pending pending, Clock::time_point now) {
    used_ = true;
    pending.started = single_use_ ? spawned_at_ : now;  // fork mode: spawning counts
    std::string request = std::move(pending.request);
    in_flight_.push_back(std::move(pending));  // first: a failing write fails it like the rest
    if (!uv_is_active(timer_.handle())) arm_deadline();
    channel_.outbox().append(request);
    // A worker with nothing else to do (with pipeline 1: every time) gets its query at once, so
    // that it works while we finish this loop turn instead of waiting for its end. A worker still
    // busy with earlier queries gets the burst of this turn in one write at the end of it.
    bool idle_until_now = load() == 1;
    channel_.schedule_flush(idle_until_now ? IpcChannel::Write::now : IpcChannel::Write::soon);
  }

  // Stops giving this worker queries and lets it go: closing our end of the channel makes a
  // well-behaved worker exit; `signal` (if any) hurries it. SIGKILL after the grace period.
  void retire(int signal) {
    expected_end_ = true;
    retiring_ = true;
    if (!channel_ended_) {
      channel_ended_ = true;
      channel_.close();
    }
    if (!exited_ && signal != 0) kill(signal);
    if (exited_) {
      broker_.worker_finished(*this);
      return;
    }
    start_timer(broker_.options_.shutdown_grace_ms);
  }

  std::vector<Pending> take_in_flight() {
    std::vector<Pending> taken(std::make_move_iterator(in_flight_.begin()),
                               std::make_move_iterator(in_flight_.end()));
    in_flight_.clear();
    return taken;
  }

  // Called once, by the broker, when the worker is finished.
  void release() {
    finished_ = true;
    uv_timer_stop(timer_.get());
    close_process();
  }

  [[nodiscard]] bool died_young() const {
    return !expected_end_ && Clock::now() - spawned_at_ < kYoungDeath;
  }
  [[nodiscard]] bool expected_end() const { return expected_end_; }

  [[nodiscard]] std::string describe_end() const {
    std::string text = "worker pid " + std::to_string(pid_);
    if (term_signal_ != 0) {
      text += " was killed by signal " + std::to_string(term_signal_) + " (" +
              strsignal(term_signal_) + ")";
    } else if (exited_) {
      text += " exited with code " + std::to_string(exit_status_);
    } else {
      text += " closed its IPC channel";
    }
    if (channel_error_) text += " (" + channel_error_->message + ")";
    return text;
  }

  void kill(int signal) {
    if (process_ == nullptr || exited_) return;
    int rc = uv_process_kill(process_, signal);
    if (rc < 0 && rc != UV_ESRCH) std::cerr << describe_uv(rc, "broker: uv_process_kill") << "\n";
  }

  // Emergency stop (destructor without close): kill, then reap synchronously.
  void abandon() noexcept {
    bool reap = process_ != nullptr && !exited_;
    if (reap) uv_process_kill(process_, SIGKILL);
    close_process();  // libuv no longer reaps it, so we do
    channel_.close();
    if (reap) {
      while (waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
      }
    }
  }

 private:
  static void on_exit(uv_process_t* process, int64_t exit_status, int term_signal) {
    auto* self = static_cast<Worker*>(process->data);
    if (self == nullptr) return;
    guard(self->broker_.loop_, [&] { self->exited(exit_status, term_signal); });
  }

  static void on_timer(uv_timer_t* timer) {
    auto* self = static_cast<Worker*>(timer->data);
    if (self == nullptr) return;
    guard(self->broker_.loop_, [&] {
      if (self->retiring_) {
        self->grace_over();
      } else {
        self->deadline_passed();
      }
    });
  }

  void on_message(Json& message) {
    std::string why;
    std::optional<Reply> reply = decode_reply(message, &why);
    if (!reply) return garbled("a message that is not a reply (" + why + ")");
    auto match = std::find_if(in_flight_.begin(), in_flight_.end(),
                              [&](const Pending& p) { return p.id == reply->id; });
    if (match == in_flight_.end()) {
      std::cerr << "broker: worker pid " << pid_ << " answered query " << reply->id
                << ", which it was not asked (or which timed out)\n";
      return;
    }
    Pending done = std::move(*match);
    if (match == in_flight_.begin()) {
      in_flight_.pop_front();  // the usual case: the worker answers in order
    } else {
      in_flight_.erase(match);
    }
    broker_.quick_deaths_ = 0;  // it answered: this command works
    if (single_use_) retire(0);
    broker_.pump();
    QueryTiming timing{done.started, channel_.last_read_at()};
    done.done(std::move(reply->error), std::move(message), timing);
  }

  // Something the worker should not have sent. With one query in flight it can only have been
  // meant as that query's answer: it fails now (502), not at its timeout with a 504, and the
  // worker, whose state nobody knows any more, is replaced. With more in flight nobody can tell
  // which; the timeout decides.
  void garbled(const std::string& what) {
    std::cerr << "broker: worker pid " << pid_ << " sent " << what << "\n";
    if (in_flight_.size() != 1 || retiring_) return;
    broker_.fail_later(take_in_flight(),
                       Error{"EWORKER", "worker pid " + std::to_string(pid_) + " sent " + what +
                                            " instead of an answer"});
    replace(SIGTERM);
  }

  void on_channel_end(std::optional<Error> error) {
    channel_ended_ = true;
    if (error) channel_error_ = std::move(error);
    retiring_ = true;
    if (exited_) {
      broker_.worker_finished(*this);
      return;
    }
    if (!expected_end_) start_timer(kLostGraceMs);  // a worker without a channel is useless
  }

  void exited(int64_t exit_status, int term_signal) {
    exited_ = true;
    exit_status_ = exit_status;
    term_signal_ = term_signal;
    retiring_ = true;
    if (channel_ended_) {
      broker_.worker_finished(*this);
      return;
    }
    start_timer(kLostGraceMs);  // its last replies may still be in the pipe: read them first
  }

  void grace_over() {
    if (!exited_) {
      kill(SIGKILL);  // its exit callback finishes it
      return;
    }
    if (!channel_ended_) {  // exited, but someone else holds the channel open
      channel_ended_ = true;
      channel_.close();
      broker_.worker_finished(*this);
    }
  }

  // The timer is armed lazily: for the oldest query in flight when it was started, and not
  // moved when that query is answered (that would cost a clock read and a timer update per
  // reply). Deadlines only grow along the queue, so when it fires it either finds the current
  // oldest query overdue or re-arms for it.
  void deadline_passed() {
    if (in_flight_.empty()) return;
    const Pending& front = in_flight_.front();
    if (Clock::now() <
        front.started + std::chrono::milliseconds(broker_.options_.query_timeout_ms)) {
      arm_deadline();
      return;
    }
    Error timeout{"ETIMEDOUT", "query " + front.bucket + " #" + std::to_string(front.id) +
                                   " got no answer within " +
                                   std::to_string(broker_.options_.query_timeout_ms) +
                                   " ms; worker pid " + std::to_string(pid_) + " was replaced"};
    std::vector<Pending> failed = take_in_flight();
    std::vector<Pending> behind(std::make_move_iterator(failed.begin() + 1),
                                std::make_move_iterator(failed.end()));
    failed.resize(1);
    broker_.fail_later(std::move(failed), timeout);
    broker_.fail_later(std::move(behind),
                       Error{"EWORKER", "worker pid " + std::to_string(pid_) +
                                            " was killed after another query timed out"});
    std::cerr << "broker: " << timeout.message << "\n";
    replace(SIGKILL);
  }

  // Retires this worker with `signal`; its replacement starts now, not when it has been reaped.
  void replace(int signal) {
    retire(signal);
    broker_.ensure_pool();
    broker_.pump();
  }

  void arm_deadline() {
    auto deadline =
        in_flight_.front().started + std::chrono::milliseconds(broker_.options_.query_timeout_ms);
    start_timer(ms_until(deadline));
  }

  void start_timer(uint64_t ms) {
    // The loop's clock is only updated once per turn; after a long synchronous stretch (a
    // spawn, say) it lags, and a timer started from it would fire early.
    uv_update_time(&broker_.loop_);
    check(uv_timer_start(timer_.get(), on_timer, ms, 0), "uv_timer_start");
  }

  void close_process() noexcept {
    if (process_ == nullptr) return;
    process_->data = nullptr;
    auto* handle = reinterpret_cast<uv_handle_t*>(process_);
    if (!uv_is_closing(handle))  // else someone closed the whole loop: its memory is theirs
      uv_close(handle, [](uv_handle_t* closed) { delete reinterpret_cast<uv_process_t*>(closed); });
    process_ = nullptr;
  }

  Broker& broker_;
  IpcChannel channel_;
  Handle<uv_timer_t> timer_;  // the front query's deadline, or a grace period once retiring
  uv_process_t* process_ = nullptr;
  std::deque<Pending> in_flight_;
  Clock::time_point spawned_at_;
  std::optional<Error> channel_error_;
  int64_t exit_status_ = 0;
  int term_signal_ = 0;
  int pid_ = 0;
  bool single_use_;
  bool used_ = false;
  bool retiring_ = false;      // no new queries; waiting to be reaped
  bool expected_end_ = false;  // we asked it to go
  bool exited_ = false;
  bool channel_ended_ = false;
  bool finished_ = false;
};

// ---------------------------------------------------------------------------------------------
// The broker: queue, dispatch, replacement and shutdown.

Broker::Broker(uv_loop_t& loop, BrokerOptions options)
    : loop_(loop),
      options_(std::move(options)),
      argv_storage_(worker_arguments(options_)),
      env_storage_(worker_environment()),
      argv_(pointers_to(argv_storage_)),
      env_(pointers_to(env_storage_)),
      queue_timer_(loop, uv_timer_init),
      respawn_timer_(loop, uv_timer_init),
      sweep_timer_(loop, uv_timer_init) {
  // Writing to a worker that just died must be an EPIPE error, not a signal that kills us.
  std::signal(SIGPIPE, SIG_IGN);
  if (options_.workers == 0) options_.workers = 1;
  if (options_.pipeline == 0) options_.pipeline = 1;
  queue_timer_->data = this;
  respawn_timer_->data = this;
  sweep_timer_->data = this;
  if (options_.fork_per_query) return;  // children are started per query
  for (unsigned i = 0; i < options_.workers; ++i) {
    int rc = spawn_worker(false);
    if (rc == 0) continue;
    abandon();
    throw UvError(rc, "cannot start worker '" + argv_storage_[0] + "'");
  }
}

Broker::~Broker() {
  if (!closed_) abandon();
}

void Broker::abandon() noexcept {
  for (auto& worker : workers_) worker->abandon();
  workers_.clear();
  graveyard_.clear();
  queue_.clear();
}

void Broker::query(std::string_view bucket, const rapidjson::Value& query, Callback done) {
  this->query(
      bucket, query,
      TimedCallback([done = std::move(done)](std::optional<Error> error, Json result, QueryTiming) {
        done(std::move(error), std::move(result));
      }));
}

void Broker::query(std::string_view bucket, const rapidjson::Value& query, TimedCallback done) {
  Pending pending;
  pending.id = ++next_id_;
  pending.bucket = bucket;
  pending.done = std::move(done);
  pending.queued_at = pending.started = Clock::now();
  if (closing_) {
    std::vector<Pending> refused;
    refused.push_back(std::move(pending));
    fail_later(std::move(refused), Error{"ECLOSED", "the broker is shutting down"});
    return;
  }
  append_request(pending.request, pending.id, bucket, query);
  auto now = pending.queued_at;
  queue_.push_back(std::move(pending));
  pump(now);
  if (queue_.size() > options_.queue_limit) {
    std::vector<Pending> refused;
    refused.push_back(std::move(queue_.back()));
    queue_.pop_back();
    fail_later(std::move(refused),
               Error{"EQUEUEFULL", std::to_string(options_.queue_limit) +
                                       " queries are already waiting for a worker"});
  }
}

size_t Broker::in_flight() const noexcept {
  size_t total = 0;
  for (const auto& worker : workers_) total += worker->load();
  return total;
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

// Hands queued queries to workers with room, oldest first. One clock read serves the whole
// batch: they all leave within microseconds of each other.
void Broker::pump(std::optional<std::chrono::steady_clock::time_point> now) {
  while (!queue_.empty() && !closing_) {
    Worker* worker = pick_worker();
    if (worker == nullptr) {
      if (!options_.fork_per_query || active_workers() >= options_.workers) break;
      int rc = spawn_worker(true);
      if (rc == 0) continue;  // the new worker is picked on the next round
      std::vector<Pending> failed;
      failed.push_back(std::move(queue_.front()));
      queue_.pop_front();
      fail_later(std::move(failed), spawn_failure(rc));
      continue;
    }
    Pending next = std::move(queue_.front());
    queue_.pop_front();
    if (!now) now = Clock::now();
    worker->send(std::move(next), *now);
  }
  arm_queue_timer();
}

// The least loaded worker that takes another query (with pipeline 1: any idle one).
Broker::Worker* Broker::pick_worker() {
  Worker* best = nullptr;
  for (auto& worker : workers_) {
    if (!worker->accepts_queries()) continue;
    if (best == nullptr || worker->load() < best->load()) best = worker.get();
    if (best->load() == 0) break;
  }
  return best;
}

int Broker::spawn_worker(bool single_use) {
  auto worker = std::make_unique<Worker>(*this, single_use);
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
    if (active_workers() == 0) fail_later(take_queued(), failure);
    ++quick_deaths_;
    schedule_respawn();
    return;
  }
}

void Broker::schedule_respawn() {
  if (uv_is_active(respawn_timer_.handle())) return;
  unsigned shift = std::min(quick_deaths_ == 0 ? 0U : quick_deaths_ - 1, 6U);
  uint64_t delay = std::min(kFirstBackoffMs << shift, kMaxBackoffMs);
  check(uv_timer_start(
            respawn_timer_.get(),
            [](uv_timer_t* timer) {
              auto* self = static_cast<Broker*>(timer->data);
              if (self == nullptr) return;
              guard(self->loop_, [self] {
                self->ensure_pool();
                self->pump();
              });
            },
            delay, 0),
        "uv_timer_start");
}

void Broker::worker_finished(Worker& worker) {
  if (worker.finished()) return;
  worker.release();
  std::vector<Pending> lost = worker.take_in_flight();
  bool unexpected = !worker.expected_end();
  bool young = worker.died_young();
  if (unexpected) {
    std::string what = worker.describe_end();
    if (!closing_) std::cerr << "broker: " << what << "; starting another\n";
    fail_later(std::move(lost), Error{"EWORKER", what + " while answering this query"});
  } else {
    fail_later(std::move(lost), Error{"EWORKER", worker.describe_end()});
  }
  auto owned = std::find_if(workers_.begin(), workers_.end(),
                            [&](const auto& w) { return w.get() == &worker; });
  if (owned != workers_.end()) {
    graveyard_.push_back(std::move(*owned));  // freed by sweep(), outside the worker's frames
    workers_.erase(owned);
  }
  schedule_sweep();
  if (closing_) return;
  if (young) {
    ++quick_deaths_;
    schedule_respawn();
  } else {
    ensure_pool();
  }
  pump();
}

std::vector<Broker::Pending> Broker::take_queued() {
  std::vector<Pending> taken(std::make_move_iterator(queue_.begin()),
                             std::make_move_iterator(queue_.end()));
  queue_.clear();
  return taken;
}

void Broker::fail_later(std::vector<Pending> failed, const Error& error) {
  if (failed.empty()) return;
  std::vector<std::function<void()>> calls;
  calls.reserve(failed.size());
  auto now = Clock::now();
  for (auto& pending : failed) {
    calls.emplace_back(
        [done = std::move(pending.done), error, timing = QueryTiming{pending.started, now}] {
          done(error, Json(), timing);
        });
  }
  call_later(loop_, std::move(calls));
}

// Armed lazily like a worker's deadline timer: when it fires, expire_queued() fails what is
// overdue and re-arms for the new oldest query.
void Broker::arm_queue_timer() {
  if (!queue_timer_.is_open() || queue_.empty() || uv_is_active(queue_timer_.handle())) return;
  auto deadline = queue_.front().queued_at + std::chrono::milliseconds(options_.query_timeout_ms);
  uv_update_time(&loop_);  // see Worker::start_timer
  check(uv_timer_start(
            queue_timer_.get(),
            [](uv_timer_t* timer) {
              auto* self = static_cast<Broker*>(timer->data);
              if (self != nullptr) guard(self->loop_, [self] { self->expire_queued(); });
            },
            ms_until(deadline), 0),
        "uv_timer_start");
}

void Broker::expire_queued() {
  auto now = Clock::now();
  auto limit = std::chrono::milliseconds(options_.query_timeout_ms);
  std::vector<Pending> expired;
  while (!queue_.empty() && queue_.front().queued_at + limit <= now) {
    expired.push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  fail_later(std::move(expired),
             Error{"ETIMEDOUT", "no worker was free within " +
                                    std::to_string(options_.query_timeout_ms) + " ms"});
  arm_queue_timer();
}

void Broker::close(std::function<void()> done) {
  if (done) close_callbacks_.push_back(std::move(done));
  if (closed_) {  // already closed: still answer asynchronously
    auto callbacks = std::move(close_callbacks_);
    close_callbacks_.clear();
    call_later(loop_, std::move(callbacks));
    return;
  }
  if (closing_) return;
  closing_ = true;
  uv_timer_stop(queue_timer_.get());
  uv_timer_stop(respawn_timer_.get());
  Error closed{"ECLOSED", "the broker is shutting down"};
  fail_later(take_queued(), closed);
  std::vector<Worker*> workers;
  for (auto& worker : workers_) workers.push_back(worker.get());
  for (Worker* worker : workers) {
    std::vector<Pending> busy = worker->take_in_flight();
    bool was_busy = !busy.empty();
    fail_later(std::move(busy), closed);
    if (!worker->retiring()) worker->retire(was_busy ? SIGTERM : 0);  // idle ones exit on EOF
  }
  schedule_sweep();  // finishes the close once no worker is left
}

// Finished workers are freed here, on a later turn, never inside their own callbacks.
void Broker::schedule_sweep() {
  if (!sweep_timer_.is_open()) return;
  check(uv_timer_start(
            sweep_timer_.get(),
            [](uv_timer_t* timer) {
              auto* self = static_cast<Broker*>(timer->data);
              if (self != nullptr) guard(self->loop_, [self] { self->sweep(); });
            },
            0, 0),
        "uv_timer_start");
}

void Broker::sweep() {
  graveyard_.clear();
  if (closing_ && !closed_ && workers_.empty()) finish_close();
}

void Broker::finish_close() {
  closed_ = true;
  queue_timer_.close();
  respawn_timer_.close();
  sweep_timer_.close();
  auto callbacks = std::move(close_callbacks_);
  close_callbacks_.clear();
  for (auto& callback : callbacks) callback();  // last: a callback may destroy the broker
}

}  // namespace common
