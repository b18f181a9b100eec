// The tour (tools/tour.cpp) as CI runs it: latency 100 ms, every stage row present, 02 takes
// three slots and the others two, the SVG has one bar per query, and nothing is left running.
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "common/json.h"
#include "tests/support/catch.h"
#include "tests/support/parse_number.h"
#include "tests/support/server_process.h"

namespace {

struct TourResult {
  int exit_code = -1;
  std::string output;
  std::vector<pid_t> leftovers;  // processes the tour started still alive after it exited
};

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Runs the tour in a session of its own. This process becomes the "subreaper" of everything the
// tour starts: a process left behind when its parent exits (a worker whose stage is gone, say,
// in a session of its own) is handed to us instead of to init, so our children after the tour
// has been reaped are exactly what it left behind.
TourResult run_tour(std::vector<std::string> args, const std::string& out_path) {
  REQUIRE(prctl(PR_SET_CHILD_SUBREAPER, 1) == 0);
  pid_t pid = fork();
  if (pid == 0) {
    setsid();
    FILE* out = std::freopen(out_path.c_str(), "w", stdout);
    if (out == nullptr) _exit(127);
    args.insert(args.begin(), test_support::bin_path("tour"));
    std::vector<char*> argv;
    for (auto& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  TourResult result;
  int status = 0;
  for (int waited_ms = 0; waited_ms < 60000; waited_ms += 10) {  // bounded: 60 s
    if (waitpid(pid, &status, WNOHANG) == pid) {
      result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      break;
    }
    usleep(10000);
  }
  if (result.exit_code == -1) kill(-pid, SIGKILL);
  usleep(200000);  // give stopped workers a moment to be reaped
  result.leftovers = test_support::child_pids(getpid());
  for (pid_t leftover : result.leftovers) kill(leftover, SIGKILL);
  result.output = read_file(out_path);
  std::remove(out_path.c_str());
  return result;
}

// The number in the first "total N ms" line after the stage's name, or -1.
double total_for(const std::string& output, const std::string& stage) {
  auto at = output.find(stage);
  if (at == std::string::npos) return -1;
  auto total = output.find("total ", at);
  if (total == std::string::npos) return -1;
  std::string_view number = std::string_view(output).substr(total + 6);
  return test_support::parse_number<double>(number.substr(0, number.find(' '))).value_or(-1);
}

size_t count_of(const std::string& text, const std::string& needle) {
  size_t count = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1))
    ++count;
  return count;
}

}  // namespace

TEST_CASE("the tour shows three slots for 02 and two for 03, 04, 05 and 06", "[tour]") {
  std::string svg_path =
      test_support::temp_dir() + "/tour-test-" + std::to_string(getpid()) + ".svg";
  TourResult tour = run_tour({"--latency", "100", "--svg", svg_path}, svg_path + ".out");
  INFO(tour.output);
  CHECK(tour.exit_code == 0);
  CHECK(tour.leftovers.empty());
  for (const char* stage : {"02-sync-callbacks", "03-homebrew-counter", "04-auto-dag",
                            "05-promises", "06-coroutines"}) {
    CHECK(tour.output.find(stage) != std::string::npos);
  }
  CHECK(total_for(tour.output, "02-sync-callbacks") >= 300);
  for (const char* concurrent :
       {"03-homebrew-counter", "04-auto-dag", "05-promises", "06-coroutines"}) {
    double total = total_for(tour.output, concurrent);
    CHECK(total >= 200);
    CHECK(total < 260);
  }
  CHECK(tour.output.find("01-file-server") != std::string::npos);
  CHECK(tour.output.find("200 OK") != std::string::npos);

  std::string svg = read_file(svg_path);
  std::remove(svg_path.c_str());
  CHECK(svg.rfind("<svg", 0) == 0);
  CHECK(count_of(svg, "class=\"query\"") == 15);              // five stages × three queries
  CHECK(count_of(svg, "<text") == count_of(svg, "</text>"));  // every element is closed
  CHECK(svg.find("</svg>") != std::string::npos);
}

TEST_CASE("tour --help prints its usage on stdout and exits 0, a bad option exits 2", "[tour]") {
  std::string out_path =
      test_support::temp_dir() + "/tour-help-" + std::to_string(getpid()) + ".out";
  TourResult help = run_tour({"--help"}, out_path);
  CHECK(help.exit_code == 0);
  CHECK(help.output.rfind("usage: tour", 0) == 0);
  TourResult bad = run_tour({"--latency", "soon"}, out_path);
  CHECK(bad.exit_code == 2);
  CHECK(bad.output.empty());  // the complaint goes to stderr
}
