// flow/promise_combinators.h: the states behind all() and the handler behind spread().
//
// all(vector) and all(a, b, ...) subscribe one state to every input, each in its own slot (the
// input's index). The first rejection in time rejects it; later outcomes find it settled and are
// ignored. Once every input is fulfilled it fulfils with their values in input order.
#pragma once

#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "common/flow/promise_state.h"

namespace common::promise_detail {

template <typename T>
using AllValue = std::conditional_t<std::is_void_v<T>, void, std::vector<T>>;

// A Promise<void> contributes std::monostate to the tuple of all(a, b, ...).
template <typename T>
using TupleElement = std::conditional_t<std::is_void_v<T>, std::monostate, T>;

// all(vector): input i reacts in slot i.
template <typename T>
class AllState final : public PromiseState<AllValue<T>> {
 public:
  explicit AllState(std::size_t count) : remaining_(count), values_(count) {}

  void react(PromiseStateBase* source, std::uint32_t slot) override {
    if (this->status() != Status::pending) return;  // a rejection already won
    auto& input = static_cast<PromiseState<T>&>(*source);
    if (input.status() == Status::rejected) {
      this->reject_now(input.reason());
      values_.clear();
      return;
    }
    if constexpr (!std::is_void_v<T>) {
      try {
        values_[slot].emplace(input.take());
      } catch (...) {
        this->reject_now(std::current_exception());  // a move-only value someone else took
        return;
      }
    }
    if (--remaining_ == 0) finish();
  }

  void abandon() noexcept override {
    PromiseState<AllValue<T>>::abandon();
    values_.clear();
  }

 private:
  void finish() {
    if constexpr (std::is_void_v<T>) {
      this->fulfil();
    } else {
      std::vector<T> values;
      values.reserve(values_.size());
      for (auto& value : values_) values.push_back(std::move(*value));
      this->fulfil(std::move(values));
    }
  }

  std::size_t remaining_;
  std::vector<std::optional<TupleElement<T>>> values_;  // in input order, as they arrive
};

// all(Promise<A>, Promise<B>, ...): input i reacts in slot i.
template <typename... Ts>
class TupleAllState final : public PromiseState<std::tuple<TupleElement<Ts>...>> {
 public:
  TupleAllState() = default;

  void react(PromiseStateBase* source, std::uint32_t slot) override {
    if (this->status() != Status::pending) return;
    if (source->status() == Status::rejected) {
      this->reject_now(source->reason());
      return;
    }
    try {
      store(source, slot, std::index_sequence_for<Ts...>{});
    } catch (...) {
      this->reject_now(std::current_exception());
      return;
    }
    if (--remaining_ == 0) finish(std::index_sequence_for<Ts...>{});
  }

  void abandon() noexcept override {
    PromiseState<std::tuple<TupleElement<Ts>...>>::abandon();
    values_ = {};
  }

 private:
  template <std::size_t... I>
  void store(PromiseStateBase* source, std::uint32_t slot, std::index_sequence<I...> /*unused*/) {
    ((slot == I ? store_one<I>(source) : void()), ...);
  }
  template <std::size_t I>
  void store_one(PromiseStateBase* source) {
    using T = std::tuple_element_t<I, std::tuple<Ts...>>;
    if constexpr (std::is_void_v<T>) {
      std::get<I>(values_).emplace();
    } else {
      std::get<I>(values_).emplace(static_cast<PromiseState<T>&>(*source).take());
    }
  }
  template <std::size_t... I>
  void finish(std::index_sequence<I...> /*unused*/) {
    this->fulfil(std::move(*std::get<I>(values_))...);
  }

  std::size_t remaining_ = sizeof...(Ts);
  std::tuple<std::optional<TupleElement<Ts>>...> values_;
};

// p.spread(f) is p.then(Spread{f}): the tuple of all(a, b, ...) becomes f's arguments, passed
// by const reference when f takes them so, else moved out of the tuple f was given.
template <typename F, typename Tuple, std::size_t... I>
constexpr bool applicable(std::index_sequence<I...> /*unused*/) {
  return std::is_invocable_v<F&, decltype(std::get<I>(std::declval<Tuple>()))...>;
}
template <typename F, typename Tuple>
consteval bool can_spread() {
  using Values = std::remove_cvref_t<Tuple>;
  if constexpr (requires { std::tuple_size<Values>::value; }) {
    return applicable<F, Tuple>(std::make_index_sequence<std::tuple_size_v<Values>>{});
  } else {
    return false;
  }
}

template <typename F>
struct Spread {
  F function;

  template <typename Tuple>
  requires(can_spread<F, Tuple>()) decltype(auto) operator()(Tuple&& values) {
    return std::apply(function, std::forward<Tuple>(values));
  }
};

}  // namespace common::promise_detail
