// Check for exercises/02-likes: /sync/:userId nests a fourth query, likes of the user's posts:
// four serial slots, "likes" in the answer.
#include "tests/exercises/exercise_support.h"

using namespace exercise;

TEST_CASE("02-likes: a fourth nested query adds the likes", "[ex:02-likes]") {
  run_check([] {
    auto server = start_stage("02-sync-callbacks");
    auto answer = user_one_traced(
        server.port(), "/sync", {true, {"likes"}, "?trace=1 lists the likes query (use db_query)"});
    if (!answer) return;
    const Span& posts = answer->trace.at("posts");
    const Span& likes = answer->trace.at("likes");
    need(likes.start >= posts.end, "the likes query starts after the posts have arrived");
    need(answer->traced_ms() >= 3.6 * kLatencyMs,
         "the four queries still run one after another: four slots (took " +
             ms(answer->traced_ms()) + ")");
    need(answer->response.header("Server-Timing").find("likes;dur=") != std::string::npos,
         "Server-Timing has a likes entry");
    no_likes_answered(server.port(), "/sync");
  });
  run_check([] {
    auto server = start_stage("02-sync-callbacks", {"--worker", worker_with("--fail likes")});
    failed_on_purpose(get(server.port(), "/sync/1"),
                      "a failing likes query answers 502 with the worker's message");
  });
}
