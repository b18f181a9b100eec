// flow/promise_handlers.h: the state behind then(), and how it calls handlers. A handler runs
// from the loop, at most once, and is destroyed right after, which frees what it captured. What it
// returns resolves the next promise: a value fulfils it, a promise is adopted, a throw rejects it
// (A+ 2.2.7). A missing handler (nullptr, a null function pointer, an empty std::function) passes
// the outcome on unchanged (A+ 2.2.1, 2.2.7.3–4).
#pragma once

#include <exception>
#include <functional>
#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>

#include "common/flow/promise_error.h"
#include "common/flow/promise_state.h"

namespace common::promise_detail {

// nullptr, a null function pointer or an empty std::function is "not a function" (A+ 2.2.1).
template <typename F>
bool present(const F& handler) noexcept {
  if constexpr (requires { handler == nullptr; }) {
    return handler != nullptr;
  } else {
    return true;
  }
}

struct NotAHandler {};  // what calling a handler that fits no calling convention "returns"

// Calls a fulfilment handler the way it asks: with the stored value to read (const T&), with its
// own copy (T; a move-only value is moved out, see PromiseState::take), or with nothing.
template <typename F, typename T, typename Stored = typename PromiseState<T>::Stored>
decltype(auto) call_with_value(F& handler, PromiseState<T>& source) {
  if constexpr (std::is_invocable_v<F&, const Stored&>) {
    return std::invoke(handler, source.peek());
  } else if constexpr (std::is_invocable_v<F&, Stored&&>) {
    return std::invoke(handler, source.take());
  } else if constexpr (std::is_invocable_v<F&>) {
    return std::invoke(handler);
  } else {
    return NotAHandler{};
  }
}

// Calls a rejection handler with the std::exception_ptr, with a common::Error, or with nothing.
template <typename F>
decltype(auto) call_with_reason(F& handler, const std::exception_ptr& reason) {
  if constexpr (std::is_invocable_v<F&, const std::exception_ptr&>) {
    return std::invoke(handler, reason);
  } else if constexpr (std::is_invocable_v<F&, const Error&>) {
    return std::invoke(handler, error_of(reason));
  } else if constexpr (std::is_invocable_v<F&>) {
    return std::invoke(handler);
  } else {
    return NotAHandler{};
  }
}

template <typename F, typename T>
using fulfilled_result_t =
    decltype(call_with_value(std::declval<F&>(), std::declval<PromiseState<T>&>()));

template <typename F, typename T>
inline constexpr bool is_fulfilled_handler_v =
    std::is_null_pointer_v<F> || !std::is_same_v<fulfilled_result_t<F, T>, NotAHandler>;

// The value type of p.then(f): f's result, unwrapped if it is a promise; T for no handler.
template <typename F, typename T>
using then_value_t = typename std::conditional_t<std::is_null_pointer_v<F>, std::type_identity<T>,
                                                 PromiseValue<fulfilled_result_t<F, T>>>::type;

// A rejection handler must return U (or a convertible), a Promise<U>, or nothing when U is void.
template <typename F, typename U,
          typename R = decltype(call_with_reason(std::declval<F&>(), std::exception_ptr()))>
inline constexpr bool fits_rejection_handler_v =
    std::is_null_pointer_v<F> ||
    (is_promise_v<R> ? std::is_same_v<promise_value_t<R>, U>
                     : (std::is_void_v<U> ? std::is_void_v<R> : std::is_convertible_v<R, U>));

// p.then(on_fulfilled, on_rejected): p settles, one handler runs and this resolves with its
// result. A promise result is adopted: its outcome arrives in react() once the handlers are gone.
template <typename T, typename U, typename OnFulfilled, typename OnRejected>
class ThenState final : public PromiseState<U> {
 public:
  ThenState(OnFulfilled on_fulfilled, OnRejected on_rejected)
      : handlers_(Handlers{std::move(on_fulfilled), std::move(on_rejected)}) {}

  void react(PromiseStateBase* source) override {
    if (!handlers_) return PromiseState<U>::react(source);  // the adopted promise settled
    try {
      run_handler(static_cast<PromiseState<T>&>(*source));
    } catch (...) {
      this->reject_now(std::current_exception());  // A+ 2.2.7.2
    }
    handlers_.reset();  // at most once (2.2.2.3); frees what the handlers captured
  }

  void abandon() noexcept override {
    PromiseState<U>::abandon();
    handlers_.reset();
  }

 private:
  struct Handlers {
    OnFulfilled on_fulfilled;
    OnRejected on_rejected;
  };

  void run_handler(PromiseState<T>& source) {
    Handlers& h = *handlers_;
    if (source.status() == Status::fulfilled) {
      if (!present(h.on_fulfilled)) return pass_value(source);  // 2.2.7.3
      if constexpr (!std::is_null_pointer_v<OnFulfilled>)
        this->resolve_with_result_of(
            [&]() -> decltype(auto) { return call_with_value(h.on_fulfilled, source); });
    } else {
      if (!present(h.on_rejected)) return this->reject(source.reason());  // 2.2.7.4
      if constexpr (!std::is_null_pointer_v<OnRejected>)
        this->resolve_with_result_of(
            [&]() -> decltype(auto) { return call_with_reason(h.on_rejected, source.reason()); });
    }
  }

  void pass_value(PromiseState<T>& source) {
    if constexpr (std::is_same_v<T, U>) {
      if (this->lock()) PromiseState<U>::react(&source);
    } else {
      throw TypeError("then(): an empty onFulfilled cannot pass the value on as another type");
    }
  }

  std::optional<Handlers> handlers_;
};

// fin()'s step: runs callback, then `next`. When the callback returns a promise, `next` waits for
// it to fulfil; its rejection passes on instead.
template <typename Callback, typename Next>
auto after_callback(Callback& callback, Next next) {
  if constexpr (is_promise_v<std::invoke_result_t<Callback&>>) {
    return std::invoke(callback).then(std::move(next));
  } else {
    std::invoke(callback);
    return next();
  }
}

// p.spread(f) is p.then(Spread{f}): the tuple of all(a, b, ...) becomes f's arguments, read in
// place when the handler is given the tuple by const reference, moved out of a tuple of its own.
template <typename F, typename Tuple>
struct Spreadable : std::false_type {};
template <typename F, typename... E>
struct Spreadable<F, const std::tuple<E...>&> : std::is_invocable<F&, const E&...> {};
template <typename F, typename... E>
struct Spreadable<F, std::tuple<E...>> : std::is_invocable<F&, E&&...> {};

template <typename F>
struct Spread {
  F function;

  template <typename Tuple>
  requires Spreadable<F, Tuple>::value decltype(auto) operator()(Tuple&& values) {
    return std::apply(function, std::forward<Tuple>(values));
  }
};

}  // namespace common::promise_detail
