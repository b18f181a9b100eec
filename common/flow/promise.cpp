#include "common/flow/promise.h"

#include <cstdio>

#include "common/uv/loop.h"

namespace common {
namespace detail {

// ---- Node lifetime -------------------------------------------------------------------------

void Node::destroy() noexcept {
  Registry& r = registry;
  if (prev_ != nullptr) {
    prev_->next_ = next_;
  } else {
    r.head = next_;
  }
  if (next_ != nullptr) next_->prev_ = prev_;
  --r.live;
  // A destructor releases reactions and captures, which may free more nodes: queue them here
  // and delete in a loop, so a long chain is freed iteratively instead of recursively.
  next_ = r.dead;
  r.dead = this;
  if (r.burying) return;
  r.burying = true;
  while (r.dead != nullptr) {
    Node* node = r.dead;
    r.dead = node->next_;
    delete node;
  }
  r.burying = false;
}

void abandon_all() noexcept {
  // Hold every node first, so none is deleted while we walk (abandoning releases references).
  std::vector<Node*> nodes;
  nodes.reserve(registry.live);
  for (Node* node = registry.head; node != nullptr; node = node->next_) {
    node->retain();
    nodes.push_back(node);
  }
  for (Node* node : nodes) node->abandon();
  for (Node* node : nodes) node->release();
}

void JobQueue::grow() {
  std::vector<Job> bigger(jobs_.empty() ? 64 : jobs_.size() * 2);
  for (std::size_t i = 0; i < size_; ++i) bigger[i] = jobs_[(head_ + i) & (jobs_.size() - 1)];
  jobs_ = std::move(bigger);
  head_ = 0;
}

PromiseScheduler& scheduler() {
  if (current_scheduler == nullptr) {
    throw std::logic_error(
        "common::Promise: no PromiseScheduler on this thread (create one next to the loop)");
  }
  return *current_scheduler;
}

void schedule(Ref<Node> target, StateBase* source, std::uint32_t slot) {
  scheduler().enqueue(std::move(target), source, slot);
}

std::exception_ptr self_resolution_error() {
  return std::make_exception_ptr(
      TypeError("a promise cannot be resolved with itself (or with one that waits for it)"));
}

// ---- StateBase -----------------------------------------------------------------------------

StateBase::~StateBase() {
  if (status_ == Status::rejected && !handled_) report_unhandled(reason_);
  release_reactions();
}

void StateBase::abandon() noexcept {
  release_reactions();
  following_ = nullptr;
}

void StateBase::subscribe_more(Ref<Node> target, std::uint32_t slot) {
  if (more_ == nullptr) more_ = new std::vector<Reaction>();
  more_->push_back(Reaction{target.get(), slot});
  target.leak();
}

void StateBase::unfollow(const Reaction& reaction) noexcept {
  if (reaction.slot == kAdoptSlot || reaction.slot == kAwaitSlot) {
    static_cast<StateBase*>(reaction.target)->following_ = nullptr;
  }
}

void StateBase::settle(Status status) {
  if (first_.target == nullptr) {  // nobody waits yet: nothing to schedule
    status_ = status;
    return;
  }
  PromiseScheduler& jobs = scheduler();  // throws before anything changes if there is none
  status_ = status;
  Reaction first = std::exchange(first_, Reaction{nullptr, 0});
  std::vector<Reaction>* more = std::exchange(more_, nullptr);
  unfollow(first);
  jobs.enqueue(Ref<Node>::adopt(first.target), this, first.slot);
  if (more != nullptr) {
    for (const Reaction& reaction : *more) {
      unfollow(reaction);
      jobs.enqueue(Ref<Node>::adopt(reaction.target), this, reaction.slot);
    }
    delete more;
  }
}

bool StateBase::follow(StateBase& leader, std::uint32_t slot) {
  for (const StateBase* step = &leader; step != nullptr; step = step->following_) {
    if (step == this) return false;
  }
  following_ = &leader;
  leader.subscribe(Ref<Node>::share(this), slot);
  return true;
}

void StateBase::release_reactions() noexcept {
  Reaction first = std::exchange(first_, Reaction{nullptr, 0});
  std::vector<Reaction>* more = std::exchange(more_, nullptr);
  if (first.target != nullptr) {
    unfollow(first);
    first.target->release();
  }
  if (more != nullptr) {
    for (const Reaction& reaction : *more) {
      unfollow(reaction);
      reaction.target->release();
    }
    delete more;
  }
}

// ---- Unhandled rejections ------------------------------------------------------------------

namespace {
thread_local RejectionReporter reporter;
thread_local std::size_t reported = 0;

void print_to_stderr(const std::exception_ptr& reason) {
  std::fprintf(stderr, "common::Promise: unhandled rejection: %s\n", describe(reason).c_str());
}
}  // namespace

void report_unhandled(const std::exception_ptr& reason) noexcept {
  ++reported;
  try {
    if (reporter) {
      reporter(reason);
    } else {
      print_to_stderr(reason);
    }
  } catch (...) {
    std::fputs("common::Promise: the unhandled-rejection reporter threw\n", stderr);
  }
}

}  // namespace detail

RejectionReporter set_unhandled_rejection_reporter(RejectionReporter reporter) {
  return std::exchange(detail::reporter, std::move(reporter));
}

std::size_t unhandled_rejection_count() noexcept {
  return detail::reported;
}

std::size_t live_promise_states() noexcept {
  return detail::registry.live;
}

// ---- PromiseScheduler ----------------------------------------------------------------------

PromiseScheduler::PromiseScheduler(uv_loop_t& loop) : loop_(&loop) {
  if (detail::current_scheduler != nullptr) {
    throw std::logic_error("a PromiseScheduler is already installed on this thread");
  }
  detail::current_scheduler = this;
}

PromiseScheduler::~PromiseScheduler() {
  shutdown();
}

PromiseScheduler& PromiseScheduler::current() {
  return detail::scheduler();
}

void PromiseScheduler::on_idle(uv_idle_t* idle) {
  auto* self = static_cast<PromiseScheduler*>(idle->data);
  self->drain();
}

// Runs jobs until the queue is empty, including the ones they queue (FIFO, no recursion).
void PromiseScheduler::drain() {
  while (!queue_.empty()) {
    detail::Job job = queue_.pop();
    auto target = detail::Ref<detail::Node>::adopt(job.target);
    auto source = detail::Ref<detail::StateBase>::adopt(job.source);
    in_job_ = true;
    try {
      target->react(source.get(), job.slot);
    } catch (...) {
      // Handler exceptions are rejections already; this is a failed task or a broken invariant
      // (e.g. out of memory). It must not cross libuv's frame: stop, run_loop rethrows it.
      trap_exception(*loop_, std::current_exception());
      in_job_ = false;
      if (shutdown_requested_) shut_down_now();
      return;
    }
    in_job_ = false;
    if (shutdown_requested_) {
      shut_down_now();
      return;
    }
  }
  stop_idle();
}

// An active idle handle keeps the loop alive and makes it poll without blocking, so queued jobs
// run on this turn of the loop; it is closed as soon as the queue is empty.
void PromiseScheduler::start_idle() {
  if (!running_) throw std::logic_error("PromiseScheduler: used after shutdown()");
  auto* idle = new uv_idle_t{};
  int rc = uv_idle_init(loop_, idle);
  if (rc < 0) {
    delete idle;  // never initialised, so libuv knows nothing of it
    throw UvError(rc, "uv_idle_init");
  }
  idle->data = this;
  idle_ = idle;
  rc = uv_idle_start(idle, on_idle);
  if (rc < 0) {
    stop_idle();
    throw UvError(rc, "uv_idle_start");
  }
}

void PromiseScheduler::stop_idle() noexcept {
  if (idle_ == nullptr) return;
  // libuv may touch the handle until its close callback: free it there.
  uv_close(reinterpret_cast<uv_handle_t*>(std::exchange(idle_, nullptr)),
           [](uv_handle_t* closed) { delete reinterpret_cast<uv_idle_t*>(closed); });
}

void PromiseScheduler::shutdown() noexcept {
  if (in_job_) {
    shutdown_requested_ = true;  // drain() finishes it once the running handler has returned
  } else {
    shut_down_now();
  }
}

void PromiseScheduler::shut_down_now() noexcept {
  if (!running_) return;
  running_ = false;
  shutdown_requested_ = false;
  while (!queue_.empty()) {
    detail::Job job = queue_.pop();
    job.target->release();
    if (job.source != nullptr) job.source->release();
  }
  detail::abandon_all();
  stop_idle();
  if (detail::current_scheduler == this) detail::current_scheduler = nullptr;
}

}  // namespace common
