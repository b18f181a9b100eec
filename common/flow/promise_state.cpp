#include "common/flow/promise_state.h"

namespace common::promise_detail {

std::exception_ptr self_resolution_error() {
  return std::make_exception_ptr(
      TypeError("a promise cannot be resolved with itself (or with one that waits for it)"));
}

PromiseStateBase::~PromiseStateBase() {
  if (status_ == Status::rejected && !handled_) report_unhandled(reason_);
  abandon();
}

void PromiseStateBase::abandon() noexcept {
  for (const Reaction& reaction : reactions_) unfollow(reaction);
  reactions_.clear();
  following_ = nullptr;
}

// following_ does not own the leader: it is cleared whenever the leader lets the follower go
// (settling, abandoning, being destroyed), so it never points at a freed promise.
void PromiseStateBase::unfollow(const Reaction& reaction) noexcept {
  if (reaction.slot == kAdoptSlot || reaction.slot == kAwaitSlot)
    static_cast<PromiseStateBase*>(reaction.target.get())->following_ = nullptr;
}

void PromiseStateBase::settle(Status status) {
  if (!reactions_.empty()) require_scheduler();  // throws before anything changes
  status_ = status;
  for (Reaction& reaction : std::exchange(reactions_, {})) {
    unfollow(reaction);
    schedule(std::move(reaction.target), this, reaction.slot);
  }
}

bool PromiseStateBase::follow(PromiseStateBase& leader, std::uint32_t slot) {
  for (const PromiseStateBase* step = &leader; step != nullptr; step = step->following_) {
    if (step == this) return false;
  }
  following_ = &leader;
  leader.subscribe(Ref<PromiseNode>::share(this), slot);
  return true;
}

}  // namespace common::promise_detail
