// broker-worker: the C++ counterpart of the tutorial's db.js — a child process that answers the
// broker's queries (users, posts, comments, likes) one at a time, each taking --latency ms.
//
//   parent ──{"id":7,"bucket":"users","query":1}\n──> fd $NODE_CHANNEL_FD ──> broker-worker
//   parent <──{"id":7,"result":{"id":1,…}}\n──────────────────────────────────┘
//
// It speaks Node's IPC wire format (JSON lines), so Node's child_process.fork/spawn with an
// 'ipc' stdio can start it too, and it exits 0 when the channel closes: a worker never outlives
// its parent. See worker_options.h for the flags and data_set.h for the data.
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>

#include "broker-worker/data_set.h"
#include "broker-worker/query_worker.h"
#include "broker-worker/worker_options.h"
#include "common/json.h"
#include "common/uv/loop.h"

namespace {

// The fd of the channel, from the environment Node (or our broker) sets for an 'ipc' stdio.
std::optional<int> channel_fd_from_environment() {
  const char* mode = std::getenv("NODE_CHANNEL_SERIALIZATION_MODE");
  if (mode != nullptr && std::string(mode) != "json") {
    std::cerr << "broker-worker: NODE_CHANNEL_SERIALIZATION_MODE is '" << mode
              << "', but only 'json' is spoken here (use serialization: 'json' in Node)\n";
    return std::nullopt;
  }
  const char* text = std::getenv("NODE_CHANNEL_FD");
  if (text == nullptr) {
    std::cerr
        << "broker-worker: NODE_CHANNEL_FD is not set: start me from the broker, or from Node "
           "with an 'ipc' entry in stdio (see --help)\n";
    return std::nullopt;
  }
  char* end = nullptr;
  long fd = std::strtol(text, &end, 10);
  if (*text == '\0' || *end != '\0' || fd < 0 || fd > 65535) {
    std::cerr << "broker-worker: NODE_CHANNEL_FD='" << text << "' is not a file descriptor\n";
    return std::nullopt;
  }
  return static_cast<int>(fd);
}

std::optional<worker::DataSet> load_data(const worker::WorkerOptions& options) {
  if (options.data_file.empty()) return worker::DataSet::built_in();
  std::string error;
  auto data = worker::DataSet::load(options.data_file, error);
  if (!data) std::cerr << "broker-worker: --data " << error << "\n";
  return data;
}

}  // namespace

int main(int argc, char* argv[]) {
  std::signal(SIGPIPE, SIG_IGN);  // a dead parent must show up as EPIPE, not kill us
  auto parsed = worker::parse_worker_options(argc, argv);
  if (auto* code = std::get_if<int>(&parsed)) return *code;
  const auto& options = std::get<worker::WorkerOptions>(parsed);
  if (options.dump_data) {
    std::cout << common::to_json(worker::DataSet::built_in_json()) << "\n";
    return 0;
  }
  auto data = load_data(options);
  if (!data) return 2;
  auto fd = channel_fd_from_environment();
  if (!fd) return 2;
  try {
    common::Loop loop;
    worker::QueryWorker query_worker(loop, options, *data, *fd);
    common::run_loop(loop);
    return query_worker.exit_code();
  } catch (const std::exception& error) {
    std::cerr << "broker-worker: " << error.what() << "\n";
    return 1;
  }
}
