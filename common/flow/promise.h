// flow/promise.h: Q-style promises (Promises/A+ 1.1) whose handlers run from the libuv loop.
//
//   common::PromiseScheduler scheduler(loop);          // once, next to the loop (main, a test)
//   auto read = common::nfbind(read_file);             // (path, cb(error, text)) → Promise<string>
//   read("a.txt").then([](const std::string& text) { return text.size(); })
//                .fail([](const common::Error& e) -> std::size_t { return 0; })
//                .fin([] { std::puts("done"); });
//
// How code finds the loop: a PromiseScheduler installs itself for its thread, and every promise
// made on that thread schedules its handlers there, so stage code never passes the loop around.
// One scheduler per thread at a time; promises are single-threaded (non-atomic counts).
//
// Semantics are Q 1.5.1's and Promises/A+'s (see REFERENCE-SEMANTICS.md §2–3):
//  - handlers never run inside then() or resolve(): settling queues a job, and the scheduler runs
//    jobs FIFO from a uv_idle handle (jobs queued while draining run in the same drain, after the
//    ones already queued). The handle exists only while jobs wait, so it never keeps the loop
//    alive for nothing and loop.close() == 0 once the loop has run out;
//  - then() deduces its promise from the handler: U or Promise<U> → Promise<U>, void →
//    Promise<void>; a throw rejects it; a missing handler (nullptr) passes the outcome on;
//  - a rejection reason is a std::exception_ptr; reject with common::Error via ErrorException;
//  - a rejected promise destroyed without ever having had a handler is reported (stderr by
//    default); chaining off it counts as handling, so only the end of a chain reports.
// Values reach handlers by const reference; a copyable one is moved in when no one else can see
// it. A move-only value (common::Json) goes to the first handler taking it by value; handlers
// reached after that are rejected with std::logic_error (take const T& to share it).
// Not ported from Q: done(), progress/notify, all() of plain values, Q 1.5.1's all() mutating
// its input array; spread() of a vector requires its size to match the handler's arity.
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

#include "common/flow/promise_detail.h"
#include "common/flow/promise_error.h"
#include "common/uv/error.h"

namespace common {

// Runs promise jobs from `loop` for the thread it is created on.
class PromiseScheduler {
 public:
  // Installs this scheduler for the calling thread; throws std::logic_error if one already is.
  explicit PromiseScheduler(uv_loop_t& loop);
  // shutdown(), then uninstalls.
  ~PromiseScheduler();
  PromiseScheduler(const PromiseScheduler&) = delete;
  PromiseScheduler& operator=(const PromiseScheduler&) = delete;

  // The scheduler of this thread; std::logic_error if there is none.
  static PromiseScheduler& current();

  [[nodiscard]] uv_loop_t& loop() const noexcept { return *loop_; }
  // Jobs waiting to run.
  [[nodiscard]] std::size_t queued() const noexcept { return queue_.size(); }

  // Runs task() from the loop, after the jobs already queued (Q's nextTick). An exception it
  // throws stops the loop and is rethrown by common::run_loop.
  template <typename F>
  void post(F task) {
    enqueue(detail::make_ref<detail::Task<F>>(std::move(task)), nullptr, 0);
  }

  // Drops the queued jobs, frees every promise still pending on this thread (breaking reference
  // cycles handlers may have made) and closes the idle handle. Idempotent. Call it before
  // loop.close() if the loop was stopped while jobs were waiting; it needs the loop still open.
  // Called from a handler, it takes effect when that handler returns.
  void shutdown() noexcept;

  // Internal: queue target->react(source, slot).
  void enqueue(detail::Ref<detail::Node> target, detail::StateBase* source, std::uint32_t slot) {
    if (idle_ == nullptr) start_idle();
    queue_.push(detail::Job{target.get(), source, slot});
    target.leak();
    if (source != nullptr) source->retain();
  }

 private:
  static void on_idle(uv_idle_t* idle);
  void drain();
  void start_idle();
  void stop_idle() noexcept;
  void shut_down_now() noexcept;

