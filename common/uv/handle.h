// uv/handle.h: RAII ownership of one libuv handle (timer, signal, pipe, tcp, …).
//
// libuv may touch a handle's memory until its close callback has run, so the destructor never
// frees it directly: it calls uv_close, and the close callback deletes the memory. The C++
// owner can therefore go away at any time; the uv struct outlives it just long enough.
// After close() no callback of the handle runs except pending write/shutdown requests, which
// libuv completes with UV_ECANCELED: their callbacks must not reach back into the owner.
#pragma once

#include <uv.h>

#include <utility>

#include "common/uv/error.h"

namespace common {

template <typename T>
class Handle {
 public:
  // Handle<uv_timer_t> timer(loop, uv_timer_init);  Handle<uv_pipe_t> pipe(loop, uv_pipe_init, 0);
  template <typename Init, typename... Args>
  Handle(uv_loop_t& loop, Init init, Args&&... args) : raw_(new T{}) {
    int rc = init(&loop, raw_, std::forward<Args>(args)...);
    if (rc < 0) {
      delete std::exchange(raw_, nullptr);  // never initialised: libuv knows nothing of it
      throw UvError(rc, "handle init");
    }
  }
  // Adopts a handle already initialised (uv_spawn initialises its own), or holds none.
  explicit Handle(T* initialised = nullptr) noexcept : raw_(initialised) {}
  ~Handle() { close(); }

  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  Handle(Handle&& other) noexcept : raw_(std::exchange(other.raw_, nullptr)) {}
  Handle& operator=(Handle&& other) noexcept {
    if (this != &other) {
      close();
      raw_ = std::exchange(other.raw_, nullptr);
    }
    return *this;
  }

  [[nodiscard]] T* get() const noexcept { return raw_; }
  T* operator->() const noexcept { return raw_; }
  [[nodiscard]] uv_handle_t* handle() const noexcept {
    return reinterpret_cast<uv_handle_t*>(raw_);
  }
  [[nodiscard]] uv_stream_t* stream() const noexcept {
    return reinterpret_cast<uv_stream_t*>(raw_);
  }
  [[nodiscard]] bool is_open() const noexcept { return raw_ != nullptr; }

  // Idempotent; the memory is released in the close callback, never here.
  void close() noexcept {
    if (raw_ == nullptr) return;
    uv_handle_t* h = handle();
    h->data = nullptr;  // late write callbacks must find no owner
    if (!uv_is_closing(h))
      uv_close(h, [](uv_handle_t* closed) { delete reinterpret_cast<T*>(closed); });
    raw_ = nullptr;
  }

 private:
  T* raw_;
};

}  // namespace common
