// flow/promise.h: Q-style promises (Promises/A+ 1.1) whose handlers run from the libuv loop.
//
//   common::PromiseScheduler scheduler(loop);          // once, next to the loop (main, a test)
//   auto read = common::nfbind(read_file);             // (path, cb(error, text)) → Promise<string>
//   read("a.txt").then([](const std::string& text) { return text.size(); })
//                .fail([](const common::Error& e) -> std::size_t { return 0; })
//                .fin([] { std::puts("done"); });
//
// docs/promises.md has the rules (Q 1.5.1's and Promises/A+'s): handlers run from the loop, in
// order, never inside then() or resolve(); then()'s promise is typed by what the handler returns.
#pragma once

#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "common/flow/promise_error.h"
#include "common/flow/promise_handlers.h"
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
  Promise() noexcept = default;  // an empty handle: valid() is false, then() throws

  [[nodiscard]] bool valid() const noexcept { return static_cast<bool>(state_); }
  [[nodiscard]] bool is_pending() const { return status() == promise_detail::Status::pending; }
  [[nodiscard]] bool is_fulfilled() const { return status() == promise_detail::Status::fulfilled; }
  [[nodiscard]] bool is_rejected() const { return status() == promise_detail::Status::rejected; }

  // A new promise for what the handler returns. on_fulfilled takes the value (const T&, T, or
  // nothing); on_rejected takes the std::exception_ptr, a const common::Error&, or nothing.
  template <typename OnFulfilled, typename OnRejected = std::nullptr_t>
  auto then(OnFulfilled on_fulfilled, OnRejected on_rejected = nullptr) const
      -> Promise<promise_detail::then_value_t<OnFulfilled, T>> {
    using U = promise_detail::then_value_t<OnFulfilled, T>;
    static_assert(promise_detail::is_fulfilled_handler_v<OnFulfilled, T>,
                  "then(): on_fulfilled must be callable with the value (or with nothing)");
    static_assert(promise_detail::fits_rejection_handler_v<OnRejected, U>,
                  "then(): on_rejected must take std::exception_ptr, const common::Error& or "
                  "nothing, and return what on_fulfilled returns (the chain has one type)");
    auto next = promise_detail::make_ref<promise_detail::ThenState<T, U, OnFulfilled, OnRejected>>(
        std::move(on_fulfilled), std::move(on_rejected));
    checked_state().subscribe(next);
    return promise_detail::Access::wrap<U>(std::move(next));
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

  // Runs callback() on either outcome and passes the outcome on, once the promise it may return
  // has fulfilled; a throw, or that promise's rejection, replaces the outcome.
  template <typename Callback>
  Promise<T> fin(Callback callback) const {
    static_assert(std::is_invocable_v<Callback&>, "fin(): the callback takes no arguments");
    auto shared = std::make_shared<Callback>(std::move(callback));  // one for both handlers
    auto on_fulfilled = [shared](promise_detail::stored_t<T> value) {
      return promise_detail::after_callback(*shared, [value = std::move(value)]() mutable -> T {
        return static_cast<T>(std::move(value));  // a Promise<void> drops its std::monostate
      });
    };
    auto on_rejected = [shared](const std::exception_ptr& reason) {
      return promise_detail::after_callback(*shared,
                                            [reason]() -> T { std::rethrow_exception(reason); });
    };
    return then(std::move(on_fulfilled), std::move(on_rejected));
  }
  template <typename Callback>
  Promise<T> finally(Callback callback) const {
    return fin(std::move(callback));
  }

  // then() with the tuple of all(a, b, ...) spread over the handler's arguments.
  template <typename OnFulfilled, typename OnRejected = std::nullptr_t>
  auto spread(OnFulfilled on_fulfilled, OnRejected on_rejected = nullptr) const {
    static_assert(promise_detail::Spreadable<OnFulfilled, const T&>::value ||
                      promise_detail::Spreadable<OnFulfilled, T>::value,
                  "spread(): the handler must take the tuple's elements (from all(a, b, ...))");
    return then(promise_detail::Spread<OnFulfilled>{std::move(on_fulfilled)},
                std::move(on_rejected));
  }

 private:
  friend struct promise_detail::Access;
  using State = promise_detail::PromiseState<T>;

  explicit Promise(promise_detail::Ref<State> state) noexcept : state_(std::move(state)) {}

  [[nodiscard]] promise_detail::Status status() const { return checked_state().status(); }
  State& checked_state() const {
    if (!state_) throw std::logic_error("use of an empty common::Promise");
    return *state_.get();
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

  void resolve(promise_detail::stored_t<T> value) const requires(!std::is_void_v<T>) {
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

// Q(value): a promise already fulfilled with value (its handlers still run later, from the loop);
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
template <typename T>
Promise<T> resolved(Promise<T> promise) {
  return promise;
}

// Q.reject(reason): an exception_ptr, a common::Error or an exception, as Deferred::reject.
template <typename T, typename Reason>
Promise<T> rejected(Reason&& reason) {
  Deferred<T> deferred;
  deferred.reject(std::forward<Reason>(reason));
  return deferred.promise();
}

namespace promise_detail {

template <typename T>
using AllValue = std::conditional_t<std::is_void_v<T>, void, std::vector<T>>;

// What all() shares between the handlers it puts on its inputs: each fulfilment fills its slot,
// the last resolves `result`, the first rejection rejects it. `remaining` counts all() itself
// too, so that nothing finishes before every input is subscribed to, and all({}) fulfils.
template <typename Result, typename Slots>
struct Gathering {
  Gathering(Slots empty_slots, std::size_t inputs)
      : slots(std::move(empty_slots)), remaining(inputs + 1) {}

  // A Promise<void>'s handler is given std::monostate, the value its slot holds.
  template <typename T>
  void wait_for(const std::shared_ptr<Gathering>& self, const Promise<T>& input,
                std::optional<stored_t<T>>& slot) {
    input.then([self, &slot](stored_t<T> value) { self->arrived(slot.emplace(std::move(value))); },
               [self](const std::exception_ptr& reason) { self->result.reject(reason); });
  }

  // Called with the value just stored, and once by all() itself.
  template <typename... Stored>
  void arrived(const Stored&... /*unused*/) {
    if (--remaining != 0) return;
    if constexpr (std::is_void_v<Result>) {
      result.resolve();
    } else if constexpr (requires { slots.size(); }) {  // all(vector)
      Result values;
      values.reserve(slots.size());
      for (auto& slot : slots) values.push_back(std::move(*slot));
      result.resolve(std::move(values));
    } else {  // all(a, b, ...)
      result.resolve(std::apply([](auto&... slot) { return Result(std::move(*slot)...); }, slots));
    }
  }

  Deferred<Result> result;
  Slots slots;  // one optional per input, in input order
  std::size_t remaining;
};

}  // namespace promise_detail

// Q.all(array): the values in input order once all are fulfilled, or the first rejection in
// time (nothing is cancelled). all({}) fulfils with {}; Promise<void> inputs give Promise<void>.
template <typename T>
Promise<promise_detail::AllValue<T>> all(const std::vector<Promise<T>>& promises) {
  using Slots = std::vector<std::optional<promise_detail::stored_t<T>>>;
  auto gathering = std::make_shared<promise_detail::Gathering<promise_detail::AllValue<T>, Slots>>(
      Slots(promises.size()), promises.size());
  for (std::size_t i = 0; i < promises.size(); ++i)
    gathering->wait_for(gathering, promises[i], gathering->slots[i]);
  gathering->arrived();
  return gathering->result.promise();
}

// all(a, b, ...) for promises of different types: Promise<std::tuple<A, B, ...>> (a
// Promise<void> contributes std::monostate). spread() unpacks the tuple into arguments.
template <typename... Ts>
requires(sizeof...(Ts) >= 1) Promise<std::tuple<promise_detail::stored_t<Ts>...>> all(
    const Promise<Ts>&... promises) {
  using Slots = std::tuple<std::optional<promise_detail::stored_t<Ts>>...>;
  using Result = std::tuple<promise_detail::stored_t<Ts>...>;
  auto gathering =
      std::make_shared<promise_detail::Gathering<Result, Slots>>(Slots(), sizeof...(Ts));
  std::apply([&](auto&... slot) { (gathering->wait_for(gathering, promises, slot), ...); },
             gathering->slots);
  gathering->arrived();
  return gathering->result.promise();
}

// Promise.race: settles like the first of `promises` to settle (never, if there are none): a
// plain state adopts each input, and the later ones find it settled.
template <typename T>
Promise<T> race(const std::vector<Promise<T>>& promises) {
  auto state = promise_detail::make_ref<promise_detail::PromiseState<T>>();
  for (const auto& promise : promises) {
    auto* input = promise_detail::Access::state(promise);
    if (input == nullptr) throw std::logic_error("race(): an empty common::Promise");
    input->subscribe(state);
  }
  return promise_detail::Access::wrap<T>(std::move(state));
}

// ---- nfbind and partial ------------------------------------------------------------------

namespace promise_detail {

template <typename... Ts>
struct TypeList {};

// (error, a) → a; (error) → void; (error, a, b) → tuple<a, b> (Q 1.5.1 gives [a, b]).
template <typename... Vs>
struct NodeValue {
  using type = std::tuple<Vs...>;
};
template <>
struct NodeValue<> {
  using type = void;
};
template <typename V>
struct NodeValue<V> {
  using type = V;
};
template <typename... Vs>
using node_value_t = typename NodeValue<Vs...>::type;

// The type of the last parameter of a function pointer, a member function pointer, or a
// callable object with one (non-template) operator(); declarations only, for decltype.
template <typename... A>
using last_t = std::remove_cvref_t<std::tuple_element_t<sizeof...(A) - 1, std::tuple<A...>>>;
template <typename R, typename... A>
auto last_parameter(R (*)(A...)) -> last_t<A...>;
template <typename R, typename C, typename... A>
auto last_parameter(R (C::*)(A...)) -> last_t<A...>;
template <typename R, typename C, typename... A>
auto last_parameter(R (C::*)(A...) const) -> last_t<A...>;
template <typename F>
auto last_parameter(const F&) -> decltype(last_parameter(&F::operator()));

// The value types of a callback std::function<void(E, Vs...)>.
template <typename E, typename... Vs>
TypeList<std::remove_cvref_t<Vs>...> callback_values(const std::function<void(E, Vs...)>&);

template <typename F>
using deduced_values_t = decltype(callback_values(last_parameter(std::declval<const F&>())));

// nfbind<void>(f) names a callback with no value: the same as (error) alone.
template <typename... Vs>
using explicit_values_t = std::conditional_t<std::is_same_v<TypeList<Vs...>, TypeList<void>>,
                                             TypeList<>, TypeList<Vs...>>;

// A Node-style callback's error as a rejection reason, null for none (std::nullopt, nullptr).
inline std::exception_ptr reason_of(std::exception_ptr error) {
  return error;
}
inline std::exception_ptr reason_of(std::optional<Error> error) {
  return error ? std::make_exception_ptr(ErrorException(std::move(*error))) : nullptr;
}

template <typename... Values, typename Function, typename... Bound>
auto bind_node_function(TypeList<Values...> /*unused*/, Function function, Bound... bound) {
  using Value = node_value_t<Values...>;
  return [function = std::move(function), ... bound = std::move(bound)](auto&&... args) {
    auto state = make_ref<PromiseState<Value>>();
    // The Node-style callback; its error is a std::optional<Error> or a std::exception_ptr.
    // Copyable, as std::function needs: every copy settles the same promise, the first call wins.
    auto callback = [state](auto error, Values... values) {
      if (std::exception_ptr reason = reason_of(std::move(error))) return state->reject(reason);
      state->resolve_value(std::move(values)...);
    };
    PromiseScheduler::current().post([function, bound...,
                                      ... args = std::forward<decltype(args)>(args), state,
                                      callback]() mutable {
      try {
        std::invoke(function, bound..., std::move(args)..., callback);
      } catch (...) {
        state->reject(std::current_exception());  // ignored if it already called back
      }
    });
    return Access::wrap<Value>(std::move(state));
  };
}

}  // namespace promise_detail

// Q.nfbind(f, bound...): f's last parameter is a Node-style callback `(error, values...)`;
// nfbind(f, a)(b) returns a promise and calls f(a, b, callback) on a later turn of the loop. The
// callback's first call settles it (docs/promises.md §11); a throw from f rejects it. The value
// types come from f's last parameter when it is a std::function (a function, a member function,
// a non-generic lambda); otherwise name them: nfbind<common::Json>(partial(&Broker::query, &b)).
template <typename... Values, typename Function, typename... Bound>
auto nfbind(Function function, Bound... bound) {
  using promise_detail::bind_node_function;
  if constexpr (sizeof...(Values) == 0) {
    static_assert(
        requires { typename promise_detail::deduced_values_t<Function>; },
        "nfbind(): cannot see the callback's value types; name them: nfbind<V>(f)");
    return bind_node_function(promise_detail::deduced_values_t<Function>{}, std::move(function),
                              std::move(bound)...);
  } else {
    return bind_node_function(promise_detail::explicit_values_t<Values...>{}, std::move(function),
                              std::move(bound)...);
  }
}

// underscore's _.partial(f, a)(b) == f(a, b): C++20's std::bind_front under the tutorial's name.
template <typename F, typename... Args>
auto partial(F&& function, Args&&... args) {
  return std::bind_front(std::forward<F>(function), std::forward<Args>(args)...);
}

}  // namespace common
