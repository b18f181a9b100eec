// Tests for common/options: defaults, every flag, and usage errors that name the mistake.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/options.h"
#include "tests/support/catch.h"
#include "tests/support/scratch.h"

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

// The parser checks that the paths it is given can be used: a directory and a JSON file.
struct Paths {
  test_support::ScratchDir scratch{"options"};
  std::string www = (scratch.path() / "www").string();
  std::string data = (scratch.path() / "d.json").string();
  Paths() {
    std::filesystem::create_directory(www);
    std::ofstream(data) << R"({"users":[]})";
  }
};

// What a parse wrote on std::cerr.
template <typename Parse>
std::string errors_of(Parse parser, std::vector<const char*> args) {
  std::ostringstream errors;
  auto* saved = std::cerr.rdbuf(errors.rdbuf());
  parse(parser, std::move(args));
  std::cerr.rdbuf(saved);
  return errors.str();
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
  Paths paths;
  auto parsed = parse(file_stage, {"0",
                                   "--workers",
                                   "3",
                                   "--latency",
                                   "200",
                                   "--block",
                                   "sleep",
                                   "--worker",
                                   "node db.js",
                                   "--data",
                                   paths.data.c_str(),
                                   "--queue",
                                   "7",
                                   "--timeout",
                                   "900",
                                   "--fork-per-query",
                                   "--files",
                                   paths.www.c_str(),
                                   "--quiet",
                                   "--host",
                                   "::1"});
  auto& options = std::get<common::StageOptions>(parsed);
  CHECK(options.port == 0);
  CHECK(options.workers == 3);
  CHECK(options.latency_ms == 200);
  CHECK(options.block == "sleep");
  CHECK(options.worker_command == "node db.js");
  CHECK(options.data_file == paths.data);
  CHECK(options.queue_limit == 7);
  CHECK(options.query_timeout_ms == 900);
  CHECK(options.fork_per_query);
  CHECK(options.files_dir == paths.www);
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
  Paths paths;
  CHECK(std::get<int>(parse(stage, {"--files", paths.www.c_str()})) == 2);
  CHECK(
      std::get<common::StageOptions>(parse(file_stage, {"--files", paths.www.c_str()})).files_dir ==
      paths.www);
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
  Paths paths;
  auto given = std::get<common::FileServerOptions>(
      parse(common::parse_file_server_options, {"0", paths.www.c_str(), "--quiet"}));
  CHECK(given.port == 0);
  CHECK(given.root == paths.www);
  CHECK(given.quiet);
  CHECK(std::get<int>(parse(common::parse_file_server_options, {"1", "a", "b"})) == 2);
}

TEST_CASE("paths that cannot be used give exit code 2 and are named", "[options]") {
  Paths paths;
  const std::string missing = paths.www + "/missing";
  std::ofstream(paths.www + "/not.json") << "users: 1";
  const std::string not_json = paths.www + "/not.json";
  CHECK(std::get<int>(parse(common::parse_file_server_options, {"0", missing.c_str()})) == 2);
  CHECK(errors_of(common::parse_file_server_options, {"0", paths.data.c_str()}) ==
        "stage: ROOT '" + paths.data + "': not a directory\n");
  CHECK(std::get<int>(parse(file_stage, {"--files", paths.data.c_str()})) == 2);
  CHECK(errors_of(file_stage, {"--files", missing.c_str()})
            .starts_with("stage: --files '" + missing + "': "));
  CHECK(std::get<int>(parse(stage, {"--data", not_json.c_str()})) == 2);
  CHECK(errors_of(stage, {"--data", not_json.c_str()})
            .starts_with("stage: --data '" + not_json + "': not JSON: invalid JSON at offset"));
  CHECK(errors_of(stage, {"--data", paths.www.c_str()}) ==
        "stage: --data '" + paths.www + "': not a regular file\n");
  CHECK(std::get<int>(parse(stage, {"--data", missing.c_str()})) == 2);
  // --files is checked only where it is an option, so the other stages need no directory.
  CHECK(std::holds_alternative<common::StageOptions>(parse(stage, {})));
}
