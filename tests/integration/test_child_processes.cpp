// The child-process examples (child-processes/): spawn streams, exec collects, fork talks.
#include <sys/wait.h>

#include <cstdio>
#include <string>

#include "tests/support/catch.h"
#include "tests/support/parse_number.h"
#include "tests/support/server_process.h"

namespace {

struct Run {
  int exit_code = -1;
  std::string out;  // stdout only
};

// Runs bin/<program> with `args` (already shell-quoted) through the shell; stderr is dropped.
Run run(const std::string& program, const std::string& args = "") {
  std::string command = "'" + test_support::bin_path(program) + "' " + args + " 2>/dev/null";
  Run result;
  FILE* pipe = popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  char buffer[4096];
  size_t n = 0;
  while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) result.out.append(buffer, n);
  int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

// The milliseconds printed at the start of the first line that contains `text`, or -1.
double time_of(const std::string& out, const std::string& text) {
  auto at = out.find(text);
  if (at == std::string::npos) return -1;
  auto line = out.rfind('\n', at);
  line = line == std::string::npos ? 0 : line + 1;
  std::string_view rest = std::string_view(out).substr(line);
  rest.remove_prefix(rest.find_first_not_of(' '));
  return test_support::parse_number<double>(rest.substr(0, rest.find(' '))).value_or(-1);
}

}  // namespace

TEST_CASE("child-spawn prints the child's output as it comes, then how it exited", "[child]") {
  Run spawn = run("child-spawn", "sh -c 'echo first; sleep 0.4; echo second; exit 5'");
  INFO(spawn.out);
  CHECK(spawn.exit_code == 0);
  double first = time_of(spawn.out, "stdout: first");
  double second = time_of(spawn.out, "stdout: second");
  REQUIRE(first >= 0);
  REQUIRE(second >= 0);
  CHECK(second - first >= 350);  // streamed: "first" was shown before the child went on
  CHECK(spawn.out.find("exit: status 5, signal 0") != std::string::npos);
  CHECK(run("child-spawn", "no-such-program-anywhere").exit_code == 1);
}

TEST_CASE("child-exec collects both outputs and the exit status, in one answer", "[child]") {
  Run exec = run("child-exec", "'printf out; printf err >&2; exit 3'");
  CHECK(exec.exit_code == 0);
  CHECK(exec.out == "exit status 3, signal 0\nstdout (3 bytes): out\nstderr (3 bytes): err\n");
  // More output than a pipe holds at once (64 KiB): nothing is lost waiting for the exit.
  Run big = run("child-exec", "'yes x | head -c 300000'");
  CHECK(big.out.find("stdout (300000 bytes)") != std::string::npos);
  Run killed = run("child-exec", "'kill -TERM $$'");
  CHECK(killed.out.find("signal 15") != std::string::npos);
}

TEST_CASE("child-fork asks broker-worker over the channel, and the worker exits after", "[child]") {
  Run fork = run("child-fork", "7");
  CHECK(fork.exit_code == 0);
  CHECK(fork.out.find(R"(send: {"id":1,"bucket":"users","query":7})") != std::string::npos);
  CHECK(fork.out.find(R"(reply: {"id":1,"result":{"id":7,)") != std::string::npos);
  CHECK(fork.out.find("worker exited: status 0, signal 0") != std::string::npos);
  CHECK(run("child-fork", "'1}'").exit_code == 2);
}
