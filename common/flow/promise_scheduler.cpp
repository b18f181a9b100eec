#include "common/flow/promise_scheduler.h"

#include <deque>
#include <stdexcept>

#include "common/flow/promise_state.h"
#include "common/uv/immediate.h"

namespace common {
namespace {

thread_local PromiseScheduler* installed = nullptr;

}  // namespace

namespace promise_detail {

// "source has settled, tell target"; source is empty for a posted function.
struct Job {
  Ref<PromiseNode> target;
  Ref<PromiseStateBase> source;
};

void require_scheduler() {
  if (installed == nullptr) {
    throw std::logic_error(
        "common::Promise: no PromiseScheduler on this thread (create one next to the loop)");
  }
}

void schedule(Ref<PromiseNode> target, PromiseStateBase* source) {
  require_scheduler();
  installed->enqueue(std::move(target), source);
}

}  // namespace promise_detail

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
    if (!running) throw std::logic_error("PromiseScheduler: used after shutdown()");
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
        // Handler exceptions are rejections already: this is a posted function that threw, or a
        // broken invariant (out of memory). It stops the loop (set_immediate runs us in guard);
        // the jobs behind it wait for the next run.
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
  promise_detail::require_scheduler();
  return *installed;
}

std::size_t PromiseScheduler::queued() const noexcept {
  return jobs_->queue.size();
}

void PromiseScheduler::shutdown() noexcept {
  if (jobs_->in_job) {
    jobs_->shutdown_requested = true;  // the drain finishes it once the running job returns
  } else {
    jobs_->shut_down_now();
  }
}

void PromiseScheduler::enqueue(promise_detail::Ref<promise_detail::PromiseNode> target,
                               promise_detail::PromiseStateBase* source) {
  using Source = promise_detail::Ref<promise_detail::PromiseStateBase>;
  jobs_->push({std::move(target), source != nullptr ? Source::share(source) : Source()});
}

}  // namespace common
