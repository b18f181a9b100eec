// Check for exercises/06-likes: in 06's coroutine, likes awaited after posts, comments alongside.
#include "tests/exercises/exercise_support.h"

using namespace exercise;

TEST_CASE("06-likes: likes awaited after posts, beside comments", "[ex:06-likes]") {
  run_check([] {
    auto server = start_stage("06-coroutines");
    auto answer = user_one_traced(server.port(), "/await", likes_traced());
    if (!answer) return;
    const Span& posts = answer->trace.at("posts");
    const Span& comments = answer->trace.at("comments");
    const Span& likes = answer->trace.at("likes");
    need(likes.start >= posts.end, "the likes query starts after posts (it needs the post ids)");
    need(overlap(posts, comments),
         "posts and comments still run at the same time (likes did not make comments wait)");
    need(answer->traced_ms() < 3.6 * kLatencyMs,
         "three slots: users → posts → likes, comments alongside (took " + ms(answer->traced_ms()) +
             ")");
    no_likes_answered(server.port(), "/await");
  });
  run_check([] {
    auto server = start_stage("06-coroutines", {"--worker", worker_with("--fail likes")});
    failed_on_purpose(get(server.port(), "/await/1"), "a failing likes query answers 502");
  });
}
