// flow/promise.h: Q-style promises (Promises/A+ 1.1) whose handlers run from the libuv loop.
//
//   common::PromiseScheduler scheduler(loop);          // once, next to the loop (main, a test)
//   auto read = common::nfbind(read_file);             // (path, cb(error, text)) → Promise<string>
//   read("a.txt").then([](const std::string& text) { return text.size(); })
//                .fail([](const common::Error& e) -> std::size_t { return 0; })
//                .fin([] { std::puts("done"); });
//
// Semantics are Q 1.5.1's and Promises/A+'s (docs/promises.md):
//  - handlers never run inside then() or resolve(): settling queues a job, and the thread's
//    PromiseScheduler runs jobs FIFO from the loop (flow/promise_scheduler.h). Promises are
//    single-threaded (non-atomic counts);
//  - then() deduces its promise from the handler: U or Promise<U> → Promise<U>, void →
//    Promise<void>; a throw rejects it; a missing handler (nullptr) passes the outcome on;
//  - a rejection reason is a std::exception_ptr; reject with common::Error via ErrorException;
//  - a rejected promise destroyed without ever having had a handler is reported (stderr by
//    default; flow/promise_error.h); chaining off it counts as handling, so only the end of a
//    chain reports.
// Values reach handlers by const reference, or copied for a handler taking them by value. A
// move-only value (common::Json) goes to the first handler taking it by value; handlers reached
// after that are rejected with std::logic_error (take const T& to share it).
// Not ported from Q: done(), progress/notify, all() of plain values, Q 1.5.1's all() mutating
// its input array; spread() takes the tuple of all(a, b, ...) (for all(vector), use then()).
#pragma once

#include <uv.h>

#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <stdexcept>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "common/flow/promise_combinators.h"
#include "common/flow/promise_error.h"
#include "common/flow/promise_handlers.h"
#include "common/flow/promise_nfbind.h"
#include "common/flow/promise_scheduler.h"
#include "common/flow/promise_state.h"
#include "common/uv/error.h"

namespace common {

// A handle on an eventual value (copyable; copies share the promise).
template <typename T>
class Promise {
  static_assert(!std::is_reference_v<T>, "Promise<T&> is not supported: use a value or pointer");
  static_assert(!promise_detail::is_promise_v<T>, "Promise<Promise<T>> flattens: use Promise<T>");

 public:
  using value_type = T;

  Promise() noexcept = default;  // an empty handle: valid() is false, then() throws

  [[nodiscard]] bool valid() const noexcept { return static_cast<bool>(state_); }
  [[nodiscard]] bool is_pending() const { return status() == promise_detail::Status::pending; }
  [[nodiscard]] bool is_fulfilled() const { return status() == promise_detail::Status::fulfilled; }
  [[nodiscard]] bool is_rejected() const { return status() == promise_detail::Status::rejected; }

  // A new promise for what the handler returns (see the top of this file). on_fulfilled takes
  // the value (const T&, T, or nothing); on_rejected takes the std::exception_ptr, a
  // const common::Error&, or nothing, and must return what on_fulfilled returns (recovery).
  template <typename OnFulfilled, typename OnRejected = std::nullptr_t>
  auto then(OnFulfilled on_fulfilled, OnRejected on_rejected = nullptr) const
      -> Promise<promise_detail::then_value_t<OnFulfilled, T>> {
    using U = promise_detail::then_value_t<OnFulfilled, T>;
    static_assert(std::is_null_pointer_v<OnFulfilled> ||
                      promise_detail::is_fulfilled_handler_v<OnFulfilled, T>,
                  "then(): on_fulfilled must be callable with the value (or with nothing)");
    static_assert(promise_detail::fits_rejection_handler<OnRejected, U>(),
                  "then(): on_rejected must take std::exception_ptr, const common::Error& or "
                  "nothing, and return what on_fulfilled returns (the chain has one type)");
    auto next = promise_detail::make_ref<promise_detail::ThenState<T, U, OnFulfilled, OnRejected>>(
        std::move(on_fulfilled), std::move(on_rejected));
    checked_state().subscribe(next, 0);
    return Promise<U>(std::move(next));
  }

  // then(nullptr, on_rejected): recovers with on_rejected's result; a value passes through.
  template <typename OnRejected>
  Promise<T> fail(OnRejected on_rejected) const {
    return then(nullptr, std::move(on_rejected));
  }
  template <typename OnRejected>
  Promise<T> catch_(OnRejected on_rejected) const {
    return fail(std::move(on_rejected));
  }

  // Runs callback() (no arguments) on either outcome, then passes the original outcome on —
  // unless the callback throws, or returns a promise that rejects: that replaces it. A promise
  // the callback returns is waited for first.
  template <typename Callback>
  Promise<T> fin(Callback callback) const {
    static_assert(std::is_invocable_v<Callback&>, "fin(): the callback takes no arguments");
    auto next =
        promise_detail::make_ref<promise_detail::FinState<T, Callback>>(std::move(callback));
    checked_state().subscribe(next, 0);
    return Promise<T>(std::move(next));
  }
  template <typename Callback>
  Promise<T> finally(Callback callback) const {
    return fin(std::move(callback));
  }

  // then() with the tuple of all(a, b, ...) spread over the handler's arguments.
  template <typename OnFulfilled, typename OnRejected = std::nullptr_t>
  auto spread(OnFulfilled on_fulfilled, OnRejected on_rejected = nullptr) const {
    static_assert(promise_detail::can_spread<OnFulfilled, const T&>() ||
                      promise_detail::can_spread<OnFulfilled, T&&>(),
                  "spread(): the handler must take the tuple's elements (from all(a, b, ...))");
    return then(promise_detail::Spread<OnFulfilled>{std::move(on_fulfilled)},
                std::move(on_rejected));
  }

