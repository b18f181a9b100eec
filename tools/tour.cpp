// tour: runs every stage once and shows, on one time axis, when each of its queries ran.
//
//   build/bin/tour [--latency MS] [--workers N] [--svg FILE]
//
// For each broker-backed stage (02–06) the tour starts the real program on a free port, asks for
// user 1 with ?trace=1, and draws the measured start and end of every query: the three slots of
// 02's nested callbacks and the two slots of 03–06 are visible at a glance. Then it serves
// this repository with 01-file-server and fetches README.md. Every program it starts is stopped
// before it ends, also on Ctrl-C. This is plain blocking code on purpose: it is a driver, not a
// lesson; the lessons are the stages it drives.
#include <rapidjson/document.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "common/json.h"
#include "tests/support/http_client.h"
#include "tests/support/server_process.h"

namespace {

struct TourOptions {
  unsigned latency_ms = 1000;
  unsigned workers = 3;
  std::string svg_file;
};

// Time for a stage's workers to start (a few ms in a Release build, up to ~100 ms under a
// sanitizer on a busy machine) before the tour asks its one timed question.
constexpr std::chrono::milliseconds kWorkerStartup{300};

struct Stage {
  const char* program;
  const char* route;
  const char* idea;
};

constexpr Stage kStages[] = {
    {"02-sync-callbacks", "/sync/1", "nested callbacks: each query waits for the one before"},
    {"03-homebrew-counter", "/brew/1", "a hand-written counter: posts and comments at once"},
    {"04-auto-dag", "/async/1", "auto: declared dependencies, the runner schedules"},
    {"05-promises", "/promise/1", "promises: then, all and spread over values"},
    {"06-coroutines", "/await/1", "coroutines: co_await on the same promises"},
};

struct Span {
  std::string bucket;
  double start_ms = 0;
  double end_ms = 0;
};

struct StageRun {
  const Stage* stage = nullptr;
  std::vector<Span> spans;
  double total_ms = 0;
  std::string problem;  // empty when the stage answered as expected
};

// ---------------------------------------------------------------- cleanup on Ctrl-C

std::atomic<pid_t> running_child{-1};

void stop_child_and_exit(int signal_number) {
  pid_t child = running_child.load();
  if (child > 0) kill(child, SIGTERM);  // the stage then stops its own workers
  _exit(128 + signal_number);
}

void install_interrupt_handlers() {
  std::signal(SIGINT, stop_child_and_exit);
  std::signal(SIGTERM, stop_child_and_exit);
  std::signal(SIGPIPE, SIG_IGN);
}

// ---------------------------------------------------------------- terminal styling

struct Style {
  bool colour = false;
  bool unicode = false;
  [[nodiscard]] std::string paint(const std::string& text, const char* code) const {
    return colour ? std::string("\033[") + code + "m" + text + "\033[0m" : text;
  }
  [[nodiscard]] const char* block() const { return unicode ? "█" : "#"; }
};

Style detect_style() {
  Style style;
  bool tty = isatty(STDOUT_FILENO) != 0;
  const char* no_colour = std::getenv("NO_COLOR");
  style.colour = tty && (no_colour == nullptr || *no_colour == '\0');
  std::string locale;
  for (const char* name : {"LC_ALL", "LC_CTYPE", "LANG"}) {
    if (const char* value = std::getenv(name); value != nullptr && *value != '\0') {
      locale = value;
      break;
    }
  }
  style.unicode = tty && (locale.find("UTF-8") != std::string::npos ||
                          locale.find("utf8") != std::string::npos);
  return style;
}

// ---------------------------------------------------------------- running one stage

std::vector<Span> read_trace(const rapidjson::Value& trace) {
  std::vector<Span> spans;
  for (const auto& entry : trace.GetArray()) {
    if (!entry.IsObject() || !entry.HasMember("bucket") || !entry.HasMember("start") ||
        !entry.HasMember("end"))
      continue;
    spans.push_back(
        {entry["bucket"].GetString(), entry["start"].GetDouble(), entry["end"].GetDouble()});
  }
  return spans;
}

std::string check_answer(const test_support::HttpResponse& response,
                         const rapidjson::Document& body) {
  if (response.status != 200)
    return "answered " + std::to_string(response.status) + ": " + response.body;
  if (!body.IsObject())  // a body that is not JSON leaves it null
    return "answered something that is not a JSON object";
  for (const char* key : {"user", "posts", "comments", "trace"}) {
    if (!body.HasMember(key)) return std::string("the answer has no \"") + key + "\"";
  }
  if (!body["trace"].IsArray()) return "\"trace\" is not an array";
  return {};
}

std::vector<std::string> stage_arguments(const TourOptions& options) {
  return {"0",
          "--latency",
          std::to_string(options.latency_ms),
          "--workers",
          std::to_string(options.workers),
          "--quiet"};
}

StageRun run_stage(const Stage& stage, const TourOptions& options) {
  StageRun run{&stage, {}, 0, {}};
  try {
    auto server = test_support::ServerProcess::start(stage.program, stage_arguments(options));
    running_child = server.pid();
    // The stage listens before its workers have finished starting; a query sent at once would
    // wait for them, and the timeline would show start-up instead of the lesson's slots.
    std::this_thread::sleep_for(kWorkerStartup);
    auto response = test_support::http_get(server.port(), std::string(stage.route) + "?trace=1");
    rapidjson::Document body;
    if (auto parsed = common::parse_json(response.body)) body = std::move(*parsed);
    run.problem = check_answer(response, body);
    if (run.problem.empty()) run.spans = read_trace(body["trace"]);
    for (const auto& span : run.spans) run.total_ms = std::max(run.total_ms, span.end_ms);
    int exit_code = server.stop();
    running_child = -1;
    if (run.problem.empty() && exit_code != 0)
      run.problem = "did not exit cleanly on SIGTERM (code " + std::to_string(exit_code) + ")";
  } catch (const std::exception& error) {
    run.problem = error.what();
  }
  return run;
}

// ---------------------------------------------------------------- drawing

constexpr int kBarWidth = 48;

std::string bar(const Span& span, double axis_ms, const Style& style) {
  auto column = [&](double ms) { return static_cast<int>(std::lround(ms / axis_ms * kBarWidth)); };
  int from = std::min(column(span.start_ms), kBarWidth - 1);
  int to = std::max(from + 1, std::min(column(span.end_ms), kBarWidth));
  std::string filled;
  for (int i = from; i < to; ++i) filled += style.block();
  return std::string(static_cast<size_t>(from), ' ') + style.paint(filled, "36") +
         std::string(static_cast<size_t>(kBarWidth - to), ' ');
}

void print_run(const StageRun& run, double axis_ms, const TourOptions& options,
               const Style& style) {
  std::cout << "\n"
            << style.paint(run.stage->program, "1") << "   GET " << run.stage->route << "\n"
            << "  " << run.stage->idea << "\n";
  if (!run.problem.empty()) {
    std::cout << "  " << style.paint("problem: " + run.problem, "31") << "\n";
    return;
  }
  std::cout << std::fixed << std::setprecision(0);
  for (const auto& span : run.spans) {
    std::cout << "  " << std::left << std::setw(9) << span.bucket << std::right << "|"
              << bar(span, axis_ms, style) << "| " << std::setw(5) << span.start_ms << " – "
              << std::setw(5) << span.end_ms << " ms\n";
  }
  double slots = run.total_ms / std::max(1u, options.latency_ms);
  std::cout << "  total " << run.total_ms << " ms = " << std::setprecision(1) << slots
            << " slots of " << options.latency_ms << " ms\n";
}

// One axis for every stage, so that bars compare across stages: a little over three slots
// (the serial stage's total), widened if some stage took longer than that.
double shared_axis(const std::vector<StageRun>& runs, const TourOptions& options) {
  double axis = std::max(1.0, 3.3 * options.latency_ms);
  for (const auto& run : runs) axis = std::max(axis, run.total_ms);
  return axis;
}

// ---------------------------------------------------------------- the SVG for slides

std::string svg_escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '<')
      out += "&lt;";
    else if (c == '>')
      out += "&gt;";
    else if (c == '&')
      out += "&amp;";
    else
      out += c;
  }
  return out;
}

