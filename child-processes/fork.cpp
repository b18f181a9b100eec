// child-fork: Node's child_process.fork — a child with a message channel; the broker's workers
// are started this way.
//
//   build/bin/child-fork [USER_ID]      (default: 1; asks build/bin/broker-worker for that user)
//
// Node:  const worker = fork('db.js');
//        worker.send({id: 1, bucket: 'users', query: 1});
//        worker.on('message', (reply) => { …; worker.disconnect(); });
//
// fork is spawn with one more file descriptor: a pipe both sides read and write, whose number
// the child finds in NODE_CHANNEL_FD, carrying one JSON message per line (common/ipc/channel.h).
// Closing our end is `disconnect()`: the worker reads EOF and exits 0, so no worker outlives us.
#include <uv.h>

#include <cstdio>
#include <iostream>
#include <string>

#include "child.h"
#include "common/ipc/broker.h"
#include "common/ipc/channel.h"
#include "common/uv/error.h"
#include "common/uv/loop.h"

int main(int argc, char** argv) try {
  std::string user = argc > 1 ? argv[1] : "1";
  if (user.empty() || user.size() > 9 ||
      user.find_first_not_of("0123456789") != std::string::npos) {
    std::cerr << "usage: child-fork [USER_ID]   (a whole number)\n";
    return 2;
  }
  common::Loop loop;
  common::IpcChannel channel(loop);
  child::start(loop, {common::default_worker_path(), "--latency", "0"},
               {child::inherit(0), child::inherit(1), child::inherit(2),
                child::pipe_to(channel.stream(), UV_READABLE_PIPE | UV_WRITABLE_PIPE)},
               {"NODE_CHANNEL_FD=3"}, [](child::Ended ended) {
                 std::printf("worker exited: status %lld, signal %d\n",
                             static_cast<long long>(ended.exit_status), ended.signal);
               });
  channel.start(
      [&channel](common::Json& reply) {
        std::printf("reply: %s\n", common::to_json(reply).c_str());
        channel.close();  // disconnect(): the worker sees EOF and exits
      },
      [](const std::optional<common::Error>& error) {
        if (error) std::printf("channel ended: %s\n", error->message.c_str());
      });
  std::string message = R"({"id":1,"bucket":"users","query":)" + user + "}";
  std::printf("send: %s\n", message.c_str());
  channel.send(message);
  common::run_loop(loop);
  return 0;
} catch (const std::exception& error) {
  std::cerr << "child-fork: " << error.what() << "\n";
  return 1;
}
