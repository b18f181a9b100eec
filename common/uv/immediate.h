// uv/immediate.h: run a function on the next turn of the loop (Node's setImmediate).
//
// The tutorial's first commandment: a callback is never called synchronously from the function
// that was handed it. Where an answer is already known (a drain wanted while nothing is queued),
// we post the call with set_immediate instead.
//
// Built the way Node builds setImmediate: each common::Loop has one queue of functions and one
// uv_check_t that runs them in the loop's check phase, right after polling for I/O. Functions
// queued while the queue is being run wait for the next turn, so a function that queues itself
// cannot starve I/O.
#pragma once

#include <uv.h>

#include <functional>
#include <vector>

#include "common/uv/handle.h"

namespace common {

// Queues fn on the loop's next-turn queue; fn runs inside common::guard. The loop must be a
// common::Loop, still open: std::logic_error otherwise. Throws UvError if the queue cannot start.
void set_immediate(uv_loop_t& loop, std::function<void()> fn);

// The queue behind set_immediate; common::Loop owns one per loop.
class ImmediateQueue {
 public:
  explicit ImmediateQueue(uv_loop_t& loop);

  void push(std::function<void()> fn);
  // Is this one of the queue's own handles (which the loop closes last, not as forgotten)?
  [[nodiscard]] bool owns(const uv_handle_t* handle) const noexcept;
  // Drops what is still queued and closes the handles; push() refuses from then on.
  void close() noexcept;

 private:
  static void on_check(uv_check_t* check);

  Handle<uv_check_t> check_;  // runs the queue in the check phase
  // A check handle does not stop uv_run from blocking in poll: libuv polls with a zero timeout
  // only while an idle handle is active. So, like Node, an idle handle with an empty callback is
  // active exactly while functions wait, and the loop goes straight on to the check phase.
  Handle<uv_idle_t> idle_;
  std::vector<std::function<void()>> queue_;
};

}  // namespace common