void write_svg(const std::vector<StageRun>& runs, double axis_ms, const std::string& path) {
  constexpr int kLeft = 110, kWidth = 600, kRow = 18;
  int height = 20;
  for (const auto& run : runs) height += 30 + kRow * static_cast<int>(run.spans.size());
  std::ostringstream svg;
  svg << R"(<svg xmlns="http://www.w3.org/2000/svg" width=")" << kLeft + kWidth + 20
      << R"(" height=")" << height << R"(" font-family="monospace" font-size="12">)"
      << "\n";
  int y = 20;
  for (const auto& run : runs) {
    svg << R"(<text x="4" y=")" << y << R"(" font-weight="bold">)" << svg_escape(run.stage->program)
        << " " << svg_escape(run.stage->route) << " (" << static_cast<int>(run.total_ms)
        << " ms)</text>\n";
    y += 8;
    for (const auto& span : run.spans) {
      double x = kLeft + span.start_ms / axis_ms * kWidth;
      double width = std::max(1.0, (span.end_ms - span.start_ms) / axis_ms * kWidth);
      svg << R"(<text x="14" y=")" << y + 12 << R"(">)" << svg_escape(span.bucket) << "</text>"
          << R"(<rect class="query" x=")" << x << R"(" y=")" << y + 2 << R"(" width=")" << width
          << R"(" height="12" fill="#2a9d8f"/>)"
          << "\n";
      y += kRow;
    }
    y += 22;
  }
  svg << "</svg>\n";
  std::ofstream(path) << svg.str();
}

