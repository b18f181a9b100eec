// Check for exercises/03-best-effort: a failing comments query gives 200 with "comments":[] and a
// warning; failing users or posts still fail the request.
#include "tests/exercises/exercise_support.h"

using namespace exercise;

TEST_CASE("03-best-effort: failing comments become a warning", "[ex:03-best-effort]") {
  run_check([] {
    auto server = start_stage("03-homebrew-counter", {"--worker", worker_with("--fail comments")});
    Answer answer = get(server.port(), "/brew/1");
    if (!need(answer.status() == 200,
              "a failing comments query still answers 200 (got " + answer.text() + ")"))
      return;
    need(answer.has("user") && answer["user"].IsObject(), "the answer has the user");
    need(answer.has("posts") && ids_of(answer["posts"], "id") == std::vector<int>{10, 11},
         "the answer has the user's posts");
    need(answer.has("comments") && answer["comments"].IsArray() && answer["comments"].Size() == 0,
         "the answer has \"comments\":[]");
    bool warned = answer.has("warnings") && answer["warnings"].IsArray() &&
                  answer["warnings"].Size() == 1 && answer["warnings"][0].IsString() &&
                  std::string(answer["warnings"][0].GetString()) ==
                      "comments: failing on purpose (--fail comments)";
    need(warned,
         "the answer has \"warnings\":[\"comments: failing on purpose (--fail comments)\"] (got " +
             answer.text() + ")");
  });
  run_check([] {
    auto server = start_stage("03-homebrew-counter");
    Answer answer = get(server.port(), "/brew/1");
    need(answer.status() == 200 && (!answer.has("warnings") || (answer["warnings"].IsArray() &&
                                                                answer["warnings"].Size() == 0)),
         "an answer without failures has no warnings (got " + answer.text() + ")");
    need(get(server.port(), "/brew/4242").status() == 404, "an unknown user still answers 404");
  });
  run_check([] {
    auto server = start_stage("03-homebrew-counter",
                              {"--worker", worker_with("--fail posts --fail comments")});
    Answer answer = get(server.port(), "/brew/1");
    need(answer.status() == 502 && answer.error() == "failing on purpose (--fail posts)",
         "a failing posts query still fails the request: 502 with the posts error (got " +
             answer.text() + ")");
    need(server.running(), "the server survives the comments result that arrives after it");
  });
}
