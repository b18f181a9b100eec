// flow/promise_handlers.h: the states behind then() and fin(), and how they call handlers.
//
// A handler runs from the loop, at most once, and is destroyed right after, which frees what it
// captured. What it returns resolves the next promise: a value fulfils it, a promise is adopted,
// a throw rejects it (A+ 2.2.7). A missing handler (nullptr, a null function pointer, an empty
// std::function) passes the outcome on unchanged (A+ 2.2.1, 2.2.7.3–4).
#pragma once

#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include "common/flow/promise_error.h"
#include "common/flow/promise_state.h"

namespace common::promise_detail {

template <typename F>
struct IsStdFunction : std::false_type {};
template <typename S>
struct IsStdFunction<std::function<S>> : std::true_type {};

// A handler given as nullptr, a null function pointer or an empty std::function is "not a
// function" (A+ 2.2.1): the value or reason passes through.
template <typename F>
bool present(const F& handler) noexcept {
  if constexpr (std::is_null_pointer_v<F>) {
    return false;
  } else if constexpr (IsStdFunction<F>::value || std::is_pointer_v<F> ||
                       std::is_member_pointer_v<F>) {
    return handler != nullptr;
  } else {
    return true;
  }
}

// What a fulfilment handler returns, called the way call_with_value calls it.
template <typename F, typename T>
consteval auto fulfilled_result() {
  if constexpr (std::is_void_v<T>) {
    if constexpr (std::is_invocable_v<F&>) return std::type_identity<std::invoke_result_t<F&>>{};
  } else if constexpr (std::is_invocable_v<F&, const T&>) {
    return std::type_identity<std::invoke_result_t<F&, const T&>>{};
  } else if constexpr (std::is_invocable_v<F&, T&&>) {
    return std::type_identity<std::invoke_result_t<F&, T&&>>{};
  } else if constexpr (std::is_invocable_v<F&>) {
    return std::type_identity<std::invoke_result_t<F&>>{};
  }
}
template <typename F, typename T>
inline constexpr bool is_fulfilled_handler_v = !std::is_void_v<decltype(fulfilled_result<F, T>())>;

template <typename F, typename T>
struct ThenValue {
  using type = promise_value_t<typename decltype(fulfilled_result<F, T>())::type>;
};
template <typename T>
struct ThenValue<std::nullptr_t, T> {
  using type = T;
};
// The value type of p.then(f): f's result, unwrapped if it is a promise.
template <typename F, typename T>
using then_value_t = typename ThenValue<F, T>::type;

// Calls handler with source's value (or with nothing, if it takes nothing), then hands the call
// to `resolve`, which runs it and resolves with its result. A handler taking const T& reads the
// stored value; one taking T gets a copy, or, for a move-only value, the value itself
// (PromiseState::take).
template <typename F, typename T, typename Resolve>
void call_with_value(F& handler, PromiseState<T>& source, Resolve&& resolve) {
  if constexpr (std::is_void_v<T>) {
    resolve([&]() -> decltype(auto) { return std::invoke(handler); });
  } else if constexpr (std::is_invocable_v<F&, const T&>) {
    resolve([&]() -> decltype(auto) { return std::invoke(handler, source.peek()); });
  } else if constexpr (std::is_invocable_v<F&, T&&>) {
    resolve([&]() -> decltype(auto) { return std::invoke(handler, source.take()); });
  } else {
    resolve([&]() -> decltype(auto) { return std::invoke(handler); });
  }
}

// A rejection handler takes the std::exception_ptr, or a common::Error, or nothing.
template <typename F, typename Resolve>
void call_with_reason(F& handler, const std::exception_ptr& reason, Resolve&& resolve) {
  if constexpr (std::is_invocable_v<F&, const std::exception_ptr&>) {
    resolve([&]() -> decltype(auto) { return std::invoke(handler, reason); });
  } else if constexpr (std::is_invocable_v<F&, const Error&>) {
    resolve([&]() -> decltype(auto) { return std::invoke(handler, error_of(reason)); });
  } else {
    resolve([&]() -> decltype(auto) { return std::invoke(handler); });
  }
}

template <typename F>
consteval auto rejected_result() {
  if constexpr (std::is_invocable_v<F&, const std::exception_ptr&>) {
    return std::type_identity<std::invoke_result_t<F&, const std::exception_ptr&>>{};
  } else if constexpr (std::is_invocable_v<F&, const Error&>) {
    return std::type_identity<std::invoke_result_t<F&, const Error&>>{};
  } else if constexpr (std::is_invocable_v<F&>) {
    return std::type_identity<std::invoke_result_t<F&>>{};
  }
}
// A rejection handler fits a Promise<U> chain if it returns U (or something convertible),
// a Promise<U>, or nothing when U is void.
template <typename F, typename U>
consteval bool fits_rejection_handler() {
  if constexpr (std::is_null_pointer_v<F>) {
    return true;
  } else if constexpr (std::is_void_v<decltype(rejected_result<F>())>) {
    return false;
  } else {
    using R = typename decltype(rejected_result<F>())::type;
    if constexpr (std::is_void_v<U>) {
      return std::is_void_v<R> || std::is_same_v<std::remove_cvref_t<R>, Promise<void>>;
    } else {
      return std::is_same_v<std::remove_cvref_t<R>, Promise<U>> ||
             (!std::is_void_v<R> && std::is_convertible_v<R, U>);
    }
  }
}

// p.then(on_fulfilled, on_rejected): waits for p (a PromiseState<T>) in slot 0, runs one handler,
// and resolves with its result (adopting it in kAdoptSlot if the handler returned a promise).
template <typename T, typename U, typename OnFulfilled, typename OnRejected>
class ThenState final : public PromiseState<U> {
 public:
  ThenState(OnFulfilled on_fulfilled, OnRejected on_rejected)
      : handlers_(Handlers{std::move(on_fulfilled), std::move(on_rejected)}) {}

