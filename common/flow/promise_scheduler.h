// flow/promise_scheduler.h: where promise handlers run. Settling a promise, or calling then() on
// a settled one, never calls a handler: it queues a *job* (Q's nextTick), and the thread's
// PromiseScheduler runs the jobs in order from the loop.
//
//   common::PromiseScheduler scheduler(loop);  // once per thread, next to the loop
//
// One call on the loop's next-turn queue (common::set_immediate) drains the FIFO, jobs queued
// meanwhile included: the loop is kept alive only while jobs wait.
#pragma once

#include <uv.h>

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <utility>

#include "common/flow/promise_state.h"

namespace common {

namespace promise_detail {

// A function posted to run from the loop (PromiseScheduler::post).
template <typename F>
class PostedTask final : public PromiseNode {
 public:
  explicit PostedTask(F function) : function_(std::in_place, std::move(function)) {}
  void react(PromiseStateBase* /*source*/) override {
    F function = std::move(*function_);  // runs at most once; its captures go when it returns
    function_.reset();
    std::invoke(function);
  }
  void abandon() noexcept override { function_.reset(); }

 private:
  std::optional<F> function_;
};

}  // namespace promise_detail

class PromiseScheduler {
 public:
  // Installs this scheduler for the calling thread; throws std::logic_error if one already is.
  explicit PromiseScheduler(uv_loop_t& loop);
  ~PromiseScheduler();  // shutdown(), then uninstalls
  PromiseScheduler(const PromiseScheduler&) = delete;
  PromiseScheduler& operator=(const PromiseScheduler&) = delete;

  // The scheduler of this thread; std::logic_error if there is none.
  static PromiseScheduler& current();

  [[nodiscard]] std::size_t queued() const noexcept;  // jobs waiting to run

  // Runs task() from the loop, after the jobs already queued (Q's nextTick). An exception it
  // throws stops the loop and is rethrown by common::run_loop.
  template <typename F>
  void post(F task) {
    promise_detail::schedule(
        promise_detail::make_ref<promise_detail::PostedTask<F>>(std::move(task)), nullptr);
  }

  // Drops the queued jobs, frees every promise still alive on this thread (breaking the cycles
  // handlers made) and uninstalls; idempotent. From inside a handler, once that handler returns.
  void shutdown() noexcept;

 private:
  friend void promise_detail::schedule(promise_detail::Ref<promise_detail::PromiseNode> target,
                                       promise_detail::PromiseStateBase* source);
  struct Jobs;
  std::shared_ptr<Jobs> jobs_;  // shared with the drain queued on the loop, which may outlive us
};

}  // namespace common
