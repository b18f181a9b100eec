// uv/loop.h: owning, running and cleanly closing a libuv event loop.
//
// No exception may unwind through libuv's C frames, so every callback body runs inside guard():
// an exception is kept and the loop stopped, and run_loop() rethrows it once uv_run has returned.
// Shutting down means: close every handle, run the loop until their close callbacks have fired,
// then uv_loop_close, which returns 0 only when nothing was left behind.
//
// Every loop is a common::Loop. What it keeps beside libuv's own state (the next-turn queue, the
// trapped exception) lives in a LoopState that uv_loop_t::data points to, so code handed only a
// uv_loop_t& finds it, and two loops never share anything.
#pragma once

#include <uv.h>

#include <exception>
#include <memory>
#include <utility>

#include "common/uv/immediate.h"

namespace common {

struct LoopState {
  explicit LoopState(uv_loop_t& loop) : immediates(loop) {}

  ImmediateQueue immediates;   // what set_immediate queues
  std::exception_ptr trapped;  // the first exception a guarded callback threw since run_loop began
};

// The state of a loop made by common::Loop; std::logic_error for any other loop.
LoopState& loop_state(uv_loop_t& loop);

// Keeps the first exception thrown by a guarded callback on this loop and stops the loop.
void trap_exception(uv_loop_t& loop, const std::exception_ptr& error) noexcept;

// Runs body(); an exception it throws is trapped instead of crossing the C frame that called us.
template <typename Body>
void guard(uv_loop_t& loop, Body&& body) noexcept {
  try {
    std::forward<Body>(body)();
  } catch (...) {
    trap_exception(loop, std::current_exception());
  }
}

// uv_run(UV_RUN_DEFAULT), then rethrows an exception trapped by guard(), if any.
void run_loop(uv_loop_t& loop);

// A loop of our own (tests and stages alike), closed and drained on destruction.
class Loop {
 public:
  Loop();
  ~Loop() { close(); }
  Loop(const Loop&) = delete;
  Loop& operator=(const Loop&) = delete;

  uv_loop_t& get() noexcept { return loop_; }
  operator uv_loop_t&() noexcept { return loop_; }  // NOLINT(google-explicit-constructor)
  // Shuts down as above, also running what is still queued for the next turn. Returns 0 only if
  // no handle was left open (a forgotten one is a bug: UV_EBUSY, though the loop is closed) and
  // uv_loop_close succeeded.
  int close() noexcept;

 private:
  uv_loop_t loop_{};
  std::unique_ptr<LoopState> state_;  // loop_.data points to it
  bool open_ = false;
};

}  // namespace common
