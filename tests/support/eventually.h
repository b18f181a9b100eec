// eventually.h: wait, bounded, for something another process does in its own time.
//
//   CHECK(test_support::eventually([&] { return count_open_fds(pid) == before; }));
//
// An integration test cannot know when a server has closed a descriptor or dropped a client; it
// polls instead, every 50 ms, and gives up at the deadline, so a test never waits unbounded.
#pragma once

#include <chrono>
#include <thread>

namespace test_support {

// True as soon as ready() holds; false if it still does not when `wait` has passed.
template <typename Ready>
bool eventually(Ready ready, std::chrono::milliseconds wait = std::chrono::seconds(5)) {
  auto deadline = std::chrono::steady_clock::now() + wait;
  while (std::chrono::steady_clock::now() < deadline) {
    if (ready()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return ready();
}

}  // namespace test_support
