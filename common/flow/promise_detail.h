// flow/promise_detail.h: the machinery behind common/flow/promise.h (read that file for the API).
//
// Ownership, which is what keeps promise graphs leak-free without a garbage collector:
//  - every promise is a State node with a non-atomic intrusive reference count (one thread);
//  - a promise owns its *reactions*: the nodes to notify when it settles (the promise returned by
//    then(), a promise adopting it, an all() collecting it). Nothing points back upstream, so a
//    chain is a tree owned from its root: drop the root's producer and the whole chain goes away;
//  - a queued job owns its target and the settled source it reads from, for as long as it waits;
//  - handlers are destroyed as soon as they have run, which releases whatever they captured.
// The remaining way to make a cycle is user code (a handler capturing the Deferred it waits on);
// PromiseScheduler::shutdown() breaks those by abandoning every promise still alive on the thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <optional>
#include <stdexcept>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "common/flow/promise_error.h"
#include "common/uv/error.h"

namespace common {

template <typename T>
class Promise;
class PromiseScheduler;

namespace detail {

class StateBase;

// Anything the scheduler can run or a promise can notify: a promise state or a posted task.
class Node {
 public:
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  void retain() noexcept { ++refs_; }
  void release() noexcept {
    if (--refs_ == 0) destroy();
  }
  // True when the caller holds the only reference, so nobody else can observe the value.
  [[nodiscard]] bool unique() const noexcept { return refs_ == 1; }

  // Called from the loop: `source` (settled) is what this node waits for, `slot` says which wait.
  virtual void react(StateBase* source, std::uint32_t slot) = 0;
  // Drops every reference this node holds to other nodes (handlers, reactions): shutdown uses it
  // to break reference cycles made by user code.
  virtual void abandon() noexcept {}

 protected:
  Node() noexcept;
  virtual ~Node() = default;

 private:
  friend void abandon_all() noexcept;
  // Deletes iteratively: dropping the root of a million-long chain must not recurse a million deep.
  void destroy() noexcept;

  std::uint32_t refs_ = 1;
  Node* prev_ = nullptr;  // every live node is on its thread's registry list (for shutdown)
  Node* next_ = nullptr;
};

// The per-thread list of live nodes, and the nodes waiting to be deleted.
struct Registry {
  Node* head = nullptr;
  Node* dead = nullptr;
  std::size_t live = 0;
  bool burying = false;
};
inline thread_local Registry registry;

inline Node::Node() noexcept {
  Registry& r = registry;
  next_ = r.head;
  if (next_ != nullptr) next_->prev_ = this;
  r.head = this;
  ++r.live;
}

// Abandons every node alive on this thread (see Node::abandon).
void abandon_all() noexcept;

// An owning pointer to a Node (like a non-atomic intrusive_ptr).
template <typename N>
class Ref {
 public:
  Ref() noexcept = default;
  static Ref adopt(N* raw) noexcept {  // takes over a reference the caller already holds
    Ref ref;
    ref.raw_ = raw;
    return ref;
  }
  static Ref share(N* raw) noexcept {  // adds a reference
    raw->retain();
    return adopt(raw);
  }
  Ref(const Ref& other) noexcept : raw_(other.raw_) {
    if (raw_ != nullptr) raw_->retain();
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
    if (raw_ != nullptr) raw_->release();
  }

  [[nodiscard]] N* get() const noexcept { return raw_; }
  N* operator->() const noexcept { return raw_; }
  N& operator*() const noexcept { return *raw_; }
  explicit operator bool() const noexcept { return raw_ != nullptr; }
  // Gives up ownership without releasing; the caller now holds the reference.
  N* leak() noexcept { return std::exchange(raw_, nullptr); }

 private:
  N* raw_ = nullptr;
};

template <typename N, typename... Args>
Ref<N> make_ref(Args&&... args) {
  return Ref<N>::adopt(new N(std::forward<Args>(args)...));
}

// One unit of work for the scheduler: "source has settled, tell target (about slot)".
// A job owns one reference to target and one to source (source is null for posted tasks).
struct Job {
  Node* target;
  StateBase* source;
  std::uint32_t slot;
};

// FIFO ring buffer of jobs; grows by doubling, never shrinks while the scheduler lives.
class JobQueue {
 public:
  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  void push(Job job) {
    if (size_ == jobs_.size()) grow();
    jobs_[(head_ + size_) & (jobs_.size() - 1)] = job;
    ++size_;
  }
  Job pop() noexcept {
    Job job = jobs_[head_];
    head_ = (head_ + 1) & (jobs_.size() - 1);
    --size_;
    return job;
  }

