// bench_ipc_floor: what one IPC round trip costs on this machine before any of our code runs.
//
//   bench_ipc_floor [--seconds S]
//
// Two bare processes bounce a 36-byte line over a socketpair, one at a time, the way a
// sequential broker and its worker do, but with no libuv, no JSON and no queue. Each shape is a
// lower bound for what an event loop can reach with the same system calls:
//   blocking   read() sleeps until the line arrives (no event loop at all)
//   epoll      epoll_wait() then a non-blocking read(): what libuv does every turn
//   two CPUs   one process pinned to CPU 0, the other to CPU 1: each wake-up is a message from
//              one CPU to the other (here, a VM, through the hypervisor)
//   same CPU   both on CPU 0: waking the peer is just a switch of process
//   polling    non-blocking read() in a loop, never sleeping (costs a whole CPU per process)
// Prints one JSON line per shape: {"shape":…,"per_second":…,"us_per_round_trip":…}.
#include <sched.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string_view>

namespace {

using Clock = std::chrono::steady_clock;

enum class Wait { blocking, epoll, polling };

struct Shape {
  const char* name;
  Wait wait;
  int parent_cpu;
  int child_cpu;
};

constexpr std::string_view kLine = R"({"id":1,"bucket":"users","query":1})"
                                   "\n";

// A machine with one CPU cannot pin to CPU 1: the shape is then measured unpinned, and says so.
void pin_to(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (sched_setaffinity(0, sizeof set, &set) != 0)
    std::perror("bench_ipc_floor: sched_setaffinity");
}

// One end of the socketpair, waiting for lines the way `wait` says.
class End {
 public:
  // MSG_DONTWAIT makes each read non-blocking without touching the socket's shared flags.
  End(int fd, Wait wait) : fd_(fd), wait_(wait), flags_(wait == Wait::blocking ? 0 : MSG_DONTWAIT) {
    if (wait_ != Wait::epoll) return;
    epoll_ = epoll_create1(EPOLL_CLOEXEC);
    epoll_event event{};
    event.events = EPOLLIN;
    if (epoll_ < 0 || epoll_ctl(epoll_, EPOLL_CTL_ADD, fd_, &event) != 0) std::perror("epoll");
  }
  End(const End&) = delete;
  End& operator=(const End&) = delete;
  ~End() {
    if (epoll_ >= 0) close(epoll_);
  }

  bool send() {
    return write(fd_, kLine.data(), kLine.size()) == static_cast<ssize_t>(kLine.size());
  }

  // Waits for one whole line; false when the peer is gone.
  bool receive() {
    size_t got = 0;
    while (got < kLine.size()) {
      if (wait_ == Wait::epoll) {
        epoll_event event{};
        if (epoll_wait(epoll_, &event, 1, -1) < 0) return false;
      }
      ssize_t n = recv(fd_, buffer_.data() + got, kLine.size() - got, flags_);
      if (n == 0) return false;
      if (n < 0 && errno != EAGAIN && errno != EINTR) return false;
      if (n > 0) got += static_cast<size_t>(n);
    }
    return true;
  }

 private:
  int fd_;
  Wait wait_;
  int flags_;
  int epoll_ = -1;
  std::array<char, 64> buffer_{};
};

// The child: answers every line with the same line until the parent closes its end.
[[noreturn]] void echo(int fd, const Shape& shape) {
  pin_to(shape.child_cpu);
  End end(fd, shape.wait);
  while (end.receive() && end.send()) {
  }
  _exit(0);
}

// Round trips one at a time for `seconds`; prints the JSON line.
bool measure(const Shape& shape, double seconds) {
  int pair[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
    std::perror("socketpair");
    return false;
  }
  pid_t child = fork();
  if (child < 0) {
    std::perror("fork");
    close(pair[0]);
    close(pair[1]);
    return false;
  }
  if (child == 0) {
    close(pair[0]);
    echo(pair[1], shape);
  }
  close(pair[1]);
  long long round_trips = 0;
  double elapsed = 0;
  cpu_set_t before;
  bool restore = sched_getaffinity(0, sizeof before, &before) == 0;
  pin_to(shape.parent_cpu);
  {
    End end(pair[0], shape.wait);
    auto start = Clock::now();
    auto stop = start + std::chrono::duration<double>(seconds);
    // The clock is read every 256 round trips, so reading it costs next to nothing.
    while (true) {
      if (!end.send() || !end.receive()) break;
      if ((++round_trips & 255) == 0 && Clock::now() >= stop) break;
    }
    elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  }
  if (restore && sched_setaffinity(0, sizeof before, &before) != 0)
    std::perror("bench_ipc_floor: sched_setaffinity");
  close(pair[0]);  // the child sees EOF and exits
  int status = 0;
  if (waitpid(child, &status, 0) < 0) std::perror("bench_ipc_floor: waitpid");
  std::printf(
      "{\"shape\":\"%s\",\"round_trips\":%lld,\"per_second\":%.0f,\"us_per_round_trip\":%.2f}\n",
      shape.name, round_trips, static_cast<double>(round_trips) / elapsed,
      elapsed * 1e6 / static_cast<double>(round_trips));
  return true;
}

}  // namespace

int main(int argc, char* argv[]) {
  double seconds = 2;
  if (argc == 3 && std::string_view(argv[1]) == "--seconds") {
    std::string_view text(argv[2]);
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), seconds);
    if (error != std::errc() || end != text.data() + text.size() || seconds <= 0 || seconds > 60) {
      std::fprintf(stderr, "bench_ipc_floor: --seconds wants a number of seconds up to 60\n");
      return 2;
    }
  } else if (argc != 1) {
    std::fprintf(stderr, "usage: bench_ipc_floor [--seconds S]\n");
    return 2;
  }
  const std::array<Shape, 5> shapes{{
      {"blocking read, two CPUs", Wait::blocking, 0, 1},
      {"epoll + read, two CPUs", Wait::epoll, 0, 1},
      {"blocking read, same CPU", Wait::blocking, 0, 0},
      {"epoll + read, same CPU", Wait::epoll, 0, 0},
      {"polling read, two CPUs", Wait::polling, 0, 1},
  }};
  for (const Shape& shape : shapes) {
    if (!measure(shape, seconds)) return 1;
  }
  return 0;
}
