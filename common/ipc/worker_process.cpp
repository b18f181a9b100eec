#include "common/ipc/worker_process.h"

#include <sys/wait.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <iostream>
#include <utility>

#include "common/ipc/protocol.h"
#include "common/uv/immediate.h"
#include "common/uv/loop.h"

namespace common {
namespace {

using Clock = std::chrono::steady_clock;

constexpr auto kYoungDeath = std::chrono::seconds(1);  // died sooner: the command may be broken
constexpr uint64_t kLostGraceMs = 1000;  // after exit, wait this long for EOF (and vice versa)

}  // namespace

void fail_later(uv_loop_t& loop, PendingQuery query, Error error) {
  QueryTiming timing{query.started, Clock::now()};
  set_immediate(loop, [done = std::move(query.done), error = std::move(error), timing] {
    done(error, Json(), timing);
  });
}

WorkerProcess::WorkerProcess(uv_loop_t& loop, Owner& owner, Limits limits, bool single_use)
    : loop_(loop),
      owner_(owner),
      limits_(limits),
      channel_(loop),
      timer_(loop, uv_timer_init),
      single_use_(single_use) {
  timer_->data = this;
}

int WorkerProcess::spawn(char** argv, char** env) {
  auto inherit = [](int fd) { return uv_stdio_container_t{UV_INHERIT_FD, {.fd = fd}}; };
  auto pipe = static_cast<uv_stdio_flags>(UV_CREATE_PIPE | UV_READABLE_PIPE | UV_WRITABLE_PIPE);
  // Index = the child's fd: 0–2 inherited, 3 the channel.
  uv_stdio_container_t stdio[] = {
      inherit(0), inherit(1), inherit(2), {pipe, {.stream = channel_.stream()}}};
  uv_process_options_t options{};
  options.exit_cb = on_exit;
  options.file = argv[0];
  options.args = argv;
  options.env = env;
  options.stdio_count = 4;
  options.stdio = stdio;
  // A session of its own: Ctrl-C in a terminal signals the whole foreground process group,
  // and the workers must not die under the queries the server is still finishing. They stop
  // when we close the channel (or when it breaks because we died). The worker leads its own
  // process group too, so kill() reaches whatever it started.
  options.flags = UV_PROCESS_DETACHED;
  spawned_at_ = Clock::now();
  process_ = Handle<uv_process_t>(new uv_process_t{});
  process_->data = this;
  // A failed uv_spawn still needs uv_close: process_ does it when the worker is discarded.
  if (int rc = uv_spawn(&loop_, process_.get(), &options); rc < 0) return rc;
  pid_ = process_->pid;
  channel_.start([this](Json& message) { on_message(message); },
                 [this](std::optional<Error> error) {
                   channel_error_ = std::move(error);
                   if (exited_) return finish();
                   if (!expected_end_) start_timer(kLostGraceMs);  // no channel: useless
                 },
                 [this](std::string_view, const std::string& why) {
                   garbled("a line that is not JSON (" + why + ")");
                 });
  return 0;
}

bool WorkerProcess::retiring() const {
  return expected_end_ || exited_ || !channel_.is_open();
}

bool WorkerProcess::died_young() const {
  return !expected_end_ && Clock::now() - spawned_at_ < kYoungDeath;
}

std::string WorkerProcess::describe_end() const {
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

void WorkerProcess::send(PendingQuery query) {
  query.started = single_use_ ? spawned_at_ : Clock::now();  // fork mode: spawning counts
  channel_.send(std::exchange(query.request, {}));           // not needed once written
  query_ = std::move(query);
  start_timer(limits_.query_timeout_ms);
}

void WorkerProcess::retire(int signal) {
  expected_end_ = true;
  channel_.close();
  if (signal != 0) kill(signal);
  if (exited_) return finish();
  start_timer(limits_.grace_ms);
}

void WorkerProcess::abandon() noexcept {
  channel_.close();
  if (!process_.is_open() || exited_) return;
  kill(SIGKILL);
  process_.close();  // libuv no longer reaps it, so we do
  while (waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
  }
}

void WorkerProcess::on_exit(uv_process_t* process, int64_t exit_status, int term_signal) {
  auto* self = static_cast<WorkerProcess*>(process->data);
  if (self == nullptr) return;
  guard(self->loop_, [&] {
    self->kill(SIGKILL);  // what the worker started dies with it (it may hold the channel open)
    self->exited_ = true;
    self->exit_status_ = exit_status;
    self->term_signal_ = term_signal;
    if (!self->channel_.is_open()) return self->finish();
    self->start_timer(kLostGraceMs);  // its last reply may still be in the pipe: read it first
  });
}

// Once retiring, the timer is the grace period; before, the query's deadline.
void WorkerProcess::on_timer(uv_timer_t* timer) {
  auto* self = static_cast<WorkerProcess*>(timer->data);
  if (self == nullptr) return;
  guard(self->loop_, [self] {
    if (self->retiring()) return self->grace_over();
    self->deadline_passed();
  });
}

void WorkerProcess::on_message(Json& message) {
  std::string why;
  std::optional<Reply> reply = decode_reply(message, &why);
  if (!reply) return garbled("a message that is not a reply (" + why + ")");
  if (!query_ || query_->id != reply->id) {
    std::cerr << "broker: worker pid " << pid_ << " answered query " << reply->id
              << ", which it was not asked (or which timed out)\n";
    return;
  }
  PendingQuery answered = *take_query();
  uv_timer_stop(timer_.get());
  if (single_use_) retire(0);
  owner_.worker_answered();  // the next query goes out before this one's callback runs
  QueryTiming timing{answered.started, Clock::now()};
  answered.done(std::move(reply->error), std::move(message), timing);
}

// Something the worker should not have sent. It can only have been meant as the answer to its
// query: that fails now (502), not at its timeout with a 504.
void WorkerProcess::garbled(const std::string& what) {
  std::cerr << "broker: worker pid " << pid_ << " sent " << what << "\n";
  if (!query_ || retiring()) return;
  replace(SIGTERM, Error{"EWORKER", "worker pid " + std::to_string(pid_) + " sent " + what +
                                        " instead of an answer"});
}

void WorkerProcess::deadline_passed() {
  if (!query_) return;
  Error timeout{"ETIMEDOUT", "query " + query_->bucket + " #" + std::to_string(query_->id) +
                                 " got no answer within " +
                                 std::to_string(limits_.query_timeout_ms) + " ms; worker pid " +
                                 std::to_string(pid_) + " was replaced"};
  std::cerr << "broker: " << timeout.message << "\n";
  replace(SIGKILL, std::move(timeout));
}

void WorkerProcess::grace_over() {
  if (!exited_) return kill(SIGKILL);  // its exit callback finishes it
  channel_.close();                    // exited, but someone else holds the channel open
  finish();
}

// Fails the query with `error` and lets the worker, whose state nobody knows any more, go.
void WorkerProcess::replace(int signal, Error error) {
  fail_later(loop_, *take_query(), std::move(error));
  retire(signal);
  owner_.worker_retiring();
}

// Called when both the process and the channel are done; a query still held is lost with it.
void WorkerProcess::finish() {
  if (finished_) return;
  finished_ = true;
  uv_timer_stop(timer_.get());
  process_.close();
  if (query_) {
    fail_later(loop_, *take_query(),
               Error{"EWORKER", describe_end() + " while answering this query"});
  }
  owner_.worker_finished(*this);
}

// Signals the worker's process group, whose id is the worker's pid: ours while the worker or
// any member lives, so only until its exit has been handled (on_exit calls this right after
// libuv reaped it). A descendant that moved to a group of its own is out of reach.
void WorkerProcess::kill(int signal) {
  if (!process_.is_open() || exited_ || pid_ <= 0) return;  // -0 would be our own group
  int rc = uv_kill(-pid_, signal);
  if (rc < 0 && rc != UV_ESRCH) std::cerr << describe_uv(rc, "broker: uv_kill") << "\n";
}

void WorkerProcess::start_timer(uint64_t ms) {
  // The loop's clock is only updated once per turn; after a long synchronous stretch (a
  // spawn, say) it lags, and a timer started from it would fire early.
  uv_update_time(&loop_);
  check(uv_timer_start(timer_.get(), on_timer, ms, 0), "uv_timer_start");
}

}  // namespace common