 private:
  template <typename>
  friend class Promise;
  friend struct promise_detail::Access;
  using State = promise_detail::PromiseState<T>;

  explicit Promise(promise_detail::Ref<State> state) noexcept : state_(std::move(state)) {}

  [[nodiscard]] promise_detail::Status status() const { return checked_state().status(); }
  State& checked_state() const {
    if (!state_) throw std::logic_error("use of an empty common::Promise");
    return *state_;
  }

  promise_detail::Ref<State> state_;
};

// Q.defer(): a promise and the right to settle it. Copies share it; the first resolve or reject
// wins and later ones are ignored (A+ 2.1, 2.3.3.3.3).
template <typename T>
class Deferred {
 public:
  Deferred() : state_(promise_detail::make_ref<promise_detail::PromiseState<T>>()) {}

  [[nodiscard]] Promise<T> promise() const { return promise_detail::Access::wrap<T>(state_); }

  void resolve(typename promise_detail::PromiseState<T>::Stored value) const
      requires(!std::is_void_v<T>) {
    state_->resolve_value(std::move(value));
  }
  void resolve() const requires std::is_void_v<T> { state_->resolve_value(); }
  // Follows another promise: pending while it is, then its value or reason (A+ 2.3.2).
  void resolve(const Promise<T>& promise) const { state_->resolve_promise(promise); }

  void reject(std::exception_ptr reason) const { state_->reject(std::move(reason)); }
  void reject(Error error) const {
    reject(std::make_exception_ptr(ErrorException(std::move(error))));
  }
  template <typename E>
  requires std::is_base_of_v<std::exception, std::remove_cvref_t<E>>
  void reject(E&& exception) const { reject(std::make_exception_ptr(std::forward<E>(exception))); }

 private:
  promise_detail::Ref<promise_detail::PromiseState<T>> state_;
};

// Q(value): a promise already fulfilled with value (its handlers still run later, from the loop).
template <typename V>
requires(!promise_detail::is_promise_v<V>) Promise<std::remove_cvref_t<V>> resolved(V&& value) {
  Deferred<std::remove_cvref_t<V>> deferred;
  deferred.resolve(std::forward<V>(value));
  return deferred.promise();
}
inline Promise<void> resolved() {
  Deferred<void> deferred;
  deferred.resolve();
  return deferred.promise();
}
// Q(promise) is the promise itself.
template <typename T>
Promise<T> resolved(Promise<T> promise) {
  return promise;
}

// Q.reject(reason): rejected<int>(std::make_exception_ptr(...)), rejected<int>(Error{...}),
// rejected<int>(std::runtime_error("...")).
template <typename T>
Promise<T> rejected(std::exception_ptr reason) {
  Deferred<T> deferred;
  deferred.reject(std::move(reason));
  return deferred.promise();
}
template <typename T>
Promise<T> rejected(Error error) {
  return rejected<T>(std::make_exception_ptr(ErrorException(std::move(error))));
}
template <typename T, typename E>
requires std::is_base_of_v<std::exception, std::remove_cvref_t<E>> Promise<T> rejected(
    E&& exception) {
  return rejected<T>(std::make_exception_ptr(std::forward<E>(exception)));
}

// Q.all(array): the values in input order once all are fulfilled; the first rejection in time
// rejects it (later ones are ignored, nothing is cancelled). all({}) fulfils with {}.
// Promise<void> inputs give a Promise<void>.
template <typename T>
Promise<promise_detail::AllValue<T>> all(const std::vector<Promise<T>>& promises) {
  if (promises.empty()) {
    if constexpr (std::is_void_v<T>) {
      return resolved();
    } else {
      return resolved(std::vector<T>{});
    }
  }
  auto state = promise_detail::make_ref<promise_detail::AllState<T>>(promises.size());
  for (std::size_t i = 0; i < promises.size(); ++i) {
    auto* input = promise_detail::Access::state(promises[i]);
    if (input == nullptr) throw std::logic_error("all(): an empty common::Promise");
    input->subscribe(state, static_cast<std::uint32_t>(i));
  }
  return promise_detail::Access::wrap<promise_detail::AllValue<T>>(std::move(state));
}

// all(a, b, ...) for promises of different types: Promise<std::tuple<A, B, ...>> (a
// Promise<void> contributes std::monostate). spread() unpacks the tuple into arguments.
template <typename... Ts>
requires(sizeof...(Ts) >= 1) Promise<std::tuple<promise_detail::TupleElement<Ts>...>> all(
    const Promise<Ts>&... promises) {
  if (((promise_detail::Access::state(promises) == nullptr) || ...)) {
    throw std::logic_error("all(): an empty common::Promise");
  }
  auto state = promise_detail::make_ref<promise_detail::TupleAllState<Ts...>>();
  std::uint32_t slot = 0;
  (promise_detail::Access::state(promises)->subscribe(state, slot++), ...);
  return promise_detail::Access::wrap<std::tuple<promise_detail::TupleElement<Ts>...>>(
      std::move(state));
}

// Promise.race: settles like the first of `promises` to settle (never, if there are none).
template <typename T>
Promise<T> race(const std::vector<Promise<T>>& promises) {
  // A plain state reacting to each input takes over the first outcome; later ones find it
  // settled and are ignored.
  auto state = promise_detail::make_ref<promise_detail::PromiseState<T>>();
  for (const auto& promise : promises) {
    auto* input = promise_detail::Access::state(promise);
    if (input == nullptr) throw std::logic_error("race(): an empty common::Promise");
    input->subscribe(state, 0);
  }
  return promise_detail::Access::wrap<T>(std::move(state));
}

}  // namespace common
