// Stage 05's fetch_posts_and_comments, tested alone: no broker, no worker, no HTTP.
//
// The tutorial claims that promise-returning functions are easier to unit test than callbacks.
// Here is the claim at work: the function takes its query function as an argument, so the test
// hands it a fake one that answers at once from memory and records what was asked, and the
// result is a value the test can look at. A callback-style stage function would need a broker
// (or a hand-written stand-in with the same callback protocol) and an HTTP answer to observe.
//
// The stage keeps its functions in an anonymous namespace, as a program should, so this file
// includes the stage's source itself; its main() is renamed, since the test program has one.
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "common/flow/promise.h"
#include "common/json.h"
#include "common/stage.h"
#include "common/uv/loop.h"
#include "tests/support/catch.h"

#define main stage_05_main  // NOLINT: the stage's main is not this program's
#include "05-promises/main.cpp"
#undef main

namespace {

using common::Json;

Json parse(const char* text) {
  auto json = common::parse_json(text);
  REQUIRE(json);
  return std::move(*json);
}

// A query function that answers from memory, after recording "bucket query".
struct FakeQueries {
  std::vector<std::string> asked;
  std::string failing_bucket;  // this bucket rejects with EFAIL

  Query function() {
    return [this](const std::string& bucket, const Json& query) {
      asked.push_back(bucket + " " + common::to_json(query));
      if (bucket == failing_bucket)
        return common::rejected<Json>(common::Error{"EFAIL", bucket + " failed"});
      return common::resolved(
          parse(bucket == "posts" ? R"([{"id":1,"poster":7}])" : R"([{"id":2,"commenter":7}])"));
    };
  }
};

using Results = std::tuple<Json, Json, Json>;

}  // namespace

TEST_CASE("05: fetch_posts_and_comments asks for posts and comments of the user it is given",
          "[unit][stage05]") {
  common::Loop loop;
  common::PromiseScheduler promises(loop);
  FakeQueries fake;
  std::optional<std::string> answer;
  fetch_posts_and_comments(fake.function(), parse(R"({"id":7,"name":"Ada"})"))
      .then([&](const Results& results) {
        const auto& [user, posts, comments] = results;
        answer = common::to_json(user) + common::to_json(posts) + common::to_json(comments);
      });
  common::run_loop(loop);
  CHECK(fake.asked ==
        std::vector<std::string>{R"(posts {"poster":7})", R"(comments {"commenter":7})"});
  REQUIRE(answer);
  CHECK(*answer == R"({"id":7,"name":"Ada"}[{"id":1,"poster":7}][{"id":2,"commenter":7}])");
}

TEST_CASE("05: one failing query rejects fetch_posts_and_comments with its error",
          "[unit][stage05]") {
  common::Loop loop;
  common::PromiseScheduler promises(loop);
  FakeQueries fake;
  fake.failing_bucket = "comments";
  std::optional<common::Error> failure;
  fetch_posts_and_comments(fake.function(), parse(R"({"id":7})"))
      .then([](const Results&) { FAIL("a failed query must not fulfil the whole"); })
      .fail([&](const std::exception_ptr& reason) { failure = common::error_of(reason); });
  common::run_loop(loop);
  REQUIRE(failure);
  CHECK(failure->code == "EFAIL");
  CHECK(failure->message == "comments failed");
}
