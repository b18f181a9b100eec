// flow/promise_node.h: who owns what in a graph of promises, without a garbage collector.
//
//  - every promise, and every function posted to the scheduler, is a PromiseNode with a
//    non-atomic intrusive reference count: promises belong to one thread;
//  - a promise owns its *reactions*: the nodes to notify when it settles (the promise returned by
//    then(), a promise adopting it, an all() collecting it). Nothing points back upstream, so a
//    chain is a tree owned from its root: drop the root's producer and the whole chain goes away;
//  - a queued job owns its target and the settled source it reads from, for as long as it waits;
//  - handlers are destroyed as soon as they have run, which releases whatever they captured.
// The remaining way to make a cycle is user code (a handler capturing the Deferred it waits on);
// PromiseScheduler::shutdown() breaks those by abandoning every node still alive on the thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>

namespace common {

// How many promise nodes (states and posted functions) are alive on this thread: a test's
// baseline, so that "back to the baseline" means nothing leaked.
std::size_t live_promise_states() noexcept;

namespace promise_detail {

class PromiseStateBase;

// Anything the scheduler can run or a promise can notify: a promise state or a posted function.
class PromiseNode {
 public:
  PromiseNode(const PromiseNode&) = delete;
  PromiseNode& operator=(const PromiseNode&) = delete;

  void retain() noexcept { ++refs_; }
  void release() noexcept {
    if (--refs_ == 0) destroy();
  }

  // Called from the loop: `source` (settled) is what this node waits for, `slot` says which wait.
  virtual void react(PromiseStateBase* source, std::uint32_t slot) = 0;
  // Drops every reference this node holds to other nodes (handlers, reactions): shutdown uses it
  // to break reference cycles made by user code.
  virtual void abandon() noexcept {}

 protected:
  PromiseNode() noexcept;
  virtual ~PromiseNode() = default;

 private:
  friend void abandon_all() noexcept;
  // Deletes iteratively: dropping the root of a million-long chain must not recurse a million deep.
  void destroy() noexcept;

  std::uint32_t refs_ = 1;
  PromiseNode* prev_ = nullptr;  // every live node is on its thread's list (for shutdown),
  PromiseNode* next_ = nullptr;  // and a node being destroyed on the list of nodes to delete
};

// Abandons every node alive on this thread (see PromiseNode::abandon).
void abandon_all() noexcept;

// An owning pointer to a PromiseNode (like a non-atomic intrusive_ptr).
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

}  // namespace promise_detail
}  // namespace common
