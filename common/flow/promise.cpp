// The compiled part of promise_error.h, promise_state.h and promise_scheduler.h.
#include "common/flow/promise.h"

#include <cstdio>
#include <deque>
#include <stdexcept>
#include <utility>
#include <vector>

#include "common/uv/immediate.h"

namespace common {
namespace {

thread_local RejectionReporter reporter;
thread_local std::size_t reported = 0;
thread_local PromiseScheduler* installed = nullptr;

// The nodes alive on this thread, and those waiting to be deleted. Plain pointers, so the list
// is still usable while the thread's other thread_local objects are being destroyed.
struct Registry {
  promise_detail::PromiseNode* head = nullptr;
  promise_detail::PromiseNode* dead = nullptr;
  std::size_t live = 0;
  bool burying = false;  // destroy() further up the stack is deleting the dead list
};
thread_local Registry registry;

// Reports a rejection nobody handled, through this thread's reporter.
void report_unhandled(const std::exception_ptr& reason) noexcept {
  ++reported;
  try {
    if (reporter) return reporter(reason);
    std::fprintf(stderr, "common::Promise: unhandled rejection: %s\n", describe(reason).c_str());
  } catch (...) {
    std::fputs("common::Promise: the unhandled-rejection reporter threw\n", stderr);
  }
}

void require_scheduler() {
  if (installed == nullptr) {
    throw std::logic_error(
        "common::Promise: no PromiseScheduler on this thread (create one next to the loop)");
  }
}

}  // namespace

// ---- rejection reasons -------------------------------------------------------------------------

Error error_of(const std::exception_ptr& reason) {
  if (!reason) return Error{"EUNKNOWN", "unknown error"};
  try {
    std::rethrow_exception(reason);
  } catch (const ErrorException& error) {
    return error.error();
  } catch (const UvError& error) {
    return Error{uv_err_name(error.code()), error.what()};
  } catch (const TypeError& error) {
    return Error{"ETYPE", error.what()};
  } catch (const std::exception& error) {
    return Error{"EINTERNAL", error.what()};
  } catch (...) {
    return Error{"EUNKNOWN", "unknown error"};
  }
}

RejectionReporter set_unhandled_rejection_reporter(RejectionReporter replacement) {
  return std::exchange(reporter, std::move(replacement));
}

std::size_t unhandled_rejection_count() noexcept {
  return reported;
}

// ---- nodes and states --------------------------------------------------------------------------

namespace promise_detail {

PromiseNode::PromiseNode() noexcept : next_(registry.head) {
  if (next_ != nullptr) next_->prev_ = this;
  registry.head = this;
  ++registry.live;
}

void PromiseNode::destroy() noexcept {
  Registry& r = registry;
  (prev_ != nullptr ? prev_->next_ : r.head) = next_;
  if (next_ != nullptr) next_->prev_ = prev_;
  --r.live;
  // A destructor releases reactions and captures, which may free more nodes: collect them here
  // and delete them in a loop, so a long chain is freed iteratively instead of recursively.
  next_ = r.dead;
  r.dead = this;
  if (r.burying) return;
  r.burying = true;
  while (r.dead != nullptr) delete std::exchange(r.dead, r.dead->next_);
  r.burying = false;
}

void abandon_all() noexcept {
  // Hold every node first, so none is deleted while we walk (abandoning releases references).
  std::vector<Ref<PromiseNode>> nodes;
  nodes.reserve(registry.live);
  for (PromiseNode* node = registry.head; node != nullptr; node = node->next_)
    nodes.push_back(Ref<PromiseNode>::share(node));
  for (const auto& node : nodes) node->abandon();
}

PromiseStateBase::~PromiseStateBase() {
  if (status_ == Status::rejected && !handled_) report_unhandled(reason_);
  abandon();
}

void PromiseStateBase::abandon() noexcept {
  release_followers();
  reactions_.clear();
  following_ = nullptr;
}

void PromiseStateBase::release_followers() noexcept {
  for (const auto& reaction : reactions_)
    if (reaction->following_ == this) reaction->following_ = nullptr;
}

void PromiseStateBase::settle(Status status) {
  if (!reactions_.empty()) require_scheduler();  // throws before anything changes
  status_ = status;
  release_followers();
  for (auto& reaction : std::exchange(reactions_, {})) schedule(std::move(reaction), this);
}

bool PromiseStateBase::follow(PromiseStateBase& leader) {
  if (&leader == this) return false;
  // Only a promise that others follow can close a cycle, so a promise nobody follows skips the
  // walk: a chain built by adopting promise after promise costs one step per link, not its length.
  if (followed_)
    for (const PromiseStateBase* step = &leader; step != nullptr; step = step->following_)
      if (step == this) return false;
  following_ = &leader;
  leader.followed_ = true;
  leader.subscribe(Ref<PromiseStateBase>::share(this));
  return true;
}

// ---- the scheduler -----------------------------------------------------------------------------

// "source has settled, tell target"; source is empty for a posted function.
struct Job {
  Ref<PromiseNode> target;
  Ref<PromiseStateBase> source;
};

}  // namespace promise_detail

std::size_t live_promise_states() noexcept {
  return registry.live;
}

// The queue and its drain. The drain queued on the loop holds it weakly: when it comes after the
// scheduler is gone, there is nothing left to run.
struct PromiseScheduler::Jobs : std::enable_shared_from_this<Jobs> {
  explicit Jobs(uv_loop_t& l) : loop(&l) {}

