#include "common/flow/promise_state.h"

namespace common {
namespace promise_detail {
namespace {

// The nodes alive on this thread, and those waiting to be deleted. Plain pointers, so the list
// is still usable while the thread's other thread_local objects are being destroyed.
struct Registry {
  PromiseNode* head = nullptr;
  PromiseNode* dead = nullptr;
  std::size_t live = 0;
  bool burying = false;  // destroy() further up the stack is deleting the dead list
};
thread_local Registry registry;

}  // namespace

PromiseNode::PromiseNode() noexcept : next_(registry.head) {
  if (next_ != nullptr) next_->prev_ = this;
  registry.head = this;
  ++registry.live;
}

void PromiseNode::destroy() noexcept {
  Registry& r = registry;
  (prev_ != nullptr ? prev_->next_ : r.head) = next_;
  if (next_ != nullptr) next_->prev_ = prev_;
  --r.live;
  // A destructor releases reactions and captures, which may free more nodes: collect them here
  // and delete them in a loop, so a long chain is freed iteratively instead of recursively.
  next_ = r.dead;
  r.dead = this;
  if (r.burying) return;
  r.burying = true;
  while (r.dead != nullptr) delete std::exchange(r.dead, r.dead->next_);
  r.burying = false;
}

void abandon_all() noexcept {
  // Hold every node first, so none is deleted while we walk (abandoning releases references).
  std::vector<Ref<PromiseNode>> nodes;
  nodes.reserve(registry.live);
  for (PromiseNode* node = registry.head; node != nullptr; node = node->next_)
    nodes.push_back(Ref<PromiseNode>::share(node));
  for (const auto& node : nodes) node->abandon();
}

std::exception_ptr self_resolution_error() {
  return std::make_exception_ptr(
      TypeError("a promise cannot be resolved with itself (or with one that waits for it)"));
}

PromiseStateBase::~PromiseStateBase() {
  if (status_ == Status::rejected && !handled_) report_unhandled(reason_);
  abandon();
}

void PromiseStateBase::abandon() noexcept {
  release_followers();
  reactions_.clear();
  following_ = nullptr;
}

void PromiseStateBase::release_followers() noexcept {
  for (const auto& reaction : reactions_)
    if (reaction->following_ == this) reaction->following_ = nullptr;
}

void PromiseStateBase::settle(Status status) {
  if (!reactions_.empty()) require_scheduler();  // throws before anything changes
  status_ = status;
  release_followers();
  for (auto& reaction : std::exchange(reactions_, {})) schedule(std::move(reaction), this);
}

bool PromiseStateBase::follow(PromiseStateBase& leader) {
  for (const PromiseStateBase* step = &leader; step != nullptr; step = step->following_)
    if (step == this) return false;
  following_ = &leader;
  leader.subscribe(Ref<PromiseStateBase>::share(this));
  return true;
}

}  // namespace promise_detail

std::size_t live_promise_states() noexcept {
  return promise_detail::registry.live;
}

}  // namespace common
