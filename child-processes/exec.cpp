// child-exec: Node's child_process.exec — run a shell command to completion, then get its exit
// status and everything it wrote, in one callback.
//
//   build/bin/child-exec ['SHELL COMMAND']
//   (default: 'echo hello; echo oops >&2; exit 3')
//
// Node:  exec('…', (error, stdout, stderr) => …);   // error.code is the exit status
//
// Three things must happen before the answer is complete, in any order: stdout reaches its end,
// stderr reaches its end, and the process exits. A child may exit before we have read all it
// wrote, or close its output long before it exits. So exec counts them, like stage 03's counter,
// and calls back once, after the third.
#include <cstdio>
#include <functional>
#include <iostream>
#include <memory>
#include <string>
#include <utility>

#include "child.h"
#include "common/uv/immediate.h"
#include "common/uv/loop.h"

namespace {

struct Result {
  child::Ended ended;
  std::string out;
  std::string err;
};
using ExecCallback = std::function<void(const Result&)>;

// Runs `/bin/sh -c command`; calls done(result) once, when all three ends have been seen.
void exec(uv_loop_t& loop, const std::string& command, ExecCallback done) {
  struct Run {
    Run(uv_loop_t& on, ExecCallback callback)
        : loop(on), out(on), err(on), done(std::move(callback)) {}
    void one_more_ended() {
      if (--still_open > 0) return;
      done(result);
      // Freed on the next turn, not now: we are inside a callback of one of its pipes.
      common::set_immediate(loop, [last = std::move(self)] {});
    }
    uv_loop_t& loop;
    child::Output out;
    child::Output err;
    Result result;
    int still_open = 3;  // stdout, stderr, the process
    ExecCallback done;
    std::shared_ptr<Run> self;  // the run keeps itself alive until its three ends are in
  };
  auto run = std::make_shared<Run>(loop, std::move(done));
  Run* r = run.get();
  child::start(loop, {"/bin/sh", "-c", command},
               {child::ignore(), child::pipe_to(r->out.stream(), UV_WRITABLE_PIPE),
                child::pipe_to(r->err.stream(), UV_WRITABLE_PIPE)},
               {}, [r](child::Ended ended) {
                 r->result.ended = ended;
                 r->one_more_ended();
               });
  run->self = run;  // started: from here on, the three ends decide when it goes
  r->out.read([r](std::string_view chunk) { r->result.out += chunk; },
              [r] { r->one_more_ended(); });
  r->err.read([r](std::string_view chunk) { r->result.err += chunk; },
              [r] { r->one_more_ended(); });
}

void print_output(const char* name, const std::string& text) {
  std::printf("%s (%zu bytes): %s", name, text.size(), text.c_str());
  if (!text.ends_with('\n')) std::printf("\n");
}

}  // namespace

int main(int argc, char** argv) try {
  std::string command = argc > 1 ? argv[1] : "echo hello; echo oops >&2; exit 3";
  common::Loop loop;
  exec(loop, command, [](const Result& result) {
    std::printf("exit status %lld, signal %d\n", static_cast<long long>(result.ended.exit_status),
                result.ended.signal);
    print_output("stdout", result.out);
    print_output("stderr", result.err);
  });
  common::run_loop(loop);
  return 0;
} catch (const std::exception& error) {
  std::cerr << "child-exec: " << error.what() << "\n";
  return 1;
}
