#include "common/options.h"

#include <uv.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <iostream>
#include <span>
#include <stdexcept>

#include "common/json.h"

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
  --timeout MS         time a worker may take over a query before 504 (default latency*5+5000)
  --fork-per-query     start one worker per query, like the tutorial's toy broker
  --quiet              no access log on stderr, and no per-query lines from the workers
  --help, --version
)";
// The same for a stage that also serves files (Files::served).
constexpr std::string_view kFilesUsage =
    R"(  --files DIR          directory served by /file/:name (default .)
)";

constexpr std::string_view kFileServerUsage = R"( [PORT] [ROOT] [options]
  PORT                 port to listen on (default 8080; 0 picks a free one)
  ROOT                 directory to serve (default: the current directory)
  --host ADDR          address to bind (default 127.0.0.1)
  --quiet              no access log on stderr
  --help, --version
)";

// A whole number from 0 to `max`, or a usage error naming `what`.
unsigned parse_number(std::string_view what, std::string_view text, unsigned long max) {
  unsigned long value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec == std::errc() && end == text.data() + text.size() && value <= max)
    return static_cast<unsigned>(value);
  throw std::invalid_argument(std::string(what) + " wants a whole number up to " +
                              std::to_string(max) + ", not '" + std::string(text) + "'");
}

// The paths a program is given must be usable now: a typo found later would be a 404 for every
// request, or workers that die at every start. Throws std::runtime_error naming the problem.
void require_directory(std::string_view what, const std::string& path) {
  std::error_code error;
  if (std::filesystem::is_directory(path, error)) return;
  throw std::runtime_error(std::string(what) + " '" + path +
                           "': " + (error ? error.message() : "not a directory"));
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
};

// Answers --help and --version and reads what every program has (PORT first, --host, --quiet);
// read_arg(args, arg, options) reads the rest, or returns false for an argument it does not
// know; finish(options) then fills in defaults and throws std::runtime_error for a path that is
// not usable. The first mistake is reported the same way for every program. Returns the options,
// or the exit code to return now.
template <typename Options, typename ReadArg, typename Finish>
std::variant<Options, int> parse_command_line(int argc, const char* const* argv,
                                              std::string_view usage, std::string_view summary,
                                              const ReadArg& read_arg, const Finish& finish) {
  std::string_view program = argv[0] != nullptr ? argv[0] : "server";
  program = program.substr(program.rfind('/') + 1);  // npos + 1 == 0: the whole name
  Options options;
  bool have_port = false;
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
      if (arg == "--host") {
        options.host = args.value_of(arg);
      } else if (arg == "--quiet") {
        options.quiet = true;
      } else if (!arg.starts_with("-") && !have_port) {
        have_port = true;
        options.port = static_cast<int>(parse_number("PORT", arg, 65535));
      } else if (!read_arg(args, arg, options)) {
        throw std::invalid_argument("unexpected argument '" + std::string(arg) + "'");
      }
    }
    finish(options);
  } catch (const std::invalid_argument& error) {
    std::cerr << program << ": " << error.what() << " (see --help)\n";
    return 2;
  } catch (const std::runtime_error& error) {
    std::cerr << program << ": " << error.what() << "\n";
    return 2;
  }
  return options;
}

}  // namespace

// NOLINTBEGIN(clang-analyzer-cplusplus.NewDelete): false positive, llvm-project#119415
std::variant<StageOptions, int> parse_stage_options(int argc, const char* const* argv,
                                                    std::string_view summary, Files files) {
  auto read_arg = [files](Args& args, std::string_view arg, StageOptions& options) {
    if (arg == "--workers") {
      options.workers = parse_number(arg, args.value_of(arg), 256);
      if (options.workers == 0) throw std::invalid_argument("--workers must be at least 1");
    } else if (arg == "--latency") {
      options.latency_ms = parse_number(arg, args.value_of(arg), 600000);
    } else if (arg == "--block") {
      options.block = args.value_of(arg);
      if (options.block != "spin" && options.block != "sleep")
        throw std::invalid_argument("--block is spin or sleep, not '" + options.block + "'");
    } else if (arg == "--worker") {
      options.worker_command = args.value_of(arg);
    } else if (arg == "--data") {
      options.data_file = args.value_of(arg);
    } else if (arg == "--queue") {
      options.queue_limit = parse_number(arg, args.value_of(arg), 1000000);
    } else if (arg == "--timeout") {
      options.query_timeout_ms = parse_number(arg, args.value_of(arg), 3600000);
    } else if (arg == "--files" && files == Files::served) {
      options.files_dir = args.value_of(arg);
    } else if (arg == "--fork-per-query") {
      options.fork_per_query = true;
    } else {
      return false;
    }
    return true;
  };
  auto finish = [files](StageOptions& options) {
    if (options.workers == 0) options.workers = std::max(1U, uv_available_parallelism());
    // The worker checks the data set's shape; that it is a readable JSON file is checked here.
    std::string problem;
    if (!options.data_file.empty() && !read_json_file(options.data_file, &problem))
      throw std::runtime_error("--data '" + options.data_file + "': " + problem);
    if (files == Files::served) require_directory("--files", options.files_dir);
  };
  std::string usage(kStageUsage);
  if (files == Files::served) usage += kFilesUsage;
  return parse_command_line<StageOptions>(argc, argv, usage, summary, read_arg, finish);
}
// NOLINTEND(clang-analyzer-cplusplus.NewDelete)

std::variant<FileServerOptions, int> parse_file_server_options(int argc, const char* const* argv,
                                                               std::string_view summary) {
  bool have_root = false;
  auto read_arg = [&have_root](Args&, std::string_view arg, FileServerOptions& options) {
    if (arg.starts_with("-") || have_root) return false;
    have_root = true;
    options.root = arg;
    return true;
  };
  auto finish = [](const FileServerOptions& options) { require_directory("ROOT", options.root); };
  return parse_command_line<FileServerOptions>(argc, argv, kFileServerUsage, summary, read_arg,
                                               finish);
}

}  // namespace common
