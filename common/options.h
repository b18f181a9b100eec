// options.h: the command lines of the programs (docs/http.md §1; each one's --help lists them),
// parsed in one place. Parsing never exits the process: it returns either the options or the
// exit code to return (0 after --help/--version, 2 after a usage error, already on stderr).
#pragma once

#include <string>
#include <string_view>
#include <variant>

namespace common {

struct StageOptions {
  int port = 8000;  // 0 asks the kernel for a free port
  std::string host = "127.0.0.1";
  unsigned workers = 0;           // 0 = one per CPU (filled in by the parser)
  unsigned latency_ms = 1000;     // the tutorial's one-second query
  std::string block = "spin";     // "spin" busy-waits like the tutorial, "sleep" waits like IO
  std::string worker_command;     // empty = broker-worker next to this program
  std::string data_file;          // empty = the data set built into the worker
  unsigned queue_limit = 1024;    // queries waiting for a free worker before 503
  unsigned query_timeout_ms = 0;  // 0 = latency × 5 + 5000 ms (BrokerOptions::from)
  bool fork_per_query = false;    // the tutorial's toy broker: one child per query
  std::string files_dir = ".";    // with Files::served: the /file/:name directory
  bool quiet = false;             // no access log
};

struct FileServerOptions {
  int port = 8080;
  std::string host = "127.0.0.1";
  std::string root = ".";
  bool quiet = false;
};

// Whether a stage also serves files (05's /file/:name): only then is --files an option.
enum class Files { none, served };

// The usage text is built from `program` and `summary` (one line on what the stage shows).
std::variant<StageOptions, int> parse_stage_options(int argc, const char* const* argv,
                                                    std::string_view summary,
                                                    Files files = Files::none);
std::variant<FileServerOptions, int> parse_file_server_options(int argc, const char* const* argv,
                                                               std::string_view summary);

}  // namespace common
