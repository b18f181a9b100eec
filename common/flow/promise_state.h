// flow/promise_state.h: one promise's state (pending, then fulfilled or rejected, once: A+ 2.1)
// and who owns what, without a garbage collector. Every promise (and posted function) is a
// PromiseNode with a non-atomic count. A promise owns its reactions, the promises to notify when
// it settles (then()'s promise, a promise adopting it), as jobs for the PromiseScheduler; nothing
// points back upstream, so a chain is owned from its root. Handlers are destroyed once they have
// run. A cycle made by user code (a handler capturing the Deferred it waits on) is broken by
// PromiseScheduler::shutdown(), which abandons every node alive on the thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <exception>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "common/flow/promise_error.h"

namespace common {

template <typename T>
class Promise;

// How many promise nodes (states and posted functions) are alive on this thread (tests: leaks).
std::size_t live_promise_states() noexcept;

namespace promise_detail {

class PromiseStateBase;

// Anything the scheduler can run: a promise state or a posted function.
class PromiseNode {
 public:
  PromiseNode(const PromiseNode&) = delete;
  PromiseNode& operator=(const PromiseNode&) = delete;

  // Called from the loop with what this waited for: a settled source, or null (posted function).
  virtual void react(PromiseStateBase* source) = 0;
  // Drops every reference this node holds (handlers, reactions), to break cycles at shutdown.
  virtual void abandon() noexcept {}

 protected:
  PromiseNode() noexcept;
  virtual ~PromiseNode() = default;

 private:
  template <typename N>
  friend class Ref;                    // the only owner of refs_
  friend void abandon_all() noexcept;  // abandons every node alive on this thread
  // Deletes iteratively: dropping the root of a million-long chain must not recurse a million deep.
  void destroy() noexcept;

  std::uint32_t refs_ = 1;
  PromiseNode* prev_ = nullptr;  // every live node is on its thread's list (for shutdown),
  PromiseNode* next_ = nullptr;  // and a node being destroyed on the list of nodes to delete
};

// An owning pointer to a PromiseNode (a non-atomic intrusive_ptr).
template <typename N>
class Ref {
 public:
  Ref() noexcept = default;
  explicit Ref(N* raw) noexcept : raw_(raw) {}  // takes over a reference the caller holds
  static Ref share(N* raw) noexcept {           // adds a reference
    ++raw->refs_;
    return Ref(raw);
  }
  Ref(const Ref& other) noexcept : raw_(other.raw_) {
    if (raw_ != nullptr) ++raw_->refs_;
  }
  Ref(Ref&& other) noexcept : raw_(std::exchange(other.raw_, nullptr)) {}
  template <typename M>
  requires std::is_convertible_v<M*, N*> Ref(Ref<M> other)
  noexcept : raw_(other.leak()) {}  // NOLINT(google-explicit-constructor)
  Ref& operator=(Ref other) noexcept {
    std::swap(raw_, other.raw_);
    return *this;
  }
  ~Ref() {
    if (raw_ != nullptr && --raw_->refs_ == 0) raw_->destroy();
  }

  [[nodiscard]] N* get() const noexcept { return raw_; }
  N* operator->() const noexcept { return raw_; }
  explicit operator bool() const noexcept { return raw_ != nullptr; }
  N* leak() noexcept { return std::exchange(raw_, nullptr); }  // the caller owns the reference

 private:
  N* raw_ = nullptr;
};

template <typename N, typename... Args>
Ref<N> make_ref(Args&&... args) {
  return Ref<N>(new N(std::forward<Args>(args)...));
}

// Queues target->react(source) on this thread's PromiseScheduler; std::logic_error if none.
void schedule(Ref<PromiseNode> target, PromiseStateBase* source);

enum class Status : std::uint8_t { pending, fulfilled, rejected };

// What every promise state has, whatever its value type.
class PromiseStateBase : public PromiseNode {
 public:
  [[nodiscard]] Status status() const noexcept { return status_; }
  [[nodiscard]] const std::exception_ptr& reason() const noexcept { return reason_; }

  // target->react(this) will run from the loop once this has settled (soon, if it has).
  void subscribe(Ref<PromiseStateBase> target) {
    handled_ = true;  // someone reacts to a rejection, so it is not unhandled
    if (status_ == Status::pending) {
      reactions_.push_back(std::move(target));
    } else {
      schedule(std::move(target), this);
    }
  }

  // Rejects unless already resolved (first call wins, like a deferred's reject).
  void reject(std::exception_ptr reason) {
    if (lock()) reject_now(std::move(reason));
  }

  void abandon() noexcept override;

 protected:
  ~PromiseStateBase() override;

  bool lock() noexcept { return !std::exchange(locked_, true); }
  // Settles if still pending; the value (if any) has been stored by the caller.
  void settle(Status status);
  void reject_now(std::exception_ptr reason) {
    if (status_ != Status::pending) return;
    reason_ = std::move(reason);
    settle(Status::rejected);
  }
  // Adopts leader's outcome. False, and no wait, if leader is this promise or already waits for
  // it: that would never settle (A+ 2.3.1 and note 3.6).
  bool follow(PromiseStateBase& leader);

 private:
  // following_ does not own the leader: the leader clears it whenever it lets the follower go
  // (settling, abandoning, being destroyed), so it never points at a freed promise.
  void release_followers() noexcept;

  Status status_ = Status::pending;
  bool locked_ = false;
  bool handled_ = false;
  std::exception_ptr reason_;
  std::vector<Ref<PromiseStateBase>> reactions_;  // in subscription order (A+ 2.2.6)
  PromiseStateBase* following_ = nullptr;         // the promise this one adopts, if any
  bool followed_ = false;                         // some promise has adopted this one
};

// What a Promise<T> holds once fulfilled: its value, or std::monostate for a Promise<void>.
template <typename T>
using stored_t = std::conditional_t<std::is_void_v<T>, std::monostate, T>;

// Promise<X> → X, anything else → itself (void stays void).
template <typename R>
struct PromiseValue {
  using type = R;
  static constexpr bool is_promise = false;
};
template <typename X>
struct PromiseValue<Promise<X>> {
  using type = X;
  static constexpr bool is_promise = true;
};
template <typename R>
using promise_value_t = typename PromiseValue<std::remove_cvref_t<R>>::type;
template <typename R>
inline constexpr bool is_promise_v = PromiseValue<std::remove_cvref_t<R>>::is_promise;

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
  using Stored = stored_t<T>;

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
    } else if (!follow(*leader)) {  // A+ 2.3.1
      reject_now(std::make_exception_ptr(
          TypeError("a promise cannot be resolved with itself (or with one that waits for it)")));
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

  // The adopted promise (a PromiseState<T>) settled: take over its outcome.
  void react(PromiseStateBase* source) override {
    auto& from = static_cast<PromiseState&>(*source);
    if (from.status() == Status::rejected) return reject_now(from.reason());
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