  uv_loop_t* loop_;
  detail::JobQueue queue_;
  uv_idle_t* idle_ = nullptr;  // open only while jobs wait
  bool running_ = true;
  bool in_job_ = false;  // a job is running: shutdown must not free its handler under it
  bool shutdown_requested_ = false;
};

// Called with the reason of each rejected promise destroyed without a handler.
using RejectionReporter = std::function<void(const std::exception_ptr& reason)>;
// Replaces this thread's reporter (nullptr = the default, a line on stderr); returns the old one.
RejectionReporter set_unhandled_rejection_reporter(RejectionReporter reporter);
// How many unhandled rejections this thread has reported so far.
std::size_t unhandled_rejection_count() noexcept;
// How many promise states (and queued tasks) are alive on this thread: 0 means nothing leaked.
std::size_t live_promise_states() noexcept;

// A handle on an eventual value (copyable; copies share the promise).
template <typename T>
class Promise {
  static_assert(!std::is_reference_v<T>, "Promise<T&> is not supported: use a value or pointer");
  static_assert(!detail::is_promise_v<T>, "Promise<Promise<T>> flattens: use Promise<T>");

 public:
  using value_type = T;

  Promise() noexcept = default;  // an empty handle: valid() is false, then() throws

  [[nodiscard]] bool valid() const noexcept { return static_cast<bool>(state_); }
  [[nodiscard]] bool is_pending() const { return status() == detail::Status::pending; }
  [[nodiscard]] bool is_fulfilled() const { return status() == detail::Status::fulfilled; }
  [[nodiscard]] bool is_rejected() const { return status() == detail::Status::rejected; }

  // A new promise for what the handler returns (see the top of this file). on_fulfilled takes
  // the value (const T&, T, or nothing); on_rejected takes the std::exception_ptr, a
  // const common::Error&, or nothing, and must return what on_fulfilled returns (recovery).
  template <typename OnFulfilled, typename OnRejected = std::nullptr_t>
  auto then(OnFulfilled on_fulfilled, OnRejected on_rejected = nullptr) const
      -> Promise<detail::then_value_t<OnFulfilled, T>> {
    using U = detail::then_value_t<OnFulfilled, T>;
    static_assert(
        std::is_null_pointer_v<OnFulfilled> || detail::is_fulfilled_handler_v<OnFulfilled, T>,
        "then(): on_fulfilled must be callable with the value (or with nothing)");
    static_assert(detail::fits_rejection_handler<OnRejected, U>(),
                  "then(): on_rejected must take std::exception_ptr, const common::Error& or "
                  "nothing, and return what on_fulfilled returns (the chain has one type)");
    auto next = detail::make_ref<detail::ThenState<T, U, OnFulfilled, OnRejected>>(
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
    auto next = detail::make_ref<detail::FinState<T, Callback>>(std::move(callback));
    checked_state().subscribe(next, 0);
    return Promise<T>(std::move(next));
  }
  template <typename Callback>
  Promise<T> finally(Callback callback) const {
    return fin(std::move(callback));
  }

  // then() with the value spread over the handler's arguments: a tuple (from all(a, b)) element
  // by element; a vector (from all(v)) whole if the handler takes it, else element by element
  // (rejects with std::length_error if the size differs from the handler's arity).
  template <typename OnFulfilled, typename OnRejected = std::nullptr_t>
  auto spread(OnFulfilled on_fulfilled, OnRejected on_rejected = nullptr) const {
    static_assert(
        detail::can_spread<OnFulfilled, const T&>() || detail::can_spread<OnFulfilled, T&&>(),
        "spread(): the handler must take the tuple's elements (from all(a, b)), or the "
        "vector or its elements (from all(v))");
    return then(detail::Spread<OnFulfilled>{std::move(on_fulfilled)}, std::move(on_rejected));
  }

 private:
  template <typename>
  friend class Promise;
  friend struct detail::Access;
  using State = detail::State<T>;

  explicit Promise(detail::Ref<State> state) noexcept : state_(std::move(state)) {}

  [[nodiscard]] detail::Status status() const { return checked_state().status(); }
  State& checked_state() const {
    if (!state_) throw std::logic_error("use of an empty common::Promise");
    return *state_;
  }

  detail::Ref<State> state_;
};

// Q.defer(): a promise and the right to settle it. Copies share it; the first resolve or reject
// wins and later ones are ignored (A+ 2.1, 2.3.3.3.3).
template <typename T>
class Deferred {
 public:
  Deferred() : state_(detail::make_ref<detail::State<T>>()) {}

