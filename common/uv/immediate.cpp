#include "common/uv/immediate.h"

#include <stdexcept>
#include <utility>

#include "common/uv/error.h"
#include "common/uv/loop.h"

namespace common {

void set_immediate(uv_loop_t& loop, std::function<void()> fn) {
  loop_state(loop).immediates.push(std::move(fn));
}

ImmediateQueue::ImmediateQueue(uv_loop_t& loop)
    : check_(loop, uv_check_init), idle_(loop, uv_idle_init) {
  check_->data = this;
}

void ImmediateQueue::push(std::function<void()> fn) {
  if (!check_.is_open()) throw std::logic_error("set_immediate: the loop is closed");
  // Already started while functions wait: then both are no-ops.
  check(uv_check_start(check_.get(), on_check), "uv_check_start");
  check(uv_idle_start(idle_.get(), [](uv_idle_t* /*idle*/) {}), "uv_idle_start");
  queue_.push_back(std::move(fn));
}

bool ImmediateQueue::owns(const uv_handle_t* handle) const noexcept {
  return handle == check_.handle() || handle == idle_.handle();
}

void ImmediateQueue::close() noexcept {
  check_.close();
  idle_.close();
  queue_.clear();
}

// Runs the functions queued before this turn began; what they queue waits for the next turn.
void ImmediateQueue::on_check(uv_check_t* handle) {
  auto* self = static_cast<ImmediateQueue*>(handle->data);
  std::vector<std::function<void()>> turn = std::exchange(self->queue_, {});
  for (std::function<void()>& queued : turn) {
    std::function<void()> fn = std::move(queued);  // its captures go as soon as it has run
    guard(*handle->loop, fn);
  }
  // Stopped, the handles neither keep the loop alive nor keep it from blocking in poll. (Unless
  // a function just run closed them. uv_check_stop and uv_idle_stop always return 0.)
  if (!self->queue_.empty() || !self->check_.is_open()) return;
  static_cast<void>(uv_check_stop(self->check_.get()));
  static_cast<void>(uv_idle_stop(self->idle_.get()));
}

}  // namespace common
