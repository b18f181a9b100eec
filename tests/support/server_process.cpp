#include "tests/support/server_process.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <utility>

#include "tests/support/parse_number.h"

extern char** environ;  // NOLINT(readability-redundant-declaration)

namespace test_support {
namespace {

using Clock = std::chrono::steady_clock;

int decode_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

// Reads from fd until a newline arrives or the deadline passes.
std::string read_line(int fd, Clock::time_point deadline) {
  std::string line;
  char c = 0;
  while (Clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (poll(&p, 1, static_cast<int>(std::max<long long>(1, left.count()))) <= 0) continue;
    ssize_t n = read(fd, &c, 1);
    if (n <= 0) break;
    if (c == '\n') return line;
    line += c;
  }
  return line.empty() ? std::string() : line + "<no newline>";
}

// "listening on http://127.0.0.1:8000/" → 8000 (also after "[::1]"); 0 if there is no port.
int port_from_line(const std::string& line) {
  auto scheme = line.find("://");
  if (scheme == std::string::npos) return 0;
  std::string_view authority = std::string_view(line).substr(scheme + 3);
  authority = authority.substr(0, authority.find('/'));
  auto colon = authority.rfind(':');
  if (colon == std::string_view::npos) return 0;
  return parse_number<int>(authority.substr(colon + 1)).value_or(0);
}

}  // namespace

std::string bin_path(std::string_view program) {
  if (program.starts_with("/")) return std::string(program);
  return std::string(TUTORIAL_BIN_DIR) + "/" + std::string(program);
}

std::string source_path(std::string_view relative) {
  return std::string(TUTORIAL_SOURCE_DIR) + "/" + std::string(relative);
}

ServerProcess ServerProcess::start(std::string_view program, std::vector<std::string> args,
                                   std::chrono::milliseconds wait) {
  return spawn(program, std::move(args), wait, false);
}

ServerProcess ServerProcess::start_as_group(std::string_view program,
                                            std::vector<std::string> args) {
  return spawn(program, std::move(args), std::chrono::seconds(15), true);
}

void ServerProcess::signal_group(int signal) const {
  if (pid_ > 0) kill(-pid_, signal);
}

ServerProcess ServerProcess::launch(std::string_view program, std::vector<std::string> args,
                                    bool own_group) {
  ServerProcess server;
  server.stderr_path_ = make_temp_file("tutorial-stderr");
  std::string path = bin_path(program);
  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_addopen(&actions, 2, server.stderr_path_.c_str(), O_WRONLY | O_APPEND,
                                   0);
  std::vector<char*> argv{path.data()};
  for (auto& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  if (own_group) {
    posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup(&attributes, 0);  // a new group, led by the server
  }
  int rc = posix_spawn(&server.pid_, path.c_str(), &actions, &attributes, argv.data(), environ);
  posix_spawnattr_destroy(&attributes);
  posix_spawn_file_actions_destroy(&actions);
  close(out[1]);
  if (rc != 0) {
    close(out[0]);
    throw std::runtime_error("cannot start " + path + ": " + std::strerror(rc));
  }
  server.stdout_fd_ = out[0];
  return server;
}

ServerProcess ServerProcess::spawn(std::string_view program, std::vector<std::string> args,
                                   std::chrono::milliseconds wait, bool own_group) {
  ServerProcess server = launch(program, std::move(args), own_group);
  std::string path = bin_path(program);
  server.first_line_ = read_line(server.stdout_fd_, Clock::now() + wait);
  server.port_ = port_from_line(server.first_line_);
  if (server.port_ <= 0) {
    server.stop(SIGKILL, std::chrono::seconds(5));
    throw std::runtime_error(path + " did not print its URL (got '" + server.first_line_ +
                             "'); stderr:\n" + server.stderr_text());
  }
  return server;
}

ServerProcess::ServerProcess(ServerProcess&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      port_(other.port_),
      stdout_fd_(std::exchange(other.stdout_fd_, -1)),
      first_line_(std::move(other.first_line_)),
      stderr_path_(std::move(other.stderr_path_)),
      exit_code_(other.exit_code_) {}

ServerProcess::~ServerProcess() {
  if (pid_ > 0) stop(SIGKILL, std::chrono::seconds(5));
  if (stdout_fd_ >= 0) close(stdout_fd_);
  if (!stderr_path_.empty()) unlink(stderr_path_.c_str());
}

std::string ServerProcess::stderr_text() const {
  std::ifstream in(stderr_path_);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

int ServerProcess::wait_for_exit(std::chrono::milliseconds wait) {
  if (pid_ <= 0) return exit_code_;
  auto deadline = Clock::now() + wait;
  while (true) {
    int status = 0;
    pid_t done = waitpid(pid_, &status, WNOHANG);
    if (done == pid_) {
      pid_ = -1;
      exit_code_ = decode_status(status);
      return exit_code_;
    }
    if (Clock::now() >= deadline) return -2;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

int ServerProcess::stop(int signal, std::chrono::milliseconds wait) {
  if (pid_ <= 0) return exit_code_;
  kill(pid_, signal);
  int code = wait_for_exit(wait);
  if (code != -2) return code;
  kill(pid_, SIGKILL);
  wait_for_exit(std::chrono::seconds(10));
  exit_code_ = -1;
  return -1;
}

bool ServerProcess::running() {
  return pid_ > 0 && wait_for_exit(std::chrono::milliseconds(0)) == -2;
}

int count_open_fds(pid_t pid) {
  std::string dir = "/proc/" + std::to_string(pid) + "/fd";
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return -1;
  int count = 0;
  while (dirent* entry = readdir(d)) {
    if (entry->d_name[0] != '.') ++count;
  }
  closedir(d);
  return count;
}

namespace {
// Fields of /proc/PID/stat after the command name: state and parent pid.
bool read_stat(pid_t pid, char& state, pid_t& parent) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto close_paren = text.rfind(')');
  if (close_paren == std::string::npos) return false;
  std::istringstream rest(text.substr(close_paren + 1));
  rest >> state >> parent;
  return static_cast<bool>(rest);
}
}  // namespace

std::vector<pid_t> child_pids(pid_t pid) {
  std::vector<pid_t> children;
  DIR* d = opendir("/proc");
  if (d == nullptr) return children;
  while (dirent* entry = readdir(d)) {
    // Only the numeric entries are processes ("self", "sys" and the like are not).
    pid_t candidate = parse_number<pid_t>(entry->d_name).value_or(0);
    char state = 0;
    pid_t parent = 0;
    if (candidate > 0 && read_stat(candidate, state, parent) && parent == pid && state != 'Z')
      children.push_back(candidate);
  }
  closedir(d);
  return children;
}

bool process_alive(pid_t pid) {
  char state = 0;
  pid_t parent = 0;
  return read_stat(pid, state, parent) && state != 'Z';
}

StartFailure ServerProcess::start_expecting_failure(std::string_view program,
                                                    std::vector<std::string> args,
                                                    std::chrono::milliseconds wait) {
  ServerProcess server = launch(program, std::move(args), false);
  StartFailure failure;
  failure.exit_code = server.wait_for_exit(wait);
  if (failure.exit_code == -2) server.stop(SIGKILL, std::chrono::seconds(5));
  failure.err = server.stderr_text();
  return failure;
}

}  // namespace test_support