  [[nodiscard]] Promise<T> promise() const { return detail::Access::wrap<T>(state_); }

  void resolve(typename detail::State<T>::Stored value) const requires(!std::is_void_v<T>) {
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
  detail::Ref<detail::State<T>> state_;
};

// Q(value): a promise already fulfilled with value (its handlers still run later, from the loop).
template <typename V>
requires(!detail::is_promise_v<V>) Promise<std::remove_cvref_t<V>> resolved(V&& value) {
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
Promise<detail::AllValue<T>> all(const std::vector<Promise<T>>& promises) {
  if (promises.empty()) {
    if constexpr (std::is_void_v<T>) {
      return resolved();
    } else {
      return resolved(std::vector<T>{});
    }
  }
  auto state = detail::make_ref<detail::AllState<T>>(promises.size());
  for (std::size_t i = 0; i < promises.size(); ++i) {
    auto* input = detail::Access::state(promises[i]);
    if (input == nullptr) throw std::logic_error("all(): an empty common::Promise");
    input->subscribe(state, static_cast<std::uint32_t>(i));
  }
  return detail::Access::wrap<detail::AllValue<T>>(std::move(state));
}

// all(a, b, ...) for promises of different types: Promise<std::tuple<A, B, ...>> (a
// Promise<void> contributes std::monostate). spread() unpacks the tuple into arguments.
template <typename... Ts>
requires(sizeof...(Ts) >=
         1) Promise<std::tuple<detail::TupleElement<Ts>...>> all(const Promise<Ts>&... promises) {
  if (((detail::Access::state(promises) == nullptr) || ...)) {
    throw std::logic_error("all(): an empty common::Promise");
  }
  auto state = detail::make_ref<detail::TupleAllState<Ts...>>();
  std::uint32_t slot = 0;
  (detail::Access::state(promises)->subscribe(state, slot++), ...);
  return detail::Access::wrap<std::tuple<detail::TupleElement<Ts>...>>(std::move(state));
}

// Promise.race: settles like the first of `promises` to settle (never, if there are none).
template <typename T>
Promise<T> race(const std::vector<Promise<T>>& promises) {
  // A plain state reacting to each input takes over the first outcome; later ones find it
  // settled and are ignored.
  auto state = detail::make_ref<detail::State<T>>();
  for (const auto& promise : promises) {
    auto* input = detail::Access::state(promise);
    if (input == nullptr) throw std::logic_error("race(): an empty common::Promise");
    input->subscribe(state, 0);
  }
  return detail::Access::wrap<T>(std::move(state));
}

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
auto nfbind(Function function, Bound... bound);

namespace detail {
template <typename... Values, typename Function, typename... Bound>
auto bind_node_function(TypeList<Values...> /*unused*/, Function function, Bound... bound) {
  using Value = node_value_t<Values...>;
  return [function = std::move(function), ... bound = std::move(bound)](auto&&... args) {
    auto state = make_ref<State<Value>>();
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
}  // namespace detail

template <typename... Values, typename Function, typename... Bound>
auto nfbind(Function function, Bound... bound) {
  if constexpr (sizeof...(Values) == 0) {
    using Deduced = detail::DeducedValues<std::remove_cvref_t<Function>>;
    static_assert(Deduced::deduced,
                  "nfbind(): cannot see the callback's value types; name them: nfbind<V>(f)");
    return detail::bind_node_function(typename Deduced::type{}, std::move(function),
                                      std::move(bound)...);
  } else {
    return detail::bind_node_function(typename detail::ExplicitValues<Values...>::type{},
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