 private:
  void grow();
  std::vector<Job> jobs_;
  std::size_t head_ = 0;
  std::size_t size_ = 0;
};

// The thread's scheduler (set by PromiseScheduler's constructor), and the checked accessor.
inline thread_local PromiseScheduler* current_scheduler = nullptr;
PromiseScheduler& scheduler();
// Queues a job on the thread's scheduler; takes over `target`, adds a reference to `source`.
void schedule(Ref<Node> target, StateBase* source, std::uint32_t slot);

// Reports a rejection nobody handled (promise.cpp: the reporter hook and counter).
void report_unhandled(const std::exception_ptr& reason) noexcept;
// The TypeError a promise resolved with itself is rejected with (A+ 2.3.1).
std::exception_ptr self_resolution_error();

// Reaction slots with a special meaning; any other slot is an index (all()) or 0 (then()).
inline constexpr std::uint32_t kAdoptSlot = 0xffffffffu;  // target takes over source's outcome
inline constexpr std::uint32_t kAwaitSlot = 0xfffffffeu;  // fin(): target waited for source

enum class Status : std::uint8_t { pending, fulfilled, rejected };

// What every promise state has, whatever its value type.
class StateBase : public Node {
 public:
  [[nodiscard]] Status status() const noexcept { return status_; }
  [[nodiscard]] const std::exception_ptr& reason() const noexcept { return reason_; }

  // target->react(this, slot) will run from the loop once this has settled (soon, if it has).
  void subscribe(Ref<Node> target, std::uint32_t slot) {
    handled_ = true;  // someone reacts to a rejection, so it is not unhandled
    if (status_ != Status::pending) {
      schedule(std::move(target), this, slot);
    } else if (first_.target == nullptr) {
      first_ = Reaction{target.leak(), slot};
    } else {
      subscribe_more(std::move(target), slot);
    }
  }

  // Rejects unless already resolved (first call wins, like a deferred's reject).
  void reject(std::exception_ptr reason) {
    if (lock()) reject_now(std::move(reason));
  }

  void abandon() noexcept override;

 protected:
  StateBase() noexcept = default;
  ~StateBase() override;

  // Resolution is one-shot: the first resolve/reject locks the promise, even when it resolves
  // to a promise still pending (A+ 2.3.2.1; later calls are ignored, 2.3.3.3.3).
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
  bool follow(StateBase& leader, std::uint32_t slot);
  void stop_following() noexcept { following_ = nullptr; }

 private:
  struct Reaction {
    Node* target;
    std::uint32_t slot;
  };
  void subscribe_more(Ref<Node> target, std::uint32_t slot);
  void release_reactions() noexcept;
  static void unfollow(const Reaction& reaction) noexcept;

  Status status_ = Status::pending;
  bool locked_ = false;
  bool handled_ = false;
  std::exception_ptr reason_;
  Reaction first_{nullptr, 0};             // most promises have one reaction: no vector
  std::vector<Reaction>* more_ = nullptr;  // the second and later ones, in order
  StateBase* following_ = nullptr;         // the promise this one adopts or awaits, if any
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
class State : public StateBase {
 public:
  using Stored = std::conditional_t<std::is_void_v<T>, Nothing, T>;

  State() noexcept = default;

