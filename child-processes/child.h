// child.h: what the three child-process examples share: start a program with uv_spawn and hear
// once, from the loop, how it ended.
//
// A uv_process_t is a handle like any other: it must be closed with uv_close and freed only in
// the close callback, and that holds even when uv_spawn fails. start_child hides exactly that, so
// each example shows only what differs between spawn, exec and fork: the stdio it hands over.
#pragma once

#include <uv.h>

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/uv/handle.h"

namespace child {

struct Ended {
  int64_t exit_status = 0;  // the program's exit code (0 when a signal ended it)
  int signal = 0;           // the signal that ended it, or 0
};

// Starts argv[0] (looked up on PATH) with stdio[i] as its file descriptor i and the parent's
// environment plus `extra_env` ("NAME=VALUE"). Calls on_end once, from the loop, when the
// program has ended. Throws common::UvError when it cannot be started.
void start(uv_loop_t& loop, const std::vector<std::string>& argv,
           std::vector<uv_stdio_container_t> stdio, const std::vector<std::string>& extra_env,
           std::function<void(Ended)> on_end);

// A stdio entry: the child's fd reads from or writes into `pipe`, a uv_pipe_t that uv_spawn
// connects.
uv_stdio_container_t pipe_to(uv_stream_t* pipe, int flags);
// A stdio entry: the child's fd is closed (/dev/null for 0–2).
uv_stdio_container_t ignore();
// A stdio entry: the child's fd is the parent's `fd`.
uv_stdio_container_t inherit(int fd);

// The parent's end of a pipe the child writes into (its stdout or stderr), read as data arrives.
class Output {
 public:
  explicit Output(uv_loop_t& loop) : pipe_(loop, uv_pipe_init, 0) { pipe_->data = this; }
  [[nodiscard]] uv_stream_t* stream() const noexcept { return pipe_.stream(); }
  // After start(): on_data for each chunk as it arrives, then on_end once, at EOF. Throws
  // common::UvError if reading cannot start.
  void read(std::function<void(std::string_view chunk)> on_data, std::function<void()> on_end);

 private:
  static void on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);
  common::Handle<uv_pipe_t> pipe_;
  std::function<void(std::string_view)> on_data_;
  std::function<void()> on_end_;
  std::array<char, 4096> buffer_{};  // libuv has one read in flight per stream: one buffer does
};

// Milliseconds since the program started, for the timelines the examples print.
double elapsed_ms();

}  // namespace child