// ---------------------------------------------------------------- the file server

void visit_file_server(const Style& style) {
  std::cout << "\n"
            << style.paint("01-file-server", "1") << "   GET /README.md\n"
            << "  the event loop and asynchronous file IO, serving this repository\n";
  try {
    auto server =
        test_support::ServerProcess::start("01-file-server", {"0", TUTORIAL_SOURCE_DIR, "--quiet"});
    running_child = server.pid();
    auto response = test_support::http_get(server.port(), "/README.md");
    std::string first_line = response.body.substr(0, response.body.find('\n'));
    std::cout << "  " << response.status << " " << response.reason << ", "
              << response.header("Content-Type") << ", " << response.body.size() << " bytes: \""
              << first_line << "\"\n";
    server.stop();
    running_child = -1;
  } catch (const std::exception& error) {
    std::cout << "  " << style.paint(std::string("problem: ") + error.what(), "31") << "\n";
  }
}

void print_next_steps(const TourOptions& options) {
  std::cout
      << "\nTry it yourself:\n"
      << "  build/bin/03-homebrew-counter 8000 --latency " << options.latency_ms << " &\n"
      << "  curl -s --retry 5 --retry-connrefused 'http://127.0.0.1:8000/brew/1?trace=1'; echo\n"
      << "  kill %1\n"
      << "Read the stages in order (01-file-server/README.md first) and compare two of them:\n"
      << "  tools/diff-stages 02 03\n";
}

// ---------------------------------------------------------------- command line

constexpr const char* kUsage =
    "usage: tour [--latency MS] [--workers N] [--svg FILE]\n"
    "  runs every stage once and draws when its queries ran\n";

// A whole number for `flag`, or nullopt after a message on stderr.
std::optional<unsigned> parse_count(const char* flag, const char* text) {
  char* end = nullptr;
  unsigned long value = std::strtoul(text, &end, 10);
  if (*text == '\0' || *end != '\0' || value > 600'000) {
    std::cerr << "tour: " << flag << " takes a whole number, not '" << text << "'\n" << kUsage;
    return std::nullopt;
  }
  return static_cast<unsigned>(value);
}

// The options, or the exit status: 0 after --help (usage on stdout), 2 after a usage error.
std::variant<TourOptions, int> parse_options(int argc, char** argv) {
  TourOptions options;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    bool has_value = i + 1 < argc;
    if (arg == "--help" || arg == "-h") {
      std::cout << kUsage;
      return 0;
    }
    if ((arg == "--latency" || arg == "--workers") && has_value) {
      auto value = parse_count(argv[i], argv[i + 1]);
      if (!value) return 2;
      ++i;
      if (arg == "--latency")
        options.latency_ms = *value;
      else
        options.workers = std::max(2u, *value);
    } else if (arg == "--svg" && has_value) {
      options.svg_file = argv[++i];
    } else {
      std::cerr << "tour: unknown or incomplete option '" << arg << "'\n" << kUsage;
      return 2;
    }
  }
  return options;
}

}  // namespace

int main(int argc, char** argv) {
  auto parsed = parse_options(argc, argv);
  if (const int* status = std::get_if<int>(&parsed)) return *status;
  const TourOptions* options = &std::get<TourOptions>(parsed);
  install_interrupt_handlers();
  Style style = detect_style();
  std::cout << style.paint("Concurrent libuv: a tour", "1") << " (each query blocks a worker for "
            << options->latency_ms << " ms; " << options->workers << " workers)\n";
  std::vector<StageRun> runs;
  for (const auto& stage : kStages) {
    runs.push_back(run_stage(stage, *options));
    print_run(runs.back(), shared_axis({runs.back()}, *options), *options, style);
  }
  visit_file_server(style);
  if (!options->svg_file.empty()) {
    write_svg(runs, shared_axis(runs, *options), options->svg_file);
    std::cout << "\ntimelines written to " << options->svg_file << "\n";
  }
  print_next_steps(*options);
  bool all_fine = std::all_of(runs.begin(), runs.end(),
                              [](const StageRun& run) { return run.problem.empty(); });
  return all_fine ? 0 : 1;
}
