// Tests for common/stage: the check a worker's result passes before a stage sees it. (The rest of
// the stage layer is tested through the stages, in tests/integration/test_stages.cpp.)
#include "common/stage.h"

#include "tests/support/catch.h"

namespace {

common::MaybeError checked(const char* bucket, const char* result) {
  auto parsed = common::parse_json(result);
  REQUIRE(parsed);
  return common::check_result(bucket, *parsed);
}

}  // namespace

TEST_CASE("check_result passes the shapes the stages rely on", "[stage]") {
  CHECK_FALSE(checked("users", R"({"id":1,"name":"Ada"})"));
  CHECK_FALSE(checked("posts", "[]"));
  CHECK_FALSE(checked("comments", R"([{"id":1,"commenter":1}])"));
  CHECK_FALSE(checked("likes", "42"));  // not a bucket of the stages: not checked
}

TEST_CASE("check_result turns a result of another shape into a 502 error", "[stage]") {
  struct Case {
    const char* bucket;
    const char* result;
  };
  const Case cases[] = {{"users", "42"},
                        {"users", "null"},
                        {"users", R"({"id":"1"})"},
                        {"users", R"({"id":1.5})"},
                        {"users", R"({"name":"Ada"})"},
                        {"users", "[1]"},
                        {"posts", R"({"poster":null})"},
                        {"comments", R"("none")"}};
  for (const auto& [bucket, result] : cases) {
    CAPTURE(bucket, result);
    common::MaybeError error = checked(bucket, result);
    REQUIRE(error);
    CHECK(error->code == "EWORKER");
    CHECK(common::http_status_for(*error) == 502);
    CHECK(error->message.find(std::string("the worker's ") + bucket + " result is not") == 0);
  }
}
