// flow/promise_nfbind.h: Q.nfbind, a function taking a Node-style callback turned into one
// returning a promise, and underscore's _.partial.
//
//   void query(std::string bucket, Json q, std::function<void(std::optional<Error>, Json)> cb);
//   auto q_query = common::nfbind(query);  // q_query("users", q) is a Promise<Json>
#pragma once

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

template <typename... Ts>
struct TypeList {};

// The parameter types of a function, function pointer, member function pointer or callable
// object with one (non-template) operator(); no `type` for anything else.
template <typename F>
struct Parameters {};
template <typename F>
requires requires {
  &F::operator();
}
struct Parameters<F> : Parameters<decltype(&F::operator())> {};
template <typename R, typename... A>
struct Parameters<R(A...)> {
  using type = TypeList<A...>;
};
template <typename R, typename... A>
struct Parameters<R (*)(A...)> : Parameters<R(A...)> {};
template <typename R, typename... A>
struct Parameters<R (*)(A...) noexcept> : Parameters<R(A...)> {};
template <typename R, typename C, typename... A>
struct Parameters<R (C::*)(A...)> : Parameters<R(A...)> {};
template <typename R, typename C, typename... A>
struct Parameters<R (C::*)(A...) const> : Parameters<R(A...)> {};
template <typename R, typename C, typename... A>
struct Parameters<R (C::*)(A...) noexcept> : Parameters<R(A...)> {};
template <typename R, typename C, typename... A>
struct Parameters<R (C::*)(A...) const noexcept> : Parameters<R(A...)> {};

template <typename List>
struct LastOf {
  using type = void;
};
template <typename Last>
struct LastOf<TypeList<Last>> {
  using type = Last;
};
template <typename First, typename Second, typename... Rest>
struct LastOf<TypeList<First, Second, Rest...>> : LastOf<TypeList<Second, Rest...>> {};

// The value types of the callback a function takes last: std::function<void(E, Vs...)> → Vs.
template <typename Callback>
struct CallbackValues {
  static constexpr bool deduced = false;
};
template <typename E, typename... Vs>
struct CallbackValues<std::function<void(E, Vs...)>> {
  static constexpr bool deduced = true;
  using type = TypeList<std::remove_cvref_t<Vs>...>;
};

template <typename F>
struct DeducedValues {
  static constexpr bool deduced = false;
};
template <typename F>
requires requires {
  typename Parameters<F>::type;
}
struct DeducedValues<F>
    : CallbackValues<std::remove_cvref_t<typename LastOf<typename Parameters<F>::type>::type>> {};

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
  if constexpr (sizeof...(Values) == 0) {
    using Deduced = promise_detail::DeducedValues<std::remove_cvref_t<Function>>;
    static_assert(Deduced::deduced,
                  "nfbind(): cannot see the callback's value types; name them: nfbind<V>(f)");
    return promise_detail::bind_node_function(typename Deduced::type{}, std::move(function),
                                              std::move(bound)...);
  } else {
    return promise_detail::bind_node_function(
        typename promise_detail::ExplicitValues<Values...>::type{}, std::move(function),
        std::move(bound)...);
  }
}

// underscore's _.partial(f, a)(b) == f(a, b): arguments bound from the left. C++20 calls this
// std::bind_front; partial is that, under the tutorial's name (arguments are copied in).
template <typename F, typename... Args>
auto partial(F&& function, Args&&... args) {
  return std::bind_front(std::forward<F>(function), std::forward<Args>(args)...);
}

}  // namespace common
