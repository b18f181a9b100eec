#include "common/options.h"

#include <uv.h>

#include <charconv>
#include <iostream>
#include <optional>
#include <vector>

namespace common {
namespace {

constexpr std::string_view kStageUsage = R"(usage: {0} [PORT] [options]
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

constexpr std::string_view kFileServerUsage = R"(usage: {0} [PORT] [ROOT] [options]
  PORT                 port to listen on (default 8080; 0 picks a free one)
  ROOT                 directory to serve (default: the current directory)
  --host ADDR          address to bind (default 127.0.0.1)
  --quiet              no access log on stderr
  --help, --version
)";

void print_usage(std::ostream& out, std::string_view usage, std::string_view program,
                 std::string_view summary) {
  std::string text(usage);
  for (auto at = text.find("{0}"); at != std::string::npos; at = text.find("{0}"))
    text.replace(at, 3, program);
  out << program << ": " << summary << "\n" << text;
}

std::optional<unsigned long> parse_number(std::string_view text, unsigned long max) {
  unsigned long value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value > max) return std::nullopt;
  return value;
}

// Walks argv: flags with a value, bare flags, and positionals, reporting the first mistake.
class ArgWalker {
 public:
  ArgWalker(int argc, const char* const* argv) : args_(argv + 1, argv + argc) {}
  [[nodiscard]] bool done() const { return next_ >= args_.size(); }
  std::string_view take() { return args_[next_++]; }
  std::optional<std::string_view> value_for(std::string_view flag) {
    if (done()) {
      error_ = std::string(flag) + " needs a value";
      return std::nullopt;
    }
    return take();
  }
  std::optional<unsigned> number_for(std::string_view flag, unsigned long max) {
    auto text = value_for(flag);
    if (!text) return std::nullopt;
    auto value = parse_number(*text, max);
    if (!value)
      error_ = std::string(flag) + " wants a whole number up to " + std::to_string(max) +
               ", not '" + std::string(*text) + "'";
    return value ? std::optional<unsigned>(static_cast<unsigned>(*value)) : std::nullopt;
  }
  void fail(std::string message) { error_ = std::move(message); }
  [[nodiscard]] const std::string& error() const { return error_; }

 private:
  std::vector<std::string_view> args_;
  size_t next_ = 0;
  std::string error_;
};

std::optional<int> parse_port(ArgWalker& args, std::string_view text) {
  auto port = parse_number(text, 65535);
  if (!port) args.fail("PORT must be a number from 0 to 65535, not '" + std::string(text) + "'");
  return port ? std::optional<int>(static_cast<int>(*port)) : std::nullopt;
}

// --help / --version are answered the same way by every program; returns the exit code if so.
std::optional<int> answer_info_flag(std::string_view arg, std::string_view usage,
                                    std::string_view program, std::string_view summary) {
  if (arg == "--help" || arg == "-h") {
    print_usage(std::cout, usage, program, summary);
    return 0;
  }
  if (arg == "--version") {
    std::cout << program << " " << TUTORIAL_VERSION << " (libuv " << uv_version_string() << ")\n";
    return 0;
  }
  return std::nullopt;
}

int usage_error(const std::string& message, std::string_view program) {
  std::cerr << program << ": " << message << " (see --help)\n";
  return 2;
}

std::string_view program_name(const char* const* argv) {
  std::string_view path = argv[0] != nullptr ? argv[0] : "server";
  auto slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

bool parse_stage_flag(ArgWalker& args, std::string_view arg, StageOptions& options) {
  if (arg == "--host") {
    if (auto v = args.value_for(arg)) options.host = *v;
  } else if (arg == "--workers") {
    if (auto v = args.number_for(arg, 256)) options.workers = *v;
    if (args.error().empty() && options.workers == 0) args.fail("--workers must be at least 1");
  } else if (arg == "--latency") {
    if (auto v = args.number_for(arg, 600000)) options.latency_ms = *v;
  } else if (arg == "--block") {
    auto v = args.value_for(arg);
    if (v && *v != "spin" && *v != "sleep")
      args.fail("--block is spin or sleep, not '" + std::string(*v) + "'");
    if (v) options.block = *v;
  } else if (arg == "--worker") {
    if (auto v = args.value_for(arg)) options.worker_command = *v;
  } else if (arg == "--data") {
    if (auto v = args.value_for(arg)) options.data_file = *v;
  } else if (arg == "--queue") {
    if (auto v = args.number_for(arg, 1000000)) options.queue_limit = *v;
  } else if (arg == "--timeout") {
    if (auto v = args.number_for(arg, 3600000)) options.query_timeout_ms = *v;
  } else if (arg == "--files") {
    if (auto v = args.value_for(arg)) options.files_dir = *v;
  } else if (arg == "--fork-per-query") {
    options.fork_per_query = true;
  } else if (arg == "--quiet") {
    options.quiet = true;
  } else {
    return false;
  }
  return true;
}

unsigned cpu_count() {
  unsigned count = uv_available_parallelism();
  return count == 0 ? 1 : count;
}

}  // namespace

std::variant<StageOptions, int> parse_stage_options(int argc, const char* const* argv,
                                                    std::string_view summary) {
  std::string_view program = program_name(argv);
  StageOptions options;
  ArgWalker args(argc, argv);
  bool have_port = false;
  while (!args.done() && args.error().empty()) {
    std::string_view arg = args.take();
    if (auto code = answer_info_flag(arg, kStageUsage, program, summary)) return *code;
    if (parse_stage_flag(args, arg, options)) continue;
    if (!arg.starts_with("-") && !have_port) {
      have_port = true;
      if (auto port = parse_port(args, arg)) options.port = *port;
      continue;
    }
    args.fail("unexpected argument '" + std::string(arg) + "'");
  }
  if (!args.error().empty()) return usage_error(args.error(), program);
  if (options.workers == 0) options.workers = cpu_count();
  if (options.query_timeout_ms == 0) options.query_timeout_ms = options.latency_ms * 5 + 5000;
  return options;
}

std::variant<FileServerOptions, int> parse_file_server_options(int argc, const char* const* argv,
                                                               std::string_view summary) {
  std::string_view program = program_name(argv);
  FileServerOptions options;
  ArgWalker args(argc, argv);
  int positionals = 0;
  while (!args.done() && args.error().empty()) {
    std::string_view arg = args.take();
    if (auto code = answer_info_flag(arg, kFileServerUsage, program, summary)) return *code;
    if (arg == "--host") {
      if (auto v = args.value_for(arg)) options.host = *v;
    } else if (arg == "--quiet") {
      options.quiet = true;
    } else if (!arg.starts_with("-") && positionals == 0) {
      ++positionals;
      if (auto port = parse_port(args, arg)) options.port = *port;
    } else if (!arg.starts_with("-") && positionals == 1) {
      ++positionals;
      options.root = arg;
    } else {
      args.fail("unexpected argument '" + std::string(arg) + "'");
    }
  }
  if (!args.error().empty()) return usage_error(args.error(), program);
  return options;
}

}  // namespace common
