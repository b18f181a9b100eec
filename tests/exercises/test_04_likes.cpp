// Check for exercises/04-likes: a likes task that needs posts in 04's auto_run graph.
#include "tests/exercises/exercise_support.h"

using namespace exercise;

TEST_CASE("04-likes: a likes task depending on posts", "[ex:04-likes]") {
  run_check([] {
    auto server = start_stage("04-auto-dag");
    auto answer = user_one_traced(server.port(), "/async", likes_traced());
    if (!answer) return;
    const Span& posts = answer->trace.at("posts");
    const Span& comments = answer->trace.at("comments");
    const Span& likes = answer->trace.at("likes");
    need(likes.start >= posts.end, "the likes task starts after posts (it depends on it)");
    need(overlap(posts, comments), "posts and comments still run at the same time");
    need(answer->traced_ms() < 3.6 * kLatencyMs,
         "three slots: users → posts → likes, comments alongside (took " + ms(answer->traced_ms()) +
             ")");
    no_likes_answered(server.port(), "/async");
  });
  run_check([] {
    auto server = start_stage("04-auto-dag", {"--worker", worker_with("--fail likes")});
    failed_on_purpose(get(server.port(), "/async/1"), "a failing likes task answers 502");
  });
}
