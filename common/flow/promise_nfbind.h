// flow/promise_nfbind.h: Q.nfbind, a function taking a Node-style callback turned into one
// returning a promise, and underscore's _.partial.
//
//   void query(std::string bucket, Json q, std::function<void(std::optional<Error>, Json)> cb);
//   auto q_query = common::nfbind(query);  // q_query("users", q) is a Promise<Json>
#pragma once

#include <cstddef>
#include <exception>
#include <functional>
#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>

#include "common/flow/promise_error.h"
#include "common/flow/promise_scheduler.h"
#include "common/flow/promise_state.h"

namespace common {

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

// The Node-style callback nfbind hands to the wrapped function. Copyable (std::function needs
// that); every copy settles the same promise, and only the first call counts.
template <typename... Vs>
class NodeCallback {
 public:
  using Value = node_value_t<Vs...>;
  explicit NodeCallback(Ref<PromiseState<Value>> state) : state_(std::move(state)) {}

  void operator()(std::optional<Error> error, Vs... values) const {
    if (error) return fail(std::make_exception_ptr(ErrorException(std::move(*error))));
    succeed(std::move(values)...);
  }
  void operator()(std::exception_ptr error, Vs... values) const {
    if (error) return fail(std::move(error));
    succeed(std::move(values)...);
  }
  void fail(std::exception_ptr error) const { state_->reject(std::move(error)); }

 private:
  void succeed(Vs... values) const {
    if constexpr (sizeof...(Vs) <= 1) {
      state_->resolve_value(std::move(values)...);
    } else {
      state_->resolve_value(std::tuple<Vs...>(std::move(values)...));
    }
  }
  Ref<PromiseState<Value>> state_;
};

// The type of the last parameter of a function pointer, a member function pointer, or a
// callable object with one (non-template) operator(); declarations only, for decltype.
template <typename... A>
std::remove_cvref_t<std::tuple_element_t<sizeof...(A) - 1, std::tuple<A...>>> last_of(
    TypeList<A...>);
template <typename R, typename... A>
auto last_parameter(R (*)(A...)) -> decltype(last_of(TypeList<A...>{}));
template <typename R, typename C, typename... A>
auto last_parameter(R (C::*)(A...)) -> decltype(last_of(TypeList<A...>{}));
template <typename R, typename C, typename... A>
auto last_parameter(R (C::*)(A...) const) -> decltype(last_of(TypeList<A...>{}));
template <typename F>
auto last_parameter(const F&) -> decltype(last_parameter(&F::operator()));

// The value types of a callback std::function<void(E, Vs...)>.
template <typename E, typename... Vs>
TypeList<std::remove_cvref_t<Vs>...> callback_values(const std::function<void(E, Vs...)>&);

template <typename F>
using deduced_values_t = decltype(callback_values(last_parameter(std::declval<const F&>())));

// nfbind<void>(f) names a callback with no value: the same as (error) alone.
template <typename... Vs>
struct ExplicitValues {
  using type = TypeList<Vs...>;
};
template <>
struct ExplicitValues<void> {
  using type = TypeList<>;
};

template <typename... Values, typename Function, typename... Bound>
auto bind_node_function(TypeList<Values...> /*unused*/, Function function, Bound... bound) {
  using Value = node_value_t<Values...>;
  return [function = std::move(function), ... bound = std::move(bound)](auto&&... args) {
    auto state = make_ref<PromiseState<Value>>();
    PromiseScheduler::current().post([function, bound...,
                                      ... args = std::forward<decltype(args)>(args),
                                      callback = NodeCallback<Values...>(state)]() mutable {
      try {
        std::invoke(function, bound..., std::move(args)..., callback);
      } catch (...) {
        callback.fail(std::current_exception());  // ignored if it already called back
      }
    });
    return Access::wrap<Value>(std::move(state));
  };
}

}  // namespace promise_detail

// Q.nfbind(f, bound...): wraps a function whose last parameter is a Node-style callback
// `(error, value)` into one returning a promise. nfbind(f, a)(b) calls f(a, b, callback) — on a
// later turn of the loop, never inside the call (as Q does) — and the callback's first call
// settles the promise: an error (std::optional<common::Error> or std::exception_ptr) rejects,
// otherwise (error, v) fulfils with v, (error) with nothing, (error, a, b) with tuple(a, b). A
// throw from f rejects too. Arguments are copied (or moved) into the call.
// The value types come from f's last parameter when it is a std::function<void(E, Vs...)>
// (a function, a member function — bind the object first — or a non-generic lambda); for other
// callables name them: nfbind<common::Json>(partial(&Broker::query, &broker)).
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
    return bind_node_function(typename promise_detail::ExplicitValues<Values...>::type{},
                              std::move(function), std::move(bound)...);
  }
}

// underscore's _.partial(f, a)(b) == f(a, b): arguments bound from the left. C++20 calls this
// std::bind_front; partial is that, under the tutorial's name (arguments are copied in).
template <typename F, typename... Args>
auto partial(F&& function, Args&&... args) {
  return std::bind_front(std::forward<F>(function), std::forward<Args>(args)...);
}

}  // namespace common
