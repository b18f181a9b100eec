#include "common/flow/promise_node.h"

#include <vector>

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
  if (prev_ != nullptr) {
    prev_->next_ = next_;
  } else {
    r.head = next_;
  }
  if (next_ != nullptr) next_->prev_ = prev_;
  --r.live;
  // A destructor releases reactions and captures, which may free more nodes: collect them here
  // and delete them in a loop, so a long chain is freed iteratively instead of recursively.
  next_ = r.dead;
  r.dead = this;
  if (r.burying) return;
  r.burying = true;
  while (r.dead != nullptr) {
    PromiseNode* node = r.dead;
    r.dead = node->next_;
    delete node;
  }
  r.burying = false;
}

void abandon_all() noexcept {
  // Hold every node first, so none is deleted while we walk (abandoning releases references).
  std::vector<PromiseNode*> nodes;
  nodes.reserve(registry.live);
  for (PromiseNode* node = registry.head; node != nullptr; node = node->next_) {
    node->retain();
    nodes.push_back(node);
  }
  for (PromiseNode* node : nodes) node->abandon();
  for (PromiseNode* node : nodes) node->release();
}

}  // namespace promise_detail

std::size_t live_promise_states() noexcept {
  return promise_detail::registry.live;
}

}  // namespace common
