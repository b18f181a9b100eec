#include "broker-worker/worker_options.h"

#include <uv.h>

#include <charconv>
#include <iostream>
#include <string_view>

namespace worker {
namespace {

constexpr std::string_view kUsage = R"(usage: broker-worker [options]
Answers the broker's queries on the IPC channel named by NODE_CHANNEL_FD (JSON lines), one at
a time, like the tutorial's db.js. Start it from a broker, or from Node with
child_process.spawn(path, args, {stdio: ['inherit', 'inherit', 'inherit', 'ipc']}).
  --latency MS          how long each query takes (default 1000)
  --block spin|sleep    spin busy-waits like the tutorial's worker (default); sleep waits like IO
  --data FILE           data set to serve (default: the built-in users 1-100; see --dump-data)
  --quiet               no "query started/finished" lines on stderr
  --fail BUCKET[:ID]    test hook: answer such queries with an error (code EFAIL)
  --crash BUCKET[:ID]   test hook: abort() on such a query
  --hang BUCKET[:ID]    test hook: stop answering at such a query (exits on EOF)
  --slow BUCKET:MS      test hook: each query of BUCKET takes MS ms longer than --latency
  --answer BUCKET:TEXT  test hook: answer each query of BUCKET with TEXT as the result, unchecked
  --dump-data           print the built-in data set as JSON and exit
  --help, --version
The hooks may be repeated; BUCKET is users, posts, comments or likes, ID restricts to one user id
(a likes query is about posts, so only hooks without an ID apply to it). --slow adds up when a
bucket is named twice, and applies before --fail, --crash or --hang of the same query.
)";

int usage_error(const std::string& message) {
  std::cerr << "broker-worker: " << message << " (see --help)\n";
  return 2;
}

// A whole number from 0 to `max`, nothing else (no sign, no spaces, no unit).
std::optional<unsigned> parse_up_to(std::string_view text, unsigned max) {
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value > max) return std::nullopt;
  return value;
}

bool is_bucket(std::string_view name) {
  return name == "users" || name == "posts" || name == "comments" || name == "likes";
}

std::optional<Hook> parse_hook(Hook::Action action, std::string_view spec) {
  Hook hook;
  hook.action = action;
  auto colon = spec.find(':');
  hook.bucket = spec.substr(0, colon);
  if (!is_bucket(hook.bucket)) return std::nullopt;
  if (colon == std::string_view::npos) return hook;
  std::string_view id = spec.substr(colon + 1);
  int64_t value = 0;
  auto [end, ec] = std::from_chars(id.data(), id.data() + id.size(), value);
  if (ec != std::errc() || end != id.data() + id.size()) return std::nullopt;
  hook.user_id = value;
  return hook;
}

// BUCKET:TEXT, TEXT not empty.
std::optional<Hook> parse_answer(std::string_view spec) {
  auto colon = spec.find(':');
  if (colon == std::string_view::npos || colon + 1 == spec.size() ||
      !is_bucket(spec.substr(0, colon)))
    return std::nullopt;
  return Hook{Hook::Action::answer, std::string(spec.substr(0, colon)), std::nullopt,
              std::string(spec.substr(colon + 1))};
}

// BUCKET:MS, MS from 0 to an hour.
std::optional<Slowdown> parse_slowdown(std::string_view spec) {
  auto colon = spec.find(':');
  if (colon == std::string_view::npos || !is_bucket(spec.substr(0, colon))) return std::nullopt;
  auto ms = parse_up_to(spec.substr(colon + 1), 3600000);
  if (!ms) return std::nullopt;
  return Slowdown{std::string(spec.substr(0, colon)), *ms};
}

}  // namespace

std::variant<WorkerOptions, int> parse_worker_options(int argc, const char* const* argv) {
  WorkerOptions options;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    auto value = [&]() -> std::optional<std::string_view> {
      if (i + 1 >= argc) return std::nullopt;
      return std::string_view(argv[++i]);
    };
    if (arg == "--help" || arg == "-h") {
      std::cout << kUsage;
      return 0;
    }
    if (arg == "--version") {
      std::cout << "broker-worker " << TUTORIAL_VERSION << " (libuv " << uv_version_string()
                << ")\n";
      return 0;
    }
    if (arg == "--quiet") {
      options.quiet = true;
    } else if (arg == "--dump-data") {
      options.dump_data = true;
    } else if (arg == "--latency") {
      auto text = value();
      auto ms = text ? parse_up_to(*text, 3600000) : std::nullopt;
      if (!ms) return usage_error("--latency wants a number of milliseconds (0 to 3600000)");
      options.latency_ms = *ms;
    } else if (arg == "--block") {
      auto text = value();
      if (!text || (*text != "spin" && *text != "sleep"))
        return usage_error("--block is spin or sleep");
      options.spin = *text == "spin";
    } else if (arg == "--data") {
      auto text = value();
      if (!text) return usage_error("--data needs a file name");
      options.data_file = *text;
    } else if (arg == "--fail" || arg == "--crash" || arg == "--hang") {
      Hook::Action action = arg == "--fail"    ? Hook::Action::fail
                            : arg == "--crash" ? Hook::Action::crash
                                               : Hook::Action::hang;
      auto text = value();
      auto hook = text ? parse_hook(action, *text) : std::nullopt;
      if (!hook)
        return usage_error(std::string(arg) +
                           " wants BUCKET or BUCKET:ID (users, posts, comments, likes)");
      options.hooks.push_back(*hook);
    } else if (arg == "--answer") {
      auto text = value();
      auto hook = text ? parse_answer(*text) : std::nullopt;
      if (!hook) return usage_error("--answer wants BUCKET:TEXT (users, posts, comments, likes)");
      options.hooks.push_back(*hook);
    } else if (arg == "--slow") {
      auto text = value();
      auto slowdown = text ? parse_slowdown(*text) : std::nullopt;
      if (!slowdown)
        return usage_error(
            "--slow wants BUCKET:MS (users, posts, comments, likes; MS from 0 to 3600000)");
      options.slowdowns.push_back(*slowdown);
    } else {
      return usage_error("unexpected argument '" + std::string(arg) + "'");
    }
  }
  return options;
}

}  // namespace worker
