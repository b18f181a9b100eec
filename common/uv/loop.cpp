#include "common/uv/loop.h"

#include <mutex>
#include <unordered_map>

#include "common/uv/error.h"

namespace common {
namespace {

// One slot per loop; loops are driven from one thread each, but tests may run several loops.
std::mutex trapped_mutex;
std::unordered_map<uv_loop_t*, std::exception_ptr>& trapped() {
  static std::unordered_map<uv_loop_t*, std::exception_ptr> errors;
  return errors;
}

std::exception_ptr take_trapped(uv_loop_t& loop) {
  std::lock_guard lock(trapped_mutex);
  auto found = trapped().find(&loop);
  if (found == trapped().end()) return nullptr;
  std::exception_ptr error = found->second;
  trapped().erase(found);
  return error;
}

}  // namespace

void trap_exception(uv_loop_t& loop, const std::exception_ptr& error) noexcept {
  {
    std::lock_guard lock(trapped_mutex);
    trapped().try_emplace(&loop, error);  // the first one is the cause; keep it
  }
  uv_stop(&loop);
}

void run_loop(uv_loop_t& loop) {
  uv_run(&loop, UV_RUN_DEFAULT);
  if (std::exception_ptr error = take_trapped(loop)) std::rethrow_exception(error);
}

namespace {

// Closes every handle still open; returns how many there were (each is a handle someone forgot).
int close_forgotten_handles(uv_loop_t& loop) noexcept {
  int forgotten = 0;
  uv_walk(
      &loop,
      [](uv_handle_t* handle, void* count) {
        if (uv_is_closing(handle)) return;
        ++*static_cast<int*>(count);
        uv_close(handle, nullptr);  // its owner is gone or buggy; at least let the loop close
      },
      &forgotten);
  return forgotten;
}

int drain_and_close(uv_loop_t& loop) noexcept {
  // Close callbacks run on the next turn; a few turns let chained closes finish too.
  for (int turn = 0; turn < 64 && uv_loop_alive(&loop) != 0; ++turn) uv_run(&loop, UV_RUN_NOWAIT);
  take_trapped(loop);
  return uv_loop_close(&loop);
}

}  // namespace

int close_all_and_drain(uv_loop_t& loop) noexcept {
  int forgotten = close_forgotten_handles(loop);
  int rc = drain_and_close(loop);
  return rc == 0 && forgotten > 0 ? UV_EBUSY : rc;
}

Loop::Loop() {
  check(uv_loop_init(&loop_), "uv_loop_init");
  open_ = true;
}

Loop::~Loop() {
  close();
}

int Loop::close() noexcept {
  if (!open_) return 0;
  open_ = false;  // one attempt: a second uv_loop_close on the same loop is not allowed
  return close_all_and_drain(loop_);
}

}  // namespace common
