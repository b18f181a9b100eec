// uv/immediate.h: run a function on the next turn of the loop (Node's setImmediate).
//
// The tutorial's first commandment: a callback is never called synchronously from the function
// that was handed it. Where an answer is already known (a drain wanted while nothing is queued),
// we post the call with set_immediate instead. Each call owns a one-shot zero-delay timer that
// closes and frees itself after running.
#pragma once

#include <uv.h>

#include <functional>

namespace common {

// Throws UvError if the timer cannot be set up. `fn` runs inside common::guard.
void set_immediate(uv_loop_t& loop, std::function<void()> fn);

}  // namespace common