  void react(PromiseStateBase* source, std::uint32_t slot) override {
    if (slot == kAdoptSlot) {
      PromiseState<U>::react(source, slot);
      return;
    }
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
    auto resolve = [this](auto&& call) { this->resolve_with_result_of(call); };
    if (source.status() == Status::fulfilled) {
      if (present(handlers_->on_fulfilled)) {
        if constexpr (!std::is_null_pointer_v<OnFulfilled>) {
          call_with_value(handlers_->on_fulfilled, source, resolve);
        }
      } else {
        pass_value(source);  // 2.2.7.3
      }
    } else if (present(handlers_->on_rejected)) {
      if constexpr (!std::is_null_pointer_v<OnRejected>) {
        call_with_reason(handlers_->on_rejected, source.reason(), resolve);
      }
    } else {
      this->reject(source.reason());  // 2.2.7.4
    }
  }

  void pass_value(PromiseState<T>& source) {
    if constexpr (std::is_same_v<T, U>) {
      if (this->lock()) this->copy_outcome(source);
    } else {
      throw TypeError("then(): an empty onFulfilled cannot pass the value on as another type");
    }
  }

  std::optional<Handlers> handlers_;
};

// p.fin(callback): in slot 0 p settled → run callback; if it returned a promise, wait for it in
// kAwaitSlot; then pass p's outcome on unless the callback failed.
template <typename T, typename Callback>
class FinState final : public PromiseState<T> {
 public:
  explicit FinState(Callback callback) : callback_(std::in_place, std::move(callback)) {}

  void react(PromiseStateBase* source, std::uint32_t slot) override {
    if (slot == kAwaitSlot) {
      this->stop_following();
      finish_after_wait(*source);
    } else {
      run_callback(static_cast<PromiseState<T>&>(*source));
    }
  }

  void abandon() noexcept override {
    PromiseState<T>::abandon();
    callback_.reset();
    original_ = {};
  }

 private:
  void run_callback(PromiseState<T>& original) {
    try {
      if constexpr (is_promise_v<std::invoke_result_t<Callback&>>) {
        auto waited = std::invoke(*callback_);
        callback_.reset();
        auto* leader = Access::state(waited);
        if (leader == nullptr) throw std::logic_error("fin() callback returned an empty Promise");
        original_ = Ref<PromiseState<T>>::share(&original);
        if (!this->follow(*leader, kAwaitSlot)) {
          original_ = {};
          this->reject_now(self_resolution_error());
        }
        return;
      } else {
        std::invoke(*callback_);
        callback_.reset();
      }
    } catch (...) {
      callback_.reset();
      this->reject_now(std::current_exception());  // a throw replaces the outcome
      return;
    }
    this->copy_outcome(original);
  }

  void finish_after_wait(PromiseStateBase& waited) {
    Ref<PromiseState<T>> original = std::move(original_);
    if (waited.status() == Status::rejected) {
      this->reject_now(waited.reason());  // a rejected promise from the callback replaces it too
    } else {
      this->copy_outcome(*original);
    }
  }

  std::optional<Callback> callback_;
  Ref<PromiseState<T>> original_;  // p, kept while the callback's promise is pending
};

}  // namespace common::promise_detail
