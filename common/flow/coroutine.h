// flow/coroutine.h: C++20 coroutines over common::Promise, Node's async/await. A function that
// returns a Promise<T> and uses co_await is a coroutine: it runs up to its first co_await, the
// caller gets the Promise<T> then, and co_return (or an escaping exception) settles it; a
// rejection is rethrown at the co_await (06-coroutines/main.cpp, await_user, is an example). A
// co_await never resumes inside itself, even on a settled promise: the promise's handler does,
// from the PromiseScheduler (commandment 1). See docs/promises.md §17.
#pragma once

#include <coroutine>
#include <exception>
#include <memory>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include "common/flow/promise.h"

namespace common::coroutine_detail {

// A suspended frame, owned by the awaited promise's handlers until one resumes it: a promise
// dropped unsettled takes its handlers, and so the frame, with it.
class Frame {
 public:
  explicit Frame(std::coroutine_handle<> handle) noexcept : handle_(handle) {}
  Frame(const Frame&) = delete;
  Frame& operator=(const Frame&) = delete;
  ~Frame() {
    if (handle_) handle_.destroy();
  }
  void resume() { std::exchange(handle_, nullptr).resume(); }

 private:
  std::coroutine_handle<> handle_;
};

// What `co_await promise` becomes. Suspended, it holds no reference to the promise: a frame that
// owned what it waits for would keep a never-settled promise, and itself, alive.
template <typename T>
class Awaiter {
 public:
  explicit Awaiter(Promise<T> promise) : promise_(std::move(promise)) {}
  bool await_ready() const noexcept { return false; }  // settled or not: resume from the loop
  void await_suspend(std::coroutine_handle<> handle) {
    if (!promise_.valid()) throw std::logic_error("co_await on an empty common::Promise");
    auto frame = std::make_shared<Frame>(handle);
    auto on_fulfilled = [this, frame](promise_detail::stored_t<T> value) {
      value_.emplace(std::move(value));
      frame->resume();
    };
    auto on_rejected = [this, frame](const std::exception_ptr& reason) {
      reason_ = reason;
      frame->resume();
    };
    std::exchange(promise_, {}).then(on_fulfilled, on_rejected);
  }
  T await_resume() {
    if (reason_) std::rethrow_exception(reason_);
    if constexpr (!std::is_void_v<T>) return std::move(*value_);
  }

 private:
  Promise<T> promise_;
  std::optional<promise_detail::stored_t<T>> value_;
  std::exception_ptr reason_;
};

// The coroutine's side of its Promise<T>: it starts at once, and its frame goes as it finishes.
template <typename T>
struct PromiseTypeBase {
  Deferred<T> deferred;
  Promise<T> get_return_object() const { return deferred.promise(); }
  std::suspend_never initial_suspend() const noexcept { return {}; }
  std::suspend_never final_suspend() const noexcept { return {}; }
  void unhandled_exception() const { deferred.reject(std::current_exception()); }
  template <typename U>
  Awaiter<U> await_transform(Promise<U> promise) const {
    return Awaiter<U>(std::move(promise));
  }
};
template <typename T>
struct PromiseType : PromiseTypeBase<T> {
  void return_value(T value) const { this->deferred.resolve(std::move(value)); }
};
template <>
struct PromiseType<void> : PromiseTypeBase<void> {
  void return_void() const { deferred.resolve(); }
};

}  // namespace common::coroutine_detail

template <typename T, typename... Args>
struct std::coroutine_traits<common::Promise<T>, Args...> {
  using promise_type = common::coroutine_detail::PromiseType<T>;
};