  uv_loop_t* loop;
  std::deque<promise_detail::Job> queue;
  bool drain_queued = false;  // a drain waits in the loop's next-turn queue
  bool running = true;        // false once shut down
  bool in_job = false;        // a job is running: shutdown must not free its handler under it
  bool shutdown_requested = false;

  void push(promise_detail::Job job) {
    if (!drain_queued) queue_drain();
    queue.push_back(std::move(job));
  }

  void queue_drain() {
    set_immediate(*loop, [jobs = weak_from_this()] {
      if (std::shared_ptr<Jobs> alive = jobs.lock()) alive->drain();
    });
    drain_queued = true;
  }

  // Runs jobs until none is left, including the ones they queue (FIFO, no recursion).
  void drain() {
    drain_queued = false;
    while (running && !queue.empty()) {
      promise_detail::Job job = std::move(queue.front());
      queue.pop_front();
      in_job = true;
      try {
        job.target->react(job.source.get());
      } catch (...) {
        // A posted function threw (handlers' throws are rejections already): it stops the loop
        // (set_immediate runs us in guard); the jobs behind it wait for the next run.
        after_job();
        if (running && !queue.empty()) queue_drain();
        throw;
      }
      after_job();
    }
  }

  void after_job() noexcept {
    in_job = false;
    if (shutdown_requested) shut_down_now();
  }

  void shut_down_now() noexcept {
    if (!running) return;
    running = false;
    shutdown_requested = false;
    queue.clear();  // releases each job's target and source
    promise_detail::abandon_all();
    if (installed != nullptr && installed->jobs_.get() == this) installed = nullptr;
  }
};

void promise_detail::schedule(Ref<PromiseNode> target, PromiseStateBase* source) {
  require_scheduler();
  auto held = source != nullptr ? Ref<PromiseStateBase>::share(source) : Ref<PromiseStateBase>();
  installed->jobs_->push({std::move(target), std::move(held)});
}

PromiseScheduler::PromiseScheduler(uv_loop_t& loop) : jobs_(std::make_shared<Jobs>(loop)) {
  if (installed != nullptr)
    throw std::logic_error("a PromiseScheduler is already installed on this thread");
  installed = this;
}

PromiseScheduler::~PromiseScheduler() {
  shutdown();
  if (installed == this) installed = nullptr;
}

PromiseScheduler& PromiseScheduler::current() {
  require_scheduler();
  return *installed;
}

std::size_t PromiseScheduler::queued() const noexcept {
  return jobs_->queue.size();
}

void PromiseScheduler::shutdown() noexcept {
  jobs_->shutdown_requested = true;  // from inside a job, the drain finishes it after the job
  if (!jobs_->in_job) jobs_->shut_down_now();
}

}  // namespace common
