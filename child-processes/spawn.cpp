// child-spawn: Node's child_process.spawn — start a program and read its output while it runs.
//
//   build/bin/child-spawn [PROGRAM [ARGS…]]
//   (default: sh -c 'echo first; sleep 0.5; echo second')
//
// Node:  const child = spawn('sh', ['-c', '…']);
//        child.stdout.on('data', (chunk) => …);  child.on('exit', (code, signal) => …);
//
// The child's stdout is a pipe; each chunk is printed when it arrives, with the time, so you see
// "first" half a second before "second": the output streams, it is not collected. stderr is
// inherited (it goes where ours goes), stdin is /dev/null.
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "child.h"
#include "common/uv/loop.h"

int main(int argc, char** argv) try {
  std::vector<std::string> command(argv + 1, argv + argc);
  if (command.empty()) command = {"sh", "-c", "echo first; sleep 0.5; echo second"};
  common::Loop loop;
  child::Output out(loop);
  child::start(loop, command,
               {child::ignore(), child::pipe_to(out.stream(), UV_WRITABLE_PIPE), child::inherit(2)},
               {}, [](child::Ended ended) {
                 std::printf("%6.0f ms  exit: status %lld, signal %d\n", child::elapsed_ms(),
                             static_cast<long long>(ended.exit_status), ended.signal);
               });
  out.read(
      [](std::string_view chunk) {
        std::printf("%6.0f ms  stdout: %.*s", child::elapsed_ms(), static_cast<int>(chunk.size()),
                    chunk.data());
        if (!chunk.ends_with('\n')) std::printf("\n");
      },
      [] { std::printf("%6.0f ms  stdout: end\n", child::elapsed_ms()); });
  common::run_loop(loop);
  return 0;
} catch (const std::exception& error) {
  std::cerr << "child-spawn: " << error.what() << "\n";
  return 1;
}
