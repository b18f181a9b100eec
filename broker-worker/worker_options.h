// worker_options.h: broker-worker's command line.
//
//   broker-worker [--latency MS] [--block spin|sleep] [--data FILE] [--quiet]
//                 [--fail BUCKET[:ID]]… [--crash BUCKET[:ID]]… [--hang BUCKET[:ID]]…
//                 [--slow BUCKET:MS]… [--answer BUCKET:TEXT]… [--dump-data] [--help] [--version]
//
// The broker appends --latency, --block and --data to every worker command. The failure hooks
// exist for tests: a query for BUCKET (and, with :ID, only for that user id) makes the worker
//   --fail   answer with an error whose code is EFAIL,
//   --crash  abort() (the broker must notice the death and answer EWORKER),
//   --hang   stop answering anything (the broker's timeout must kill it); it still exits on EOF.
// --answer BUCKET:TEXT answers every query of BUCKET with TEXT as the result, sent as it is (not
// even checked to be JSON): a worker gone wrong, for the broker's and the stages' checks.
// --slow BUCKET:MS makes every query of BUCKET take MS ms more than --latency, so that a test can
// decide which of two queries running at once finishes first (the exercise checks do).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace worker {

struct Hook {
  enum class Action { fail, crash, hang, answer };
  Action action = Action::fail;
  std::string bucket;
  std::optional<int64_t> user_id;  // nullopt: every query of the bucket
  std::string result;              // what --answer sends
};

// --slow: extra latency for every query of one bucket.
struct Slowdown {
  std::string bucket;
  unsigned extra_ms = 0;
};

struct WorkerOptions {
  unsigned latency_ms = 1000;
  bool spin = true;  // false: sleep
  std::string data_file;
  bool quiet = false;
  bool dump_data = false;
  std::vector<Hook> hooks;
  std::vector<Slowdown> slowdowns;
};

// The options, or the exit code (0 after --help/--version, 2 after a usage error on stderr).
std::variant<WorkerOptions, int> parse_worker_options(int argc, const char* const* argv);

}  // namespace worker
