// Tests for common/options: defaults, every flag, and usage errors that name the mistake.
#include <iostream>
#include <sstream>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/options.h"
#include "tests/support/catch.h"

namespace {
template <typename Parse>
auto parse(Parse parser, std::vector<const char*> args) {
  args.insert(args.begin(), "stage");
  return parser(static_cast<int>(args.size()), args.data(), "test");
}

// A stage without files (02–04, 06) and one that serves them (05).
auto stage(int argc, const char* const* argv, std::string_view summary) {
  return common::parse_stage_options(argc, argv, summary);
}
auto file_stage(int argc, const char* const* argv, std::string_view summary) {
  return common::parse_stage_options(argc, argv, summary, common::Files::served);
}
}  // namespace

TEST_CASE("stage options have the documented defaults", "[options]") {
  auto parsed = parse(stage, {});
  auto& options = std::get<common::StageOptions>(parsed);
  CHECK(options.port == 8000);
  CHECK(options.host == "127.0.0.1");
  CHECK(options.workers >= 1);
  CHECK(options.latency_ms == 1000);
  CHECK(options.block == "spin");
  CHECK(options.query_timeout_ms == 0);  // BrokerOptions::from makes it latency × 5 + 5000
}

TEST_CASE("stage options read every flag", "[options]") {
  auto parsed = parse(
      file_stage,
      {"0",        "--workers",        "3",       "--latency", "200",     "--block", "sleep",
       "--worker", "node db.js",       "--data",  "d.json",    "--queue", "7",       "--timeout",
       "900",      "--fork-per-query", "--files", "www",       "--quiet", "--host",  "::1"});
  auto& options = std::get<common::StageOptions>(parsed);
  CHECK(options.port == 0);
  CHECK(options.workers == 3);
  CHECK(options.latency_ms == 200);
  CHECK(options.block == "sleep");
  CHECK(options.worker_command == "node db.js");
  CHECK(options.data_file == "d.json");
  CHECK(options.queue_limit == 7);
  CHECK(options.query_timeout_ms == 900);
  CHECK(options.fork_per_query);
  CHECK(options.files_dir == "www");
  CHECK(options.quiet);
  CHECK(options.host == "::1");
}

TEST_CASE("bad stage options give exit code 2", "[options]") {
  CHECK(std::get<int>(parse(stage, {"70000"})) == 2);
  CHECK(std::get<int>(parse(stage, {"--workers", "0"})) == 2);
  CHECK(std::get<int>(parse(stage, {"--latency", "abc"})) == 2);
  CHECK(std::get<int>(parse(stage, {"--block", "nap"})) == 2);
  CHECK(std::get<int>(parse(stage, {"--latency"})) == 2);
  CHECK(std::get<int>(parse(stage, {"1", "2"})) == 2);
  CHECK(std::get<int>(parse(stage, {"--help"})) == 0);
}

TEST_CASE("only a stage that serves files takes --files", "[options]") {
  CHECK(std::get<int>(parse(stage, {"--files", "www"})) == 2);
  CHECK(std::get<common::StageOptions>(parse(file_stage, {"--files", "www"})).files_dir == "www");
  std::ostringstream help;
  auto* saved = std::cout.rdbuf(help.rdbuf());
  parse(stage, {"--help"});
  std::string without = help.str();
  help.str("");
  parse(file_stage, {"--help"});
  std::cout.rdbuf(saved);
  CHECK(without.find("--files") == std::string::npos);
  CHECK(help.str().find("--files DIR") != std::string::npos);
}

TEST_CASE("file server options: PORT then ROOT", "[options]") {
  auto defaults = std::get<common::FileServerOptions>(parse(common::parse_file_server_options, {}));
  CHECK(defaults.port == 8080);
  CHECK(defaults.root == ".");
  auto given = std::get<common::FileServerOptions>(
      parse(common::parse_file_server_options, {"0", "/srv/www", "--quiet"}));
  CHECK(given.port == 0);
  CHECK(given.root == "/srv/www");
  CHECK(given.quiet);
  CHECK(std::get<int>(parse(common::parse_file_server_options, {"1", "a", "b"})) == 2);
}
