#include "common/options.h"

#include <uv.h>

#include <algorithm>
#include <charconv>
#include <functional>
#include <iostream>
#include <optional>
#include <span>
#include <stdexcept>

namespace common {
namespace {

// What follows "usage: PROGRAM".
constexpr std::string_view kStageUsage = R"( [PORT] [options]
  PORT                 port to listen on (default 8000; 0 picks a free one)
  --host ADDR          address to bind (default 127.0.0.1)
  --workers N          worker processes in the broker's pool (default: one per CPU)
  --latency MS         how long each query blocks in the worker (default 1000)
  --block spin|sleep   spin busy-waits like the tutorial's worker; sleep simulates IO
  --worker 'CMD ARGS'  run another worker program (split on spaces), e.g. 'node tests/node/db.js'
  --data FILE          data set for the worker (default: the built-in users 1-100)
  --queue N            queries that may wait for a free worker before 503 (default 1024)
  --timeout MS         per-query timeout before 504 (default latency*5+5000)
  --fork-per-query     start one worker per query, like the tutorial's toy broker
  --files DIR          directory served by /file/:name (stage 05; default .)
  --quiet              no access log on stderr
  --help, --version
)";

constexpr std::string_view kFileServerUsage = R"( [PORT] [ROOT] [options]
  PORT                 port to listen on (default 8080; 0 picks a free one)
  ROOT                 directory to serve (default: the current directory)
  --host ADDR          address to bind (default 127.0.0.1)
  --quiet              no access log on stderr
  --help, --version
)";

std::optional<unsigned> parse_number(std::string_view text, unsigned long max) {
  unsigned long value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value > max) return std::nullopt;
  return static_cast<unsigned>(value);
}

int parse_port(std::string_view text) {
  if (auto port = parse_number(text, 65535)) return static_cast<int>(*port);
  throw std::invalid_argument("PORT must be a number from 0 to 65535, not '" + std::string(text) +
                              "'");
}

// The arguments after the program name, taken one at a time.
struct Args {
  std::span<const char* const> rest;

  std::string_view next() {
    std::string_view arg = rest.front();
    rest = rest.subspan(1);
    return arg;
  }
  std::string_view value_of(std::string_view flag) {
    if (rest.empty()) throw std::invalid_argument(std::string(flag) + " needs a value");
    return next();
  }
  unsigned number_of(std::string_view flag, unsigned long max) {
    std::string_view text = value_of(flag);
    if (auto value = parse_number(text, max)) return *value;
    throw std::invalid_argument(std::string(flag) + " wants a whole number up to " +
                                std::to_string(max) + ", not '" + std::string(text) + "'");
  }
};

// Reads one argument (and the value it takes); false if it is not one this program knows.
using ReadArg = std::function<bool(Args& args, std::string_view arg)>;

// Walks the command line, answering --help and --version and reporting the first mistake (an
// std::invalid_argument) the same way for every program. Returns the exit code if the program
// should stop now.
std::optional<int> walk_command_line(int argc, const char* const* argv, std::string_view usage,
                                     std::string_view summary, const ReadArg& read_arg) {
  std::string_view program = argv[0] != nullptr ? argv[0] : "server";
  program = program.substr(program.rfind('/') + 1);  // npos + 1 == 0: the whole name
  Args args{{argv + 1, argv + argc}};
  try {
    while (!args.rest.empty()) {
      std::string_view arg = args.next();
      if (arg == "--help" || arg == "-h") {
        std::cout << program << ": " << summary << "\nusage: " << program << usage;
        return 0;
      }
      if (arg == "--version") {
        std::cout << program << " " << TUTORIAL_VERSION << " (libuv " << uv_version_string()
                  << ")\n";
        return 0;
      }
      if (!read_arg(args, arg))
        throw std::invalid_argument("unexpected argument '" + std::string(arg) + "'");
    }
  } catch (const std::invalid_argument& error) {
    std::cerr << program << ": " << error.what() << " (see --help)\n";
    return 2;
  }
  return std::nullopt;
}

bool read_stage_flag(Args& args, std::string_view arg, StageOptions& options) {
  if (arg == "--host") {
    options.host = args.value_of(arg);
  } else if (arg == "--workers") {
    options.workers = args.number_of(arg, 256);
    if (options.workers == 0) throw std::invalid_argument("--workers must be at least 1");
  } else if (arg == "--latency") {
    options.latency_ms = args.number_of(arg, 600000);
  } else if (arg == "--block") {
    options.block = args.value_of(arg);
    if (options.block != "spin" && options.block != "sleep")
      throw std::invalid_argument("--block is spin or sleep, not '" + options.block + "'");
  } else if (arg == "--worker") {
    options.worker_command = args.value_of(arg);
  } else if (arg == "--data") {
    options.data_file = args.value_of(arg);
  } else if (arg == "--queue") {
    options.queue_limit = args.number_of(arg, 1000000);
  } else if (arg == "--timeout") {
    options.query_timeout_ms = args.number_of(arg, 3600000);
  } else if (arg == "--files") {
    options.files_dir = args.value_of(arg);
  } else if (arg == "--fork-per-query") {
    options.fork_per_query = true;
  } else if (arg == "--quiet") {
    options.quiet = true;
  } else {
    return false;
  }
  return true;
}

}  // namespace

std::variant<StageOptions, int> parse_stage_options(int argc, const char* const* argv,
                                                    std::string_view summary) {
  StageOptions options;
  bool have_port = false;
  auto read_arg = [&](Args& args, std::string_view arg) {
    if (arg.starts_with("-") || have_port) return read_stage_flag(args, arg, options);
    have_port = true;
    options.port = parse_port(arg);
    return true;
  };
  if (auto exit_code = walk_command_line(argc, argv, kStageUsage, summary, read_arg))
    return *exit_code;
  if (options.workers == 0) options.workers = std::max(1U, uv_available_parallelism());
  if (options.query_timeout_ms == 0) options.query_timeout_ms = options.latency_ms * 5 + 5000;
  return options;
}

std::variant<FileServerOptions, int> parse_file_server_options(int argc, const char* const* argv,
                                                               std::string_view summary) {
  FileServerOptions options;
  int positionals = 0;
  auto read_arg = [&](Args& args, std::string_view arg) {
    if (arg == "--host") {
      options.host = args.value_of(arg);
    } else if (arg == "--quiet") {
      options.quiet = true;
    } else if (arg.starts_with("-") || positionals == 2) {
      return false;
    } else if (++positionals == 1) {
      options.port = parse_port(arg);
    } else {
      options.root = arg;
    }
    return true;
  };
  if (auto exit_code = walk_command_line(argc, argv, kFileServerUsage, summary, read_arg))
    return *exit_code;
  return options;
}

}  // namespace common
