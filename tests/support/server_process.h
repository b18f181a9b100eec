// server_process.h: starts one of our programs from build/bin for an integration test.
//
// The program is started with the arguments given (tests pass port 0), its first stdout line is
// read to learn the URL and port, and its stderr goes to a file the test can read. The destructor
// kills and reaps the process if the test did not stop it, so no test leaves a server behind.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "tests/support/scratch.h"

namespace test_support {

// Absolute path of a program built into build/bin.
std::string bin_path(std::string_view program);
// Absolute path of a file in the source tree.
std::string source_path(std::string_view relative);

// How a program that must refuse to start ended: its exit code as ServerProcess::stop() reports
// it (-2 if it was still running after the wait, and then killed) and what it wrote on stderr.
struct StartFailure {
  int exit_code = -1;
  std::string err;
};

class ServerProcess {
 public:
  // Starts bin/<program> (or an absolute path) and waits for its first stdout line.
  // Throws std::runtime_error (with the program's stderr) if it exits or says nothing in time.
  static ServerProcess start(std::string_view program, std::vector<std::string> args,
                             std::chrono::milliseconds wait = std::chrono::seconds(15));
  // The same, as the leader of a new process group, like a job a shell starts: then
  // signal_group() does what Ctrl-C does in a terminal.
  static ServerProcess start_as_group(std::string_view program, std::vector<std::string> args);
  // Starts a program that should exit by itself, soon, and waits for that.
  static StartFailure start_expecting_failure(
      std::string_view program, std::vector<std::string> args,
      std::chrono::milliseconds wait = std::chrono::seconds(10));
  ~ServerProcess();
  ServerProcess(ServerProcess&& other) noexcept;
  ServerProcess& operator=(ServerProcess&&) = delete;
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  [[nodiscard]] pid_t pid() const { return pid_; }
  [[nodiscard]] int port() const { return port_; }
  [[nodiscard]] const std::string& first_line() const { return first_line_; }
  [[nodiscard]] std::string stderr_text() const;  // everything written to stderr so far

  // Sends `signal` and waits for the exit; returns the exit code, or 128 + signal number if it
  // was killed by a signal, or -1 if it had to be killed with SIGKILL after `wait`.
  int stop(int signal = 15, std::chrono::milliseconds wait = std::chrono::seconds(15));
  // Sends `signal` to the process group the server leads (start_as_group only).
  void signal_group(int signal) const;
  // Waits for an exit without sending anything; same return values as stop(), -2 on timeout.
  int wait_for_exit(std::chrono::milliseconds wait);
  [[nodiscard]] bool running();

 private:
  ServerProcess() = default;
  // Starts the program without waiting for anything.
  static ServerProcess launch(std::string_view program, std::vector<std::string> args,
                              bool own_group);
  static ServerProcess spawn(std::string_view program, std::vector<std::string> args,
                             std::chrono::milliseconds wait, bool own_group);
  pid_t pid_ = -1;
  int port_ = 0;
  int stdout_fd_ = -1;
  std::string first_line_;
  std::string stderr_path_;
  int exit_code_ = 0;
};

// Number of open file descriptors of a process (entries of /proc/PID/fd).
int count_open_fds(pid_t pid);
// Child processes of `pid` still alive (from /proc/*/stat), for "no worker left behind" checks.
std::vector<pid_t> child_pids(pid_t pid);
// True while a process with this pid exists and is not a zombie.
bool process_alive(pid_t pid);

}  // namespace test_support
