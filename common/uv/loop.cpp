#include "common/uv/loop.h"

#include <stdexcept>

#include "common/uv/error.h"

namespace common {

LoopState& loop_state(uv_loop_t& loop) {
  if (loop.data == nullptr) throw std::logic_error("this uv_loop_t is not a common::Loop");
  return *static_cast<LoopState*>(loop.data);
}

void trap_exception(uv_loop_t& loop, const std::exception_ptr& error) noexcept {
  // Only a common::Loop runs guarded callbacks. Without its state there is nowhere to keep the
  // exception; rather than lose it, end the program as an uncaught exception would.
  if (loop.data == nullptr) std::terminate();
  std::exception_ptr& trapped = static_cast<LoopState*>(loop.data)->trapped;
  if (!trapped) trapped = error;  // the first one is the cause; keep it
  uv_stop(&loop);
}

void run_loop(uv_loop_t& loop) {
  LoopState& state = loop_state(loop);
  uv_run(&loop, UV_RUN_DEFAULT);  // returns non-zero when stopped with work left: not an error
  if (std::exception_ptr error = std::exchange(state.trapped, nullptr))
    std::rethrow_exception(error);
}

namespace {

// Close callbacks run on the next turn; a few turns let chained closes finish too.
void run_last_turns(uv_loop_t& loop) noexcept {
  for (int turn = 0; turn < 64 && uv_loop_alive(&loop) != 0; ++turn) uv_run(&loop, UV_RUN_NOWAIT);
}

}  // namespace

Loop::Loop() {
  check(uv_loop_init(&loop_), "uv_loop_init");
  open_ = true;
  try {
    state_ = std::make_unique<LoopState>(loop_);
  } catch (...) {
    close();  // a queue handle may be open already
    throw;
  }
  loop_.data = state_.get();
}

int Loop::close() noexcept {
  if (!std::exchange(open_, false)) return 0;  // a second uv_loop_close is not allowed
  int forgotten = 0;  // handles still open, except the next-turn queue's own: someone forgot them
  auto close_forgotten = [](uv_handle_t* handle, void* count) {
    auto* state = static_cast<LoopState*>(handle->loop->data);
    if (uv_is_closing(handle) != 0 || (state != nullptr && state->immediates.owns(handle))) return;
    ++*static_cast<int*>(count);
    uv_close(handle, nullptr);  // its owner is gone or buggy; at least let the loop close
  };
  uv_walk(&loop_, close_forgotten, &forgotten);
  run_last_turns(loop_);
  if (state_) {
    state_->immediates.close();  // last: close callbacks may still have queued a function
    run_last_turns(loop_);
    state_->trapped = nullptr;  // thrown while closing: no run_loop is left to rethrow it
  }
  int rc = uv_loop_close(&loop_);
  return rc == 0 && forgotten > 0 ? UV_EBUSY : rc;
}

}  // namespace common
