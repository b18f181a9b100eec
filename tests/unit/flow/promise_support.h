// promise_support.h: what the promise tests share — a private loop with its scheduler, uv timers
// for the "eventually" timings, and a log of unhandled-rejection reports.
#pragma once

#include <uv.h>

#include <cstdint>
#include <exception>
#include <functional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "common/flow/promise.h"
#include "common/uv/loop.h"
#include "tests/support/catch.h"

namespace promise_test {

// Runs `callback` once after `ms` milliseconds, from the loop; the timer frees itself.
inline void after(uv_loop_t& loop, std::uint64_t ms, std::function<void()> callback) {
  struct Timer {
    uv_timer_t handle{};
    std::function<void()> callback;
  };
  auto* timer = new Timer{};
  timer->callback = std::move(callback);
  common::check(uv_timer_init(&loop, &timer->handle), "uv_timer_init");
  timer->handle.data = timer;
  common::check(uv_timer_start(
                    &timer->handle,
                    [](uv_timer_t* handle) {
                      auto* self = static_cast<Timer*>(handle->data);
                      std::function<void()> run = std::move(self->callback);
                      uv_close(reinterpret_cast<uv_handle_t*>(handle), [](uv_handle_t* closed) {
                        delete static_cast<Timer*>(closed->data);
                      });
                      common::guard(*handle->loop, run);
                    },
                    ms, 0),
                "uv_timer_start");
}

// A promise fulfilled with `value` after `ms` (Q.delay).
template <typename T>
common::Promise<T> delay(uv_loop_t& loop, std::uint64_t ms, T value) {
  common::Deferred<T> deferred;
  after(loop, ms, [deferred, value] { deferred.resolve(value); });
  return deferred.promise();
}

// A promise rejected with std::runtime_error(message) after `ms`.
template <typename T>
common::Promise<T> delay_reject(uv_loop_t& loop, std::uint64_t ms, std::string message) {
  common::Deferred<T> deferred;
  after(loop, ms,
        [deferred, message = std::move(message)] { deferred.reject(std::runtime_error(message)); });
  return deferred.promise();
}

// Records the unhandled-rejection reports made while it lives (instead of printing them).
class RejectionLog {
 public:
  RejectionLog()
      : previous_(
            common::set_unhandled_rejection_reporter([this](const std::exception_ptr& reason) {
              reasons.push_back(common::describe(reason));
            })) {}
  // Reports nobody looked at (and cleared) fail the test.
  ~RejectionLog() {
    common::set_unhandled_rejection_reporter(std::move(previous_));
    if (std::uncaught_exceptions() == 0) CHECK(reasons.empty());
  }
  RejectionLog(const RejectionLog&) = delete;
  RejectionLog& operator=(const RejectionLog&) = delete;

  std::vector<std::string> reasons;

 private:
  common::RejectionReporter previous_;
};

// A private loop with its scheduler, and a log that must stay empty unless a test expects
// reports: an unexpected unhandled rejection fails the test.
// (Members are destroyed in reverse: the scheduler's shutdown still reports into the log.)
struct PromiseLoop {
  common::Loop loop;
  RejectionLog rejections;
  common::PromiseScheduler scheduler{loop};

  void run() { common::run_loop(loop); }
};

// The exception inside a reason, as text.
inline std::string what(const std::exception_ptr& reason) {
  return common::describe(reason);
}

// A rejection reason with a recognisable message.
inline std::exception_ptr reason(const std::string& message) {
  return std::make_exception_ptr(std::runtime_error(message));
}

}  // namespace promise_test
