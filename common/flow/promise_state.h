// flow/promise_state.h: one promise's state: pending, then fulfilled with a value or rejected
// with a reason, once (Promises/A+ 2.1), and the reactions to notify when that happens.
//
// Settling never calls anyone: each reaction becomes a job on the thread's PromiseScheduler,
// which runs it from the loop. Resolving is one-shot: the first resolve or reject locks the
// promise, even when it resolves to a promise still pending (A+ 2.3.2.1; later calls are ignored,
// 2.3.3.3.3).
#pragma once

#include <cstdint>
#include <exception>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <vector>

#include "common/flow/promise_error.h"
#include "common/flow/promise_node.h"

namespace common {

template <typename T>
class Promise;

namespace promise_detail {

// Queues target->react(source, slot) on this thread's PromiseScheduler (which holds a reference
// to source until then); std::logic_error when the thread has none.
void schedule(Ref<PromiseNode> target, PromiseStateBase* source, std::uint32_t slot);
// Throws std::logic_error when this thread has no PromiseScheduler.
void require_scheduler();
// The TypeError a promise resolved with itself is rejected with (A+ 2.3.1).
std::exception_ptr self_resolution_error();

// Reaction slots with a special meaning; any other slot is an index (all()) or 0 (then()).
inline constexpr std::uint32_t kAdoptSlot = 0xffffffffU;  // target takes over source's outcome
inline constexpr std::uint32_t kAwaitSlot = 0xfffffffeU;  // fin(): target waited for source

enum class Status : std::uint8_t { pending, fulfilled, rejected };

// What every promise state has, whatever its value type.
class PromiseStateBase : public PromiseNode {
 public:
  [[nodiscard]] Status status() const noexcept { return status_; }
  [[nodiscard]] const std::exception_ptr& reason() const noexcept { return reason_; }

  // target->react(this, slot) will run from the loop once this has settled (soon, if it has).
  void subscribe(Ref<PromiseNode> target, std::uint32_t slot) {
    handled_ = true;  // someone reacts to a rejection, so it is not unhandled
    if (status_ == Status::pending) {
      reactions_.push_back(Reaction{std::move(target), slot});
    } else {
      schedule(std::move(target), this, slot);
    }
  }

  // Rejects unless already resolved (first call wins, like a deferred's reject).
  void reject(std::exception_ptr reason) {
    if (lock()) reject_now(std::move(reason));
  }

  void abandon() noexcept override;

 protected:
  PromiseStateBase() noexcept = default;
  ~PromiseStateBase() override;

  bool lock() noexcept { return !std::exchange(locked_, true); }
  // Settles if still pending; the value (if any) has been stored by the caller.
  void settle(Status status);
  void reject_now(std::exception_ptr reason) {
    if (status_ != Status::pending) return;
    reason_ = std::move(reason);
    settle(Status::rejected);
  }
  // Waits for leader (slot kAdoptSlot or kAwaitSlot). False, and no wait, if leader is this
  // promise or already waits for it: that would never settle (A+ 2.3.1 and note 3.6).
  bool follow(PromiseStateBase& leader, std::uint32_t slot);
  void stop_following() noexcept { following_ = nullptr; }

 private:
  struct Reaction {
    Ref<PromiseNode> target;
    std::uint32_t slot;
  };
  static void unfollow(const Reaction& reaction) noexcept;

  Status status_ = Status::pending;
  bool locked_ = false;
  bool handled_ = false;
  std::exception_ptr reason_;
  std::vector<Reaction> reactions_;        // in subscription order (A+ 2.2.6)
  PromiseStateBase* following_ = nullptr;  // the promise this one adopts or awaits, if any
};

struct Nothing {};  // the stored "value" of a Promise<void>

template <typename T>
struct IsPromise : std::false_type {};
template <typename T>
struct IsPromise<Promise<T>> : std::true_type {};
template <typename T>
inline constexpr bool is_promise_v = IsPromise<std::remove_cvref_t<T>>::value;

// Promise<X> → X, anything else → itself (void stays void).
template <typename R>
struct PromiseValue {
  using type = R;
};
template <typename X>
struct PromiseValue<Promise<X>> {
  using type = X;
};
template <typename R>
using promise_value_t = typename PromiseValue<std::remove_cvref_t<R>>::type;

// Lets the detail templates reach a Promise's state and build one.
struct Access {
  template <typename P>
  static auto* state(const P& promise) noexcept {
    return promise.state_.get();
  }
  template <typename T, typename S>
  static Promise<T> wrap(Ref<S> state) {
    return Promise<T>(Ref<typename Promise<T>::State>(std::move(state)));
  }
};

template <typename T>
class PromiseState : public PromiseStateBase {
 public:
  using Stored = std::conditional_t<std::is_void_v<T>, Nothing, T>;

  PromiseState() noexcept = default;

  // Resolution from the outside (a deferred, a handler's result): the first call wins.
  template <typename... Args>
  void resolve_value(Args&&... args) {
    if (lock()) fulfil(std::forward<Args>(args)...);
  }
  void resolve_promise(const Promise<T>& promise) {
    if (!lock()) return;
    PromiseState* leader = Access::state(promise);
    if (leader == nullptr) {
      reject_now(std::make_exception_ptr(std::logic_error("resolved with an empty Promise")));
    } else if (!follow(*leader, kAdoptSlot)) {
      reject_now(self_resolution_error());
    }
  }
  // Resolves with what `call()` returns: a value, a promise to adopt, or nothing (void).
  template <typename Call>
  void resolve_with_result_of(Call&& call) {
    using R = decltype(call());
    if constexpr (std::is_void_v<R>) {
      call();
      resolve_value();
    } else if constexpr (is_promise_v<R>) {
      resolve_promise(call());
    } else {
      resolve_value(call());
    }
  }

  // The adoption reaction: source (a PromiseState<T>) settled, copy its outcome.
  void react(PromiseStateBase* source, std::uint32_t /*slot*/) override {
    stop_following();
    copy_outcome(static_cast<PromiseState&>(*source));
  }

  void copy_outcome(PromiseState& from) {
    if (from.status() == Status::rejected) {
      reject_now(from.reason());
      return;
    }
    try {
      fulfil(from.take());
    } catch (...) {
      reject_now(std::current_exception());  // a move-only value someone else took
    }
  }

  // The value for one taker by value: a copy, or, for a move-only value, the value itself, which
  // goes to the first taker (later ones get a std::logic_error).
  Stored take() {
    if constexpr (std::is_copy_constructible_v<Stored>) {
      return *value_;
    } else {
      if (std::exchange(consumed_, true)) throw_consumed();
      return std::move(*value_);
    }
  }
  // The value, to be read: every reader sees the same object (A+ 2.1.2.2).
  const Stored& peek() const {
    if (consumed_) throw_consumed();
    return *value_;
  }

  template <typename... Args>
  void fulfil(Args&&... args) {
    if (status() != Status::pending) return;
    value_.emplace(std::forward<Args>(args)...);
    settle(Status::fulfilled);
  }

 private:
  [[noreturn]] static void throw_consumed() {
    throw std::logic_error("a move-only promise value was already taken by another handler");
  }

  std::optional<Stored> value_;  // set once, when fulfilled (A+ 2.1.2.2: never changes after)
  bool consumed_ = false;        // a move-only value was moved out
};

}  // namespace promise_detail
}  // namespace common