  // Resolution from the outside (a deferred, a handler's result): the first call wins.
  template <typename... Args>
  void resolve_value(Args&&... args) {
    if (lock()) fulfil(std::forward<Args>(args)...);
  }
  void resolve_promise(const Promise<T>& promise) {
    if (!lock()) return;
    State<T>* leader = Access::state(promise);
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

  // The adoption reaction: source (a State<T>) settled, copy its outcome.
  void react(StateBase* source, std::uint32_t /*slot*/) override {
    stop_following();
    copy_outcome(static_cast<State&>(*source));
  }

  void copy_outcome(State& from) {
    if (from.status() == Status::rejected) {
      reject_now(from.reason());
      return;
    }
    try {
      fulfil(take_value(from));
    } catch (...) {
      reject_now(std::current_exception());  // a move-only value someone else took
    }
  }

  // from's value for another promise. A copyable value is moved out when the caller holds the
  // only reference to `from` (nobody can see the difference) and copied otherwise; a move-only
  // value is consumed: it goes to the first taker, and later ones get a std::logic_error.
  static Stored take_value(State& from) {
    if constexpr (std::is_copy_constructible_v<Stored>) {
      if constexpr (std::is_move_constructible_v<Stored>) {
        if (from.unique()) return std::move(*from.value_);
      }
      return *from.value_;
    } else {
      return std::move(from.consume());
    }
  }
  // The value, to be moved from (move-only values: once).
  Stored& consume() {
    if constexpr (!std::is_copy_constructible_v<Stored>) {
      if (std::exchange(consumed_, true)) throw_consumed();
    }
    return *value_;
  }
  // The value, to be read.
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

  std::optional<Stored> value_;  // set once, when fulfilled (A+ 2.1.2.2: never changes after)

 private:
  [[noreturn]] static void throw_consumed() {
    throw std::logic_error("a move-only promise value was already taken by another handler");
  }
  bool consumed_ = false;  // a move-only value was moved out
};

// ---- Calling handlers ----------------------------------------------------------------------

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
// to `resolve`, which runs it and resolves with its result. A copyable value is passed by const
// reference, or moved in when nobody else can see it; a move-only one by const reference, or
// moved into the first handler taking it by value (State::consume).
template <typename F, typename T, typename Resolve>
void call_with_value(F& handler, State<T>& source, Resolve&& resolve) {
  if constexpr (std::is_void_v<T>) {
    resolve([&]() -> decltype(auto) { return std::invoke(handler); });
  } else if constexpr (std::is_copy_constructible_v<T>) {
    if constexpr (std::is_invocable_v<F&, T&&>) {
      if (source.unique()) {
        resolve(
            [&]() -> decltype(auto) { return std::invoke(handler, std::move(*source.value_)); });
        return;
      }
    }
    if constexpr (std::is_invocable_v<F&, const T&>) {
      resolve(
          [&]() -> decltype(auto) { return std::invoke(handler, std::as_const(*source.value_)); });
    } else if constexpr (std::is_invocable_v<F&, T&&>) {
      resolve([&]() -> decltype(auto) { return std::invoke(handler, T(*source.value_)); });
    } else {
      resolve([&]() -> decltype(auto) { return std::invoke(handler); });
    }
  } else if constexpr (std::is_invocable_v<F&, const T&>) {
    resolve([&]() -> decltype(auto) { return std::invoke(handler, source.peek()); });
  } else if constexpr (std::is_invocable_v<F&, T&&>) {
    resolve([&]() -> decltype(auto) { return std::invoke(handler, std::move(source.consume())); });
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

// ---- The states behind then, fin, all ------------------------------------------------------

// p.then(on_fulfilled, on_rejected): waits for p (a State<T>) in slot 0, runs one handler, and
// resolves with its result (adopting it in kAdoptSlot if the handler returned a promise).
template <typename T, typename U, typename OnFulfilled, typename OnRejected>
class ThenState final : public State<U> {
 public:
  ThenState(OnFulfilled on_fulfilled, OnRejected on_rejected)
      : handlers_(Handlers{std::move(on_fulfilled), std::move(on_rejected)}) {}

  void react(StateBase* source, std::uint32_t slot) override {
    if (slot == kAdoptSlot) {
      State<U>::react(source, slot);
      return;
    }
    try {
      run_handler(static_cast<State<T>&>(*source));
    } catch (...) {
      this->reject_now(std::current_exception());  // A+ 2.2.7.2
    }
    handlers_.reset();  // at most once (2.2.2.3); frees what the handlers captured
  }

  void abandon() noexcept override {
    State<U>::abandon();
    handlers_.reset();
  }

 private:
  struct Handlers {
    OnFulfilled on_fulfilled;
    OnRejected on_rejected;
  };

  void run_handler(State<T>& source) {
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

  void pass_value(State<T>& source) {
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
class FinState final : public State<T> {
 public:
  explicit FinState(Callback callback) : callback_(std::in_place, std::move(callback)) {}

  void react(StateBase* source, std::uint32_t slot) override {
    if (slot == kAwaitSlot) {
      this->stop_following();
      finish_after_wait(*source);
    } else {
      run_callback(static_cast<State<T>&>(*source));
    }
  }

  void abandon() noexcept override {
    State<T>::abandon();
    callback_.reset();
    original_ = {};
  }

 private:
  void run_callback(State<T>& original) {
    try {
      if constexpr (is_promise_v<std::invoke_result_t<Callback&>>) {
        auto waited = std::invoke(*callback_);
        callback_.reset();
        auto* leader = Access::state(waited);
        if (leader == nullptr) throw std::logic_error("fin() callback returned an empty Promise");
        original_ = Ref<State<T>>::share(&original);
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

  void finish_after_wait(StateBase& waited) {
    Ref<State<T>> original = std::move(original_);
    if (waited.status() == Status::rejected) {
      this->reject_now(waited.reason());  // a rejected promise from the callback replaces it too
    } else {
      this->copy_outcome(*original);
    }
  }

  std::optional<Callback> callback_;
  Ref<State<T>> original_;  // p, kept while the callback's promise is pending
};

template <typename T>
using AllValue = std::conditional_t<std::is_void_v<T>, void, std::vector<T>>;

// all(vector): input i reacts in slot i; the first rejection in time wins.
template <typename T>
class AllState final : public State<AllValue<T>> {
  using Slot = std::conditional_t<std::is_default_constructible_v<T>, T, std::optional<T>>;

 public:
  explicit AllState(std::size_t count) : remaining_(count) {
    if constexpr (!std::is_void_v<T>) values_.resize(count);
  }

  void react(StateBase* source, std::uint32_t slot) override {
    if (this->status() != Status::pending) return;  // a rejection already won
    auto& input = static_cast<State<T>&>(*source);
    if (input.status() == Status::rejected) {
      this->reject_now(input.reason());
      values_.clear();
      return;
    }
    if constexpr (!std::is_void_v<T>) {
      try {
        values_[slot] = State<T>::take_value(input);
      } catch (...) {
        this->reject_now(std::current_exception());
        return;
      }
    }
    if (--remaining_ == 0) finish();
  }

  void abandon() noexcept override {
    State<AllValue<T>>::abandon();
    values_.clear();
  }

 private:
  void finish() {
    if constexpr (std::is_void_v<T>) {
      this->fulfil();
    } else if constexpr (std::is_default_constructible_v<T>) {
      this->fulfil(std::move(values_));
    } else {
      std::vector<T> values;
      values.reserve(values_.size());
      for (auto& value : values_) values.push_back(std::move(*value));
      this->fulfil(std::move(values));
    }
  }

  std::size_t remaining_;
  std::vector<std::conditional_t<std::is_void_v<T>, Nothing, Slot>> values_;
};

// A Promise<void> contributes std::monostate to the tuple of all(a, b, ...).
template <typename T>
using TupleElement = std::conditional_t<std::is_void_v<T>, std::monostate, T>;

// all(Promise<A>, Promise<B>, ...): input i reacts in slot i.
template <typename... Ts>
class TupleAllState final : public State<std::tuple<TupleElement<Ts>...>> {
 public:
  TupleAllState() = default;

  void react(StateBase* source, std::uint32_t slot) override {
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
    State<std::tuple<TupleElement<Ts>...>>::abandon();
    values_ = {};
  }

 private:
  template <std::size_t... I>
  void store(StateBase* source, std::uint32_t slot, std::index_sequence<I...> /*unused*/) {
    ((slot == I ? store_one<I>(source) : void()), ...);
  }
  template <std::size_t I>
  void store_one(StateBase* source) {
    using T = std::tuple_element_t<I, std::tuple<Ts...>>;
    if constexpr (std::is_void_v<T>) {
      std::get<I>(values_).emplace();
    } else {
      std::get<I>(values_).emplace(State<T>::take_value(static_cast<State<T>&>(*source)));
    }
  }
  template <std::size_t... I>
  void finish(std::index_sequence<I...> /*unused*/) {
    this->fulfil(std::move(*std::get<I>(values_))...);
  }

  std::size_t remaining_ = sizeof...(Ts);
  std::tuple<std::optional<TupleElement<Ts>>...> values_;
};

// A function posted to run from the loop (PromiseScheduler::post).
template <typename F>
class Task final : public Node {
 public:
  explicit Task(F function) : function_(std::in_place, std::move(function)) {}
  void react(StateBase* /*source*/, std::uint32_t /*slot*/) override {
    struct Reset {  // runs at most once, thrown or not; its captures go right after
      std::optional<F>& function;
      ~Reset() { function.reset(); }
    } reset{function_};
    std::invoke(*function_);
  }
  void abandon() noexcept override { function_.reset(); }

 private:
  std::optional<F> function_;
};

// ---- spread ------------------------------------------------------------------------------

template <typename T>
concept TupleLike = requires {
  std::tuple_size<std::remove_cvref_t<T>>::value;
};

template <typename T>
struct IsVector : std::false_type {};
template <typename X, typename A>
struct IsVector<std::vector<X, A>> : std::true_type {};

template <typename F, typename E, std::size_t... I>
constexpr bool invocable_with_n(std::index_sequence<I...> /*unused*/) {
  return std::is_invocable_v<F&, decltype((void(I), std::declval<E>()))...>;
}
// The number of E arguments f takes (up to 8), or -1.
template <typename F, typename E, std::size_t N = 0>
constexpr int spread_arity() {
  if constexpr (invocable_with_n<F, E>(std::make_index_sequence<N>{})) {
    return static_cast<int>(N);
  } else if constexpr (N < 8) {
    return spread_arity<F, E, N + 1>();
  } else {
    return -1;
  }
}

// An element of a vector or tuple V&& as an argument: moved from an rvalue, read from an lvalue.
template <typename V, typename X>
using ElementArg = std::conditional_t<std::is_rvalue_reference_v<V&&>, X&&, const X&>;

template <typename F, typename V, std::size_t... I>
constexpr bool applicable(std::index_sequence<I...> /*unused*/) {
  return std::is_invocable_v<F&, ElementArg<V, std::tuple_element_t<I, std::remove_cvref_t<V>>>...>;
}

// Whether Spread{f} can take V&&: the tuple's elements, or the vector whole or element-wise.
template <typename F, typename V>
consteval bool can_spread() {
  using Values = std::remove_cvref_t<V>;
  if constexpr (IsVector<Values>::value) {
    return std::is_invocable_v<F&, V&&> ||
           spread_arity<F, ElementArg<V, typename Values::value_type>>() >= 0;
  } else if constexpr (TupleLike<Values>) {
    return applicable<F, V>(std::make_index_sequence<std::tuple_size_v<Values>>{});
  } else {
    return false;
  }
}

// p.spread(f) is p.then(Spread{f}): a tuple (from all(a, b)) becomes f's arguments; a vector
// (from all(vector)) is passed whole if f takes it, else element by element, and then its size
// must match f's arity (a C++ function has no `undefined` for missing arguments).
template <typename F>
struct Spread {
  F function;

  template <typename V>
  requires(can_spread<F, V>()) decltype(auto) operator()(V&& values) {
    using Values = std::remove_cvref_t<V>;
    if constexpr (IsVector<Values>::value) {
      if constexpr (std::is_invocable_v<F&, V&&>) {
        return std::invoke(function, std::forward<V>(values));
      } else {
        constexpr int arity = spread_arity<F, ElementArg<V, typename Values::value_type>>();
        if (values.size() != static_cast<std::size_t>(arity)) {
          throw std::length_error("spread(): " + std::to_string(values.size()) +
                                  " values for a handler of " + std::to_string(arity));
        }
        return call_elements(std::forward<V>(values), std::make_index_sequence<arity>{});
      }
    } else {
      return std::apply(function, std::forward<V>(values));
    }
  }

 private:
  template <typename V, std::size_t... I>
  decltype(auto) call_elements(V&& values, std::index_sequence<I...> /*unused*/) {
    if constexpr (std::is_rvalue_reference_v<V&&>) {
      return std::invoke(function, std::move(values[I])...);
    } else {
      return std::invoke(function, values[I]...);
    }
  }
};

// ---- nfbind ------------------------------------------------------------------------------

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
  explicit NodeCallback(Ref<State<Value>> state) : state_(std::move(state)) {}

  void operator()(std::optional<Error> error, Vs... values) const {
    if (error) {
      state_->reject(std::make_exception_ptr(ErrorException(std::move(*error))));
    } else {
      succeed(std::move(values)...);
    }
  }
  void operator()(std::exception_ptr error, Vs... values) const {
    if (error) {
      state_->reject(std::move(error));
    } else {
      succeed(std::move(values)...);
    }
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
  Ref<State<Value>> state_;
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

}  // namespace detail
}  // namespace common
